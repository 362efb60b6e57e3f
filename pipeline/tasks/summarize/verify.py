"""The summary checked against its source by the pipeline, not the model: every figure, date and
quoted phrase must appear verbatim; items that fail are dropped and reported; ¶ sources repaired."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from pipeline.check.base import gate_finding
from pipeline.check.gates import GateCheck
from pipeline.summary import Figure, KeyPoint, LengthSpec, Summary, TaskItem
from pipeline.tasks.summarize.chunk import Document
from pipeline.tasks.summarize.extractive import bigram_features
from pipeline.text.hanzi import count_han

__all__ = ["locate", "norm", "unverified", "verify"]

MIN_HAN = 4  # fewer 汉字 than this is not a point, whatever the schema let through
CHECK_KINDS = ("number", "percent", "date", "quote", "title")


def norm(text: str) -> str:
    # NFKC folds full-width digits and ％ into ASCII, so "５％" in the source matches "5%".
    return unicodedata.normalize("NFKC", text).replace(" ", "").replace("\u3000", "")


def unverified(text: str, norm_source: str) -> list[str]:
    """Figures, dates and quoted phrases in text that do not appear verbatim in the source."""
    from pipeline.text.facts import extract_facts

    missing: list[str] = []
    for fact in extract_facts(text, CHECK_KINDS):
        if fact.kind in ("quote", "title"):
            # The words inside the marks, punctuation included, whatever marks the model used.
            found = norm(fact.text.strip("“”‘’「」『』《》〈〉\"'")) in norm_source
        else:
            found = norm(fact.text) in norm_source
        if not found and fact.text not in missing:
            missing.append(fact.text)
    return missing


def _unusable(item: str, text: str, norm_source: str) -> dict[str, Any] | None:
    """Why a point or task cannot stay (too little Chinese, or words not in the source), or None."""
    if count_han(text) < MIN_HAN:
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
    norm_paras = [norm(p.text) for p in doc.paragraphs]
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
    if (missing or count_han(gist) < MIN_HAN) and fallback is not None:
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
        if who and norm(who) not in norm_source:
            # "who" only where the text says: an actor the source never names is removed.
            cleared.append({"item": "task", "text": t.what[:60], "who": who})
            who = None
        tasks.append(TaskItem(what=t.what, who=who, source=fix_sources("task", t.what, t.source)))

    figures: list[Figure] = []
    seen: set[str] = set()
    for f in summary.figures:
        value = norm(f.value.strip())
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
    # what remains is verified; what failed was dropped: warnings and notes, never an error
    verbatim = GateCheck(
        [gate_finding("A202" if d.get("reason") else "A201", _dropped_message(d), d["text"][:60])
         for d in dropped]
        + [gate_finding("A203", f"“{c['who']}” is not named in the source: cleared", c["text"]) for c in cleared],
        {"rule": "every figure, date and quoted phrase appears verbatim (NFKC) in the source",
         "figures_checked": len(summary.figures), "dropped": dropped, "who_not_in_source": cleared},
    )
    sources = GateCheck(
        [gate_finding("A204", f"{r['item']} cited ¶{r['from']}, now ¶{r['to']}", r["text"]) for r in repaired],
        {"paragraphs": n, "repaired": repaired},
    )
    return verified, {"verbatim": verbatim.record(), "sources": sources.record()}


def _dropped_message(item: dict[str, Any]) -> str:
    if item.get("reason"):
        return f"{item['item']} dropped: {item['reason']}"
    return f"{item['item']} dropped: not in the source: {'、'.join(item['not_in_source'])}"


def locate(text: str, doc: Document) -> list[int]:
    """The paragraph that shares the most character bigrams with text (for uncited items)."""
    want = bigram_features(text)
    best, best_score = 1, -1.0
    for p in doc.paragraphs:
        have = bigram_features(p.text)
        score = len(want & have) / (len(want) or 1)
        if score > best_score:
            best, best_score = p.number, score
    return [best]


