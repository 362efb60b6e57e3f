"""Benchmark of the material bank: build time, index time, search latency, ranking quality.

    python evals/bench/bench_material.py [--reports PATH] [--runs 5] [--top]

- build: units and labels from the 52 government work reports (what `python -m
  pipeline.material.build` does), when the reports are at hand (../shared/data/);
- index: the BM25 index of the shipped bank per analyzer, from scratch (first use);
- load: opening the library from the cache (every later command);
- search: median latency of a query over the 20 labelled points (evals/data/material/points.yaml);
- ranking: precision@5 and MRR of each method on those points (a hit is relevant when it
  matches the point's hand-written `relevant` pattern), over all units and over sentences.

`--top` also prints the top hit of each point with the default method.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

POINTS = ROOT / "evals" / "data" / "material" / "points.yaml"
# (analyzer, synonyms, query bigrams only inside the query's words, coverage scaling)
METHODS = (
    ("bigram", False, False, False), ("bigram", True, False, False), ("bigram", False, True, False),
    ("bigram", True, True, False), ("bigram", True, True, True),
    ("jieba", False, False, False), ("jieba", True, False, False), ("jieba", True, False, True),
)


def load_points() -> list[dict[str, str]]:
    return yaml.safe_load(POINTS.read_text(encoding="utf-8"))["points"]


def ranking(lib, points, kind: str | None) -> tuple[float, float, list[float]]:
    p5s, rrs = [], []
    for p in points:
        rel = re.compile(p["relevant"])
        hits = lib.search(p["query"], n=10, kind=kind)
        flags = [bool(rel.search(h.unit.text)) for h in hits]
        p5s.append(sum(flags[:5]) / 5)
        rrs.append(next((1 / (i + 1) for i, f in enumerate(flags) if f), 0.0))
    return statistics.mean(p5s), statistics.mean(rrs), p5s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", action="store_true")
    parser.add_argument("--quality-only", action="store_true", help="Only the ranking table (no build/index timings).")
    args = parser.parse_args()
    os.environ.setdefault("SPEECHSMITH_CACHE_DIR", tempfile.mkdtemp(prefix="bench-material-"))

    from pipeline.material.build import DEFAULT_SOURCE, report_units
    from pipeline.material.library import Library, bank_shelf, corpus_shelf, open_library
    from pipeline.paths import corpus_dir

    print(f"machine: {os.cpu_count()} cores; load {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    rows = [("what", "median", "runs", "note")]
    source = args.reports or DEFAULT_SOURCE
    if source.is_file() and not args.quality_only:
        times = []
        for _ in range(max(1, min(args.runs, 3))):
            t = time.perf_counter()
            units = report_units(source)
            times.append(time.perf_counter() - t)
        rows.append(("build bank (label 52 reports)", f"{statistics.median(times):.2f} s", str(len(times)),
                     f"{len(units)} units"))
    for analyzer in ("bigram", "jieba"):
        times = []
        for _ in range(0 if args.quality_only else max(1, min(args.runs, 3))):
            t = time.perf_counter()
            shelf = bank_shelf(analyzer, cache=False)
            times.append(time.perf_counter() - t)
        if times:
            rows.append((f"index bank ({analyzer}), first use", f"{statistics.median(times):.2f} s", str(len(times)),
                         f"{len(shelf)} units, {len(shelf.index.vocab)} terms"))
        bank_shelf(analyzer)  # into the cache
    t = time.perf_counter()
    corpus_shelf(corpus_dir(), "bigram", cache=False)
    rows.append(("index corpus (7 speeches)", f"{time.perf_counter() - t:.2f} s", "1", "after a corpus add"))
    loads = []
    for _ in range(args.runs):
        t = time.perf_counter()
        lib = open_library()
        loads.append(time.perf_counter() - t)
    rows.append(("open library from cache", f"{statistics.median(loads) * 1000:.0f} ms", str(args.runs), f"{lib.size} units"))

    points = load_points()
    quality = [("method", "P@5 all", "MRR all", "P@5 sentences", "MRR sentences", "search median", "p95")]
    for analyzer, syn, words, cov in METHODS:
        shelves = [bank_shelf(analyzer), corpus_shelf(corpus_dir(), analyzer)]
        lib = Library(shelves, synonyms=syn, words=words, coverage=cov)
        lat = []
        for _ in range(args.runs):
            for p in points:
                t = time.perf_counter()
                lib.search(p["query"], n=20)
                lat.append(time.perf_counter() - t)
        lat.sort()
        p5, mrr, _ = ranking(lib, points, None)
        sp5, smrr, _ = ranking(lib, points, "sentence")
        quality.append((f"{analyzer}{' (query words)' if words else ''}{' + synonyms' if syn else ''}"
                        f"{' + coverage' if cov else ''}", f"{p5:.2f}", f"{mrr:.2f}", f"{sp5:.2f}",
                        f"{smrr:.2f}", f"{statistics.median(lat) * 1000:.1f} ms",
                        f"{lat[int(len(lat) * 0.95) - 1] * 1000:.1f} ms"))
    print(_table(rows))
    print()
    print(_table(quality))
    if args.top:
        lib = open_library()
        print()
        for p in points:
            hit = lib.search(p["query"], n=1)
            h = hit[0] if hit else None
            print(f"{p['query']}: " + (f"[{h.unit.source}, {h.unit.function}] {h.unit.text}" if h else "(none)"))
    return 0


def _width(s: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


if __name__ == "__main__":
    raise SystemExit(main())
