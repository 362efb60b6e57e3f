"""The checks of a drafted speech, with their repairs, in order; the results go to the output."""

from __future__ import annotations

from typing import Any

from pipeline.events import ProgressFn, emit
from pipeline.speech import Speech
from pipeline.tasks.adapt.brief import Brief, allowed_facts_list, allowed_texts, classify_audience
from pipeline.tasks.adapt.options import TOLERANCE
from pipeline.tasks.adapt.outline import Cleaner, Outline
from pipeline.tasks.adapt.repair import (
    Repairer,
    fit_length,
    map_paragraphs,
    remove_leaks,
    remove_repeats,
    renumber_speech,
    tidy,
)
from pipeline.tasks.adapt.selection import find_placeholders
from pipeline.text.hanzi import normalize

__all__ = ["all_passed", "facts_check", "finish", "length_check", "lint_speech", "structure_check",
           "substance_check"]


def lint_speech(speech: Speech, brief: Brief, *, strict_facts: bool = False) -> dict[str, Any]:
    from pipeline.check import CheckConfig, lint

    # With --strict-facts the XX marks are the point (a human fills them in), not leaks; other
    # placeholder marks are still caught by the placeholders check.
    from pipeline.check.substance import RULE_IDS

    ignore = ["P101"] if strict_facts else []
    # the substance rules run with the brief as context in checks["substance"] (substance_check)
    config = CheckConfig(length=brief.length, tolerance=TOLERANCE, audience=brief.audience or None,
                         ignore=[*ignore, *RULE_IDS])
    findings = lint(speech.text(), config)
    errors = [f for f in findings if f.severity.value == "error"]
    return {
        "passed": not errors,
        "errors": len(errors),
        "warnings": sum(1 for f in findings if f.severity.value == "warning"),
        "findings": [f.to_dict() for f in findings[:30]],
    }


def structure_check(speech: Speech, brief: Brief) -> dict[str, Any]:
    missing = [
        p for i, p in enumerate(brief.points)
        if i >= len(speech.sections) or normalize(p) not in normalize(speech.sections[i].heading)
    ]
    empty = [s.heading for s in speech.sections if not s.paragraphs and not s.subsections]
    want = brief.audience_kind
    got = classify_audience(speech.salutation) if speech.salutation else ""
    fits = bool(speech.salutation) and (
        brief.salutation is not None or got == want or {got, want} <= {"cadres", "leaders_cadres", "staff"}
    )
    return {
        "passed": not missing and not empty and fits and bool(speech.opening) and bool(speech.closing),
        "points": len(brief.points),
        "sections": len(speech.sections),
        "missing_points": missing,
        "empty_sections": empty,
        "salutation": speech.salutation,
        "salutation_fits_audience": fits,
    }


def length_check(speech: Speech, brief: Brief, repairs: list[str]) -> dict[str, Any]:
    ratio = speech.zishu / brief.length
    return {
        "passed": abs(ratio - 1) <= TOLERANCE,
        "target": brief.length,
        "zishu": speech.zishu,
        "ratio": round(ratio, 3),
        "tolerance": TOLERANCE,
        "minutes": speech.minutes,
        "repairs": repairs,
    }


def facts_check(speech: Speech, brief: Brief, strict_facts: bool, cleaned: int) -> tuple[Speech, dict[str, Any]]:
    from pipeline.text.facts import find_unsupported, mask_unsupported

    allowed = "\n".join(allowed_texts(brief))
    flagged = [f.text for f in find_unsupported(speech.text(), allowed)]
    replaced = 0
    if strict_facts and flagged:
        replaced = len(flagged)
        speech = map_paragraphs(speech, lambda p: mask_unsupported(p, allowed))
        speech = speech.model_copy(update={"sections": [
            s.model_copy(update={"heading": mask_unsupported(s.heading, allowed)}) for s in speech.sections
        ]})
    return speech, {
        "passed": not flagged or strict_facts,
        "allowed": allowed_facts_list(brief),
        "flagged": flagged,
        "replaced_with_xx": replaced,
        "sentences_removed_while_drafting": cleaned,
    }


def finish(
    speech: Speech,
    brief: Brief,
    outline: Outline,
    *,
    strict_facts: bool,
    cleaner: Cleaner | None,
    repairer: Repairer | None,
    progress: ProgressFn | None = None,
) -> tuple[Speech, dict[str, Any]]:
    """All checks, with their repairs, in order: leaks, repeats, length, facts, structure, lint."""
    speech, leaks = remove_leaks(speech)
    speech, repeats = remove_repeats(speech)
    speech = renumber_speech(speech)  # may drop a looping list's tail: before the length is judged
    emit(progress, "repair", label="长度")
    speech, repairs = fit_length(speech, brief, outline, repairer, progress)
    speech, more_leaks = remove_leaks(speech)
    speech, more_repeats = remove_repeats(speech)
    speech = renumber_speech(speech)
    speech = map_paragraphs(speech, tidy)
    emit(progress, "check", label="检查")
    stats = cleaner.stats if cleaner is not None else None
    speech, facts = facts_check(speech, brief, strict_facts, stats.facts if stats else 0)
    checks: dict[str, Any] = {
        "structure": structure_check(speech, brief),
        "length": length_check(speech, brief, repairs),
        "facts": facts,
        "repetition": {
            "passed": True,
            "removed": repeats + more_repeats + (stats.repeated if stats else 0),
        },
        "placeholders": {
            "passed": not find_placeholders(speech.text(), allow_xx=strict_facts),
            "removed": leaks + more_leaks,
            "removed_while_drafting": stats.placeholders if stats else 0,
        },
    }
    if stats is not None:
        checks["cleaning"] = stats.to_dict()
    checks["lint"] = lint_speech(speech, brief, strict_facts=strict_facts)
    return speech, checks


def substance_check(speech: Speech, brief: Brief, examples: list[str],
                    checks: dict[str, Any]) -> tuple[Speech, dict[str, Any]]:
    """The substance gate (pipeline.check.substance): drop the sentences holding an invented
    meeting, document or figure, a claim the speaker could not make, an example's topic…; what
    dropping cannot repair (称呼, length) fails the check, so the result is not ok. When
    sentences were dropped, structure and length are judged again on what is left."""
    from pipeline.check.substance import SubstanceContext, gate_speech

    speech, substance = gate_speech(speech, SubstanceContext.from_brief(brief, examples))
    checks = {**checks, "substance": substance}
    if substance["dropped"]:
        checks["structure"] = structure_check(speech, brief)
        checks["length"] = length_check(speech, brief, checks["length"].get("repairs", []))
    return speech, checks


def all_passed(checks: dict[str, Any]) -> bool:
    """True when no check failed (a check without "passed" does not count)."""
    return all(c.get("passed", True) for c in checks.values() if isinstance(c, dict))


