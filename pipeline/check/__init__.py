"""`speechsmith check`: a linter for Chinese speeches. adapt, restyle and the evals call it too.

    from pipeline.check import CheckConfig, lint, apply_fixes, fix_text

    findings = lint(text, CheckConfig(length=1500, audience="各位代表"))
    fixed = apply_fixes(text, findings)          # only the safe fixes
    fixed, remaining = fix_text(text, config)    # fix until nothing fixable is left

Rule ids work like ruff's: a letter for the family and a number (P101). `select` / `ignore`
take ids or prefixes ("P", "N1", "U103"). The families:

    P placeholders   N numbering   U punctuation   S salutation and closing
    R repetition and long sentences   L length and speaking time
    F facts against a source   T traditional characters
    G invented content   V speaker's claims   Q language and garbling   D drift
    (G, V, Q, D, R104/R105, S105, L103 are the substance checks: pipeline/check/substance/)

    A output gates: what a task checks on its own result (adapt's structure, length, facts and
      placeholders, summarize's verbatim check): the same Finding, reported under the task's
      `checks` (pipeline/check/gates.py); `lint` does not run them.
"""

from __future__ import annotations

from pipeline.check import (  # noqa: F401  (importing registers the rules)
    facts_rule,
    length,
    numbering,
    placeholders,
    punctuation,
    repetition,
    salutation,
    substance,
    traditional,
)
from pipeline.check.base import (
    CHECKERS,
    GATE_RULES,
    RULES,
    SEVERITY_ORDER,
    CheckConfig,
    Doc,
    Edit,
    Finding,
    RuleInfo,
    Severity,
)

__all__ = [
    "RULES", "CheckConfig", "Edit", "Finding", "RuleInfo", "Severity",
    "lint", "apply_fixes", "fix_text", "has_errors", "validate_codes",
]


def validate_codes(codes: list[str]) -> list[str]:
    """Rule ids/prefixes that match no rule (for a clear error on --select typos)."""
    bad = []
    linted = [r for r in RULES if r not in GATE_RULES]
    for code in codes:
        c = code.strip().upper()
        if c and c != "ALL" and not any(r.startswith(c) for r in linted):
            bad.append(code)
    return bad


def lint(text: str, config: CheckConfig | None = None) -> list[Finding]:
    """All findings of the enabled rules, in order of position (whole-text findings first)."""
    config = config or CheckConfig()
    doc = Doc(text)
    out: list[Finding] = []
    for rule_ids, check in CHECKERS:
        if not any(config.enabled(r) for r in rule_ids):
            continue
        per_rule: dict[str, int] = {}
        for f in check(doc, config):
            if not config.enabled(f.rule):
                continue
            per_rule[f.rule] = per_rule.get(f.rule, 0) + 1
            if per_rule[f.rule] <= config.max_findings_per_rule:
                out.append(f)
    out.sort(key=lambda f: (f.paragraph, f.span[0] if f.span else -1, SEVERITY_ORDER[f.severity], f.rule))
    return out


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == Severity.error for f in findings)


def apply_fixes(text: str, findings: list[Finding]) -> str:
    """text with the edits of every fixable finding applied; overlapping edits: first one wins."""
    edits = sorted({e for f in findings for e in f.edits}, key=lambda e: (e.start, e.end))
    out: list[str] = []
    pos = 0
    for e in edits:
        if e.start < pos or e.end > len(text):
            continue  # overlaps an edit already applied; a second pass picks it up
        out.append(text[pos : e.start])
        out.append(e.text)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def fix_text(text: str, config: CheckConfig | None = None, passes: int = 3) -> tuple[str, list[Finding]]:
    """Apply safe fixes until none is left (or `passes` runs); return (fixed text, findings left)."""
    config = config or CheckConfig()
    findings = lint(text, config)
    for _ in range(passes):
        if not any(f.fixable for f in findings):
            break
        fixed = apply_fixes(text, findings)
        if fixed == text:
            break
        text = fixed
        findings = lint(text, config)
    return text, findings
