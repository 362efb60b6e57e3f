"""summarize --method hybrid: the model only shortens the sentences the extractive ranking chose;
a shortening is kept only when it deletes words and keeps every figure, quote and negation."""

from __future__ import annotations

import re
from typing import Any

from pipeline.events import emit
from pipeline.model.types import ChatRequest
from pipeline.summary import KeyPoint, LengthSpec, Summary
from pipeline.tasks import TaskContext
from pipeline.tasks.summarize import extractive
from pipeline.tasks.summarize.mapreduce import load
from pipeline.tasks.summarize.verify import norm, unverified
from pipeline.text.hanzi import count_han

__all__ = ["CONDENSE_TOKENS", "SHORT_ENOUGH_ZI", "hybrid", "judge_condensed"]

CONDENSE_TOKENS = 64
# A chosen sentence this short is already a point's length: asking the model to shorten it
# gains a few 字 and costs a call (~0.6 s on one core). On 200 batch jobs of ~100 字 beside a
# busy process this took the rate from 0.4 to over 0.8 jobs/s (evals/bench/bench_busy.py).
SHORT_ENOUGH_ZI = 40


def hybrid(
    extraction: extractive.Extraction, spec: LengthSpec, ctx: TaskContext
) -> tuple[Summary, dict[str, Any], list[dict[str, str]]]:
    client = ctx.client
    assert client is not None
    tpl = load("summarize/condense", ctx)
    base = extraction.summary
    log: list[dict[str, Any]] = []

    items = [(base.gist, spec.gist_zi), *((p.text, spec.point_zi) for p in base.key_points)]
    calls = sum(1 for text, limit in items if not _short_enough(text, limit))

    def condense(source_text: str, current: str, limit: int, step: str) -> str:
        if _short_enough(current, limit):
            return current
        emit(ctx.progress, "condense", label=f"压缩第 {len(log) + 1}/{calls} 句", done=len(log), total=calls)
        messages = tpl.render(sentence=current)
        # A shortening needs no more tokens than the original (~0.7 token per 字 for Gemma).
        budget = min(CONDENSE_TOKENS, int(len(current) * 0.8) + 8)
        req = ChatRequest(messages, max_tokens=budget, temperature=0.0, stop=("\n",))
        response = client.chat(req, prompt=tpl.ref, step=step)
        candidate = response.text.strip().split("\n")[0].strip()
        if response.finish_reason == "length":
            candidate = extractive.trim(candidate, max(1, len(candidate) - 1))
        verdict = judge_condensed(candidate, current, source_text, limit)
        log.append({"step": step, "kept": verdict == "ok", "verdict": verdict, "reply": candidate[:200]})
        return _finish_sentence(candidate) if verdict == "ok" else current

    gist_src = extraction.gist.text if extraction.gist else base.gist
    total = 1 + len(base.key_points)
    emit(ctx.progress, "condense", label=f"压缩第 1/{total} 句（要旨）", done=0, total=total)
    gist = condense(gist_src, base.gist, spec.gist_zi, "condense gist")
    points = []
    for i, (p, s) in enumerate(zip(base.key_points, extraction.points, strict=True), 1):
        emit(ctx.progress, "condense", label=f"压缩第 {i + 1}/{total} 句", done=i, total=total)
        points.append(KeyPoint(text=condense(s.text, p.text, spec.point_zi, f"condense point {i}"), source=p.source))
    # Tasks stay in the text's own words (a 部署 is quoted, not paraphrased), and the figures are
    # verbatim by construction: the model only condenses the gist and the points.
    summary = Summary(gist=gist, gist_source=base.gist_source, key_points=points, tasks=base.tasks,
                      figures=base.figures)
    kept = sum(1 for entry in log if entry["kept"])
    info = {"hybrid": {"condensed": kept, "kept_extractive": len(log) - kept, "short_enough": len(items) - len(log),
                       "calls": log}}
    return summary, info, [tpl.ref.to_dict()]


def _short_enough(text: str, limit: int) -> bool:
    return count_han(text) <= SHORT_ENOUGH_ZI and len(text) <= limit


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
    missing = unverified(candidate, norm(source) + "\n" + norm(current))
    if missing:
        return "figure or quote not in the source: " + "、".join(missing)
    return "ok"


_NEGATIONS = set("不没未无非勿莫别否禁防避杜反免拒")


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "%‰."


def _clauses(text: str) -> list[str]:
    out: list[str] = []
    current = ""
    for ch in norm(text):
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
    from pipeline.text.facts import extract_facts

    return any(ch.isdigit() for ch in piece) or bool(extract_facts(piece, ("number", "percent")))


def _finish_sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(("。", "！", "？", "”", "；")) else text.rstrip("，、；：,;:") + "。"


