"""T: traditional characters mixed into simplified text (發展 in a 简体 speech).

OpenCC's t2s conversion tells which characters are traditional; characters it leaves alone are
the same in both scripts and never count. A text with more traditional-only than
simplified-only characters is a traditional text, not a mixed one, and is left alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from functools import lru_cache

from pipeline.check.base import CheckConfig, Doc, Edit, Finding, Severity, checker, finding, rule

T101 = rule("T101", "traditional-chars", Severity.warning,
            "traditional characters in simplified text (converted by --fix)", fixable=True)

@lru_cache(maxsize=2)
def _converter(config: str):
    import opencc  # loaded only when the rule runs

    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text)


def _simplified_only(text: str) -> int:
    """How many characters of text exist only in simplified form (报, 们, 发 …)."""
    counts = Counter(ch for ch in text if "\u4e00" <= ch <= "\u9fff")
    chars = list(counts)
    converted = _converter("s2t").convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):
        return 0
    return sum(counts[c] for c, t in zip(chars, converted, strict=True) if t != c)


@checker(T101)
def check_traditional(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    converted = to_simplified(doc.text)
    if converted == doc.text:
        return
    if len(converted) != len(doc.text):  # t2s maps character for character; be safe anyway
        return
    traditional = sum(1 for a, b in zip(doc.text, converted, strict=True) if a != b)
    # a few traditional characters among many are surely mixed in; only a close call needs the
    # (slower) count of simplified-only characters
    if traditional * 20 > len(doc.text) and traditional > _simplified_only(doc.text):
        return  # a text in traditional characters, not a simplified one with a few mixed in
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
