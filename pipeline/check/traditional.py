"""T: traditional characters mixed into simplified text (發展 in a 简体 speech).

OpenCC's t2s conversion tells which characters are traditional; characters it leaves alone are
the same in both scripts and never count. A text that is mostly traditional is a traditional
text, not a mixed one, and is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from pipeline.check.base import CheckConfig, Doc, Edit, Finding, Severity, checker, finding, rule
from pipeline.hanzi import count_han

T101 = rule("T101", "traditional-chars", Severity.warning,
            "traditional characters in simplified text (converted by --fix)", fixable=True)

MOSTLY_TRADITIONAL = 0.3  # share of converted characters above which the text is traditional


@lru_cache(maxsize=1)
def _converter():
    import opencc  # loaded only when the rule runs

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _converter().convert(text)


@checker(T101)
def check_traditional(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    converted = to_simplified(doc.text)
    if converted == doc.text:
        return
    if len(converted) != len(doc.text):  # t2s maps character for character; be safe anyway
        return
    changed = sum(1 for a, b in zip(doc.text, converted, strict=True) if a != b)
    if changed > MOSTLY_TRADITIONAL * max(1, count_han(doc.text)):
        return
    for para in doc.paragraphs:
        simple = converted[para.start : para.end]
        if simple == para.text:
            continue
        edits = [
            Edit(para.start + i, para.start + i + 1, b)
            for i, (a, b) in enumerate(zip(para.text, simple, strict=True))
            if a != b
        ]
        chars = "".join(dict.fromkeys(doc.text[e.start] + "→" + e.text + " " for e in edits)).strip()
        yield finding(doc, "T101", f"{len(edits)} traditional character(s): {chars}",
                      edits[0].start, edits[0].end, edits=edits)
