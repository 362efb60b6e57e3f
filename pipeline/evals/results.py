"""What a run leaves behind: results.jsonl (one line per case × sample) and summary.json.

A line keeps the task's full result, so `eval score RUN` can re-apply (changed) assertions
without a model. `repeat: k` samples of a case reduce to mean score, pass rate, pass^k (the
chance that k independent tries all pass, estimated as C(c, k) / C(n, k) from c passes in n
samples) and a flaky flag (passes only sometimes).
"""

from __future__ import annotations

import json
from collections import defaultdict
from math import comb
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from pipeline.errors import InputError

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"

Status = Literal["ok", "error", "miss"]


class AssertionResult(BaseModel):
    name: str
    type: str
    passed: bool
    score: float  # 0..1
    weight: float = 1.0
    value: float | None = None  # what was measured (字数, ROUGE, seconds, …)
    threshold: float | None = None
    detail: str = ""
    # False for a rubric no judge could score (the embedded model cannot judge): shown as "not
    # judged", weight 0, neither a pass nor a failure of the sample
    judged: bool = True


class SampleResult(BaseModel):
    suite: str
    task: str
    case: str
    sample: int = 0
    status: Status = "ok"
    error: str | None = None
    error_type: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)  # compact: long texts shortened
    result: dict[str, Any] | None = None  # TaskResult as data
    usage: dict[str, Any] = Field(default_factory=dict)
    cassettes: dict[str, Any] = Field(default_factory=dict)
    misses: list[str] = Field(default_factory=list)  # cassette keys replay could not find
    wall_seconds: float = 0.0
    model_seconds: float = 0.0
    assertions: list[AssertionResult] = Field(default_factory=list)
    score: float = 0.0
    passed: bool = False

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.suite, self.case, self.sample)

    def failed_assertions(self) -> list[AssertionResult]:
        return [a for a in self.assertions if a.judged and not a.passed]

    def not_judged(self) -> list[AssertionResult]:
        return [a for a in self.assertions if not a.judged]


def finalize(sample: SampleResult) -> SampleResult:
    """Score = weighted mean of assertion scores; pass = every assertion passed."""
    if sample.status == "miss":
        sample.score, sample.passed = 0.0, False
        return sample
    total = sum(a.weight for a in sample.assertions)
    sample.score = round(sum(a.score * a.weight for a in sample.assertions) / total, 4) if total else (
        1.0 if sample.status == "ok" else 0.0
    )
    sample.passed = sample.status == "ok" and all(a.passed for a in sample.assertions if a.judged)
    return sample


def sort_samples(samples: list[SampleResult]) -> list[SampleResult]:
    return sorted(samples, key=lambda s: s.key)


class CaseStats(BaseModel):
    suite: str
    case: str
    samples: int
    passes: int
    misses: int
    mean_score: float
    pass_rate: float
    pass_k: float
    flaky: bool


def case_stats(samples: list[SampleResult]) -> list[CaseStats]:
    groups: dict[tuple[str, str], list[SampleResult]] = defaultdict(list)
    for s in samples:
        groups[(s.suite, s.case)].append(s)
    out = []
    for (suite, case), group in sorted(groups.items()):
        scored = [s for s in group if s.status != "miss"]
        n, c = len(scored), sum(1 for s in scored if s.passed)
        out.append(
            CaseStats(
                suite=suite, case=case, samples=len(group), passes=c, misses=len(group) - n,
                mean_score=round(sum(s.score for s in scored) / n, 4) if n else 0.0,
                pass_rate=round(c / n, 4) if n else 0.0,
                pass_k=round(comb(c, n) / comb(n, n), 4) if n else 0.0,  # k = n samples
                flaky=0 < c < n,
            )
        )
    return out


def summarize(samples: list[SampleResult], **extra: Any) -> dict[str, Any]:
    """summary.json: totals, per suite and per case (with repeat statistics), replay misses."""
    stats = case_stats(samples)
    suites: dict[str, dict[str, Any]] = {}
    for name in sorted({s.suite for s in samples}):
        mine = [s for s in samples if s.suite == name]
        cs = [c for c in stats if c.suite == name]
        scored = [s for s in mine if s.status != "miss"]
        suites[name] = {
            "task": mine[0].task,
            "cases": len(cs),
            "samples": len(mine),
            "passed": sum(1 for s in scored if s.passed),
            "failed": sum(1 for s in scored if not s.passed),
            "errors": sum(1 for s in mine if s.status == "error"),
            "misses": sum(1 for s in mine if s.status == "miss"),
            "mean_score": round(sum(s.score for s in scored) / len(scored), 4) if scored else 0.0,
            "pass_rate": round(sum(1 for s in scored if s.passed) / len(scored), 4) if scored else 0.0,
            "pass_k": round(sum(c.pass_k for c in cs) / len(cs), 4) if cs else 0.0,
            "flaky": [c.case for c in cs if c.flaky],
            "model_seconds": round(sum(s.model_seconds for s in mine), 3),
            "tokens": sum(int(s.usage.get("prompt_tokens", 0)) + int(s.usage.get("completion_tokens", 0)) for s in mine),
        }
    scored = [s for s in samples if s.status != "miss"]
    return {
        **extra,
        "totals": {
            "suites": len(suites),
            "cases": len(stats),
            "samples": len(samples),
            "passed": sum(1 for s in scored if s.passed),
            "failed": sum(1 for s in scored if not s.passed),
            "errors": sum(1 for s in samples if s.status == "error"),
            "misses": sum(1 for s in samples if s.status == "miss"),
            "flaky": sum(1 for c in stats if c.flaky),
            "mean_score": round(sum(s.score for s in scored) / len(scored), 4) if scored else 0.0,
            "cache_hits": sum(int(s.cassettes.get("hits", 0)) for s in samples),
            "retries": sum(int(s.cassettes.get("retries", 0)) for s in samples),
            "not_judged": sum(len(s.not_judged()) for s in samples),
        },
        "suites": suites,
        "cases": [c.model_dump() for c in stats],
        "misses": [
            {"suite": s.suite, "case": s.case, "sample": s.sample, "error": s.error}
            for s in samples if s.status == "miss"
        ],
    }


def write_run(run_dir: Path, samples: list[SampleResult], summary: dict[str, Any]) -> None:
    from pipeline.atomic import write_atomic

    run_dir.mkdir(parents=True, exist_ok=True)
    lines = [s.model_dump_json() for s in sort_samples(samples)]
    write_atomic(run_dir / RESULTS_FILE, "\n".join(lines) + ("\n" if lines else ""))
    write_atomic(run_dir / SUMMARY_FILE, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")


def read_samples(path: Path) -> list[SampleResult]:
    """A run folder (results.jsonl), a baseline folder (*.jsonl per suite) or one .jsonl file."""
    path = Path(path)
    if path.is_dir():
        files = [path / RESULTS_FILE] if (path / RESULTS_FILE).is_file() else sorted(path.glob("*.jsonl"))
    elif path.is_file():
        files = [path]
    else:
        raise InputError(f"{path}: no such run or baseline")
    if not files:
        raise InputError(f"{path}: no results (results.jsonl or <suite>.jsonl) in this folder")
    samples: list[SampleResult] = []
    for f in files:
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                samples.append(SampleResult.model_validate_json(line))
            except ValueError as exc:
                raise InputError(f"{f} line {n}: not a result line ({str(exc).splitlines()[0]})") from None
    return sort_samples(samples)


def read_summary(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / SUMMARY_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise InputError(f"{path}: invalid JSON ({exc})") from None
