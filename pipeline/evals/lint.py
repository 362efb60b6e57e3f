"""The speech linter (pipeline.check) as the `check_clean` assertion sees it: plain dicts."""

from __future__ import annotations

from typing import Any


def lint_issues(text: str, *, source: str | None = None, rules: list[str] | None = None) -> list[dict[str, Any]]:
    """Findings of the linter's rules (ids or prefixes like "P" or "N1"; None: all rules)."""
    from pipeline.check import CheckConfig, lint

    config = CheckConfig(select=list(rules or []), source=source)
    return [f.to_dict() for f in lint(text, config)]
