"""Chinese text units: 字 counts, paragraphs and sentences. Never splits Chinese on spaces."""

from __future__ import annotations

import re
import unicodedata

SPEAKING_RATE = 220  # 字 per minute for a speech read aloud at a meeting

_SENTENCE_END = "。！？!?；;…"
_CLOSERS = "”’」』）)》】\"'"
_SENTENCE_RE = re.compile(
    rf"[^{_SENTENCE_END}\n]*(?:[{_SENTENCE_END}]+[{_CLOSERS}]*|\n|$)"
)
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A model's control token sampled as text (Gemma's <start_of_image>, <end_of_turn>) or markup from
# its training pages (</strong>): never prose. Adapt's cleaner strips it; the Q102 check flags it.
CONTROL_TOKEN = re.compile(r"</?[a-z][a-z0-9_]{0,30}>")


def han_bigrams(text: str) -> set[str]:
    """The pairs of adjacent Han characters of `text` once everything else is removed: the unit
    the topic and overlap measures compare (punctuation, figures and Latin do not count)."""
    han = "".join(_HAN_RE.findall(text))
    return {han[i : i + 2] for i in range(len(han) - 1)}


def count_zi(text: str) -> int:
    """字数 as office software counts it: every character that is not white space."""
    # str.split() splits on exactly the characters str.isspace() accepts, at C speed.
    return len("".join(text.split()))


def count_han(text: str) -> int:
    """Only the Chinese characters (汉字) in text."""
    return len(_HAN_RE.findall(text))


def speaking_minutes(zi: int, rate: int = SPEAKING_RATE) -> float:
    return round(zi / rate, 1)


def split_paragraphs(text: str) -> list[str]:
    """Non-empty lines, stripped of surrounding white space (incl. full-width spaces)."""
    return [p.strip(" \t\u3000\xa0") for p in text.split("\n") if p.strip(" \t\u3000\xa0")]


def split_sentences(text: str) -> list[str]:
    """Sentences ending in 。！？；… (closing quotes kept with their sentence)."""
    return [s.strip() for s in _SENTENCE_RE.findall(text) if s.strip()]


def normalize(text: str) -> str:
    """NFKC plus removal of white space and punctuation, for fuzzy comparison."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        ch for ch in text if not ch.isspace() and not unicodedata.category(ch).startswith("P")
    )
