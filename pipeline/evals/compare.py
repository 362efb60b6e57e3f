"""Compare a run with a baseline, aligned by suite, case id and sample index.

A regression is a sample that passed in the baseline and fails now, or whose score dropped by
more than the tolerance; an improvement is the reverse. Only suites present in the run are
compared, so running one suite against the full baseline is fine.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from pipeline.evals.results import SampleResult

Kind = Literal["regression", "improvement", "unchanged", "new", "missing", "miss"]
DEFAULT_TOLERANCE = 0.05


class Delta(BaseModel):
    suite: str
    case: str
    sample: int
    kind: Kind
    base_passed: bool | None = None
    run_passed: bool | None = None
    base_score: float | None = None
    run_score: float | None = None
    delta: float | None = None
    changed: list[str] = []  # assertions whose pass/fail or score moved

    @property
    def label(self) -> str:
        return f"{self.suite}/{self.case}#{self.sample}"


class Comparison(BaseModel):
    tolerance: float
    deltas: list[Delta]

    def of(self, kind: Kind) -> list[Delta]:
        return [d for d in self.deltas if d.kind == kind]

    @property
    def regressions(self) -> list[Delta]:
        return self.of("regression")

    @property
    def improvements(self) -> list[Delta]:
        return self.of("improvement")

    def to_dict(self) -> dict[str, Any]:
        counts = {k: len(self.of(k)) for k in ("regression", "improvement", "unchanged", "new", "missing", "miss")}
        return {"tolerance": self.tolerance, "counts": counts, "deltas": [d.model_dump() for d in self.deltas]}


def _changed(base: SampleResult, run: SampleResult, tolerance: float) -> list[str]:
    old = {a.name: a for a in base.assertions}
    out = []
    for a in run.assertions:
        b = old.pop(a.name, None)
        if b is None:
            out.append(f"{a.name}: new ({'pass' if a.passed else 'fail'})")
        elif b.passed != a.passed:
            out.append(f"{a.name}: {'pass' if b.passed else 'fail'}→{'pass' if a.passed else 'fail'}")
        elif abs(a.score - b.score) > tolerance:
            out.append(f"{a.name}: {b.score:.2f}→{a.score:.2f}")
    out += [f"{name}: removed" for name in old]
    return out


def compare(base: list[SampleResult], run: list[SampleResult], tolerance: float = DEFAULT_TOLERANCE) -> Comparison:
    suites = {s.suite for s in run}
    base_by = {s.key: s for s in base if s.suite in suites}
    run_by = {s.key: s for s in run}
    deltas: list[Delta] = []
    for key in sorted(set(base_by) | set(run_by)):
        b, r = base_by.get(key), run_by.get(key)
        suite, case, sample = key
        if r is None:
            assert b is not None
            deltas.append(Delta(suite=suite, case=case, sample=sample, kind="missing",
                                base_passed=b.passed, base_score=b.score))
            continue
        if r.status == "miss":
            deltas.append(Delta(suite=suite, case=case, sample=sample, kind="miss",
                                base_passed=b.passed if b else None, base_score=b.score if b else None))
            continue
        if b is None:
            deltas.append(Delta(suite=suite, case=case, sample=sample, kind="new",
                                run_passed=r.passed, run_score=r.score))
            continue
        diff = round(r.score - b.score, 4)
        if (b.passed and not r.passed) or diff < -tolerance:
            kind: Kind = "regression"
        elif (r.passed and not b.passed) or diff > tolerance:
            kind = "improvement"
        else:
            kind = "unchanged"
        deltas.append(Delta(
            suite=suite, case=case, sample=sample, kind=kind, base_passed=b.passed, run_passed=r.passed,
            base_score=b.score, run_score=r.score, delta=diff, changed=_changed(b, r, tolerance),
        ))
    return Comparison(tolerance=tolerance, deltas=deltas)


def exit_code(summary: dict[str, Any], comparison: Comparison | None = None) -> int:
    """2 replay miss or a case that could not run, 3 regression, 1 failed assertions, 0 all
    well (in that precedence). A case that errored says nothing about the prompt: like a miss,
    it is the suite or its setup that needs fixing."""
    totals = summary.get("totals", {})
    if totals.get("misses") or totals.get("errors"):
        return 2
    if comparison is not None and comparison.regressions:
        return 3
    if totals.get("failed"):
        return 1
    return 0
