"""The working document a restyle run edits: sentences with scores, paragraphs with their
source passage, and the selection of sentences that fits a length budget."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipeline.speech import Section, Speech
from pipeline.styles import Style
from pipeline.tasks import TaskContext
from pipeline.tasks.restyle.source import ENUM_RE, GREETING_RE, H2_RE, THANKS_RE
from pipeline.text.facts import extract_facts
from pipeline.text.hanzi import count_zi, split_sentences

_CUE_WORDS = ("要", "必须", "务必", "确保", "坚持", "加强", "推进", "落实", "强调", "重点")


@dataclass
class Sent:
    text: str
    score: float = 0.0
    fixed: bool = False  # frame text and headings-as-sentences are never trimmed


@dataclass
class Para:
    sents: list[Sent]
    source: str = ""  # the source passage this paragraph renders (for fact gates)
    status: str = "source"  # model | fallback:<reason> | source | frame | expand

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.sents)


@dataclass
class Doc:
    title: str
    salutation: str = ""
    opening: list[Para] = field(default_factory=list)
    sections: list[tuple[str, list[Para]]] = field(default_factory=list)
    closing: list[Para] = field(default_factory=list)
    subtitle: str = ""  # the source's 题注 (——在…上, date, speaker), kept by styles that keep the speech
    # source sentences left out by selection, (part index, text, score): expand re-uses them
    unused: list[tuple[int, str, float]] = field(default_factory=list)

    def paras(self) -> list[Para]:
        return self.opening + [p for _, ps in self.sections for p in ps] + self.closing

    def to_speech(self) -> Speech:
        def join(paras: list[Para]) -> str:
            return "\n".join(_end(p.text) for p in paras if p.text.strip())

        return Speech(
            title=self.title or "讲话",
            salutation=self.salutation,
            opening=join(self.opening),
            sections=[
                Section(heading=h, paragraphs=[_end(p.text) for p in ps if p.text.strip()])
                for h, ps in self.sections
            ],
            closing=join(self.closing),
            subtitle=self.subtitle,
        )

    def zishu(self) -> int:
        return self.to_speech().zishu


def close_sentence(sentence: str) -> str:
    # a sub-heading used as a sentence ("（一）…的必然要求") needs its full stop once joined
    sentence = sentence.strip()
    return sentence if re.search(r"[。！？!?；;…”’」）)]$", sentence) else sentence + "。"


def _end(paragraph: str) -> str:
    # trimming can leave a paragraph ending on a clause mark; a paragraph ends a sentence
    paragraph = paragraph.strip()
    return paragraph[:-1] + "。" if paragraph.endswith(("，", "；", "、", ",", ";")) else paragraph


@dataclass
class Run:
    """Everything one restyle run knows; passed between the steps."""

    style: Style
    source_text: str
    source: Speech
    target: int | None
    audience: str
    given: dict[str, str]
    ctx: TaskContext
    instructions: list[str] = field(default_factory=list)  # injected model instructions dropped
    section_prompt: Any = None
    caught: list[dict[str, Any]] = field(default_factory=list)  # inventions and losses the gates stopped
    units: list[dict[str, Any]] = field(default_factory=list)
    expand_calls: int = 0
    model_calls: int = 0
    model_kept: int = 0  # sentences whose model rewrite passed every gate
    model_cap: int | None = None  # at most this many model rewrites (inputs['model_sentences'])
    trimmed: int = 0
    info: Any = None  # the Intake: what the text says about itself, furniture kept out
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (source sentence, its rendering)

    @property
    def allowed(self) -> list[str]:
        info = [self.info.lead, self.info.speaker, self.info.date, self.info.occasion] if self.info else []
        return [self.source_text, *self.given.values(), *(x for x in info if x)]


def _score(sentence: str, first: bool) -> float:
    n = count_zi(sentence)
    score = 2.0 * len(extract_facts(sentence))
    score += 1.5 if first else 0.0
    score += 1.0 if any(w in sentence for w in _CUE_WORDS) else 0.0
    score += 2.0 if H2_RE.match(sentence) or ENUM_RE.match(sentence) else 0.0
    score += 0.5 if 15 <= n <= 90 else 0.0
    score -= 1.5 if n < 8 else 0.0
    score -= 1.0 if GREETING_RE.match(sentence) or THANKS_RE.match(sentence) else 0.0
    return score


def sentences(paragraph: str) -> list[Sent]:
    sents = split_sentences(paragraph) or [paragraph]
    return [Sent(s, _score(s, i == 0)) for i, s in enumerate(sents)]


def select_sentences(groups: list[list[list[Sent]]], budget: int) -> set[tuple[int, int, int]]:
    """Pick sentences (group, paragraph, sentence) worth keeping within `budget` 字.

    Each group (section) first keeps its best sentence, so no section is emptied; then the
    highest-scoring sentences are added while they fit. Order is restored by the caller.
    """
    chosen: set[tuple[int, int, int]] = set()
    used = 0
    ranked: list[tuple[float, int, tuple[int, int, int]]] = []
    fair = budget / max(1, sum(1 for paras in groups if paras)) * 1.5
    for g, paras in enumerate(groups):
        best: tuple[float, tuple[int, int, int], int] | None = None
        for p, sents in enumerate(paras):
            for s, sent in enumerate(sents):
                n = count_zi(sent.text)
                ranked.append((sent.score, n, (g, p, s)))
                # a section's anchor: its best sentence of a fair size (else its shortest)
                rank = sent.score if n <= fair else -1000.0 - n
                if best is None or rank > best[0]:
                    best = (rank, (g, p, s), n)
        if best and used + best[2] <= budget * 1.05:
            chosen.add(best[1])
            used += best[2]
    # then each paragraph's best sentence, best paragraphs first, so compression thins every
    # paragraph instead of keeping one whole and dropping the rest
    anchors = []
    for g, paras in enumerate(groups):
        for p, sents in enumerate(paras):
            if sents and not any((g, p, s) in chosen for s in range(len(sents))):
                s, sent = max(enumerate(sents), key=lambda e: e[1].score)
                anchors.append((sent.score, count_zi(sent.text), (g, p, s)))
    for _, n, key in sorted(anchors, key=lambda r: (-r[0], r[2])):
        if used + n <= budget:
            chosen.add(key)
            used += n
    for _, n, key in sorted(ranked, key=lambda r: (-r[0], r[2])):
        if key in chosen:
            continue
        if used + n <= budget * 1.02:
            chosen.add(key)
            used += n
    return chosen


def unused_sentences(groups: list[list[list[Sent]]], chosen: set[tuple[int, int, int]] | None) -> list[tuple[int, str, float]]:
    if chosen is None:
        return []
    return [
        (g, s.text, s.score)
        for g, paras in enumerate(groups)
        for p, sents in enumerate(paras)
        for i, s in enumerate(sents)
        if (g, p, i) not in chosen
    ]
