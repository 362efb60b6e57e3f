"""Blessing: a run's results become the baseline, one <suite>.jsonl per suite (diffable)."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import InputError
from pipeline.evals.results import SampleResult, read_samples, read_summary, sort_samples


def bless(run: Path, baselines: Path) -> list[tuple[Path, int]]:
    """Write the run's samples into `baselines`; returns (file, samples) per suite written.

    A run restricted to some cases replaces only those samples of the existing baseline.
    """
    from pipeline.atomic import write_atomic

    samples = read_samples(run)
    misses = [s for s in samples if s.status == "miss"]
    if misses:
        names = ", ".join(sorted({f"{s.suite}/{s.case}" for s in misses}))
        raise InputError(f"{run}: cannot bless a run with replay misses ({names}); re-record first")
    errors = [s for s in samples if s.status == "error"]
    if errors:
        # An errored case has no output to compare against later: a baseline of it hides the bug.
        names = ", ".join(sorted({f"{s.suite}/{s.case}" for s in errors}))
        raise InputError(f"{run}: cannot bless a run whose cases errored ({names}); fix them and run again")
    partial = bool(read_summary(run).get("case_filter"))
    written = []
    for suite in sorted({s.suite for s in samples}):
        mine = [s for s in samples if s.suite == suite]
        path = baselines / f"{suite}.jsonl"
        if partial and path.is_file():
            keys = {s.key for s in mine}
            mine = [s for s in read_samples(path) if s.key not in keys] + mine
        mine = sort_samples(mine)
        write_atomic(path, "".join(_line(s) for s in mine))
        written.append((path, len(mine)))
    return written


def _line(sample: SampleResult) -> str:
    return sample.model_dump_json() + "\n"
