"""Output gates: what a task checks on its own result before it returns it (adapt's speech,
summarize's summary).

A gate reports the same Finding as the linter, under rule ids of the A family registered like
the linter's (`speechsmith check` does not run them: they need the brief or the source), and
the details a reader needs to see why. `GateCheck.record()` is the task's `checks[name]` entry:
{"passed": no error-level finding, …details, "findings": [...]}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.check import CheckConfig, lint
from pipeline.check.base import Finding, Severity, gate_finding, gate_rules, rule
from pipeline.speech import Speech, map_paragraphs
from pipeline.text.audience import classify_audience
from pipeline.text.facts import find_unsupported, mask_unsupported
from pipeline.text.hanzi import normalize
from pipeline.text.placeholders import ALL, find_placeholders

__all__ = ["GateCheck", "facts_gate", "length_gate", "lint_gate", "placeholder_gate", "repetition_gate",
           "structure_gate"]

gate_rules(
    rule("A101", "point-missing", Severity.error, "a point of the brief without its own section, in order"),
    rule("A102", "section-empty", Severity.error, "a section with nothing under its heading"),
    rule("A103", "salutation-unfit", Severity.error, "no 称呼, or one that does not fit the audience"),
    rule("A104", "opening-closing-missing", Severity.error, "no opening or no closing"),
    rule("A105", "length-off-target", Severity.error, "字数 outside the target ± tolerance after the repairs"),
    rule("A106", "fact-not-given", Severity.error,
         "a figure, date or name the brief does not give (with --strict-facts: replaced by XX, info)"),
    rule("A107", "placeholder-left", Severity.error,
         "a placeholder mark or template slot in the result (XX written by --strict-facts excepted)"),
    rule("A108", "repeat-removed", Severity.info, "sentences said twice were removed"),
    rule("A201", "not-in-source", Severity.warning,
         "a summary item whose figure, date or quote is not in the source: dropped"),
    rule("A202", "not-usable", Severity.warning,
         "a summary item that is no sentence (too little Chinese) or a figure with no number: dropped"),
    rule("A203", "actor-not-in-source", Severity.info, "a task's “who” the source never names: cleared"),
    rule("A204", "source-repaired", Severity.info, "a summary item's ¶ source numbers repaired"),
)


@dataclass
class GateCheck:
    """One gate's verdict: its findings (passed when none is an error) and its details."""

    findings: list[Finding] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    listed: int | None = None  # how many findings the record shows (all when None)

    @property
    def passed(self) -> bool:
        return not any(f.severity == Severity.error for f in self.findings)

    def record(self) -> dict[str, Any]:
        """The task's checks[name] entry."""
        return {"passed": self.passed, **self.details,
                "findings": [f.to_dict() for f in self.findings[: self.listed]]}


def lint_gate(speech: Speech, config: CheckConfig) -> GateCheck:
    """The linter's rules: passed when no finding is an error (the first 30 findings listed)."""
    findings = lint(speech.text(), config)
    return GateCheck(findings, {
        "errors": sum(1 for f in findings if f.severity == Severity.error),
        "warnings": sum(1 for f in findings if f.severity == Severity.warning),
    }, listed=30)


def structure_gate(speech: Speech, points: list[str], audience_kind: str, *, salutation_given: bool) -> GateCheck:
    """One section per point, in order, none empty; an opening, a closing, and a 称呼 that fits
    the audience (any 称呼 when the brief set one)."""
    missing = [
        p for i, p in enumerate(points)
        if i >= len(speech.sections) or normalize(p) not in normalize(speech.sections[i].heading)
    ]
    empty = [s.heading for s in speech.sections if not s.paragraphs and not s.subsections]
    got = classify_audience(speech.salutation) if speech.salutation else ""
    fits = bool(speech.salutation) and (
        salutation_given or got == audience_kind or {got, audience_kind} <= {"cadres", "leaders_cadres", "staff"}
    )
    findings = [gate_finding("A101", f"no section for the point “{p}” in its place", p) for p in missing]
    findings += [gate_finding("A102", f"the section “{h}” is empty", h) for h in empty]
    if not fits:
        findings.append(gate_finding("A103", f"the 称呼 “{speech.salutation}” does not fit the audience"
                                     if speech.salutation else "no 称呼", speech.salutation))
    findings += [gate_finding("A104", f"no {part}") for part, text in (("opening", speech.opening),
                                                                      ("closing", speech.closing)) if not text]
    return GateCheck(findings, {
        "points": len(points),
        "sections": len(speech.sections),
        "missing_points": missing,
        "empty_sections": empty,
        "salutation": speech.salutation,
        "salutation_fits_audience": fits,
    })


def length_gate(speech: Speech, target: int, tolerance: float, repairs: list[str]) -> GateCheck:
    """字 within target ± tolerance; lists the repairs that got it there."""
    ratio = speech.zishu / target
    findings = [] if abs(ratio - 1) <= tolerance else [
        gate_finding("A105", f"{speech.zishu} 字 for a target of {target} (± {tolerance:.0%})")]
    return GateCheck(findings, {
        "target": target,
        "zishu": speech.zishu,
        "ratio": round(ratio, 3),
        "tolerance": tolerance,
        "minutes": speech.minutes,
        "repairs": repairs,
    })


def facts_gate(
    speech: Speech, allowed: str, allowed_list: list[str], *, mask: bool, cleaned: int,
) -> tuple[Speech, GateCheck]:
    """Figures, dates and names not in `allowed`: flagged, or with `mask` replaced by XX (then
    the gate passes: a person fills them in)."""
    flagged = [f.text for f in find_unsupported(speech.text(), allowed)]
    replaced = 0
    if mask and flagged:
        replaced = len(flagged)
        speech = map_paragraphs(speech, lambda p: mask_unsupported(p, allowed))
        speech = speech.model_copy(update={"sections": [
            s.model_copy(update={"heading": mask_unsupported(s.heading, allowed)}) for s in speech.sections
        ]})
    findings = [
        gate_finding("A106", f"“{text}” is not given by the brief" + (": replaced by XX" if mask else ""), text,
                     severity=Severity.info if mask else None)
        for text in flagged
    ]
    return speech, GateCheck(findings, {
        "allowed": allowed_list,
        "flagged": flagged,
        "replaced_with_xx": replaced,
        "sentences_removed_while_drafting": cleaned,
    })


def placeholder_gate(speech: Speech, *, allow_xx: bool, removed: list[str], removed_while_drafting: int) -> GateCheck:
    """No placeholder left (pipeline.text.placeholders); with `allow_xx` the XX that --strict-facts
    writes on purpose is not one. Lists what the repairs removed."""
    left = [p for p in find_placeholders(speech.text(), ALL) if not (allow_xx and p.token == "XX")]
    return GateCheck([gate_finding("A107", f"placeholder “{p.token}” left in the speech", p.token) for p in left], {
        "removed": removed,
        "removed_while_drafting": removed_while_drafting,
    })


def repetition_gate(removed: int) -> GateCheck:
    """Sentences said twice, removed by the repairs: reported, never a failure."""
    findings = [gate_finding("A108", f"{removed} repeated sentence(s) removed")] if removed else []
    return GateCheck(findings, {"removed": removed})
