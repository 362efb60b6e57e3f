"""The `substance` assertion: the substance checks (pipeline/check/substance) on a case's output,
against what the case gave the task — adapt's brief and the examples it was shown, restyle's and
summarize's source, style and occasion.

    - {type: substance}                          # no error-level finding of any substance rule
    - {type: substance, rules: [G, V], severity: warning}
"""

from __future__ import annotations

from typing import Any

from pipeline.check.substance import RULE_IDS, SubstanceContext, substance_findings

__all__ = ["case_context", "substance_verdict"]

_STYLE_OF_TASK = {"summarize": "summary", "adapt": "speech"}


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value if str(v).strip()]
    return [str(value)]


def case_context(task: str, inputs: dict[str, Any], source: str, brief: dict[str, Any],
                 examples: list[str]) -> SubstanceContext:
    """What the output may say: the brief's fields (adapt), or the source (restyle, summarize)."""
    fields = {**brief, **{k: v for k, v in inputs.items() if v is not None}}
    length = fields.get("length")
    return SubstanceContext(
        brief="\n".join(_strings(fields.get("tone")) + _strings(fields.get("date")) + _strings(fields.get("place"))
                        + _strings(fields.get("title"))),
        facts=_strings(fields.get("facts")),
        source=source or None,
        speaker=fields.get("speaker") or None,
        audience=fields.get("audience") or None,
        occasion=fields.get("occasion") or None,
        points=_strings(fields.get("points")),
        examples=examples,
        style=fields.get("style") or _STYLE_OF_TASK.get(task),
        length=int(length) if isinstance(length, int | str) and str(length).isdigit() else None,
    )


def substance_verdict(text: str, context: SubstanceContext, rules: list[str] | None, ignore: list[str],
                      severity: str) -> tuple[bool, float, int, str]:
    """(passed, score, number of findings counted, detail) for the assertion."""
    findings = substance_findings(text, context, ignore)
    wanted = [r.upper() for r in (rules or list(RULE_IDS))]
    levels = ("error",) if severity == "error" else ("error", "warning")
    bad = [f for f in findings if f.severity.value in levels and any(f.rule.startswith(w) for w in wanted)]
    detail = "; ".join(f"{f.rule} {f.excerpt}" for f in bad[:5])
    return not bad, 1.0 if not bad else 1 / (1 + len(bad)), len(bad), detail
