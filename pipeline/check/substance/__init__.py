"""Substance checks: is the text usable, not only well-formed? Rules in the linter's registry,
so `speechsmith check`, the tasks and the evals share them and --select/--ignore work as usual.

    G invented content (documents, meetings, figures, years, names, firsts) — needs a brief/source
    V first-person claims the speaker could not make
    Q another language, garbled words, unfinished clauses
    R104-R106 word density, near-duplicate sentences, a clause said again and again
    D drift: an example's topic, another occasion's headline
    S105 称呼 unfit for the audience; L103 a length no usable text has

Each rule reads a SubstanceContext (CheckConfig.context, or one built from --source/--audience/
--length). `substance_findings` runs only these rules, e.g. for a task's gate.
"""

from __future__ import annotations

from pipeline.check.base import CheckConfig, Finding, Severity
from pipeline.check.substance import density, drift, fit, invented, textual, voice  # noqa: F401  (register)
from pipeline.check.substance.context import STYLE_RANGES, SubstanceContext, context_of
from pipeline.check.substance.gate import (
    REPAIRABLE,
    Review,
    gate_speech,
    gate_summary,
    review_text,
    scrub,
    scrub_speech,
)

__all__ = [
    "RULE_IDS", "STYLE_RANGES", "SubstanceContext", "context_of", "substance_findings",
    "blocking", "drop_sentences", "REPAIRABLE", "Review", "gate_speech", "gate_summary", "review_text", "scrub",
    "scrub_speech",
]

RULE_IDS = ("G101", "G102", "G103", "G104", "G105", "G106", "V101", "V102", "V103", "Q101", "Q102", "Q103",
            "Q104", "Q105", "R104", "R105", "R106", "D101", "D102", "D103", "S105", "L103")


def substance_findings(text: str, context: SubstanceContext, ignore: list[str] | None = None) -> list[Finding]:
    """The substance rules' findings on text, against context."""
    from pipeline.check import lint

    return lint(text, CheckConfig(select=list(RULE_IDS), ignore=list(ignore or []), context=context))


def blocking(findings: list[Finding]) -> list[Finding]:
    """The error-level findings: a result with any of them is not `ok`."""
    return [f for f in findings if f.severity == Severity.error]


def drop_sentences(text: str, findings: list[Finding]) -> str:
    """text without the sentences that hold a finding's span (the repair for an invented
    meeting, a drifting or a foreign-language sentence). Whole-text findings are left alone."""
    from pipeline.check.base import Doc

    doc = Doc(text)
    spans = [f.span for f in findings if f.span and f.paragraph]
    cut: list[tuple[int, int]] = []
    for _, start, end, _ in doc.sentences():
        if any(start <= a < end or (a <= start < b) for a, b in spans):
            cut.append((start, end))
    out, pos = [], 0
    for start, end in cut:
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    lines = [line for line in "".join(out).split("\n")]
    # a paragraph left empty by the cut goes, with the blank line after it
    return "\n".join(line for i, line in enumerate(lines)
                     if line.strip() or (i and lines[i - 1].strip())).strip("\n") + ("\n" if text.endswith("\n") else "")
