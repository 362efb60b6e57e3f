"""What every check rule shares: the Finding it reports, the config it reads, the document view
(paragraphs and sentences with their offsets) and the rule registry.

A rule module registers one checker function with `@checker(...)`; a checker may report several
rule ids (numbering reports gaps, duplicates and disorder from one pass over the outline).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.check.substance.context import SubstanceContext

from pipeline.text.hanzi import SPEAKING_RATE


class Severity(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"


SEVERITY_ORDER = {Severity.error: 0, Severity.warning: 1, Severity.info: 2}


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] with `text`; offsets are into the whole checked text."""

    start: int
    end: int
    text: str


@dataclass
class Finding:
    """One problem: which rule, how bad, where (1-based paragraph; 0 = the whole text), what."""

    rule: str
    severity: Severity
    paragraph: int
    excerpt: str
    message: str
    edits: tuple[Edit, ...] = ()  # the automatic fix; empty when no safe fix exists
    span: tuple[int, int] | None = None  # where in the text, for editors and sorting

    @property
    def fixable(self) -> bool:
        return bool(self.edits)

    @property
    def name(self) -> str:
        return RULES[self.rule].name if self.rule in RULES else self.rule

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity.value,
            "paragraph": self.paragraph,
            "excerpt": self.excerpt,
            "message": self.message,
            "fixable": self.fixable,
            "span": list(self.span) if self.span else None,
        }


@dataclass
class CheckConfig:
    """Options of `speechsmith check`; every field has a default so `CheckConfig()` just works."""

    select: list[str] = field(default_factory=list)  # rule ids or prefixes; empty = all
    ignore: list[str] = field(default_factory=list)
    length: int | None = None  # target 字数
    minutes: float | None = None  # target speaking time
    tolerance: float = 0.15  # allowed deviation from --length / --minutes
    rate: int = SPEAKING_RATE  # 字 per minute
    max_sentence: int = 120  # 字 per sentence
    source: str | None = None  # text the speech must not add figures or names to
    audience: str | None = None  # who is addressed, e.g. 各位代表
    max_findings_per_rule: int = 200  # keep the output readable on broken input
    # what the text may say (brief, facts, speaker, examples…) for the substance rules; None:
    # built from source/audience/length above (pipeline.check.substance.context_of)
    context: SubstanceContext | None = None

    def enabled(self, rule_id: str) -> bool:
        def hit(patterns: list[str]) -> bool:
            return any(rule_id.startswith(p.strip().upper()) for p in patterns if p.strip())

        if self.ignore and hit(self.ignore):
            return False
        return not self.select or hit(self.select) or "ALL" in (p.upper() for p in self.select)


@dataclass(frozen=True)
class Paragraph:
    number: int  # 1-based, counting non-empty lines
    start: int  # offset of the first non-space character in the whole text
    end: int  # offset after the last non-space character
    text: str  # the stripped line
    line_start: int  # offset of the line (for deleting it)
    line_end: int  # offset after the line's newline


_SPACE = " \t\u3000\xa0\u200b\u200c\u200d\ufeff"  # zero-width marks from web pages too
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_WHITE = re.compile(r"\s")
_HALF_TABLE = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


class Doc:
    """The checked text as paragraphs (non-empty lines) and sentences, with offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.paragraphs: list[Paragraph] = []
        pos = 0
        number = 0
        for line in text.split("\n"):
            line_end = pos + len(line)
            stripped = line.strip(_SPACE)
            if stripped:
                number += 1
                lead = len(line) - len(line.lstrip(_SPACE))
                start = pos + lead
                self.paragraphs.append(
                    Paragraph(number, start, start + len(stripped), stripped, pos,
                              min(line_end + 1, len(text)))
                )
            pos = line_end + 1
        self.zi = len(text) - len(_WHITE.findall(text))  # = hanzi.count_zi, 20x faster
        self._half: str | None = None

    @property
    def half(self) -> str:
        """The text with full-width ASCII (，is not ASCII; Ａ１ are) made half-width, same length."""
        if self._half is None:
            self._half = self.text.translate(_HALF_TABLE)
        return self._half

    def paragraph_at(self, offset: int) -> int:
        """1-based paragraph number holding text offset; 0 when outside every paragraph."""
        lo, hi = 0, len(self.paragraphs) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            p = self.paragraphs[mid]
            if offset < p.line_start:
                hi = mid - 1
            elif offset >= p.line_end and mid + 1 < len(self.paragraphs):
                lo = mid + 1
            else:
                return p.number
        return 0

    def sentences(self) -> Iterator[tuple[Paragraph, int, int, str]]:
        """Every sentence of the text: (its paragraph, start, end, sentence), offsets into the text."""
        for para in self.paragraphs:
            for start, end, sent in sentences(para):
                yield para, start, end, sent

    def body_text(self, para: Paragraph) -> str:
        """Paragraph text without a Markdown heading mark."""
        return _MD_HEADING.sub("", para.text)


_SENT_RE = re.compile(r"[^。！？!?；;…\n]*(?:[。！？!?；;…]+[”’」』）)》】\"']*|$)")


def sentences(para: Paragraph) -> Iterator[tuple[int, int, str]]:
    """(start, end, sentence) with offsets into the whole text; sentences end in 。！？；…"""
    for m in _SENT_RE.finditer(para.text):
        s = m.group(0)
        if s.strip(_SPACE):
            lead = len(s) - len(s.lstrip(_SPACE))
            start = para.start + m.start() + lead
            yield start, para.start + m.end(), s.strip(_SPACE)


def excerpt(text: str, start: int = 0, end: int | None = None, width: int = 24) -> str:
    """A short piece of text around [start, end) for the table; … marks cut ends."""
    end = start if end is None else end
    if end - start >= width:
        return text[start : start + width - 1] + "…"
    pad = (width - (end - start)) // 2
    a = max(0, start - pad)
    b = min(len(text), end + pad)
    piece = text[a:b].replace("\n", " ")
    return ("…" if a > 0 else "") + piece + ("…" if b < len(text) else "")


# --- registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleInfo:
    id: str
    name: str
    severity: Severity
    summary: str
    fixable: bool


Checker = Callable[[Doc, CheckConfig], Iterable[Finding]]
RULES: dict[str, RuleInfo] = {}
CHECKERS: list[tuple[tuple[str, ...], Checker]] = []


GATE_RULES: set[str] = set()  # ids a task's output gate reports; `lint` does not run them


def checker(*rules: RuleInfo) -> Callable[[Checker], Checker]:
    """Register a checker function for the rules it reports."""

    def wrap(fn: Checker) -> Checker:
        _register(rules)
        CHECKERS.append((tuple(r.id for r in rules), fn))
        return fn

    return wrap


def gate_rules(*rules: RuleInfo) -> None:
    """Register the rules of an output gate (pipeline.check.gates): ids and severities like the
    linter's, reported by a task on its own result rather than by `lint`."""
    _register(rules)
    GATE_RULES.update(r.id for r in rules)


def _register(rules: Iterable[RuleInfo]) -> None:
    for info in rules:
        if info.id in RULES:
            raise ValueError(f"rule id {info.id} registered twice")
        RULES[info.id] = info


def rule(rule_id: str, name: str, severity: Severity, summary: str, fixable: bool = False) -> RuleInfo:
    return RuleInfo(rule_id, name, severity, summary, fixable)


def gate_finding(rule_id: str, message: str, excerpt_text: str = "", *,
                 severity: Severity | None = None) -> Finding:
    """A Finding about a task's whole result (paragraph 0, no span), as an output gate reports it."""
    return Finding(rule=rule_id, severity=severity or RULES[rule_id].severity, paragraph=0,
                   excerpt=excerpt_text, message=message)


def finding(
    doc: Doc,
    rule_id: str,
    message: str,
    start: int,
    end: int | None = None,
    *,
    edits: Iterable[Edit] = (),
    severity: Severity | None = None,
    paragraph: int | None = None,
    excerpt_text: str | None = None,
) -> Finding:
    """A Finding for text[start:end], with the paragraph number and excerpt filled in."""
    end = start if end is None else end
    number = doc.paragraph_at(start) if paragraph is None else paragraph
    if excerpt_text is None:
        if 0 < number <= len(doc.paragraphs):  # keep the excerpt inside its paragraph
            para = doc.paragraphs[number - 1]
            excerpt_text = excerpt(para.text, start - para.start, min(end, para.end) - para.start)
        else:
            excerpt_text = excerpt(doc.text, start, end)
    return Finding(
        rule=rule_id,
        severity=severity or RULES[rule_id].severity,
        paragraph=number,
        excerpt=excerpt_text,
        message=message,
        edits=tuple(edits),
        span=(start, end),
    )
