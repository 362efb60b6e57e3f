"""The parts of a speech a writer reuses: salutation (称呼), closing (结束语), numbered headings,
and the title/byline lines some pages put above the salutation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.text.hanzi import count_zi
from pipeline.text.numbering import heading_level as numbered_level

_HEADING_MAX_ZI = 50  # a numbered line longer than this is a paragraph with a lead sentence
_TERMINAL = "。！？!?；;…"
_COLON = "：:"

_ADDRESS_WORDS = re.compile(
    r"尊敬|亲爱|各位|诸位|同志|朋友|代表|来宾|嘉宾|领导|老师|同学|乡亲|女士|先生|家长|"
    r"职工|员工|战友|委员|乡亲|同仁|"
    r"(?<![我你他她它咱])[\u4e00-\u9fff]们(?=[、，,：:！!]|$)"  # 学员们、村民们 (not 我们的目标是：)
)
# "各位代表，现在，我代表国务院…": a salutation run into the first sentence.
_INLINE_SALUTATION = re.compile(
    r"^((?:尊敬的|亲爱的)?(?:各位(?:代表|领导|来宾|嘉宾|同志|委员|同仁|朋友)|同志们|朋友们|同学们|"
    r"女士们、先生们|父老乡亲们))[，,]"
)
_CLOSING = re.compile(
    r"^(?:再次|最后，?)?(?:衷心)?(?:谢谢(?:大家|各位|你们|您)?|感谢(?:大家|各位)(?:的聆听)?|Thank you)[！!。.～~]*$"
)
_GREETING = re.compile(r"^(?:大家|你们|各位)?(?:上午|下午|晚上|早上)?好[！!。，,]?$")
# Byline above a report: "——2024年3月5日在第十四届全国人民代表大会第二次会议上"
_BYLINE = re.compile(r"^[—-]*\s*(?:(?P<date>\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*)?在(?P<occasion>.{4,60}?)上(?:的(?:讲话|报告|发言|致辞))?$")
_DATE = re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
_SPEAKER_LINE = re.compile(
    r"^(?P<role>国务院总理|国务院副总理|国家主席|总理|.{0,12}(?:书记|省长|市长|县长|区长|乡长|镇长|局长|主任|主席|部长|厅长|校长|院长|总经理|董事长))?[\s\u3000]*(?P<name>[\u4e00-\u9fff][\u4e00-\u9fff\s\u3000]{1,5})$"
)


@dataclass
class Front:
    """Title and byline lines found above the salutation (taken out of the speech text)."""

    title: str | None = None
    date: str | None = None
    occasion: str | None = None
    speaker: str | None = None
    lines: list[str] = field(default_factory=list)


@dataclass
class Structure:
    salutation: str | None
    closing: str | None
    headings: list[str]


def heading_level(paragraph: str) -> int | None:
    """1 for 一、, 2 for （一）, 3 for 1., 4 for （1）; None if the line is not numbered."""
    return numbered_level(paragraph.strip()) or None


def heading_text(paragraph: str) -> str | None:
    """The heading of a numbered line: the whole line if short, else its lead sentence."""
    p = paragraph.strip()
    if heading_level(p) is None:
        return None
    if count_zi(p) <= _HEADING_MAX_ZI and not any(ch in p[:-1] for ch in "。！？"):
        return p.rstrip("。;；")
    lead = re.split(r"[。！？；;]", p, maxsplit=1)[0]
    return lead if count_zi(lead) <= _HEADING_MAX_ZI else None


def is_heading(paragraph: str) -> bool:
    p = paragraph.strip()
    return heading_level(p) is not None and count_zi(p) <= _HEADING_MAX_ZI and not any(
        ch in p[:-1] for ch in "。！？"
    )


def is_salutation(paragraph: str) -> bool:
    """'尊敬的各位领导、各位来宾：', '同志们：', '各位代表！' (a line of its own)."""
    p = paragraph.strip()
    if not p or count_zi(p) > 60 or p[-1] not in _COLON + "！!":
        return False
    body = p[:-1]
    if any(ch in body for ch in "。！？!?；;"):
        return False
    if p[-1] in "！!" and count_zi(p) > 20:
        return False
    return bool(_ADDRESS_WORDS.search(body))


def is_closing(paragraph: str) -> bool:
    return bool(_CLOSING.match(paragraph.strip()))


def is_greeting(paragraph: str) -> bool:
    """'大家上午好', '你们好！': said after the salutation; a line of its own, never a heading."""
    return bool(_GREETING.match(paragraph.strip()))


def split_front(paragraphs: list[str]) -> tuple[Front, list[str]]:
    """Take title/byline/speaker lines off the top when a salutation follows them."""
    front = Front()
    for k, p in enumerate(paragraphs[:8]):
        if is_salutation(p) or _INLINE_SALUTATION.match(p):
            if k == 0:
                return front, paragraphs
            head = paragraphs[:k]
            if all(count_zi(h) <= 60 and not any(c in h for c in "。！？") for h in head):
                _read_front(front, head)
                return front, paragraphs[k:]
            return Front(), paragraphs
    return front, paragraphs


def _read_front(front: Front, head: list[str]) -> None:
    front.lines = list(head)
    for line in head:
        flat = re.sub(r"[\s\u3000]+", "", line)
        m = _BYLINE.match(flat) or _BYLINE.match(line.strip())
        if m:
            front.occasion = m.group("occasion")
            if m.group("date"):
                front.date = _iso(m.group("date"))
            continue
        date = _DATE.search(flat)
        if date and flat.startswith(("（", "(", "—", "-")) or (date and len(flat) <= 14):
            front.date = _iso(date.group(0))
            continue
        s = _SPEAKER_LINE.match(line.strip())
        if front.title is not None and s and count_zi(line) <= 16:
            role, name = (s.group("role") or "").strip(), re.sub(r"[\s\u3000]+", "", s.group("name"))
            front.speaker = f"{role}{name}" if role else name
            continue
        if front.title is None:
            front.title = flat


def _iso(text: str) -> str:
    m = _DATE.search(text)
    assert m is not None
    return f"{int(m['y']):04d}-{int(m['m']):02d}-{int(m['d']):02d}"


def find_structure(paragraphs: list[str]) -> Structure:
    salutation: str | None = None
    for p in paragraphs[:3]:
        if is_salutation(p):
            salutation = p.strip()
            break
        m = _INLINE_SALUTATION.match(p.strip())
        if m:
            salutation = m.group(1)
            break
    closing = None
    for p in reversed(paragraphs[-2:]):
        if is_closing(p):
            closing = p.strip()
            break
    headings = [h for h in (heading_text(p) for p in paragraphs) if h]
    return Structure(salutation=salutation, closing=closing, headings=headings)
