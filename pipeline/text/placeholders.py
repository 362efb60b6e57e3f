"""What a placeholder is, defined once: the blanks of anonymized or template texts (xx, XX, ××,
20xx, X月X日, aa, □, ○○, 某某, __, --, and `一一` where a name stood: "一一的园林绿化事业") and the
template slots (【单位名称】, {姓名}, ［ ］, （此处填写…）).

Nothing downstream may copy a blank as if it were a real name. Every consumer detects through
this module and chooses the kinds it cares about:

    find_placeholders(text)   -> list[Placeholder]  (token, start, end, kind), left to right
    placeholder_tokens(text)  -> ['--', 'xx', '20xx', …]  distinct, in order of appearance
    mask_placeholders(text)   -> text with every blank replaced by `＿＿` (or your mask)
    has_placeholder(text)     -> bool, e.g. to reject a generated name like 'xx县'

`kinds` defaults to BLANKS (what the corpus records and the linter's P101 reports); ALL adds the
template slots (the linter's P102), which is what a generated speech must not hold either.

Not placeholders: the em-dash —— and a `--` opening a line (a dash typed as two hyphens), ranges
(30--40人, 2-3年), --flags, ○ as the digit zero (二○○○年, 一九五○年, 二百○八所), ratings (AAA级),
the adverb 一一 (一一落实), a box or ○ used as a bullet at a line start ("□ 加强领导").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "ALL", "BLANKS", "DEFAULT_MASK", "Placeholder", "find_placeholders", "has_placeholder",
    "mask_placeholders", "placeholder_tokens",
]

DEFAULT_MASK = "＿＿"

_LATIN = r"A-Za-z"
_CN_DIGIT = "〇零一二三四五六七八九十百千万亿○"
# Order matters: longer, more specific shapes first; overlaps are resolved left to right.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # a whole template slot first: 【xx单位】 is one slot, not a slot holding a blank
    ("slot", re.compile(
        r"【[^】\n]{0,16}】"
        r"|［\s*］|\[\s*\]"
        r"|\{\{?[^{}\n]{1,20}\}?\}"
        r"|[（(][^（）()\n]{0,20}(?:填写|待定|待补|此处|插入|略)[^（）()\n]{0,10}[）)]"
    )),
    # 20xx年, 19XX年, and a digit run fused to one (50 年一遇 typed over 20xx: 520xx年一遇)
    ("year", re.compile(rf"(?<![{_LATIN}])\d*(?:19|20)[xX×ｘＸ]{{2}}(?![{_LATIN}])")),
    ("latin", re.compile(rf"(?<![{_LATIN}])(?:[xX×]{{2,}}|ｘ{{2,}}|Ｘ{{2,}})(?![{_LATIN}])")),  # xx同志, XX万元
    ("latin", re.compile(rf"(?<![{_LATIN}\d])(?:a{{2,}}|A{{2,}}|ａ{{2,}}|Ａ{{2,}})(?![{_LATIN}]|级)")),  # aa市, not AAA级
    ("latin", re.compile(rf"(?<![{_LATIN}])[xX×](?=[年月日号时])"  # X月X日
                         rf"|(?<![{_LATIN}\d])[xX×](?=[万亿元个名人家项%％])")),  # X万元
    ("cross", re.compile(r"＊{2,}|\*{2,}")),
    ("box", re.compile(r"[□■△◇◆☆]+")),
    # ○○ is a blank, but 二○○○年 writes the year 2000 with ○ as zero.
    ("box", re.compile(rf"(?<![{_CN_DIGIT}])(?:○+|〇{{2,}})(?![{_CN_DIGIT}])")),
    # 我叫--， ---届; not 30--40, not --flag, not ---->
    ("dash", re.compile(r"(?<![-A-Za-z0-9_])-{2,}(?![->A-Za-z0-9_])|－{2,}")),
    ("underscore", re.compile(r"_{2,}|＿{2,}")),  # 请到__处报名
    ("mou", re.compile(r"某某+")),  # a single 某 (某些, 某地) is ordinary Chinese
    ("yiyi", re.compile(r"一一")),
)
ALL: frozenset[str] = frozenset(kind for kind, _ in _PATTERNS)
BLANKS: frozenset[str] = ALL - {"slot"}

_TRIGGERS = {
    "year": "xX×ｘＸ", "latin": "xXaAｘＸａＡ×", "cross": "＊*", "box": "□■△◇◆☆○〇",
    "dash": "-－", "underscore": "_＿", "mou": "某", "yiyi": "一", "slot": "【［[{（(",
}
_LINE_START = re.compile(r"(?:^|\n)[ \t\u3000]*\Z")

# 一一 is also an ordinary adverb ("一一落实", "一一列举"); it is a blank only where a name
# stands: before 的, or before a noun ("我们一一园林绿化").
_YIYI_BEFORE_NOUN = re.compile(r"一一(?=的)")
_YIYI_SLOT = re.compile(r"(?:我们|我市|我县|我区|我省|我镇|我乡|全市|全县|本市|本县|在|对|为|是)$")


@dataclass(frozen=True)
class Placeholder:
    token: str
    start: int
    end: int
    kind: str  # year, latin, cross, box, dash, underscore, mou, yiyi, slot


def find_placeholders(text: str, kinds: Collection[str] = BLANKS) -> list[Placeholder]:
    """Every placeholder of the given kinds in `text`, left to right, without overlaps."""
    found: list[Placeholder] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        # Most texts hold none of a pattern's characters: a substring test is 100x cheaper
        # than running the regex with its look-arounds over 20,000 字.
        if kind not in kinds or not any(ch in text for ch in _TRIGGERS[kind]):
            continue
        for m in pattern.finditer(text):
            start, end = m.start(), m.end()
            if any(s < end and start < e for s, e in taken) or not _is_placeholder(kind, text, start, end):
                continue
            found.append(Placeholder(m.group(0), start, end, kind))
            taken.append((start, end))
    return sorted(found, key=lambda p: p.start)


def placeholder_tokens(text: str, kinds: Collection[str] = BLANKS) -> list[str]:
    seen: dict[str, None] = {}
    for p in find_placeholders(text, kinds):
        seen.setdefault(p.token, None)
    return list(seen)


def has_placeholder(text: str, kinds: Collection[str] = BLANKS) -> bool:
    return bool(find_placeholders(text, kinds))


def mask_placeholders(text: str, mask: str = DEFAULT_MASK, kinds: Collection[str] = BLANKS) -> str:
    """Replace every placeholder by `mask`, so a model sees a slot rather than a name to copy."""
    out: list[str] = []
    pos = 0
    for p in find_placeholders(text, kinds):
        out.append(text[pos: p.start])
        out.append(mask)
        pos = p.end
    out.append(text[pos:])
    return "".join(out)


def _is_placeholder(kind: str, text: str, start: int, end: int) -> bool:
    if kind == "yiyi":
        return _yiyi_is_blank(text, start)
    if kind == "dash" and _LINE_START.search(text, max(0, start - 8), start):
        return False  # '--我们要…' opens a list item: a dash, not a blank (U104)
    if kind == "box" and _LINE_START.search(text, max(0, start - 8), start) and text[end:end + 1] in " \t\u3000":
        return False  # "□ 加强领导": a bullet
    return True


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
