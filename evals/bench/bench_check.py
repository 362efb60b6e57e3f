"""Benchmark `speechsmith check` over the 52 government work reports (target: under 5 s in all).

Reads ../shared/data/government_work_reports.jsonl (or the path given as the first argument),
strips the wiki licence footer, lints every report with all rules (cold and warm runs), and
prints a table: per-report time and findings, the slowest rules, and the totals.

    python evals/bench/bench_check.py [REPORTS.jsonl] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DEFAULT = ROOT.parent / "shared" / "data" / "government_work_reports.jsonl"
FOOTER = "本作品是中华人民共和国的"


def load_reports(path: Path) -> list[tuple[str, str]]:
    reports = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("year"):
            reports.append((str(row["year"]), row["content"].split(FOOTER)[0]))
    return sorted(reports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3, help="warm runs over all reports (median shown)")
    args = parser.parse_args()
    if not args.reports.exists():
        sys.exit(f"bench_check: {args.reports} not found")

    t0 = time.perf_counter()
    from pipeline.check import CHECKERS, CheckConfig, lint
    from pipeline.check.base import Doc

    import_s = time.perf_counter() - t0
    reports = load_reports(args.reports)
    config = CheckConfig()

    # cold: first run in this process (regex compilation, OpenCC dictionaries)
    t0 = time.perf_counter()
    per_report = []
    for year, text in reports:
        t1 = time.perf_counter()
        findings = lint(text, config)
        per_report.append((year, len(text), time.perf_counter() - t1, findings))
    cold_s = time.perf_counter() - t0

    warm, warm_cpu = [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        for _, text in reports:
            lint(text, config)
        warm.append(time.perf_counter() - t0)
        warm_cpu.append(time.process_time() - c0)  # what the run costs on a busy shared machine

    # time per checker (rule family), warm; each includes building the paragraph view (Doc)
    per_rule: Counter[str] = Counter()
    for ids, check in CHECKERS:
        t0 = time.perf_counter()
        for _, text in reports:
            list(check(Doc(text), config))
        per_rule["/".join(ids)] = time.perf_counter() - t0

    zi_total = sum(Doc(t).zi for _, t in reports)
    print(f"{'year':<6}{'chars':>8}{'ms':>8}  findings")
    for year, size, secs, findings in per_report:
        counts = Counter(f.rule for f in findings)
        summary = " ".join(f"{r}×{n}" for r, n in sorted(counts.items()))
        print(f"{year:<6}{size:>8}{secs * 1000:>8.1f}  {summary}")
    print()
    print(f"{'checker':<28}{'s (52 reports)':>16}")
    for name, secs in per_rule.most_common():
        print(f"{name:<28}{secs:>16.3f}")
    print()
    all_rules = Counter(f.rule for *_, fs in per_report for f in fs)
    print("findings by rule: " + " ".join(f"{r}×{n}" for r, n in sorted(all_rules.items())))
    print(f"reports: {len(reports)}  字: {zi_total:,}  import: {import_s:.2f} s")
    print(f"cold run: {cold_s:.2f} s   warm median of {args.repeat}: {statistics.median(warm):.2f} s "
          f"({zi_total / statistics.median(warm) / 1e6:.2f} M字/s)   CPU: {statistics.median(warm_cpu):.2f} s"
          "   target: < 5 s")


if __name__ == "__main__":
    main()
