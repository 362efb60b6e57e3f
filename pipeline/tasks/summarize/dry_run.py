"""summarize --dry-run: the first request a run would send, its token count, the chunk plan."""

from __future__ import annotations

from typing import Any

from pipeline.model.types import ChatRequest
from pipeline.summary import LengthSpec
from pipeline.tasks import TaskContext, TaskResult
from pipeline.tasks.summarize import extractive
from pipeline.tasks.summarize.chunk import Document, chunk_document
from pipeline.tasks.summarize.hybrid import CONDENSE_TOKENS
from pipeline.tasks.summarize.mapreduce import OUTPUT_TOKENS, fits, load, one_call_request

__all__ = ["dry_run"]


def dry_run(
    doc: Document, extraction: extractive.Extraction, spec: LengthSpec, title: str, method: str,
    reason: str, requested: str, ctx: TaskContext,
) -> TaskResult:
    """What would be sent: the first rendered request, its token count, the chunk plan."""
    client = ctx.client
    assert client is not None
    plan: dict[str, Any] = {"method": method, "method_reason": reason, "method_requested": requested}
    if method == "hybrid":
        tpl = load("summarize/condense", ctx)
        sentences = [extraction.summary.gist] + [p.text for p in extraction.summary.key_points]
        request = ChatRequest(tpl.render(sentence=sentences[0]), max_tokens=CONDENSE_TOKENS)
        plan["calls"] = len(sentences)
    else:
        tpl = load("summarize", ctx)
        request = one_call_request(tpl, doc, spec, title)
        if not fits(ctx, request):
            tpl = load("summarize/map", ctx)
            plan["mode"] = "map-reduce"
            empty = tpl.render(text="", part=1, parts=1, section="", points=2, tasks=2, figures=2, point_zi=spec.point_zi)
            overhead = sum(client.count_tokens(m.content) + 4 for m in empty)
            budget = int((client.context_window - overhead - OUTPUT_TOKENS["short"]) * 0.9)
            chunks = chunk_document(doc, max(budget, 64), client.count_tokens)
            plan["chunks"] = [c.metadata() for c in chunks]
            first = chunks[0]
            request = ChatRequest(tpl.render(text=first.text(), part=1, parts=len(chunks),
                                             section=" › ".join(first.section), points=2, tasks=2,
                                             figures=2, point_zi=spec.point_zi),
                                  max_tokens=OUTPUT_TOKENS["short"])
        else:
            plan["mode"] = "one-call"
    plan["prompt"] = tpl.ref.to_dict()
    plan["prompt_tokens"] = client.request_tokens(request)
    plan["max_tokens"] = request.max_tokens
    plan["context_window"] = client.context_window
    rendered = "\n\n".join(f"--- {m.role} ---\n{m.content}" for m in request.messages)
    header = (f"# dry run: method {method} ({reason}); prompt {tpl.ref.id} v{tpl.ref.version} "
              f"{tpl.ref.hash}; {plan['prompt_tokens']} prompt tokens + {request.max_tokens} max output "
              f"of a {client.context_window}-token context")
    return TaskResult(task="summarize", text=header + "\n\n" + rendered + "\n",
                      metadata={"dry_run": plan, "method": method, "length": spec.name})

