"""adapt --dry-run: the rendered requests with their token counts and the chosen examples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.model.types import ChatRequest
from pipeline.prompts import PromptRef
from pipeline.render.dry_run import render_adapt_dry_run
from pipeline.tasks import TaskContext, TaskResult
from pipeline.tasks.adapt.brief import Brief
from pipeline.tasks.adapt.drafting import Drafter, make_cleaner
from pipeline.tasks.adapt.examples import count_tokens_fn, tokens_per_zi
from pipeline.tasks.adapt.grounding import grounding_for, prompt_material
from pipeline.tasks.adapt.one_call import one_call_request
from pipeline.tasks.adapt.options import AdaptOptions
from pipeline.tasks.adapt.outline import plan
from pipeline.tasks.adapt.selection import Selection

__all__ = ["dry_run"]


def dry_run(brief: Brief, opts: AdaptOptions, selection: Selection, ctx: TaskContext) -> TaskResult:
    """The rendered messages with token counts and the chosen examples; no model call."""
    count = count_tokens_fn(ctx)
    outline = plan(brief)
    requests: list[dict[str, Any]] = []
    refs: list[PromptRef] = []
    grounding = grounding_for(brief, outline, opts, ctx)
    if opts.strategy == "one-call":
        call = one_call_request(brief, selection, ctx, tokens_per_zi(selection, ctx),
                                prompt_material(grounding, outline))
        requests.append(_request_view("adapt", call.request, count))
        if call.prompt:
            refs.append(call.prompt)
    else:
        drafter = Drafter(brief, outline, selection, ctx, make_cleaner(brief, selection),
                          tokens_per_zi(selection, ctx), opts.seed, grounding)
        refs.append(drafter.tpl.ref)
        for part in outline.parts:
            requests.append(_request_view(f"draft:{part.key}", drafter.request(part), count)
                            | {"target_zi": part.target, "heading": part.heading})
    meta = {
        "task": "adapt", "dry_run": True, "strategy": opts.strategy,
        "prompt": refs[0].to_dict() if refs else None, "prompts": [r.to_dict() for r in refs],
        "examples": selection.ids, "selection": selection.to_dict(),
        "backend": ctx.backend_name,
        "model": getattr(ctx.client.backend, "model", "") if ctx.client else "",
        "outline": {"title": outline.title, "salutation": outline.salutation,
                    "parts": [{"key": p.key, "heading": p.heading, "target_zi": p.target} for p in outline.parts]},
        "requests": requests,
        "grounded": grounding is not None,
    }
    return TaskResult(task="adapt", output={}, text=render_adapt_dry_run(meta), metadata=meta, ok=True)


def _request_view(step: str, request: ChatRequest, count: Callable[[str], int]) -> dict[str, Any]:
    messages = [{"role": m.role, "content": m.content, "tokens": count(m.content)} for m in request.messages]
    return {
        "step": step,
        "messages": messages,
        "prompt_tokens": sum(m["tokens"] for m in messages),
        "max_tokens": request.max_tokens,
    }


