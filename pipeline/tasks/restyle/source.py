"""The source speech as parts: title, 称呼, opening, numbered sections, closing; its occasion."""

from __future__ import annotations

import re

from pipeline.errors import InputError
from pipeline.speech import Section, Speech, assemble
from pipeline.text.hanzi import split_paragraphs

H1_RE = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|第[一二三四五六七八九十]+部分[，、：:\s])")


H2_RE = re.compile(r"^\s*[（(][一二三四五六七八九十]+[)）]")


ENUM_RE = re.compile(r"^\s*(?:[一二三四五六七八九十]是|第[一二三四五六七八九十][，、])")


MARK_RE = re.compile(r"^\s*(?:[一二三四五六七八九十]是|第[一二三四五六七八九十][，、]|[（(][一二三四五六七八九十]+[)）])")


_SALUTATION_RE = re.compile(r"^[^。！？!?]{2,40}[：:]$")


_SALUTATION_WORDS = ("同志", "领导", "来宾", "朋友", "们", "乡亲", "代表", "老师", "同学", "先生", "女士")


THANKS_RE = re.compile(r"^(?:谢谢(?:大家|各位)?|再见)[！!。.]?$")


GREETING_RE = re.compile(r"^(?:大家|各位)?(?:上午|下午|晚上)?好[！!。.]?$")


_TITLE_MAX = 40


def parse_source(text: str, title: str = "") -> Speech:
    """A plain-text speech as a Speech: title, salutation, opening, numbered sections, closing.

    Lines broken in the middle of a sentence (common in pasted web text) are joined first.
    """
    lines = split_paragraphs(text)
    if not lines:
        raise InputError("the input has no text to restyle")
    # the title is taken before broken lines are joined: it also ends without punctuation
    if not title and _looks_like_title(lines[0]) and len(lines) > 1 and (
        _looks_like_salutation(lines[1]) or re.match(r"\s*[^\n]+\n[ \t\u3000]*\n", text)
    ):
        title, lines = lines[0], lines[1:]
    lines = _join_broken_lines(lines)
    salutation = ""
    if lines and _looks_like_salutation(lines[0]):
        salutation, lines = lines[0], lines[1:]
    closing: list[str] = []
    while lines and (THANKS_RE.match(lines[-1]) or (closing and len(lines[-1]) <= 40 and "祝" in lines[-1])):
        closing.insert(0, lines.pop())
    opening: list[str] = []
    sections: list[Section] = []
    for line in lines:
        if H1_RE.match(line) and len(line) <= 60 and not line.endswith(("。", "！", "？")):
            sections.append(Section(heading=line, paragraphs=[]))
        elif sections:
            sections[-1].paragraphs.append(line)
        else:
            opening.append(line)
    if sections and len(sections) == 1 and not sections[0].paragraphs:
        opening.append(sections.pop().heading)
    return assemble(title, salutation, opening, sections, closing)


def _join_broken_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if out and _is_broken(out[-1]) and not (H1_RE.match(line) or H2_RE.match(line) or _looks_like_salutation(line)):
            out[-1] += line
        else:
            out.append(line)
    return out


def _is_broken(line: str) -> bool:
    # a long line that stops without any closing punctuation continues on the next line
    if (H1_RE.match(line) or H2_RE.match(line) or ENUM_RE.match(line)) and len(line) <= 40:
        return False  # a heading line ends without punctuation on purpose
    return len(line) >= 20 and not re.search(r"[。！？!?；;：:…”’」）)\]】》]$", line)


def _looks_like_title(line: str) -> bool:
    return (
        len(line) <= _TITLE_MAX
        and not re.search(r"[。！？!?，,；;：:]", line)
        and not H1_RE.match(line)
        and not _looks_like_salutation(line)
    )


def _looks_like_salutation(line: str) -> bool:
    return bool(_SALUTATION_RE.match(line)) and any(w in line for w in _SALUTATION_WORDS)


def find_topic(title: str, text: str) -> str:
    m = re.search(r"在(.{2,30}?)上的[^，。]{0,6}?(?:讲话|发言|致辞|报告)", title or "")
    if m:
        return m.group(1)
    m = re.search(
        r"(?:召开|举办|举行)(?:的|这次|本次|这个)?([^，。；！？：\s“”]{2,30}?"
        r"(?:会议|大会|动员会|座谈会|论坛|推进会|部署会|表彰会|见面会|典礼|仪式))",
        text,
    )
    if m:
        return m.group(1)
    m = re.search(r"(?:这次|本次|今天的)([^，。；！？：\s“”]{2,20}?(?:会议|大会|论坛|动员会))", text)
    return m.group(1) if m else ""


