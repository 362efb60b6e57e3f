"""Few-shot selection: which corpus speeches show the model the house style for a brief.

    ranked = rank(brief, records)                      # metadata, then BM25 on character bigrams
    chosen = mmr(ranked, k)                            # relevant but not all alike
    examples = pack(chosen, budget, count_tokens)      # whole, or trimmed paragraph by paragraph

Character bigrams rather than jieba words: the corpus is small, bigrams need no dictionary load
(jieba costs about a second at start-up, all of it outside the model) and match Chinese
compounds well enough for ranking a few dozen speeches.

Placeholders of the corpus (aa市, 20xx年, xx同志, --) must never reach a model, or the model
copies them: `neutralize_placeholders` rewrites the common ones into neutral words and drops sentences
that still hold one (what a placeholder is: pipeline.text.placeholders, the one detector).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pipeline.errors import InputError
from pipeline.speech import Speech, parse_speech_text
from pipeline.tasks.adapt.brief import Brief, classify_audience, classify_occasion
from pipeline.text import placeholders
from pipeline.text.hanzi import count_zi, split_paragraphs, split_sentences
from pipeline.text.injection import drop_instructions


class RecordLike(Protocol):
    id: str
    title: str
    text: str


# ---- placeholders -----------------------------------------------------------------------------

# (pattern, neutral replacement): applied in order before the sentence-dropping pass.
_NEUTRAL: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[□■]+"), ""),
    (re.compile(r"(?<![A-Za-z])(?:aa|AA)(?=[省市县区镇乡村])"), "本"),
    (re.compile(r"(?:19|20)[xX×]{2}年"), "今年"),
    (re.compile(r"[xX×]{2,}(?=同志)"), "有关"),
    (re.compile(r"[xX×]{2,}(?=[市县区局])"), "本"),
)


def neutralize_placeholders(text: str, extra: Sequence[str] = ()) -> str:
    """Text safe to show a model: neutral words for common marks; sentences with others dropped.

    `extra`: placeholder strings the corpus recorded for this speech (e.g. 一一).
    """
    for pattern, repl in _NEUTRAL:
        text = pattern.sub(repl, text)
    extra_re = re.compile("|".join(re.escape(e) for e in extra if e and e.strip())) if any(
        e and e.strip() for e in extra
    ) else None
    out: list[str] = []
    for para in split_paragraphs(text):
        kept = [
            s for s in split_sentences(para)
            if not placeholders.has_placeholder(s, placeholders.ALL) and not (extra_re and extra_re.search(s))
        ]
        if kept:
            out.append("".join(kept))
    return "\n".join(out)


# ---- features ---------------------------------------------------------------------------------

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
# Bigrams every speech has; they add nothing to ranking.
_STOP = frozenset(
    "讲话 会议 工作 我们 同志 大家 一个 进一步 要求 方面 今天 重要 全面 加强 推进 建设 发展 这次 这个 "
    "领导 各位 以及 一定 问题 情况 通过 开展 做好 提高 切实 认真 积极 努力 坚持 不断".split()
)


def bigrams(text: str) -> list[str]:
    """Character bigrams of the Chinese runs of text (the ranking's 'words')."""
    out: list[str] = []
    for run in _HAN_RUN.findall(text):
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return [b for b in out if b not in _STOP]


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def _bm25(query: list[str], docs: list[list[str]], k1: float = 1.5, b: float = 0.75) -> list[float]:
    n = len(docs)
    if not n:
        return []
    avgdl = sum(len(d) for d in docs) / n or 1.0
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set(d))
    q = Counter(query)
    scores = []
    for d in docs:
        tf = Counter(d)
        dl = len(d)
        s = 0.0
        for term, qf in q.items():
            f = tf.get(term, 0)
            if not f:
                continue
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            s += qf * idf * f * (k1 + 1) / (f + k1 * (1 - b + b * dl / avgdl))
        scores.append(s)
    return scores


# ---- ranking ----------------------------------------------------------------------------------


@dataclass
class Candidate:
    record: Any
    score: float
    parts: dict[str, float] = field(default_factory=dict)
    vector: Counter[str] = field(default_factory=Counter)

    @property
    def id(self) -> str:
        return str(self.record.id)


def _meta(record: Any, name: str) -> str:
    value = getattr(record, name, None)
    return str(value) if value else ""


def brief_query(brief: Brief) -> str:
    return " ".join([brief.occasion, brief.genre or "", brief.audience, brief.tone, *brief.points])


def rank(brief: Brief, records: Sequence[Any]) -> list[Candidate]:
    """Corpus speeches best first: metadata agreement plus normalized BM25 on bigrams."""
    if not records:
        return []
    query = bigrams(brief_query(brief))
    docs = [
        bigrams(" ".join([_meta(r, "title"), _meta(r, "occasion"), _meta(r, "genre"), r.text]))
        for r in records
    ]
    lexical = _bm25(query, docs)
    top = max(lexical) or 1.0
    kind = brief.audience_kind
    occasion_type = classify_occasion(brief.occasion + (brief.genre or ""))
    qset = set(bigrams(brief.occasion + (brief.genre or "")))
    out: list[Candidate] = []
    for rec, doc, lex in zip(records, docs, lexical, strict=True):
        parts = {"lexical": round(lex / top, 4)}
        genre = _meta(rec, "genre")
        if brief.genre and genre:
            parts["genre"] = 1.0 if brief.genre in genre or genre in brief.genre else 0.0
        head = set(bigrams(_meta(rec, "occasion") + _meta(rec, "title") + genre))
        parts["occasion"] = round(len(qset & head) / len(qset), 4) if qset else 0.0
        rec_type = classify_occasion(_meta(rec, "genre") + _meta(rec, "occasion") + _meta(rec, "title"))
        parts["occasion_type"] = 1.0 if rec_type == occasion_type else 0.0
        rec_kind = classify_audience(_meta(rec, "salutation") or _meta(rec, "audience") or rec.text[:40])
        parts["audience"] = 1.0 if rec_kind == kind or {rec_kind, kind} <= {"cadres", "leaders_cadres"} else 0.0
        # A speech with numbered sections shows the structure the pipeline writes.
        parts["structure"] = 1.0 if (getattr(rec, "headings", None) or re.search(r"^一、", rec.text, re.M)) else 0.0
        score = (
            parts["lexical"] + 0.8 * parts.get("genre", 0.0) + 0.6 * parts["occasion"]
            + 0.5 * parts["occasion_type"]
            + 0.5 * parts["audience"] + 0.3 * parts["structure"]
        )
        out.append(Candidate(rec, round(score, 4), parts, Counter(doc)))
    out.sort(key=lambda c: (-c.score, c.id))
    return out


def mmr(candidates: list[Candidate], k: int, lam: float = 0.7) -> list[Candidate]:
    """Maximal marginal relevance: each next pick trades relevance against likeness to picks."""
    if k <= 0 or not candidates:
        return []
    top = max(c.score for c in candidates) or 1.0
    pool = list(candidates)
    chosen: list[Candidate] = []
    while pool and len(chosen) < k:
        def gain(c: Candidate) -> float:
            sim = max((_cosine(c.vector, p.vector) for p in chosen), default=0.0)
            return lam * c.score / top - (1 - lam) * sim

        best = max(pool, key=gain)
        chosen.append(best)
        pool.remove(best)
    return chosen


# ---- packing ----------------------------------------------------------------------------------


@dataclass
class Example:
    """One example as shown to the model (masked, maybe trimmed) and what it is made of."""

    id: str
    title: str
    text: str
    tokens: int
    trimmed: bool
    speech: Speech  # the masked structure (salutation, opening, sections, closing)
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "tokens": self.tokens, "trimmed": self.trimmed,
                "zishu": count_zi(self.text), "score": self.score}


def example_speech(record: Any) -> Speech:
    """The record's structure with its placeholders masked and any sentence addressed to a
    model (pipeline.text.injection) taken out: a corpus file is a source like any other."""
    extra = list(getattr(record, "placeholders", None) or [])
    text, _ = drop_instructions(neutralize_placeholders(record.text, extra))
    title = neutralize_placeholders(_meta(record, "title"), extra) or "讲话"
    speech = parse_speech_text(text, title=title)
    return speech.model_copy(update={"title": title})


def _trim_paragraph(text: str, max_zi: int) -> str:
    """Whole sentences from the start of a paragraph, up to about max_zi 字."""
    if count_zi(text) <= max_zi:
        return text
    out = ""
    for sentence in split_sentences(text):
        if out and count_zi(out + sentence) > max_zi:
            break
        out += sentence
    return out


def trimmed_variants(speech: Speech) -> list[Speech]:
    """The speech from whole to leanest: fewer paragraphs per part, then shorter paragraphs."""
    variants = [speech]
    for keep, max_zi in ((3, 400), (2, 300), (1, 260), (1, 160), (1, 100)):
        opening = split_paragraphs(speech.opening)[:keep]
        closing = split_paragraphs(speech.closing)
        # "谢谢大家！" alone says nothing about how this house closes a speech.
        closing = closing[-2:] if closing and count_zi(closing[-1]) < 12 else closing[-1:]
        sections = []
        for s in speech.sections[:5]:
            paras = list(s.paragraphs) or [p for sub in s.subsections for p in sub.paragraphs]
            sections.append(s.model_copy(update={
                "paragraphs": [_trim_paragraph(p, max_zi) for p in paras[:keep]], "subsections": []
            }))
        variants.append(speech.model_copy(update={
            "opening": "\n".join(_trim_paragraph(p, max_zi) for p in opening),
            "sections": sections,
            "closing": "\n".join(_trim_paragraph(p, max_zi) for p in closing),
        }))
    return variants


def speech_as_text(speech: Speech) -> str:
    """An example as the model reads it: title, 称呼, paragraphs, one per line."""
    return "\n".join(text for _, text in speech.blocks() if text)


def pack(
    candidates: list[Candidate], budget: int, count_tokens: Callable[[str], int], *, min_tokens: int = 120
) -> list[Example]:
    """Examples in rank order, each whole or trimmed so the total stays within budget tokens."""
    out: list[Example] = []
    left = budget
    for cand in candidates:
        if left < min_tokens:
            break
        speech = example_speech(cand.record)
        for i, variant in enumerate(trimmed_variants(speech)):
            text = speech_as_text(variant)
            tokens = count_tokens(text)
            if tokens <= left:
                out.append(Example(cand.id, variant.title, text, tokens, i > 0, variant, cand.score))
                left -= tokens
                break
    return out


# ---- the one entry point ----------------------------------------------------------------------


@dataclass
class Selection:
    examples: list[Example]
    ranked: list[Candidate]
    budget: int

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.examples]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ids": self.ids,
            "budget": self.budget,
            "examples": [e.to_dict() for e in self.examples],
            "ranking": [{"id": c.id, "score": c.score, **c.parts} for c in self.ranked[:10]],
        }


def parse_examples_option(value: str | int | list[str] | None) -> int | list[str] | None:
    """--examples: None (default), N, or a comma-separated list of ids."""
    if value is None or value == "":
        return None
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, int):
        if value < 0:
            raise InputError("--examples: a count must be 0 or more")
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    ids = [p.strip() for p in re.split(r"[,，\s]+", text) if p.strip()]
    if not ids:
        raise InputError("--examples: give a count (2) or corpus ids (id1,id2)")
    return ids


def select_examples(
    brief: Brief,
    records: Sequence[Any],
    *,
    count: int,
    budget: int,
    count_tokens: Callable[[str], int],
    override: int | list[str] | None = None,
) -> Selection:
    """Rank, diversify and pack examples for the brief; `override` is --examples."""
    ranked = rank(brief, records)
    if isinstance(override, list):
        by_id = {c.id: c for c in ranked}
        missing = [i for i in override if i not in by_id]
        if missing:
            known = ", ".join(sorted(by_id)[:12]) or "(the corpus is empty)"
            raise InputError(f"--examples: no corpus speech with id {missing[0]!r} (ids: {known})")
        chosen = [by_id[i] for i in override]
    else:
        k = count if override is None else override
        chosen = mmr(ranked, k)
    return Selection(pack(chosen, budget, count_tokens), ranked, budget)
