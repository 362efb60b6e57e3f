"""summarize: a long speech or report to a gist, key points, tasks and figures, each with ¶ sources.

Methods (SummarizeInput.method):
    extractive  sentence ranking (extractive.py); instant, no model.
    llm         one structured call when the numbered text fits the context; otherwise map-reduce
                over chunks (chunk.py) with at most MAX_REDUCE_DEPTH reduce levels, after which
                partial summaries are merged without a model, so it always terminates.
    hybrid      the extractive selection is the model's input: the model only shortens the chosen
                gist and points (tasks keep the text's own words; a completion-style prompt for
                small base models); a rewrite is kept only when it passes the same checks as
                everything else, else the sentence stays.
    auto        extractive without a model, hybrid on the embedded local model, llm on an endpoint.

    chunk.py       paragraphs, sentences and headings of the text; chunks that fit a context
    extractive.py  sentence ranking, tasks and figures without a model
    similarity.py  sentence centrality (TextRank + centroid) for the ranking, dense or sparse
    mapreduce.py   the llm method: one call, or map-reduce
    hybrid.py      the hybrid method: the model shortens, the pipeline judges each shortening
    verify.py      the summary against the source: verbatim figures and quotes, ¶ sources
    dry_run.py     the first request a run would send

Whatever the method, the pipeline (not the model) then verifies the summary against the source:
every figure and quoted phrase must appear verbatim; items that fail are dropped and reported in
`checks["verbatim"]`; source paragraph numbers are checked and repaired.
"""

from __future__ import annotations

import time
from typing import Any

from pipeline.check.substance import gate_summary
from pipeline.errors import InputError, ValidationFailed
from pipeline.model.client import parse_json
from pipeline.render.summary import render_text
from pipeline.summary import LengthSpec, Summary, length_spec
from pipeline.tasks import OneCall, TaskContext, TaskResult, TaskSpec
from pipeline.tasks.inputs import SummarizeInput
from pipeline.tasks.summarize import extractive
from pipeline.tasks.summarize.chunk import Document, segment, without_instructions
from pipeline.tasks.summarize.dry_run import dry_run
from pipeline.tasks.summarize.hybrid import hybrid
from pipeline.tasks.summarize.mapreduce import fits, llm, load, one_call_request
from pipeline.tasks.summarize.verify import verify
from pipeline.text.hanzi import count_zi

__all__ = ["METHODS", "TASK", "SummarizeInput", "batch_finish", "batch_request", "choose_method", "run"]

METHODS = ("auto", "llm", "extractive", "hybrid")
SHORT_SENTENCES = 4  # a text this short has nothing for a model to condense


def run(inp: SummarizeInput, ctx: TaskContext) -> TaskResult:
    text = input_text(inp)
    spec = length_spec(inp.length or "medium")
    title = inp.title or ""
    requested = inp.method or "auto"
    doc, dropped = without_instructions(segment(text))
    if not doc.paragraphs:
        raise InputError("nothing to summarize: the text has no paragraphs")
    method, reason = choose_method(requested, ctx, doc)
    start = time.perf_counter()
    info: dict[str, Any] = {}
    prompts: list[dict[str, str]] = []
    # The llm method needs the extractive summary only as the fallback for an unusable gist, and
    # ranking every sentence costs as much CPU as the model call itself in a batch of short texts.
    lazy = method == "llm" and not ctx.dry_run
    extraction = None if lazy else extractive.summarize(doc, spec)
    if ctx.dry_run and method != "extractive":
        return dry_run(doc, extraction, spec, title, method, reason, requested, ctx)
    if method == "extractive":
        summary = extraction.summary
    elif method == "llm":
        summary, info, prompts = llm(doc, spec, title, ctx)
    else:
        summary, info, prompts = hybrid(extraction, spec, ctx)
    fallback = extraction.summary if extraction is not None else lambda: extractive.summarize(doc, spec).summary
    summary, checks = verify(summary, doc, spec, fallback=fallback)
    summary, checks["substance"] = gate_summary(summary, text, title)
    metadata = _metadata(ctx, text, doc, spec, method, reason, requested, prompts, start)
    metadata.update(info)
    metadata["dropped_instructions"] = dropped  # sentences addressed to a model: never sent to one
    return _result(summary, metadata, checks, title)


def batch_request(inp: SummarizeInput, ctx: TaskContext) -> OneCall:
    """The one-call llm request for this input (raises InputError when it cannot fit one call)."""
    doc, _ = without_instructions(segment(input_text(inp)))
    spec = length_spec(inp.length or "medium")
    tpl = load("summarize", ctx)
    request = one_call_request(tpl, doc, spec, inp.title or "")
    if ctx.client is not None and not fits(ctx, request):
        raise InputError(
            f"text is too long for one call ({ctx.client.request_tokens(request)} prompt tokens, "
            f"context {ctx.client.context_window}): run it without the batch route (map-reduce)"
        )
    return OneCall(request, Summary, tpl.ref)


def batch_skip(inp: SummarizeInput) -> str | None:
    """Why this job is not one model call on an endpoint (None: it is), for the Batch route."""
    method = inp.method or "auto"
    if method == "extractive":
        return "method extractive calls no model"
    if method == "hybrid":
        return "method hybrid makes one short call per chosen sentence"
    if method == "auto":
        sentences = len(segment(input_text(inp)).sentences)
        if sentences <= SHORT_SENTENCES:
            return f"method auto summarizes a text of {sentences} sentence(s) without a model"
    return None


def batch_finish(inp: SummarizeInput, raw: str, ctx: TaskContext) -> TaskResult:
    """Parse and verify a reply to batch_request's request."""
    text = input_text(inp)
    spec = length_spec(inp.length or "medium")
    doc, _ = without_instructions(segment(text))
    try:
        summary = parse_json(raw, Summary)
    except ValueError as exc:
        raise ValidationFailed(f"batch reply is not a valid Summary: {exc}", raw=raw) from None
    summary, checks = verify(summary, doc, spec, fallback=lambda: extractive.summarize(doc, spec).summary)
    summary, checks["substance"] = gate_summary(summary, text, inp.title or "")
    tpl = load("summarize", ctx)
    metadata = _metadata(ctx, text, doc, spec, "llm", "batch", "llm", [tpl.ref.to_dict()], time.perf_counter())
    metadata["mode"] = "one-call"
    return _result(summary, metadata, checks, inp.title or "")


def input_text(inp: SummarizeInput) -> str:
    """inp.text, or the file named by inp.file ('-' for stdin)."""
    text = inp.text
    if text is None and inp.file is not None:
        from pipeline.text.textio import read_text

        text = read_text(inp.file)
    if not isinstance(text, str) or not text.strip():
        raise InputError("nothing to summarize: give a file or text")
    return text


def choose_method(requested: str, ctx: TaskContext, doc: Document | None = None) -> tuple[str, str]:
    """The method to run and why (recorded in the metadata): by backend and by length."""
    if requested not in METHODS:
        raise InputError(f"unknown method {requested!r}: use one of {', '.join(METHODS)}")
    client = ctx.client
    if requested != "auto":
        if requested != "extractive" and client is None:
            raise InputError(f"--method {requested} needs a model; use --method extractive without one")
        return requested, "requested"
    if client is None:
        return "extractive", "auto: no model available"
    if doc is not None and len(doc.sentences) <= SHORT_SENTENCES:
        return "extractive", f"auto: only {len(doc.sentences)} sentences, nothing for a model to condense"
    name = getattr(client.backend, "name", "")
    if name == "local":
        return "hybrid", "auto: small local base model, so it only condenses the extractive selection"
    return "llm", f"auto: {name or 'remote'} endpoint, the model summarizes the text"


def _metadata(
    ctx: TaskContext, text: str, doc: Document, spec: LengthSpec, method: str, reason: str,
    requested: str, prompts: list[dict[str, str]], start: float,
) -> dict[str, Any]:
    client = ctx.client
    meta: dict[str, Any] = {
        "method": method,
        "method_requested": requested,
        "method_reason": reason,
        "length": spec.name,
        "source": {"zi": count_zi(text), "paragraphs": len(doc.paragraphs),
                   "sentences": len(doc.sentences), "headings": [h for _, _, h in doc.headings]},
        "prompts": prompts,
        "duration_s": round(time.perf_counter() - start, 3),
    }
    if client is not None and method != "extractive":
        meta["backend"] = getattr(client.backend, "name", "")
        meta["model"] = getattr(client.backend, "model", "")
        meta["usage"] = client.usage.to_dict()
    return meta


def _result(summary: Summary, metadata: dict[str, Any], checks: dict[str, Any], title: str) -> TaskResult:
    ok = all(c.get("passed", True) for c in checks.values())
    return TaskResult(
        task="summarize", output=summary.model_dump(), text=render_text(summary, title),
        metadata=metadata, checks=checks, ok=ok,
    )




TASK = TaskSpec(
    "summarize", SummarizeInput, run, batch_request=batch_request, batch_finish=batch_finish, batch_skip=batch_skip,
)
