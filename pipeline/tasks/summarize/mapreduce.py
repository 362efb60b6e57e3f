"""summarize --method llm: one structured call when the numbered text fits the context, else
map-reduce over chunks with at most MAX_REDUCE_DEPTH reduce levels, after which the partial
summaries are merged without a model, so it always terminates."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pipeline.errors import BudgetExceeded
from pipeline.events import emit
from pipeline.model.types import ChatRequest
from pipeline.prompts import PromptTemplate, load_prompt
from pipeline.summary import LengthSpec, Summary
from pipeline.tasks import TaskContext
from pipeline.tasks.summarize.chunk import Chunk, Document, chunk_document

__all__ = [
    "MAX_REDUCE_DEPTH",
    "OUTPUT_TOKENS",
    "fits",
    "llm",
    "load",
    "map_reduce",
    "merge_partials",
    "numbered_text",
    "one_call_request",
    "render_partial",
]

MAX_REDUCE_DEPTH = 3
OUTPUT_TOKENS = {"short": 700, "medium": 1100, "long": 1600}


def load(name: str, ctx: TaskContext) -> PromptTemplate:
    return load_prompt(name, ctx.prompts_dir)


def _counts(spec: LengthSpec) -> dict[str, int]:
    return {
        "points": spec.points, "tasks": spec.tasks, "figures": spec.figures,
        "gist_zi": spec.gist_zi, "point_zi": spec.point_zi,
    }


def numbered_text(doc: Document) -> str:
    return "\n".join(f"[{p.number}] {p.text}" for p in doc.paragraphs if p.text)


def one_call_request(tpl: PromptTemplate, doc: Document, spec: LengthSpec, title: str) -> ChatRequest:
    messages = tpl.render(text=numbered_text(doc), title=title, **_counts(spec))
    return ChatRequest(messages, max_tokens=OUTPUT_TOKENS[spec.name], temperature=0.2)


def fits(ctx: TaskContext, request: ChatRequest) -> bool:
    assert ctx.client is not None
    return ctx.client.request_tokens(request) + request.max_tokens <= ctx.client.context_window


def llm(
    doc: Document, spec: LengthSpec, title: str, ctx: TaskContext
) -> tuple[Summary, dict[str, Any], list[dict[str, str]]]:
    client = ctx.client
    assert client is not None
    tpl = load("summarize", ctx)
    request = one_call_request(tpl, doc, spec, title)
    if fits(ctx, request):
        summary = client.structured(request, Summary, prompt=tpl.ref, step="summarize")
        return summary, {"mode": "one-call"}, [tpl.ref.to_dict()]
    return map_reduce(doc, spec, title, ctx)


def map_reduce(
    doc: Document, spec: LengthSpec, title: str, ctx: TaskContext
) -> tuple[Summary, dict[str, Any], list[dict[str, str]]]:
    client = ctx.client
    assert client is not None
    map_tpl = load("summarize/map", ctx)
    reduce_tpl = load("summarize/reduce", ctx)
    # Per-chunk counts: enough for the reduce step to choose from, small enough to stay cheap.
    map_spec = replace(spec, points=max(2, spec.points // 2), tasks=max(2, spec.tasks // 2),
                       figures=max(2, spec.figures // 2))
    map_out = _output_tokens("short", client.context_window)
    empty = map_tpl.render(text="", part=99, parts=99, section="", **_counts(map_spec))
    overhead = sum(client.count_tokens(m.content) + 4 for m in empty)
    budget = int((client.context_window - overhead - map_out) * 0.9)
    requests: list[ChatRequest] = []
    for _ in range(8):
        if budget < 64:
            raise BudgetExceeded(
                f"context of {client.context_window} tokens leaves no room for text next to the "
                f"{overhead}-token summarize/map prompt and {map_out} output tokens"
            )
        # The budget is an estimate (markers, section names, the tokenizer's view of joins):
        # shrink it until every map request really fits.
        chunks = chunk_document(doc, budget, client.count_tokens)
        requests = [_map_request(map_tpl, c, len(chunks), map_spec, map_out) for c in chunks]
        if all(fits(ctx, r) for r in requests):
            break
        budget = int(budget * 0.8)
    partials: list[Summary] = []
    for chunk, req in zip(chunks, requests, strict=True):
        partials.append(
            client.structured(req, Summary, prompt=map_tpl.ref, step=f"map {chunk.index + 1}/{len(chunks)}")
        )
        emit(ctx.progress, "chunk", label=f"第 {chunk.index + 1}/{len(chunks)} 段", done=chunk.index + 1,
             total=len(chunks))
    reduce_out = _output_tokens(spec.name, client.context_window)
    depth = 0
    merged_without_model = False
    while len(partials) > 1:
        if depth >= MAX_REDUCE_DEPTH:
            partials = [merge_partials(partials, spec)]
            merged_without_model = True
            break
        depth += 1
        groups = _reduce_groups(partials, spec, title, reduce_tpl, ctx, reduce_out)
        if all(len(g) == 1 for g in groups):
            # Not even two partials fit one reduce call: merging by model cannot make progress.
            partials = [merge_partials(partials, spec)]
            merged_without_model = True
            break
        next_level: list[Summary] = []
        for i, group in enumerate(groups, 1):
            if len(group) == 1:
                next_level.append(group[0])
                continue
            req = _reduce_request(reduce_tpl, group, spec, title, reduce_out)
            next_level.append(
                client.structured(req, Summary, prompt=reduce_tpl.ref, step=f"reduce {depth}.{i}/{len(groups)}")
            )
        partials = next_level
    info = {
        "mode": "map-reduce",
        "chunks": [c.metadata() for c in chunks],
        "chunk_budget_tokens": budget,
        "reduce_depth": depth,
        "merged_without_model": merged_without_model,
    }
    return partials[0], info, [map_tpl.ref.to_dict(), reduce_tpl.ref.to_dict()]


def _map_request(tpl: PromptTemplate, chunk: Chunk, parts: int, spec: LengthSpec, max_tokens: int) -> ChatRequest:
    messages = tpl.render(
        text=chunk.text(), part=chunk.index + 1, parts=parts, section=" › ".join(chunk.section),
        **_counts(spec),
    )
    return ChatRequest(messages, max_tokens=max_tokens, temperature=0.2)


def render_partial(summary: Summary) -> str:
    """A partial summary as compact text with its ¶ sources (the reduce prompt's input)."""

    def refs(src: list[int]) -> str:
        return "（¶" + "、".join(str(n) for n in src) + "）" if src else ""

    lines = [f"概述：{summary.gist}{refs(summary.gist_source)}"]
    lines += [f"要点：{p.text}{refs(p.source)}" for p in summary.key_points]
    lines += [f"部署：{(t.who + '：') if t.who else ''}{t.what}{refs(t.source)}" for t in summary.tasks]
    lines += [f"数字：{f.measures} {f.value}{refs(f.source)}" for f in summary.figures]
    return "\n".join(lines)


def _output_tokens(length: str, context_window: int) -> int:
    # Small contexts (a local model at n_ctx 2048) cannot spend 1600 tokens on the reply.
    return min(OUTPUT_TOKENS[length], max(200, context_window // 4))


def _reduce_request(
    tpl: PromptTemplate, group: list[Summary], spec: LengthSpec, title: str, max_tokens: int
) -> ChatRequest:
    partials = "\n\n".join(f"第{i}部分：\n{render_partial(s)}" for i, s in enumerate(group, 1))
    messages = tpl.render(partials=partials, title=title, **_counts(spec))
    return ChatRequest(messages, max_tokens=max_tokens, temperature=0.2)


def _reduce_groups(
    partials: list[Summary], spec: LengthSpec, title: str, tpl: PromptTemplate, ctx: TaskContext,
    max_tokens: int,
) -> list[list[Summary]]:
    """Consecutive partials packed greedily into groups whose reduce request fits the context."""
    groups: list[list[Summary]] = []
    current: list[Summary] = []
    for partial in partials:
        trial = current + [partial]
        if len(trial) == 1 or fits(ctx, _reduce_request(tpl, trial, spec, title, max_tokens)):
            current = trial
        else:
            groups.append(current)
            current = [partial]
    if current:
        groups.append(current)
    return groups


def merge_partials(partials: list[Summary], spec: LengthSpec) -> Summary:
    """Merge summaries without a model: first gist, items interleaved across parts, capped."""

    def interleave(lists: list[list[Any]], limit: int) -> list[Any]:
        out: list[Any] = []
        for row in range(max((len(x) for x in lists), default=0)):
            for items in lists:
                if row < len(items) and len(out) < limit:
                    out.append(items[row])
        return out

    return Summary(
        gist=partials[0].gist,
        gist_source=partials[0].gist_source,
        key_points=interleave([p.key_points for p in partials], spec.points),
        tasks=interleave([p.tasks for p in partials], spec.tasks),
        figures=interleave([p.figures for p in partials], spec.figures),
    )


