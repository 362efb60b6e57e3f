"""Output gates: what a task checks on its own result before it returns it (adapt's speech).

Each gate returns the check's record as the task reports it under `checks` ({"passed": …, and
the details a reader needs to see why}); the linter's findings come from `lint` as Finding.
"""

from __future__ import annotations

from typing import Any

from pipeline.check import CheckConfig, lint
from pipeline.speech import Speech, map_paragraphs
from pipeline.text.audience import classify_audience
from pipeline.text.facts import find_unsupported, mask_unsupported
from pipeline.text.hanzi import normalize

__all__ = ["facts_gate", "length_gate", "lint_gate", "structure_gate"]


def lint_gate(speech: Speech, config: CheckConfig) -> dict[str, Any]:
    """The linter's rules: passed when no finding is an error (the first 30 findings listed)."""
    findings = lint(speech.text(), config)
    errors = [f for f in findings if f.severity.value == "error"]
    return {
        "passed": not errors,
        "errors": len(errors),
        "warnings": sum(1 for f in findings if f.severity.value == "warning"),
        "findings": [f.to_dict() for f in findings[:30]],
    }


def structure_gate(speech: Speech, points: list[str], audience_kind: str, *, salutation_given: bool) -> dict[str, Any]:
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
    return {
        "passed": not missing and not empty and fits and bool(speech.opening) and bool(speech.closing),
        "points": len(points),
        "sections": len(speech.sections),
        "missing_points": missing,
        "empty_sections": empty,
        "salutation": speech.salutation,
        "salutation_fits_audience": fits,
    }


def length_gate(speech: Speech, target: int, tolerance: float, repairs: list[str]) -> dict[str, Any]:
    """字 within target ± tolerance; lists the repairs that got it there."""
    ratio = speech.zishu / target
    return {
        "passed": abs(ratio - 1) <= tolerance,
        "target": target,
        "zishu": speech.zishu,
        "ratio": round(ratio, 3),
        "tolerance": tolerance,
        "minutes": speech.minutes,
        "repairs": repairs,
    }


def facts_gate(
    speech: Speech, allowed: str, allowed_list: list[str], *, mask: bool, cleaned: int,
) -> tuple[Speech, dict[str, Any]]:
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
    return speech, {
        "passed": not flagged or mask,
        "allowed": allowed_list,
        "flagged": flagged,
        "replaced_with_xx": replaced,
        "sentences_removed_while_drafting": cleaned,
    }
