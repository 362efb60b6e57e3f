"""R: a paragraph or sentence said twice (a common copy-paste and model-loop slip), and
sentences too long to read aloud in one breath.

Repeats are compared after normalize() (width, spaces and punctuation ignored). Short lines
(谢谢大家！, 同志们：) and headings may repeat legitimately, so only paragraphs of 15 字 or more
and sentences of 12 字 or more count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.check.base import (
    CheckConfig,
    Doc,
    Edit,
    Finding,
    Severity,
    checker,
    finding,
    rule,
    sentences,
)

R101 = rule("R101", "repeated-paragraph", Severity.warning,
            "the same paragraph twice (the later copy is removed by --fix)", fixable=True)
R102 = rule("R102", "repeated-sentence", Severity.warning, "the same sentence twice")
R103 = rule("R103", "long-sentence", Severity.warning,
            "a sentence longer than --max-sentence 字 (default 120)")

MIN_PARAGRAPH_ZI = 15
MIN_SENTENCE_ZI = 20  # shorter ones (推进节能减排和生态环境保护。) recur as lead phrases
_NOT_WORD = re.compile(r"[\W_]+")
_SPACE = re.compile(r"\s+")
_ENDS = ("。", "！", "？", "；", "!", "?", ";", "…", "”")


def _key(doc: Doc, start: int, end: int) -> str:
    """Comparison key: half-width, without spaces and punctuation (hanzi.normalize, but fast)."""
    return _NOT_WORD.sub("", doc.half[start:end])


@checker(R101, R102, R103)
def check_repetition(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    seen_paras: dict[str, int] = {}
    duplicate_paras: set[int] = set()
    for para in doc.paragraphs:
        if not para.text.endswith(_ENDS):
            continue  # headings and link lines (纲要（草案）) may well recur
        key = _key(doc, para.start, para.end)
        if len(key) < MIN_PARAGRAPH_ZI:
            continue
        if key in seen_paras:
            duplicate_paras.add(para.number)
            end = para.line_end
            if doc.text[end : end + 1] == "\n" and doc.text[para.line_start - 1 : para.line_start] == "\n":
                end += 1  # take one of the blank lines around it too, so no gap of two is left
            yield finding(doc, "R101", f"paragraph repeats ¶{seen_paras[key]}", para.start, para.end,
                          edits=[Edit(para.line_start, end, "")])
        else:
            seen_paras[key] = para.number
    seen_sents: dict[str, int] = {}
    for para in doc.paragraphs:
        repeats: dict[int, list[tuple[int, int]]] = {}  # earlier paragraph -> repeated spans
        for start, end, sent in sentences(para):
            zi = len(_SPACE.sub("", sent)) if _SPACE.search(sent) else len(sent)
            if zi > config.max_sentence:
                yield finding(doc, "R103", f"sentence of {zi} 字 (over {config.max_sentence}): split it "
                              "for reading aloud", start, end)
            if para.number in duplicate_paras or not sent.endswith(_ENDS):
                continue
            key = _key(doc, start, end)
            if len(key) < MIN_SENTENCE_ZI:
                continue
            if key in seen_sents:
                repeats.setdefault(seen_sents[key], []).append((start, end))
            else:
                seen_sents[key] = para.number
        for where, spans in repeats.items():
            same = "earlier in this paragraph" if where == para.number else f"in ¶{where}"
            what = "sentence said" if len(spans) == 1 else f"{len(spans)} sentences said"
            yield finding(doc, "R102", f"{what} before {same}", spans[0][0], spans[-1][1])
