"""Join paragraphs that page layout broke in the middle of a sentence.

Copied web pages break lines where the page wrapped them: `…对各级党政机关主要领` / `导任职期间…`.
A join is only made on evidence, because real paragraphs also end without a full stop (headings
like `一、统一思想…`, `要用一个词总结初一的话，那就是“适应”`, greetings like `大家上午好`):

* the first part ends in a comma, 顿号 or an opening bracket/quote, or the second starts with
  punctuation that cannot open a sentence (`，` `、` `）` `》` …)  → join;
* the boundary cuts a word in two (jieba reads `主要领|导任职` as `主要/领导/任职`, and neither
  half keeps a word of its own intact) → join;
* the first part is body text, not a heading: it already holds a full stop inside, or is longer
  than any heading (45 字) → join.

Numbered headings, salutations, closings and greetings are never joined to anything.
In pages that separate paragraphs by blank lines, a single newline inside a paragraph is a soft
wrap (wiki links, bold lead sentences) and is joined unless a salutation or heading is involved.
Text copied from a PDF is cut at a fixed width: when most lines fill the same width, a full line
without a sentence end is joined to the next.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache

from pipeline.corpus.structure import (
    count_zi,
    heading_level,
    is_closing,
    is_greeting,
    is_salutation,
)

_TERMINAL = "。！？!?；;…"
_CLOSERS = "”’」』）)》】"
_CONTINUES = "，,、（(《“‘—-"  # a paragraph ending in one of these is not finished
_CANNOT_OPEN = "，,、。．；;：:！？!?）)》”’】」』%％"  # a paragraph cannot start with these
_BODY_MIN_ZI = 45  # longer than any heading in the seeds or 52 government reports
_WORD_CUT_MIN_ZI = 12  # a shorter line is a heading or a greeting even if the next line continues
_SHORT_ZI = 8
# Characters that leave a sentence open (prepositions, conjunctions) or cannot begin one.
_CANNOT_END = set("为对把被将从向与和及在于以让使给跟同或而并且但就都也还又要能会可很更最所其各每之是")
_CANNOT_START = set("的地得之们着")
# List items: '一是…', '一要…', '第一，…', '其一…' start a paragraph of their own.
_ENUMERATION = re.compile(r"^(?:[一二三四五六七八九十]+[是要]|第[一二三四五六七八九十]+[，,、]|其[一二三四五六七八九十][，,、是])")
# Openers of a fresh sentence: joining a paragraph that starts like this would make a run-on
# (old reports often drop the full stop at a paragraph's end).
_OPENER = re.compile(
    r"^(?:在|通过|由于|为了|随着|根据|按照|我们|我国|我|这|那|中国|同时|因此|所以|但是|但|而且|此外|"
    r"另外|总之|首先|其次|最后|今年|去年|明年|目前|当前|现在|过去|今后|各|全国|“|「|《)"
    r"|^[\u4e00-\u9fff]{1,8}?(?:指出|强调|谈到|表示|认为|说，|说：)"
)


@dataclass
class Repaired:
    paragraphs: list[str]
    joins: list[tuple[str, str]] = field(default_factory=list)  # (end of first, start of second)


@dataclass
class _Line:
    text: str
    gap: int  # line breaks before it (1 = plain newline, 2 = one blank line, …)
    indented: bool  # began with 　　 or spaces: a typeset paragraph start
    last: int = 0  # characters in its last physical line (after joins)

    def __post_init__(self) -> None:
        self.last = self.last or _width(self.text)

    def absorb(self, other: _Line) -> None:
        self.text = _glue(self.text, other.text)
        self.last = other.last


@dataclass
class _Layout:
    blank_mode: bool  # paragraphs are separated by blank lines; single newlines are wraps
    indent_mode: bool  # the page indents (some) paragraphs: an indented line starts one
    usual_gap: int  # the gap between ordinary paragraphs
    wrap: int = 0  # text copied from a PDF or a terminal is cut at a fixed width; 0: it is not


def _lines(text: str) -> tuple[list[_Line], _Layout]:
    out: list[_Line] = []
    gap = 0
    for raw in text.split("\n"):
        line = raw.strip(" \t\u3000\xa0")
        if not line:
            gap += 1
            continue
        indented = raw.startswith(("\u3000", "  ", "\t", "\xa0\xa0"))
        out.append(_Line(line, gap + 1 if out else 0, indented))
        gap = 0
    gaps = [ln.gap for ln in out[1:]]
    blank = sum(1 for g in gaps if g >= 2)
    blank_mode = blank >= 3 and blank >= 0.6 * len(gaps)
    usual = max(set(gaps), key=gaps.count) if gaps else 1
    indent_mode = sum(ln.indented for ln in out) >= 0.2 * len(out) if out else False
    return out, _Layout(blank_mode, indent_mode, usual, _wrap_width(out))


def _width(text: str) -> int:
    return len(text)


def _wrap_width(lines: list[_Line]) -> int:
    """The fixed width a hard-wrapped text was cut at, or 0.

    Hard-wrapped: many lines share the same (maximal) width, give or take a digit or two, and
    hardly any line is longer."""
    widths = [ln.last for ln in lines if ln.last >= 12]
    if len(widths) < 6:
        return 0
    top = max(set(widths), key=lambda w: sum(1 for x in widths if w - 2 <= x <= w))
    full = sum(1 for x in widths if top - 2 <= x <= top)
    longer = sum(1 for x in widths if x > top + 1)
    if full >= max(4, 0.35 * len(lines)) and longer <= 0.05 * len(lines):
        return top
    return 0


def repair_text(text: str) -> Repaired:
    lines, layout = _lines(text)
    joins: list[tuple[str, str]] = []
    merged: list[_Line] = []
    # Pass 1: soft wraps inside a paragraph.
    for line in lines:
        if merged and layout.blank_mode and line.gap == 1 and _soft_wrap(merged[-1].text, line.text):
            joins.append((merged[-1].text[-12:], line.text[:12]))
            merged[-1].absorb(line)
        else:
            merged.append(line)
    # Pass 2: breaks between paragraphs, on evidence.
    out: list[_Line] = []
    for line in merged:
        structural = line.gap > layout.usual_gap or (layout.indent_mode and line.indented)
        full: bool | str = False
        if out and layout.wrap:
            slack = layout.wrap - out[-1].last
            full = "exact" if slack <= 0 else slack <= 3  # digits make a full line a little shorter
        if out and should_join(out[-1].text, line.text, new_block=structural, full_line=full):
            joins.append((out[-1].text[-12:], line.text[:12]))
            out[-1].absorb(line)
        else:
            out.append(line)
    return Repaired(paragraphs=[ln.text for ln in out], joins=joins)


def _glue(a: str, b: str) -> str:
    # Chinese joins without a space; two Latin words keep one.
    if a[-1:].isascii() and a[-1:].isalnum() and b[:1].isascii() and b[:1].isalpha():
        return f"{a} {b}"
    return a + b


def _protected(p: str) -> bool:
    return is_salutation(p) or is_closing(p) or is_greeting(p)


def _soft_wrap(prev: str, nxt: str) -> bool:
    if _protected(prev) or _protected(nxt):
        return False
    if heading_level(nxt) is not None and count_zi(nxt) <= 60:
        return False
    if heading_level(prev) is not None and (_finished(prev) or count_zi(prev) <= _BODY_MIN_ZI):
        return False
    return True


def _finished(p: str) -> bool:
    last = p[-1]
    if last in _TERMINAL or last in "：:":
        return True
    core = p.rstrip(_CLOSERS)
    return len(core) < len(p) and bool(core) and core[-1] in _TERMINAL


def should_join(prev: str, nxt: str, *, new_block: bool = False, full_line: bool | str = False) -> bool:
    """True when `nxt` continues the sentence `prev` left unfinished (see module docstring).

    `new_block`: the page marks `nxt` as a new paragraph (indent, wider gap than usual); then
    only punctuation can prove a continuation. `full_line`: `prev` ends in a line filled to the
    width the text was hard-wrapped at ("exact": to the last character), so the cut is the
    wrapper's, not the writer's.
    """
    prev, nxt = prev.strip(), nxt.strip()
    if not prev or not nxt or _protected(prev) or _protected(nxt):
        return False
    if heading_level(nxt) is not None or _ENUMERATION.match(nxt):
        return False
    if full_line and not new_block:
        # A line filled to the wrap width was cut by the wrapper. After a full stop, or for a
        # numbered heading, only when filled to the last character: a paragraph or heading
        # rarely ends exactly at the margin, a sentence inside a paragraph often does.
        heading = heading_level(prev) is not None and count_zi(prev) <= _BODY_MIN_ZI
        if full_line == "exact" or not (_finished(prev) or heading):
            return True
    if _finished(prev):
        return False
    if prev[-1] in _CONTINUES or nxt[0] in _CANNOT_OPEN:
        return True
    if new_block:
        return False
    if heading_level(prev) is not None and count_zi(prev) <= _BODY_MIN_ZI:
        return False
    zi = count_zi(prev)
    if zi < _SHORT_ZI:
        return False
    if zi >= _WORD_CUT_MIN_ZI and cuts_word(prev, nxt):
        return True
    if prev[-1] in _CANNOT_END or nxt[0] in _CANNOT_START:
        return True
    if _OPENER.match(nxt):
        return False
    if any(ch in prev[:-1] for ch in "。！？；"):
        return True
    return zi >= _BODY_MIN_ZI


def cuts_word(prev: str, nxt: str) -> bool:
    """Does the boundary fall inside a word? ('主要领', '导任职' -> 领导 spans it)."""
    tail, head = prev[-6:], nxt[:6]
    if not (_is_han(tail[-1]) and _is_han(head[0])):
        return False
    return _cuts_word(tail, head)


@lru_cache(maxsize=4096)
def _cuts_word(tail: str, head: str) -> bool:
    words = _jieba_cut(tail + head)
    pos = 0
    for word in words:
        start, end = pos, pos + len(word)
        pos = end
        if start < len(tail) < end:
            a, b = word[: len(tail) - start], word[len(tail) - start:]
            own_tail = _jieba_cut(tail)[-1]
            own_head = _jieba_cut(head)[0]
            # Joining must not tear apart a word either half already forms on its own
            # ('意见|过去' is not '见过').
            return tail.endswith(own_tail) and len(own_tail) <= len(a) and len(own_head) <= len(b)
    return False


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


_JIEBA = None


def _jieba_cut(text: str) -> list[str]:
    global _JIEBA
    if _JIEBA is None:
        import jieba  # imported on first use: loading the dictionary takes about a second

        jieba.setLogLevel(logging.WARNING)
        _JIEBA = jieba
    return _JIEBA.lcut(text, HMM=False)
