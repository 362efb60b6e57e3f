"""Benchmark corpus ingestion: the seed page (7 speeches) and all 52 government work reports.

    python evals/bench/bench_corpus.py [--repeat 3]

Reads ../shared (benchmarks may; tests may not). Each run ingests into a fresh temporary corpus
through the same code path as `speechsmith corpus add` (read → parse → dedup → write), so the
numbers include file I/O and duplicate checks against everything added before. The first run
of a process also pays for loading jieba's dictionary; it is reported separately.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pipeline.corpus.ingest import ingest, parse_document  # noqa: E402
from pipeline.corpus.store import load_corpus  # noqa: E402
from pipeline.text.hanzi import count_zi  # noqa: E402
from pipeline.text.textio import read_text  # noqa: E402

SHARED = ROOT.parent / "shared"
SEED = SHARED / "seeds" / "000_4c88201f79132202.txt"
REPORTS = SHARED / "data" / "government_work_reports.jsonl"


def _reports(folder: Path) -> list[Path]:
    paths = []
    for line in REPORTS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("year"):
            path = folder / f"{row['year']}年政府工作报告.txt"
            path.write_text(row["content"], encoding="utf-8")
            paths.append(path)
    return paths


def _time_ingest(paths: list[Path], repeat: int) -> tuple[list[float], int, int]:
    times, added = [], 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            report = ingest(paths, Path(tmp) / "corpus")
            times.append(time.perf_counter() - start)
            added = report.count("added")
            failed = len(report.failed)
    return times, added, failed


def _time(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not SEED.exists() or not REPORTS.exists():
        sys.exit(f"needs {SEED} and {REPORTS}")

    rows: list[tuple[str, str, str, str, str]] = []

    start = time.perf_counter()
    parse_document(read_text(SEED), SEED.name)  # loads jieba's dictionary once
    cold = time.perf_counter() - start
    rows.append(("seed page, first parse (jieba load)", "1 file", "7", f"{cold:.2f}", "-"))

    seed_zi = count_zi(read_text(SEED))
    parse_times = _time(lambda: parse_document(read_text(SEED), SEED.name), args.repeat * 3)
    rows.append(("seed page: parse only", "1 file", "7", f"{statistics.median(parse_times):.3f}",
                 f"{seed_zi / statistics.median(parse_times) / 1000:.0f}k"))
    times, added, failed = _time_ingest([SEED], args.repeat)
    rows.append(("seed page: corpus add", "1 file", str(added), f"{statistics.median(times):.3f}",
                 f"{seed_zi / statistics.median(times) / 1000:.0f}k"))

    with tempfile.TemporaryDirectory() as tmp:
        paths = _reports(Path(tmp))
        total_zi = sum(count_zi(read_text(p)) for p in paths)
        parse_times = _time(lambda: [parse_document(read_text(p), p.name) for p in paths], args.repeat)
        rows.append(("52 reports: parse only", f"{len(paths)} files", str(len(paths)),
                     f"{statistics.median(parse_times):.2f}", f"{total_zi / statistics.median(parse_times) / 1000:.0f}k"))
        times, added, failed = _time_ingest(paths, args.repeat)
        med = statistics.median(times)
        rows.append(("52 reports: corpus add", f"{len(paths)} files", f"{added} ({failed} failed)",
                     f"{med:.2f}", f"{total_zi / med / 1000:.0f}k"))
        with tempfile.TemporaryDirectory() as corpus_tmp:
            folder = Path(corpus_tmp) / "corpus"
            ingest(paths, folder)
            load_times = _time(lambda: load_corpus(folder), args.repeat)
            rows.append(("load_corpus of the 52", f"{len(paths)} files", str(len(load_corpus(folder))),
                         f"{statistics.median(load_times):.2f}", "-"))
            again = _time(lambda: ingest(paths, folder), 1)
            rows.append(("52 reports again (all duplicates)", f"{len(paths)} files", "0",
                         f"{again[0]:.2f}", "-"))

    header = ("case", "input", "speeches", "median s", "字/s")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    print(f"corpus ingestion, median of {args.repeat} runs (machine shared; compare ratios)")
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
