"""Findings as a table for people (CJK-aware column widths) or as JSON for programs.

Both take findings as Finding objects or as their to_dict() rows (what the check task returns),
so the CLI can render what the task produced.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from pipeline.check.base import GATE_RULES, RULES, Finding, Severity

Rows = list[Finding] | list[dict[str, Any]]


def _rows(findings: Rows) -> list[dict[str, Any]]:
    return [f.to_dict() if isinstance(f, Finding) else f for f in findings]


def display_width(text: str) -> int:
    """Terminal columns: Chinese characters and full-width marks take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def counts(findings: Rows) -> dict[str, int]:
    rows = _rows(findings)
    out = {s.value: 0 for s in Severity}
    for r in rows:
        out[r["severity"]] += 1
    out["fixable"] = sum(1 for r in rows if r["fixable"])
    return out


def summary_line(findings: Rows, zi: int | None = None, rate: int = 220) -> str:
    c = counts(findings)
    parts = [f"{c['error']} error(s)", f"{c['warning']} warning(s)", f"{c['info']} info"]
    if c["fixable"]:
        parts.append(f"{c['fixable']} fixable with --fix")
    line = ", ".join(parts)
    if zi is not None:
        line += f"; {zi} 字, about {zi / rate:.1f} minutes to speak"
    return line


def render_table(findings: Rows, *, zi: int | None = None, name: str | None = None) -> str:
    """rule  severity  ¶  excerpt  message — one line per finding, then a summary line."""
    head = ("rule", "severity", "¶", "excerpt", "message")
    data = _rows(findings)
    rows = [
        (r["rule"] + ("*" if r["fixable"] else ""), r["severity"], str(r["paragraph"] or "-"),
         r["excerpt"], r["message"])
        for r in data
    ]
    lines: list[str] = []
    if name:
        lines.append(name)
    if rows:
        widths = [max(display_width(r[i]) for r in [head, *rows]) for i in range(4)]
        for row in [head, *rows]:
            lines.append("  ".join(_pad(row[i], widths[i]) for i in range(4)) + "  " + row[4])
        lines.append("(* = fixable with --fix)" if any(r["fixable"] for r in data) else "")
        if not lines[-1]:
            lines.pop()
    else:
        lines.append("no problems found")
    lines.append(summary_line(findings, zi))
    return "\n".join(lines)


def render_json(findings: Rows, *, zi: int | None = None, name: str | None = None,
                fixed: bool = False) -> str:
    data = {
        "file": name,
        "zi": zi,
        "counts": counts(findings),
        "findings": _rows(findings),
        "fixed": fixed,
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def rules_table() -> list[dict]:
    """Every rule `speechsmith check` runs, as data: id, name, severity, what it checks, whether
    --fix repairs it (the output gates' A rules are reported by the tasks, not listed here)."""
    return [
        {"id": r.id, "name": r.name, "severity": r.severity.value, "summary": r.summary, "fixable": r.fixable}
        for r in sorted(RULES.values(), key=lambda r: r.id) if r.id not in GATE_RULES
    ]
