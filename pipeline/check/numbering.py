"""N: gaps, duplicates and disorder in the numbering of headings and enumerations.

Headings (a numbered paragraph start): 一、 （一） 1. 1、 （1） ① 第一部分. Their levels come from
the order in which the styles first appear, as in any outline: a style seen again closes every
deeper level, so （一）（二） restart under each 一、 二、. A 一 of a style already open starts a
list nested in the current item (reports reuse 一、 inside 第一，), and the next number goes to
the deepest open list it continues. Enumerations inside the text: 一是…二是…三是, 一要…二要,
第一，…第二，… (after a sentence break or at a paragraph start; 首先 and 其次 count as the first
two items). An enumeration ends at a heading of its own level or above, not at a list nested
in one of its items, and starts again wherever a new 一 appears.

What is not numbering: 一是一、二是二 (an idiom), 统一是 / 唯一是 (the 一 belongs to a word),
numbers in quotations, figures such as 1.5万亿元 or 2024年 at a paragraph start, and a list that
simply starts again at 一 (restarting is allowed; only skipping, repeating or going back is not).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.check.base import (
    CheckConfig,
    Doc,
    Finding,
    Paragraph,
    Severity,
    checker,
    finding,
    rule,
)
from pipeline.text.numbering import CN_DIGITS
from pipeline.text.numbers import cn_to_int

N101 = rule("N101", "numbering-gap", Severity.error,
            "a number is skipped: 一是, 二是, 四是; （一） then （三）; 第二 without 第一")
N102 = rule("N102", "numbering-duplicate", Severity.error, "the same number twice in a row: 二、 … 二、")
N103 = rule("N103", "numbering-disorder", Severity.error, "numbers going back: 三、 after 四、")

_CN = CN_DIGITS
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

# Heading styles at a paragraph start, after an optional Markdown heading mark or bold.
_HEADINGS: list[tuple[str, re.Pattern[str]]] = [
    ("一、", re.compile(rf"([{_CN}]{{1,3}})\s*[、．.]")),
    ("（一）", re.compile(rf"[（(]\s*([{_CN}]{{1,3}})\s*[）)]")),
    ("1.", re.compile(r"([0-9０-９]{1,2})\s*(?:[、．]|\.(?![0-9０-９]))(?![0-9０-９])")),
    ("（1）", re.compile(r"[（(]\s*([0-9０-９]{1,2})\s*[）)]")),
    ("①", re.compile(rf"([{_CIRCLED}])")),
    ("第一部分", re.compile(rf"第([{_CN}]{{1,3}})(部分|章|节|篇)")),
]
_LEAD = re.compile(r"^(?:#{1,6}\s+|\*\*|__)?\s*")
# 一是 / 二要 / 第一， after a sentence or clause break, or at the paragraph start
_BREAK = r"(?:^|(?<=[。；;：:，,！!？?、\s“”（(*]))"  # * : Markdown bold, **一是**
_INLINE = re.compile(
    rf"(?=[{_CN}第首其])"  # cheap first-character test
    rf"(?:{_BREAK}(?P<n>[{_CN}]{{1,3}})(?P<suf>是|要)"
    # the first item often follows 就是 / 主要是 with no break: 就是一要…，二要…
    rf"|(?<=[是有：:为])(?P<n1>一)(?P<suf1>是|要)"
    rf"|{_BREAK}第(?P<o>[{_CN}]{{1,3}})(?P<osuf>[，,、：:]|是|条是|点是|个方面是|方面是)"
    rf"|{_BREAK}(?P<first>首先|其次)(?=[，,：:]|是|要))"
)
# “…” quotations: numbering inside them belongs to the quoted text
_QUOTED = re.compile(r"“[^“”]*”|「[^「」]*」|《[^《》]*》")


@dataclass
class _Mark:
    style: str
    number: int
    start: int
    end: int
    para: Paragraph
    label: str


def _to_int(label: str) -> int | None:
    if label in _CIRCLED:
        return _CIRCLED.index(label) + 1
    if label.isdigit():
        return int(label.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    return cn_to_int(label)


def _heading(para: Paragraph) -> _Mark | None:
    lead = _LEAD.match(para.text)
    offset = lead.end() if lead else 0
    body = para.text[offset:]
    for style, pattern in _HEADINGS:
        m = pattern.match(body)
        if not m:
            continue
        n = _to_int(m.group(1))
        if n is None or n > 60:
            return None
        if style == "1." and _looks_like_figure(body, m):
            return None
        if style == "第一部分":
            style = "第一" + m.group(2)
        start = para.start + offset
        return _Mark(style, n, start, start + m.end(), para, m.group(0).strip())
    return None


def _looks_like_figure(body: str, m: re.Match[str]) -> bool:
    # "2024、2025年" or "10、20万元": a digit after the mark means a list of figures
    rest = body[m.end():].lstrip()
    return bool(re.match(r"[0-9０-９]", rest))


def _masked(text: str) -> str:
    """text with quotations blanked out (same length), so their numbering is not seen."""
    return _QUOTED.sub(lambda m: " " * len(m.group(0)), text)


def _inline(para: Paragraph, skip_to: int) -> Iterator[_Mark]:
    text = _masked(para.text)
    for m in _INLINE.finditer(text):
        if m.start() < skip_to:
            continue
        if m.group("n") or m.group("n1"):
            label = m.group("n") or m.group("n1")
            style = "一" + (m.group("suf") or m.group("suf1"))
            after = text[m.end(): m.end() + 1]
            if after == label:
                continue  # 一是一、二是二 (an idiom)
        elif m.group("first"):
            # 首先，…第二，…, 首先要…。二是… and 首先…其次…第三 all happen
            label, style = ("一" if m.group("first") == "首先" else "二"), "首先"
        else:
            label, style = m.group("o"), "第一"
        n = cn_to_int(label)
        if n is None:
            continue
        start = para.start + m.start()
        yield _Mark(style, n, start, para.start + m.end(), para, m.group(0))


@dataclass
class _Level:
    style: str
    last: _Mark


@checker(N101, N102, N103)
def check_numbering(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    stack: list[_Level] = []  # open heading lists, outermost first
    inline: dict[str, tuple[_Mark, int]] = {}  # open enumerations: style -> (last mark, depth)
    for para in doc.paragraphs:
        head = _heading(para)
        skip_to = 0
        if head:
            skip_to = head.end - para.start
            depth, prev = _place(stack, head)
            yield from _compare(doc, prev, head, heading=True)
            # enumerations opened at this level or deeper are over; outer ones go on (a nested
            # 一、二、 list inside the item 第一， does not end the 第一，第二， enumeration)
            for style in [s for s, (_, d) in inline.items() if d > depth]:
                del inline[style]
        for mark in _inline(para, skip_to):
            prev_mark, depth = inline.get(mark.style, (None, len(stack)))
            if mark.number == 1:
                prev_mark, depth = None, len(stack)
            if mark.style == "首先":
                inline[mark.style] = (mark, depth)
                continue
            first = inline.get("首先")
            if prev_mark is None and first and first[0].number == mark.number - 1:
                prev_mark = first[0]  # 首先 (其次) were the items before
            yield from _compare(doc, prev_mark, mark, heading=False)
            inline[mark.style] = (mark, depth)
            del stack[depth:]  # the next item closes the lists nested in the previous one


def _place(stack: list[_Level], mark: _Mark) -> tuple[int, _Mark | None]:
    """Put a heading into the outline; return its depth and the mark it follows (if any).

    The same style can be open at two depths when a document reuses 一、 for a nested list;
    the deepest list the number continues wins, and a 一 opens a new list.
    """
    same = [i for i, level in enumerate(stack) if level.style == mark.style]
    for i in reversed(same):
        if stack[i].last.number + 1 == mark.number:
            return _set(stack, i, mark)
    if mark.number == 1 or not same:
        # a new list; if the style is already open this is a list nested in its last item
        # (一、 … 四、 with its own 一、二、三、 inside, then 五、)
        stack.append(_Level(mark.style, mark))
        return len(stack) - 1, None
    return _set(stack, same[-1], mark)


def _set(stack: list[_Level], i: int, mark: _Mark) -> tuple[int, _Mark | None]:
    before = stack[i].last
    del stack[i + 1:]
    stack[i].last = mark
    return i, before


def _label(style: str, n: int) -> str:
    cn = _cn(n)
    return {
        "一、": f"{cn}、", "（一）": f"（{cn}）", "1.": f"{n}.", "（1）": f"（{n}）",
        "①": _CIRCLED[n - 1] if 0 < n <= len(_CIRCLED) else str(n),
        "一是": f"{cn}是", "一要": f"{cn}要", "第一": f"第{cn}",
    }.get(style, style.replace("一", cn, 1))


def _cn(n: int) -> str:
    if n <= 10:
        return " 一二三四五六七八九十"[n]
    if n < 20:
        return "十" + (" 一二三四五六七八九"[n - 10]).strip()
    return "一二三四五六七八九"[n // 10 - 1] + "十" + (" 一二三四五六七八九"[n % 10]).strip()


def _compare(doc: Doc, prev: _Mark | None, mark: _Mark, *, heading: bool) -> Iterator[Finding]:
    n = mark.number
    expected = prev.number + 1 if prev else 1
    if n == expected or n == 1:
        return  # in order, or a list starting (again) at one
    what = "heading" if heading else "item"
    here = _label(mark.style, n)
    if prev is None:
        missing = "、".join(_label(mark.style, k) for k in range(1, n))
        yield finding(doc, "N101", f"{what} {here} comes without {missing} before it", mark.start, mark.end)
    elif n > expected:
        missing = "、".join(_label(mark.style, k) for k in range(expected, n))
        yield finding(doc, "N101", f"{what} {here} follows {_label(mark.style, prev.number)} "
                      f"(¶{prev.para.number}): {missing} is missing", mark.start, mark.end)
    elif n == prev.number:
        yield finding(doc, "N102", f"{what} {here} twice in a row (¶{prev.para.number} and "
                      f"¶{mark.para.number})", mark.start, mark.end)
    else:
        yield finding(doc, "N103", f"{what} {here} after {_label(mark.style, prev.number)} "
                      f"(¶{prev.para.number}): numbers go back", mark.start, mark.end)
