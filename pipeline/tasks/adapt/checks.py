"""The checks of a drafted speech, with their repairs, in order; the results go to the output."""

from __future__ import annotations

from typing import Any

from pipeline.check import CheckConfig
from pipeline.check.gates import (
    facts_gate,
    length_gate,
    lint_gate,
    placeholder_gate,
    repetition_gate,
    structure_gate,
)
from pipeline.events import ProgressFn, emit
from pipeline.speech import Speech, map_paragraphs
from pipeline.tasks.adapt.brief import Brief, allowed_facts_list, allowed_texts
from pipeline.tasks.adapt.options import TOLERANCE
from pipeline.tasks.adapt.outline import Cleaner, Outline
from pipeline.tasks.adapt.repair import (
    Repairer,
    fit_length,
    remove_leaks,
    remove_repeats,
    renumber_speech,
    tidy,
)

__all__ = ["all_passed", "facts_check", "finish", "length_check", "lint_speech", "structure_check",
           "substance_check"]


def lint_speech(speech: Speech, brief: Brief, *, strict_facts: bool = False) -> dict[str, Any]:
    # With --strict-facts the XX marks are the point (a human fills them in), not leaks; other
    # placeholder marks are still caught by the placeholders check.
    from pipeline.check.substance import RULE_IDS

    ignore = ["P101"] if strict_facts else []
    # the substance rules run with the brief as context in checks["substance"] (substance_check)
    config = CheckConfig(length=brief.length, tolerance=TOLERANCE, audience=brief.audience or None,
                         ignore=[*ignore, *RULE_IDS])
    return lint_gate(speech, config).record()


def structure_check(speech: Speech, brief: Brief) -> dict[str, Any]:
    return structure_gate(speech, brief.points, brief.audience_kind,
                          salutation_given=brief.salutation is not None).record()


def length_check(speech: Speech, brief: Brief, repairs: list[str]) -> dict[str, Any]:
    return length_gate(speech, brief.length, TOLERANCE, repairs).record()


def facts_check(speech: Speech, brief: Brief, strict_facts: bool, cleaned: int) -> tuple[Speech, dict[str, Any]]:
    speech, gate = facts_gate(speech, "\n".join(allowed_texts(brief)), allowed_facts_list(brief),
                              mask=strict_facts, cleaned=cleaned)
    return speech, gate.record()


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
        "repetition": repetition_gate(repeats + more_repeats + (stats.repeated if stats else 0)).record(),
        # with --strict-facts the fact guard writes XX on purpose: a person fills it in
        "placeholders": placeholder_gate(speech, allow_xx=strict_facts, removed=leaks + more_leaks,
                                         removed_while_drafting=stats.placeholders if stats else 0).record(),
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


