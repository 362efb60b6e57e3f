"""Split a collection page (范文大全) into its speeches.

Sites number the speeches under headings on a line of their own: `创建文明城市领导讲话篇一` …
`篇七`, `范文一`, `【篇1】`, `第1篇`, `篇一：标题`. A heading style counts only if it numbers at
least two sections 1, 2, 3 … in order, so a sentence that happens to say `第一篇` is not a cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = r"[一二三四五六七八九十百零〇两0-9０-９]{1,4}"
_SEP = r"[：:、.．\s]*"

# Each style: (name, regex for a whole line). Group "n" is the number, "title" the rest.
_STYLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("title篇n", re.compile(rf"^(?P<title>[^。！？!?]{{2,40}}?)篇(?P<n>{_NUM})$")),
    ("【篇n】", re.compile(rf"^[【\[〔(（]\s*篇\s*(?P<n>{_NUM})\s*[】\]〕)）]{_SEP}(?P<title>.{{0,40}})$")),
    ("篇n：", re.compile(rf"^篇(?P<n>{_NUM})(?:[：:、.．\s]+(?P<title>.{{0,40}}))?$")),
    ("第n篇", re.compile(rf"^[【\[]?第(?P<n>{_NUM})篇[】\]]?{_SEP}(?P<title>.{{0,40}})$")),
    (
        "范文n",
        re.compile(
            rf"^[【\[]?(?:精选|优秀|热门|推荐)?(?:范文|例文|模板|样文)\s*(?P<n>{_NUM})[】\]]?{_SEP}(?P<title>.{{0,40}})$"
        ),
    ),
)

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@dataclass(frozen=True)
class Section:
    """One speech cut out of a page. `label` is the page's own heading, if any."""

    text: str
    label: str | None
    index: int  # 1-based position in the page


@dataclass(frozen=True)
class SplitResult:
    preamble: str  # page matter before the first heading (title, intro to readers)
    sections: list[Section]


def parse_number(token: str) -> int | None:
    """'七' -> 7, '十二' -> 12, '３' -> 3, '二十' -> 20."""
    token = token.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if token.isdigit():
        return int(token)
    if token == "十":
        return 10
    if "百" in token:
        return None  # no page has a hundred speeches; treat as text
    if "十" in token:
        tens, _, ones = token.partition("十")
        t = _CN_DIGITS.get(tens, 1) if tens else 1
        o = _CN_DIGITS.get(ones, 0) if ones else 0
        if (tens and tens not in _CN_DIGITS) or (ones and ones not in _CN_DIGITS):
            return None
        return t * 10 + o
    if len(token) == 1 and token in _CN_DIGITS:
        return _CN_DIGITS[token]
    return None


def split_collection(text: str) -> SplitResult:
    """Cut at the first heading style that numbers sections 1..n in order; else one section."""
    lines = text.split("\n")
    for _name, pattern in _STYLES:
        hits: list[tuple[int, int, str]] = []  # (line index, number, heading line)
        for i, raw in enumerate(lines):
            line = raw.strip(" \t\u3000\xa0")
            if not line or len(line) > 60:
                continue
            m = pattern.match(line)
            if not m:
                continue
            n = parse_number(m.group("n"))
            if n is not None:
                hits.append((i, n, line))
        chosen = _numbered_run(hits)
        if len(chosen) >= 2:
            return _cut(lines, chosen)
    return SplitResult(preamble="", sections=[Section(text=text, label=None, index=1)])


def _numbered_run(hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The longest run of headings numbered 1, 2, 3 … in page order."""
    best: list[tuple[int, int, str]] = []
    for start, (_, n, _) in enumerate(hits):
        if n != 1:
            continue
        run = [hits[start]]
        for hit in hits[start + 1:]:
            if hit[1] == run[-1][1] + 1:
                run.append(hit)
        if len(run) > len(best):
            best = run
    return best


def _cut(lines: list[str], heads: list[tuple[int, int, str]]) -> SplitResult:
    preamble = "\n".join(lines[: heads[0][0]])
    sections: list[Section] = []
    for k, (i, n, label) in enumerate(heads):
        end = heads[k + 1][0] if k + 1 < len(heads) else len(lines)
        body = "\n".join(lines[i + 1: end]).strip("\n")
        if body.strip():
            sections.append(Section(text=body, label=label, index=n))
    return SplitResult(preamble=preamble, sections=sections)
