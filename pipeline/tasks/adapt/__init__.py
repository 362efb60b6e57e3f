"""adapt: a new speech for a brief, in the house style of the closest corpus speeches.

    brief → select examples → outline → draft (one call, or part by part) → clean → checks

    brief.py      the brief (flags, a YAML/JSON file, or both) and what it allows the speech to say
    options.py    strategy, fact guard, examples and seed
    selection.py  which corpus speeches show the model the house style (examples.py: sized for the backend)
    outline.py    the plan: title, 称呼, parts with their leads and 字 targets; the paragraph cleaner
    one_call.py   the one-call strategy's request and its conformance to the outline
    drafting.py   the plan-draft strategy: paragraph by paragraph, with progress events
    repair.py     leaks, repeats, numbering and length repairs
    checks.py     the checks in order, with their repairs
    dry_run.py    the requests a run would send

Two strategies, picked by backend (AdaptInput.strategy overrides):
- one-call (remote, instruction-following models): the whole SpeechDraft as JSON in one
  structured call, validated against the outline and re-asked when it does not fit;
- plan-draft (the small local base model): the pipeline plans title, 称呼 and sections and the
  model continues one paragraph at a time over a shared prompt prefix (see pipeline.tasks.adapt.outline).

Checks on every draft (reported in the JSON output; --strict makes failures exit 1): length
within ±15% (else a bounded targeted expand or shorten of the weakest part), fact guard
(figures, dates, percentages, persons not in the brief: flagged; strict_facts masks them as XX),
repeated sentences removed, placeholder leaks removed, the linter's rules, and the substance
gate (checks.substance_check: sentences with an invented meeting, document or figure, a claim
the speaker could not make or an example's topic are dropped; what cannot be dropped fails).
"""

from __future__ import annotations

import time
from typing import Any

from pipeline.errors import InputError, ValidationFailed
from pipeline.model.client import parse_json
from pipeline.prompts import PromptRef, load_prompt
from pipeline.speech import Speech
from pipeline.tasks import OneCall, TaskContext, TaskResult, TaskSpec
from pipeline.tasks.adapt.brief import Brief, brief_from_inputs
from pipeline.tasks.adapt.checks import all_passed, finish, substance_check
from pipeline.tasks.adapt.drafting import Drafter, make_cleaner
from pipeline.tasks.adapt.dry_run import dry_run
from pipeline.tasks.adapt.examples import choose_examples, tokens_per_zi
from pipeline.tasks.adapt.grounding import (
    attribute,
    grounding_check,
    grounding_for,
    prompt_material,
)
from pipeline.tasks.adapt.one_call import conform, draft_schema, one_call_request
from pipeline.tasks.adapt.options import AdaptOptions
from pipeline.tasks.adapt.outline import plan
from pipeline.tasks.adapt.repair import Repairer
from pipeline.tasks.adapt.selection import Selection
from pipeline.tasks.inputs import AdaptInput

__all__ = ["TASK", "AdaptInput", "batch_finish", "batch_request", "run"]


def run(inp: AdaptInput, ctx: TaskContext) -> TaskResult:
    start = time.perf_counter()
    brief = brief_from_inputs(inp.options())
    opts = AdaptOptions.from_input(inp, ctx.backend_name)
    if ctx.dry_run:
        return dry_run(brief, opts, choose_examples(brief, opts, ctx), ctx)
    if ctx.client is None:
        raise InputError("adapt needs a model (no client was opened)")
    ctx.client.warm()
    outline = plan(brief)
    grounding = grounding_for(brief, outline, opts, ctx)  # while the model loads
    selection = choose_examples(brief, opts, ctx)
    ratio = tokens_per_zi(selection, ctx)
    cleaner = make_cleaner(brief, selection)
    if opts.strategy == "one-call":
        call = one_call_request(brief, selection, ctx, ratio, prompt_material(grounding, outline))
        draft = ctx.client.structured(call.request, call.schema, prompt=call.prompt, step="adapt")
        speech = conform(draft, brief, outline)
        refs = [call.prompt] if call.prompt else []
        repairer = Repairer(opts.strategy, None, ctx, brief, cleaner)
        speech, checks = finish(speech, brief, outline, strict_facts=opts.strict_facts, cleaner=None,
                                repairer=repairer, progress=ctx.progress)
        refs.append(load_prompt("adapt/expand", ctx.prompts_dir).ref)
    else:
        drafter = Drafter(brief, outline, selection, ctx, cleaner, ratio, opts.seed, grounding)
        drafter.draft_all()
        speech = outline.speech()
        repairer = Repairer(opts.strategy, drafter, ctx, brief, cleaner)
        speech, checks = finish(speech, brief, outline, strict_facts=opts.strict_facts, cleaner=cleaner,
                                repairer=repairer, progress=ctx.progress)
        refs = [drafter.tpl.ref] + ([drafter.section_tpl.ref] if drafter.tpl is not drafter.section_tpl else [])
    speech, checks = substance_check(speech, brief, [e.text for e in selection.examples], checks)
    meta = _metadata(ctx, opts, selection, refs, start, brief)
    if grounding is not None:
        meta["grounded"] = True
        meta["fallback_paragraphs"] = sum(p.fallbacks for p in outline.parts)
        meta["sources"] = attribute(speech, grounding, frozenset(p.key for p in outline.parts if p.framed))
        if opts.strategy != "one-call":
            checks["grounding"] = grounding_check(grounding, meta["sources"])
    return _result(speech, meta, checks)



def _metadata(
    ctx: TaskContext, opts: AdaptOptions, selection: Selection, refs: list[PromptRef], start: float,
    brief: Brief,
) -> dict[str, Any]:
    client = ctx.client
    return {
        "task": "adapt",
        "strategy": opts.strategy,
        "prompt": refs[0].to_dict() if refs else None,
        "prompts": [r.to_dict() for r in refs],
        "examples": selection.ids,
        "selection": selection.to_dict(),
        "backend": getattr(client.backend, "name", "") if client else "",
        "model": getattr(client.backend, "model", "") if client else "",
        "usage": client.usage.to_dict() if client else {},
        "duration": round(time.perf_counter() - start, 3),
        "brief": brief.model_dump(),
    }


def _result(speech: Speech, meta: dict[str, Any], checks: dict[str, Any]) -> TaskResult:
    return TaskResult(
        task="adapt", output=speech.model_dump(), text=speech.text(), metadata=meta, checks=checks,
        ok=all_passed(checks),
    )


# ---- one-call batch route -------------------------------------------------------------------


def batch_request(inp: AdaptInput, ctx: TaskContext) -> OneCall:
    brief = brief_from_inputs(inp.options())
    opts = AdaptOptions.from_input(inp.model_copy(update={"strategy": "one-call"}), ctx.backend_name)
    selection = choose_examples(brief, opts, ctx)
    outline = plan(brief)
    material = prompt_material(grounding_for(brief, outline, opts, ctx), outline)
    return one_call_request(brief, selection, ctx, tokens_per_zi(selection, ctx), material)


def batch_skip(inp: AdaptInput) -> str | None:
    """Why this job is not one model call (None: it is), for the Batch route."""
    if inp.strategy == "plan-draft":
        return "strategy plan-draft makes one call per paragraph"
    return None


def batch_finish(inp: AdaptInput, raw: str, ctx: TaskContext) -> TaskResult:
    """Validate a batch reply and run the checks (only repairs that need no model)."""
    start = time.perf_counter()
    brief = brief_from_inputs(inp.options())
    opts = AdaptOptions.from_input(inp.model_copy(update={"strategy": "one-call"}), ctx.backend_name)
    try:
        draft = parse_json(raw, draft_schema(brief))
    except ValueError as exc:
        raise ValidationFailed(f"batch reply is not a valid SpeechDraft: {exc}", raw=raw) from None
    outline = plan(brief)
    speech = conform(draft, brief, outline)
    speech, checks = finish(speech, brief, outline, strict_facts=opts.strict_facts, cleaner=None, repairer=None)
    tpl = load_prompt("adapt", ctx.prompts_dir)
    selection = choose_examples(brief, opts, ctx)
    speech, checks = substance_check(speech, brief, [e.text for e in selection.examples], checks)
    meta = {
        "task": "adapt", "strategy": "one-call", "prompt": tpl.ref.to_dict(), "prompts": [tpl.ref.to_dict()],
        "examples": selection.ids, "backend": ctx.backend_name, "duration": round(time.perf_counter() - start, 3),
        "brief": brief.model_dump(),
    }
    return _result(speech, meta, checks)


TASK = TaskSpec(
    "adapt", AdaptInput, run, batch_request=batch_request, batch_finish=batch_finish, batch_skip=batch_skip,
)
