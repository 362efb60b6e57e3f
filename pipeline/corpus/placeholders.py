"""Anonymization blanks in example speeches: xx, XX, aa, --, □, 20xx, 某某, and `一一` used as a
blank ("一一的园林绿化事业"). Sites put them where a name, place or year stood.

Nothing downstream may copy a blank as if it were a real name. Use:

    find_placeholders(text)   -> list[Placeholder]  (token, start, end, kind)
    placeholder_tokens(text)  -> ['--', 'xx', '20xx', …]  distinct, in order of appearance
    mask_placeholders(text)   -> text with every blank replaced by `＿＿` (or your mask)
    has_placeholder(text)     -> bool, e.g. to reject a generated name like 'xx县'
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_MASK = "＿＿"

_LATIN = r"A-Za-z"
# Order matters: longer, more specific shapes first; overlaps are resolved left to right.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 20xx年, 19XX年, and a digit run fused to one (50 年一遇 typed over 20xx: 520xx年一遇)
    ("year", re.compile(rf"(?<![{_LATIN}])\d*(?:19|20)[xX×ｘＸ]{{2}}(?![{_LATIN}])")),
    ("latin", re.compile(rf"(?<![{_LATIN}])(?:[xX]{{2,}}|[aA]{{2,}}|ｘ{{2,}}|Ｘ{{2,}}|[ａＡ]{{2,}})(?![{_LATIN}])")),
    ("latin", re.compile(rf"(?<![{_LATIN}\d])[xX×](?=[年月日号时])")),  # x月x日
    ("cross", re.compile(r"×{2,}|＊{2,}|\*{2,}")),
    ("box", re.compile(r"[□■△◇◆☆]+")),
    # ○○ is a blank, but 二○○○年 writes the year 2000 with ○ as zero.
    ("box", re.compile(r"(?<![一二三四五六七八九十○〇])[○〇]{2,}(?![一二三四五六七八九十○〇年])")),
    # not 30--40, not --flag, not a '--' used as a dash at the start of a line
    ("dash", re.compile(r"(?<![A-Za-z0-9\-\n\u3000 ])-{2,}(?![A-Za-z0-9-])")),
    ("underscore", re.compile(r"_{2,}|＿{2,}")),
    ("mou", re.compile(r"某某+")),
    ("yiyi", re.compile(r"一一")),
)

_TRIGGERS = {
    "year": "xX×ｘＸ", "latin": "xXaAｘＸａＡ×", "cross": "×＊*", "box": "□■△◇◆☆○〇",
    "dash": "-", "underscore": "_＿", "mou": "某", "yiyi": "一",
}

# 一一 is also an ordinary adverb ("一一落实", "一一列举"); it is a blank only where a name
# stands: before 的, or before a noun ("我们一一园林绿化").
_YIYI_BEFORE_NOUN = re.compile(r"一一(?=的)")
_YIYI_SLOT = re.compile(r"(?:我们|我市|我县|我区|我省|我镇|我乡|全市|全县|本市|本县|在|对|为|是)$")


@dataclass(frozen=True)
class Placeholder:
    token: str
    start: int
    end: int
    kind: str  # year, latin, cross, box, dash, underscore, mou, yiyi


def find_placeholders(text: str) -> list[Placeholder]:
    """Every blank in `text`, left to right, without overlaps."""
    found: list[Placeholder] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        # Most texts hold none of a pattern's characters: a substring test is 100x cheaper
        # than running the regex with its look-arounds over 20,000 字.
        if not any(ch in text for ch in _TRIGGERS[kind]):
            continue
        for m in pattern.finditer(text):
            start, end = m.start(), m.end()
            if any(s < end and start < e for s, e in taken):
                continue
            if kind == "yiyi" and not _yiyi_is_blank(text, start):
                continue
            if kind == "dash" and (start == 0 or text[start - 1] == "\n"):
                continue  # '--我们要…' opens a list item: a dash, not a blank
            found.append(Placeholder(m.group(0), start, end, kind))
            taken.append((start, end))
    return sorted(found, key=lambda p: p.start)


def placeholder_tokens(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for p in find_placeholders(text):
        seen.setdefault(p.token, None)
    return list(seen)


def has_placeholder(text: str) -> bool:
    return bool(find_placeholders(text))


def mask_placeholders(text: str, mask: str = DEFAULT_MASK) -> str:
    """Replace every blank by `mask`, so a model sees a slot rather than a name to copy."""
    out: list[str] = []
    pos = 0
    for p in find_placeholders(text):
        out.append(text[pos: p.start])
        out.append(mask)
        pos = p.end
    out.append(text[pos:])
    return "".join(out)


def _yiyi_is_blank(text: str, start: int) -> bool:
    if start > 0 and text[start - 1] == "一":
        return False  # part of a longer run of 一, not this pattern
    if _YIYI_BEFORE_NOUN.match(text, start):
        return True
    # Elsewhere only in a name's slot after a possessor ("我们一一园林绿化"); the adverb follows
    # other words ("把问题一一落实"), so jieba's tagger is not even loaded for it.
    if not _YIYI_SLOT.search(text, max(0, start - 2), start):
        return False
    after = text[start + 2: start + 8]
    if not after:
        return False
    first = _pos_of_first_word(after)
    return first is not None and first.startswith("n")


@lru_cache(maxsize=1024)
def _pos_of_first_word(fragment: str) -> str | None:
    import jieba
    import jieba.posseg as posseg  # imported on first use: slow to load

    jieba.setLogLevel(logging.WARNING)
    for pair in posseg.lcut(fragment, HMM=False):
        return pair.flag
    return None
