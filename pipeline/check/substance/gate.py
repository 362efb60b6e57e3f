"""The output gate every task runs: substance findings, the repair that can be made (drop the
sentence that holds an invented meeting, a foreign-language clause, an example's topic…), and
the `checks["substance"]` entry whose `passed` decides the task's `ok`.

    review = review_text(speech.text(), context)
    if review.bad_sentences:                    # repairable: drop those sentences
        speech = map_paragraphs(speech, lambda p: scrub(p, review.bad_sentences))
        review = review_text(speech.text(), context, dropped=review.bad_sentences)
    checks["substance"] = review.check()        # passed: no error-level finding is left

What cannot be repaired by dropping a sentence (a broken length, an unfit 称呼, a headline of
another occasion, a text cut off) stays a failed check, so `ok` is false and --strict exits 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.check.base import Doc, Finding, Severity
from pipeline.check.substance.context import SubstanceContext
from pipeline.speech import Speech
from pipeline.summary import Summary

__all__ = ["REPAIRABLE", "Review", "gate_speech", "gate_summary", "review_text", "scrub", "scrub_speech"]

# errors that live in one sentence, so that dropping the sentence removes them
REPAIRABLE = frozenset({"G101", "G102", "G103", "G104", "V101", "V102", "V103", "Q101", "Q102", "Q105", "D101", "D103", "R105", "R106"})
_MAX_LISTED = 12


@dataclass
class Review:
    findings: list[Finding]
    bad_sentences: set[str] = field(default_factory=set)  # sentences holding a repairable error
    dropped: list[str] = field(default_factory=list)  # sentences an earlier pass removed

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.error]

    @property
    def passed(self) -> bool:
        return not self.errors

    def check(self) -> dict[str, Any]:
        """The task's checks["substance"]: passed, counts, the failing rules and the repairs."""
        warnings = [f for f in self.findings if f.severity == Severity.warning]
        return {
            "passed": self.passed,
            "errors": len(self.errors),
            "warnings": len(warnings),
            "rules": sorted({f.rule for f in self.errors}),
            "findings": [f.to_dict() for f in (self.errors + warnings)[:_MAX_LISTED]],
            "dropped": self.dropped,
        }


def review_text(text: str, context: SubstanceContext, *, ignore: list[str] | None = None,
                dropped: set[str] | list[str] | None = None, repairable: frozenset[str] = REPAIRABLE) -> Review:
    """The substance findings on text, and the sentences a repair would drop (those holding an
    error of a `repairable` rule)."""
    from pipeline.check.substance import substance_findings

    findings = substance_findings(text, context, ignore)
    doc = Doc(text)
    bad: set[str] = set()
    spans = [f.span for f in findings if f.severity == Severity.error and f.rule in repairable and f.span]
    if spans:
        for _, start, end, sent in doc.sentences():
            if any(start <= a < end for a, _ in spans):
                bad.add(sent)
    return Review(findings, bad, sorted(dropped or []))


def scrub(paragraph: str, bad: set[str]) -> str:
    """paragraph without the sentences in `bad` (whitespace tidied); "" when nothing is left."""
    if not bad or not any(b in paragraph for b in bad):
        return paragraph
    out = paragraph
    for sentence in sorted(bad, key=len, reverse=True):
        out = out.replace(sentence, "")
    return out.strip()


def _scrub_lines(block: str, bad: set[str]) -> str:
    return "\n".join(q for q in (scrub(p, bad) for p in block.split("\n")) if q)


def scrub_speech(speech: Speech, bad: set[str]) -> Speech:
    """The speech without the sentences in `bad`, in every body paragraph (title, 称呼 and
    headings stay: a finding there cannot be repaired by dropping a sentence)."""
    if not bad:
        return speech

    def each(paras: list[str]) -> list[str]:
        return [q for q in (scrub(p, bad) for p in paras) if q]

    sections = [
        s.model_copy(update={
            "paragraphs": each(s.paragraphs),
            "subsections": [sub.model_copy(update={"paragraphs": each(sub.paragraphs)}) for sub in s.subsections],
        })
        for s in speech.sections
    ]
    return speech.model_copy(update={"opening": _scrub_lines(speech.opening, bad), "sections": sections,
                                     "closing": _scrub_lines(speech.closing, bad)})


def gate_speech(speech: Speech, context: SubstanceContext, *, ignore: list[str] | None = None,
                repairable: frozenset[str] = REPAIRABLE) -> tuple[Speech, dict[str, Any]]:
    """(the speech with repairable sentences dropped, checks["substance"]) for adapt and restyle.
    `repairable` narrows what is dropped (restyle keeps figures for its own facts report)."""
    review = review_text(speech.text(), context, ignore=ignore, repairable=repairable)
    if review.bad_sentences:
        speech = scrub_speech(speech, review.bad_sentences)
        review = review_text(speech.text(), context, ignore=ignore, dropped=review.bad_sentences,
                             repairable=repairable)
    return speech, review.check()


def _summary_text(summary: Summary) -> str:
    return "\n".join([summary.gist, *(p.text for p in summary.key_points), *(t.what for t in summary.tasks)])


def gate_summary(summary: Summary, source: str, title: str = "") -> tuple[Summary, dict[str, Any]]:
    """(the summary without key points / tasks that hold a repairable error, checks["substance"]).
    The gist is not dropped: a gist with an error fails the check."""
    context = SubstanceContext(source=source, brief=title, style="summary")
    review = review_text(_summary_text(summary), context)
    bad = review.bad_sentences
    if bad:
        def keep(text: str) -> bool:
            return not any(b in text or text in b for b in bad)

        summary = summary.model_copy(update={
            "key_points": [p for p in summary.key_points if keep(p.text)],
            "tasks": [t for t in summary.tasks if keep(t.what)],
        })
        review = review_text(_summary_text(summary), context, dropped=bad)
    return summary, review.check()
