"""summarize: a long speech or report to a gist, key points, tasks and figures, each with ¶ sources.

Methods (inputs["method"]):
    extractive  sentence ranking (pipeline.extractive); instant, no model.
    llm         one structured call when the numbered text fits the context; otherwise map-reduce
                over chunks (pipeline.chunk) with at most MAX_REDUCE_DEPTH reduce levels, after
                which partial summaries are merged without a model, so it always terminates.
    hybrid      the extractive selection is the model's input: the model only shortens the chosen
                gist and points (tasks keep the text's own words) (completion-style prompt for small base models); a rewrite is kept only
                when it passes the same checks as everything else, else the sentence stays.
    auto        extractive without a model, hybrid on the embedded local model, llm on an endpoint.

Whatever the method, the pipeline (not the model) then verifies the summary against the source:
every figure and quoted phrase must appear verbatim; items that fail are dropped and reported in
`checks["verbatim"]`; source paragraph numbers are checked and repaired.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pipeline import extractive
from pipeline.backends.base import ChatRequest
from pipeline.chunk import Document, chunk_document, segment
from pipeline.errors import BudgetExceeded, InputError
from pipeline.events import emit
from pipeline.hanzi import count_han, count_zi
from pipeline.prompts import PromptTemplate, load_prompt
from pipeline.summary import (
    Figure,
    KeyPoint,
    LengthSpec,
    Summary,
    TaskItem,
    length_spec,
    render_text,
)
from pipeline.tasks import OneCall, TaskContext, TaskResult

METHODS = ("auto", "llm", "extractive", "hybrid")
MAX_REDUCE_DEPTH = 3
_OUTPUT_TOKENS = {"short": 700, "medium": 1100, "long": 1600}
_CONDENSE_TOKENS = 64
_SHORT_SENTENCES = 4
_MIN_HAN = 4  # fewer 汉字 than this is not a point, whatever the schema let through
_CHECK_KINDS = ("number", "percent", "date", "quote", "title")


# --- entry points ---------------------------------------------------------------------------


def run(inputs: dict[str, Any], ctx: TaskContext) -> TaskResult:
    text = input_text(inputs)
    spec = length_spec(str(inputs.get("length") or "medium"))
    title = str(inputs.get("title") or "")
    requested = str(inputs.get("method") or "auto")
    doc = segment(text)
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
        return _dry_run(doc, extraction, spec, title, method, reason, requested, ctx)
    if method == "extractive":
        summary = extraction.summary
    elif method == "llm":
        summary, info, prompts = _llm(doc, spec, title, ctx)
    else:
        summary, info, prompts = _hybrid(extraction, spec, ctx)
    fallback = extraction.summary if extraction is not None else lambda: extractive.summarize(doc, spec).summary
    summary, checks = verify(summary, doc, spec, fallback=fallback)
    metadata = _metadata(ctx, text, doc, spec, method, reason, requested, prompts, start)
    metadata.update(info)
    return _result(summary, metadata, checks, title)


def batch_request(inputs: dict[str, Any], ctx: TaskContext) -> OneCall:
    """The one-call llm request for this input (raises InputError when it cannot fit one call)."""
    text = input_text(inputs)
    spec = length_spec(str(inputs.get("length") or "medium"))
    doc = segment(text)
    tpl = _prompt("summarize", ctx)
    request = _one_call_request(tpl, doc, spec, str(inputs.get("title") or ""))
    if ctx.client is not None and not _fits(ctx, request):
        raise InputError(
            f"text is too long for one call ({ctx.client.request_tokens(request)} prompt tokens, "
            f"context {ctx.client.context_window}): run it without the batch route (map-reduce)"
        )
    return OneCall(request, Summary, tpl.ref)


def batch_finish(inputs: dict[str, Any], raw: str, ctx: TaskContext) -> TaskResult:
    """Parse and verify a reply to batch_request's request."""
    from pipeline.call import parse_json
    from pipeline.errors import ValidationFailed

    text = input_text(inputs)
    spec = length_spec(str(inputs.get("length") or "medium"))
    doc = segment(text)
    try:
        summary = parse_json(raw, Summary)
    except ValueError as exc:
        raise ValidationFailed(f"batch reply is not a valid Summary: {exc}", raw=raw) from None
    summary, checks = verify(summary, doc, spec, fallback=lambda: extractive.summarize(doc, spec).summary)
    tpl = _prompt("summarize", ctx)
    metadata = _metadata(ctx, text, doc, spec, "llm", "batch", "llm", [tpl.ref.to_dict()], time.perf_counter())
    metadata["mode"] = "one-call"
    return _result(summary, metadata, checks, str(inputs.get("title") or ""))


def input_text(inputs: dict[str, Any]) -> str:
    """inputs["text"], or the file named by inputs["file"] ('-' for stdin)."""
    text = inputs.get("text")
    if text is None and inputs.get("file") is not None:
        from pipeline.textio import read_text

        text = read_text(str(inputs["file"]))
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
    if doc is not None and len(doc.sentences) <= _SHORT_SENTENCES:
        return "extractive", f"auto: only {len(doc.sentences)} sentences, nothing for a model to condense"
    name = getattr(client.backend, "name", "")
    if name == "local":
        return "hybrid", "auto: small local base model, so it only condenses the extractive selection"
    return "llm", f"auto: {name or 'remote'} endpoint, the model summarizes the text"


# --- llm: one call or map-reduce ------------------------------------------------------------


def _prompt(name: str, ctx: TaskContext) -> PromptTemplate:
    return load_prompt(name, ctx.prompts_dir)


def _counts(spec: LengthSpec) -> dict[str, int]:
    return {
        "points": spec.points, "tasks": spec.tasks, "figures": spec.figures,
        "gist_zi": spec.gist_zi, "point_zi": spec.point_zi,
    }


def numbered_text(doc: Document) -> str:
    return "\n".join(f"[{p.number}] {p.text}" for p in doc.paragraphs)


def _one_call_request(tpl: PromptTemplate, doc: Document, spec: LengthSpec, title: str) -> ChatRequest:
    messages = tpl.render(text=numbered_text(doc), title=title, **_counts(spec))
    return ChatRequest(messages, max_tokens=_OUTPUT_TOKENS[spec.name], temperature=0.2)


def _fits(ctx: TaskContext, request: ChatRequest) -> bool:
    assert ctx.client is not None
    return ctx.client.request_tokens(request) + request.max_tokens <= ctx.client.context_window


def _llm(
    doc: Document, spec: LengthSpec, title: str, ctx: TaskContext
) -> tuple[Summary, dict[str, Any], list[dict[str, str]]]:
    client = ctx.client
    assert client is not None
    tpl = _prompt("summarize", ctx)
    request = _one_call_request(tpl, doc, spec, title)
    if _fits(ctx, request):
        summary = client.structured(request, Summary, prompt=tpl.ref, step="summarize")
        return summary, {"mode": "one-call"}, [tpl.ref.to_dict()]
    return _map_reduce(doc, spec, title, ctx)


def _map_reduce(
    doc: Document, spec: LengthSpec, title: str, ctx: TaskContext
) -> tuple[Summary, dict[str, Any], list[dict[str, str]]]:
    client = ctx.client
    assert client is not None
    map_tpl = _prompt("summarize/map", ctx)
    reduce_tpl = _prompt("summarize/reduce", ctx)
    # Per-chunk counts: enough for the reduce step to choose from, small enough to stay cheap.
    map_spec = replace(spec, points=max(2, spec.points // 2), tasks=max(2, spec.tasks // 2),
                       figures=max(2, spec.figures // 2))
    map_out = _output_tokens("short", client.context_window)
    empty = map_tpl.render(text="", part=99, parts=99, section="", **_counts(map_spec))
    overhead = sum(client.count_tokens(m.content) + 4 for m in empty)
    budget = int((client.context_window - overhead - map_out) * 0.9)
    if budget < 64:
        raise BudgetExceeded(
            f"context of {client.context_window} tokens leaves no room for text next to the "
            f"{overhead}-token summarize/map prompt and {map_out} output tokens"
        )
    requests: list[ChatRequest] = []
    for _ in range(8):
        if budget < 64:
            raise BudgetExceeded(
                f"context of {client.context_window} tokens is too small for map-reduce "
                f"(prompt {overhead} + output {map_out} tokens leave under 64 for the text)"
            )
        # The budget is an estimate (markers, section names, the tokenizer's view of joins):
        # shrink it until every map request really fits.
        chunks = chunk_document(doc, budget, client.count_tokens)
        requests = [_map_request(map_tpl, c, len(chunks), map_spec, map_out) for c in chunks]
        if all(_fits(ctx, r) for r in requests):
            break
        budget = int(budget * 0.8)
    partials: list[Summary] = []
    for chunk, req in zip(chunks, requests, strict=True):
        emit(ctx.progress, "chunk", label=f"第 {chunk.index + 1}/{len(chunks)} 段", done=chunk.index, total=len(chunks))
        partials.append(
            client.structured(req, Summary, prompt=map_tpl.ref, step=f"map {chunk.index + 1}/{len(chunks)}")
        )
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


def _map_request(tpl: PromptTemplate, chunk: Any, parts: int, spec: LengthSpec, max_tokens: int) -> ChatRequest:
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
    return min(_OUTPUT_TOKENS[length], max(200, context_window // 4))


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
        if len(trial) == 1 or _fits(ctx, _reduce_request(tpl, trial, spec, title, max_tokens)):
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


# --- hybrid: the model condenses the extractive selection -----------------------------------


def _hybrid(
    extraction: extractive.Extraction, spec: LengthSpec, ctx: TaskContext
) -> tuple[Summary, dict[str, Any], list[dict[str, str]]]:
    client = ctx.client
    assert client is not None
    tpl = _prompt("summarize/condense", ctx)
    base = extraction.summary
    log: list[dict[str, Any]] = []

    calls = 1 + len(base.key_points)

    def condense(source_text: str, current: str, limit: int, step: str) -> str:
        emit(ctx.progress, "condense", label=step, done=len(log), total=calls)
        messages = tpl.render(sentence=current)
        # A shortening needs no more tokens than the original (~0.7 token per 字 for Gemma).
        budget = min(_CONDENSE_TOKENS, int(len(current) * 0.8) + 8)
        req = ChatRequest(messages, max_tokens=budget, temperature=0.0, stop=("\n",))
        response = client.chat(req, prompt=tpl.ref, step=step)
        candidate = response.text.strip().split("\n")[0].strip()
        if response.finish_reason == "length":
            candidate = extractive.trim(candidate, max(1, len(candidate) - 1))
        verdict = judge_condensed(candidate, current, source_text, limit)
        log.append({"step": step, "kept": verdict == "ok", "verdict": verdict, "reply": candidate[:200]})
        return _finish_sentence(candidate) if verdict == "ok" else current

    gist_src = extraction.gist.text if extraction.gist else base.gist
    gist = condense(gist_src, base.gist, spec.gist_zi, "condense gist")
    points = [
        KeyPoint(text=condense(s.text, p.text, spec.point_zi, f"condense point {i}"), source=p.source)
        for i, (p, s) in enumerate(zip(base.key_points, extraction.points, strict=True), 1)
    ]
    # Tasks stay in the text's own words (a 部署 is quoted, not paraphrased), and the figures are
    # verbatim by construction: the model only condenses the gist and the points.
    summary = Summary(gist=gist, gist_source=base.gist_source, key_points=points, tasks=base.tasks,
                      figures=base.figures)
    kept = sum(1 for entry in log if entry["kept"])
    info = {"hybrid": {"condensed": kept, "kept_extractive": len(log) - kept, "calls": log}}
    return summary, info, [tpl.ref.to_dict()]


def judge_condensed(candidate: str, current: str, source: str, limit: int) -> str:
    """'ok' when a model's shortening of `current` may replace it; else the reason it may not.

    A small model may only delete: the rewrite must be a subsequence of the sentence it was given
    (punctuation aside), a clause holding a figure must come from one clause of the original, no
    clause it keeps may lose a negation (要搞阴谋诡计 for 不要搞阴谋诡计 inverts the meaning), and
    figures and quotes stay verbatim.
    """
    han = count_han(candidate)
    if han < max(6, count_han(current) // 4):
        return "too short"
    if len(candidate) > max(limit, len(current)) + 2:
        return "longer than the original"
    if re.search(r"(.{2,})\1\1", candidate):
        return "repetition"
    # The original as (clause, position) per word character; the rewrite clause by clause.
    orig = _clauses(current)
    flat = [(k, p) for k, clause in enumerate(orig) for p in range(len(clause))]
    matched: dict[int, set[int]] = {}
    at = 0  # index into flat
    for piece in _clauses(candidate):
        # A clause with a figure must come from ONE clause of the original: a deletion across a
        # comma can hang a figure on the wrong subject (一九五三年…增长百分之九点四).
        whole = _has_figure(piece)
        hit = _match(piece, orig, flat, at, whole)
        if hit is None:
            return "not a shortening: adds, moves or joins words" if not whole else (
                "not a shortening: moves a figure to another clause")
        for k, p in hit:
            matched.setdefault(k, set()).add(p)
        at = flat.index(hit[-1]) + 1
    for k, positions in matched.items():
        for p, ch in enumerate(orig[k]):
            if ch in _NEGATIONS and p not in positions:
                return f"drops a negation ({ch}) from a clause it keeps"
    missing = unverified(candidate, _norm(source) + "\n" + _norm(current))
    if missing:
        return "figure or quote not in the source: " + "、".join(missing)
    return "ok"


_NEGATIONS = set("不没未无非勿莫别否禁防避杜反免拒")


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "%‰."


def _clauses(text: str) -> list[str]:
    out: list[str] = []
    current = ""
    for ch in _norm(text):
        if _is_word_char(ch):
            current += ch
        elif current:
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out


def _match(
    piece: str, orig: list[str], flat: list[tuple[int, int]], at: int, one_clause: bool
) -> list[tuple[int, int]] | None:
    """(clause, position) of piece's characters in order from flat[at], greedily; None if absent."""
    starts = sorted({k for k, _ in flat[at:]}) if one_clause else [None]
    for k in starts:
        hit: list[tuple[int, int]] = []
        i = at
        for ch in piece:
            while i < len(flat) and (orig[flat[i][0]][flat[i][1]] != ch or (k is not None and flat[i][0] != k)):
                if k is not None and flat[i][0] > k:
                    i = len(flat)
                    break
                i += 1
            if i >= len(flat):
                break
            hit.append(flat[i])
            i += 1
        if len(hit) == len(piece):
            return hit
    return None


def _has_figure(piece: str) -> bool:
    from pipeline.facts import extract_facts

    return any(ch.isdigit() for ch in piece) or bool(extract_facts(piece, ("number", "percent")))


def _finish_sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(("。", "！", "？", "”", "；")) else text.rstrip("，、；：,;:") + "。"


# --- verification (pipeline, not model) -----------------------------------------------------


def _norm(text: str) -> str:
    # NFKC folds full-width digits and ％ into ASCII, so "５％" in the source matches "5%".
    return unicodedata.normalize("NFKC", text).replace(" ", "").replace("\u3000", "")


def unverified(text: str, norm_source: str) -> list[str]:
    """Figures, dates and quoted phrases in text that do not appear verbatim in the source."""
    from pipeline.facts import extract_facts

    missing: list[str] = []
    for fact in extract_facts(text, _CHECK_KINDS):
        if fact.kind in ("quote", "title"):
            # The words inside the marks, punctuation included, whatever marks the model used.
            found = _norm(fact.text.strip("“”‘’「」『』《》〈〉\"'")) in norm_source
        else:
            found = _norm(fact.text) in norm_source
        if not found and fact.text not in missing:
            missing.append(fact.text)
    return missing


def _unusable(item: str, text: str, norm_source: str) -> dict[str, Any] | None:
    """Why a point or task cannot stay (too little Chinese, or words not in the source), or None."""
    if count_han(text) < _MIN_HAN:
        return {"item": item, "text": text, "not_in_source": [], "reason": "not a sentence"}
    missing = unverified(text, norm_source)
    if missing:
        return {"item": item, "text": text, "not_in_source": missing}
    return None


def verify(
    summary: Summary,
    doc: Document,
    spec: LengthSpec,
    fallback: Summary | Callable[[], Summary] | None = None,
) -> tuple[Summary, dict[str, Any]]:
    """Check every item against the source; drop what cannot be found; repair ¶ sources.

    `fallback` (a summary, or a function making one when needed) supplies the gist when the
    model's gist is unusable."""
    n = len(doc.paragraphs)
    norm_paras = [_norm(p.text) for p in doc.paragraphs]
    norm_source = "\n".join(norm_paras)
    dropped: list[dict[str, Any]] = []
    repaired: list[dict[str, Any]] = []
    cleared: list[dict[str, Any]] = []

    def fix_sources(kind: str, text: str, source: list[int], needle: str | None = None) -> list[int]:
        good = [s for s in source if 1 <= s <= n]
        if needle is not None:
            where = [i + 1 for i, p in enumerate(norm_paras) if needle in p]
            if where and not any(s in where for s in good):
                repaired.append({"item": kind, "text": text[:60], "from": source, "to": where[:1]})
                return where[:1]
        if not good:
            located = locate(text, doc)
            repaired.append({"item": kind, "text": text[:60], "from": source, "to": located})
            return located
        if good != source:
            repaired.append({"item": kind, "text": text[:60], "from": source, "to": good})
        return good

    gist, gist_source = summary.gist, summary.gist_source
    missing = unverified(gist, norm_source)
    if (missing or count_han(gist) < _MIN_HAN) and fallback is not None:
        # A small model's "gist" can be a bare number: that is no sentence, use the extractive one.
        reason = {"not_in_source": missing} if missing else {"reason": "not a sentence"}
        dropped.append({"item": "gist", "text": gist, **reason, "replaced_by": "extractive gist"})
        if callable(fallback):
            fallback = fallback()
        gist, gist_source = fallback.gist, fallback.gist_source
    gist_source = fix_sources("gist", gist, gist_source)

    points: list[KeyPoint] = []
    for p in summary.key_points:
        if (problem := _unusable("key_point", p.text, norm_source)) is not None:
            dropped.append(problem)
            continue
        points.append(KeyPoint(text=p.text, source=fix_sources("key_point", p.text, p.source)))

    tasks: list[TaskItem] = []
    for t in summary.tasks:
        if (problem := _unusable("task", t.what, norm_source)) is not None:
            dropped.append(problem)
            continue
        who = t.who
        if who and _norm(who) not in norm_source:
            # "who" only where the text says: an actor the source never names is removed.
            cleared.append({"item": "task", "text": t.what[:60], "who": who})
            who = None
        tasks.append(TaskItem(what=t.what, who=who, source=fix_sources("task", t.what, t.source)))

    figures: list[Figure] = []
    seen: set[str] = set()
    for f in summary.figures:
        value = _norm(f.value.strip())
        if not value or value not in norm_source:
            dropped.append({"item": "figure", "text": f"{f.measures} {f.value}", "not_in_source": [f.value]})
            continue
        if not any(ch.isdigit() for ch in value) and not re.search(r"[零〇一二两三四五六七八九十百千万亿]", value):
            dropped.append({"item": "figure", "text": f"{f.measures} {f.value}", "not_in_source": [], "reason": "not a figure"})
            continue
        key = f"{value}|{f.measures}"
        if key in seen:
            continue
        seen.add(key)
        figures.append(Figure(value=f.value.strip(), measures=f.measures,
                              source=fix_sources("figure", f.measures + f.value, f.source, needle=value)))

    verified = Summary(
        gist=gist, gist_source=gist_source,
        key_points=points[: spec.points], tasks=tasks[: spec.tasks], figures=figures[: spec.figures],
    )
    checks = {
        "verbatim": {
            "passed": True,  # what remains is verified; what failed was dropped (listed here)
            "rule": "every figure, date and quoted phrase appears verbatim (NFKC) in the source",
            "figures_checked": len(summary.figures),
            "dropped": dropped,
            "who_not_in_source": cleared,
        },
        "sources": {"passed": True, "paragraphs": n, "repaired": repaired},
    }
    return verified, checks


def locate(text: str, doc: Document) -> list[int]:
    """The paragraph that shares the most character bigrams with text (for uncited items)."""
    want = extractive._features(text, "bigram")
    best, best_score = 1, -1.0
    for p in doc.paragraphs:
        have = extractive._features(p.text, "bigram")
        score = len(want & have) / (len(want) or 1)
        if score > best_score:
            best, best_score = p.number, score
    return [best]


# --- results --------------------------------------------------------------------------------


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


def _dry_run(
    doc: Document, extraction: extractive.Extraction, spec: LengthSpec, title: str, method: str,
    reason: str, requested: str, ctx: TaskContext,
) -> TaskResult:
    """What would be sent: the first rendered request, its token count, the chunk plan."""
    client = ctx.client
    assert client is not None
    plan: dict[str, Any] = {"method": method, "method_reason": reason, "method_requested": requested}
    if method == "hybrid":
        tpl = _prompt("summarize/condense", ctx)
        sentences = [extraction.summary.gist] + [p.text for p in extraction.summary.key_points]
        request = ChatRequest(tpl.render(sentence=sentences[0]), max_tokens=_CONDENSE_TOKENS)
        plan["calls"] = len(sentences)
    else:
        tpl = _prompt("summarize", ctx)
        request = _one_call_request(tpl, doc, spec, title)
        if not _fits(ctx, request):
            tpl = _prompt("summarize/map", ctx)
            plan["mode"] = "map-reduce"
            empty = tpl.render(text="", part=1, parts=1, section="", points=2, tasks=2, figures=2, point_zi=spec.point_zi)
            overhead = sum(client.count_tokens(m.content) + 4 for m in empty)
            budget = int((client.context_window - overhead - _OUTPUT_TOKENS["short"]) * 0.9)
            chunks = chunk_document(doc, max(budget, 64), client.count_tokens)
            plan["chunks"] = [c.metadata() for c in chunks]
            first = chunks[0]
            request = ChatRequest(tpl.render(text=first.text(), part=1, parts=len(chunks),
                                             section=" › ".join(first.section), points=2, tasks=2,
                                             figures=2, point_zi=spec.point_zi),
                                  max_tokens=_OUTPUT_TOKENS["short"])
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
