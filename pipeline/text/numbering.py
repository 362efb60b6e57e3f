"""Chinese numbered headings and list marks, defined once: 一、 （一） 1. （1） 第一部分.

    heading_level(line)   1 for 一、 and 第一部分, 2 for （一）, 3 for 1., 4 for （1）; 0 otherwise
    LEADING_NUMBER        the numbering at the start of a line, to strip it (一、 （一） 1. 1) …)
    cn_number(n)          1 → 一, 12 → 十二

The heading shapes are the union of what speeches and work reports use: spaces inside the mark
(（ 一 ）), ASCII or full-width stops (一. 一．), full-width digits, and 零〇两百 in numerals.
Whether a numbered line is a heading or a paragraph with a lead sentence is the caller's call
(it depends on its length, which differs between a report and a speech).
"""

from __future__ import annotations

import re

__all__ = ["CN_DIGITS", "CN_NUMERALS", "DIGITS", "H1_MARK", "HEADING_PATTERNS", "LEADING_NUMBER", "cn_number",
           "heading_level"]

CN_DIGITS = "一二三四五六七八九十"  # section and list numbers
CN_NUMERALS = CN_DIGITS + "百零〇两"  # numerals as report headings write them
DIGITS = "0-9０-９"  # a regex class body

# (level, pattern); level 1 is the outermost.
HEADING_PATTERNS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"^[{CN_NUMERALS}]{{1,3}}\s*[、．.]")),  # 一、
    (1, re.compile(rf"^第[{CN_NUMERALS}{DIGITS}]{{1,3}}(?:部分|章|篇|节)")),  # 第一部分
    (2, re.compile(rf"^[（(]\s*[{CN_NUMERALS}]{{1,3}}\s*[)）]")),  # （一） (一)
    (3, re.compile(rf"^[{DIGITS}]{{1,2}}\s*[、．.](?![{DIGITS}])")),  # 1. 1、 (not 1.5)
    (4, re.compile(rf"^[（(]\s*[{DIGITS}]{{1,2}}\s*[)）]")),  # （1）
)

H1_MARK = re.compile(rf"^\s*[{CN_DIGITS}]+[、.．]\s*")  # 一、 as a section heading starts

LEADING_NUMBER = re.compile(
    rf"^\s*(?:[{CN_DIGITS}]+[、.．]|[（(][{CN_DIGITS}\d]+[）)]|\d+[、.．)])\s*"
)


def heading_level(line: str) -> int:
    """The numbering level a line starts with (1 = 一、), or 0 when it is not numbered."""
    for level, pattern in HEADING_PATTERNS:
        if pattern.match(line):
            return level
    return 0


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二 (section numbers up to 99)."""
    if n <= 10:
        return CN_DIGITS[n - 1]
    tens, ones = divmod(n, 10)
    return (CN_DIGITS[tens - 1] if tens > 1 else "") + "十" + (CN_DIGITS[ones - 1] if ones else "")
