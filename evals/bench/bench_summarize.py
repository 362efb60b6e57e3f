"""Benchmark `summarize`: extractive per report, auto (hybrid) on the embedded model.

    python evals/bench/bench_summarize.py                  # extractive on all 52 reports + auto on 2025
    python evals/bench/bench_summarize.py --auto-all       # also auto on every report (slow: the model)
    python evals/bench/bench_summarize.py --auto-limit 600 # stop starting auto runs after 600 s

Targets (issue 6): extractive under 1 s for the 2025 report; auto on the embedded default for the
2025 report under 120 s on 2 cores. Reads ../shared/data/government_work_reports.jsonl (reports
are the entries with "year"; the wiki licence footer is stripped). Prints plain tables.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "government_work_reports.jsonl"
FOOTER = "本作品是中华人民共和国的"


def load_reports(path: Path = DATA) -> list[tuple[int, str]]:
    reports = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if not row.get("year"):
            continue
        text = row["content"]
        cut = text.find(FOOTER)
        reports.append((int(row["year"]), (text[:cut] if cut >= 0 else text).strip() + "\n"))
    return sorted(reports, reverse=True)


def _verbatim_ok(output: dict, text: str) -> bool:
    source = unicodedata.normalize("NFKC", text)
    return all(unicodedata.normalize("NFKC", f["value"]) in source for f in output["figures"])


def _cli_seconds(text: str, repeat: int) -> float:
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "2025.txt"
        path.write_text(text, encoding="utf-8")
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "pipeline", "summarize", str(path), "--method", "extractive"],
                           check=True, capture_output=True, cwd=ROOT)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", default="medium")
    parser.add_argument("--auto-all", action="store_true", help="run auto on every report")
    parser.add_argument("--auto-limit", type=float, default=3600, help="seconds budget for auto runs")
    parser.add_argument("--repeat", type=int, default=5, help="extractive repeats for the 2025 report")
    args = parser.parse_args()

    from pipeline.tasks import TaskContext, run_task
    from pipeline.text.hanzi import count_zi

    reports = load_reports()
    print(f"{len(reports)} reports from {DATA}")

    # --- extractive: every report, the 2025 report repeated --------------------------------
    rows = []
    failures = []
    for year, text in reports:
        start = time.perf_counter()
        try:
            result = run_task("summarize", {"text": text, "length": args.length, "method": "extractive"}, TaskContext())
            ok = _verbatim_ok(result.output, text)
        except Exception as exc:  # a benchmark reports failures instead of stopping
            failures.append((year, "extractive", repr(exc)[:200]))
            ok = False
        rows.append((year, count_zi(text), time.perf_counter() - start, ok))
    text_2025 = dict(reports)[2025]
    runs = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        run_task("summarize", {"text": text_2025, "length": args.length, "method": "extractive"}, TaskContext())
        runs.append(time.perf_counter() - start)

    print("\n## extractive (in-process, warm)\n")
    print(f"{'year':>6} {'字':>7} {'seconds':>8} {'figures verbatim':>17}")
    for year, zi, sec, ok in rows:
        print(f"{year:>6} {zi:>7} {sec:>8.3f} {'yes' if ok else 'NO':>17}")
    secs = [r[2] for r in rows]
    print(f"\nall {len(rows)}: median {statistics.median(secs):.3f} s, max {max(secs):.3f} s, "
          f"{sum(1 for r in rows if r[3])}/{len(rows)} with every figure verbatim, {len(failures)} errors")
    print(f"2025 report: median of {args.repeat} = {statistics.median(runs):.3f} s in-process (target < 1 s)")
    cli = _cli_seconds(text_2025, 3)
    print(f"2025 report: median of 3 = {cli:.3f} s for the whole command "
          "(`speechsmith summarize FILE --method extractive`, a new Python process each time)")

    # --- auto on the embedded default --------------------------------------------------------
    from pipeline.config import ModelOptions
    from pipeline.model.connect import open_client

    client = open_client(ModelOptions(backend="local"), "bench")
    start = time.perf_counter()
    _ = client.backend.llm  # the model load is part of a cold command; report it separately
    load = time.perf_counter() - start
    todo = reports if args.auto_all else [(2025, text_2025)]
    auto_rows = []
    began = time.perf_counter()
    print(f"\n## auto on the embedded default (model load {load:.1f} s, not included below)\n")
    print(f"{'year':>6} {'字':>7} {'seconds':>8} {'calls':>6} {'condensed':>10} {'method':>8} {'verbatim':>9}",
          flush=True)
    for year, text in todo:
        if time.perf_counter() - began > args.auto_limit:
            break
        calls_before = client.usage.calls
        start = time.perf_counter()
        try:
            result = run_task("summarize", {"text": text, "length": args.length, "method": "auto"},
                              TaskContext(client=client))
            hybrid = result.metadata.get("hybrid", {})
            row = (year, count_zi(text), time.perf_counter() - start, client.usage.calls - calls_before,
                   hybrid.get("condensed", 0), result.metadata["method"], _verbatim_ok(result.output, text))
            auto_rows.append(row)
            year_, zi, sec, calls, kept, method, ok = row
            print(f"{year_:>6} {zi:>7} {sec:>8.1f} {calls:>6} {kept:>10} {method:>8} {'yes' if ok else 'NO':>9}",
                  flush=True)
        except Exception as exc:
            failures.append((year, "auto", repr(exc)[:200]))
    if auto_rows:
        secs = [r[2] for r in auto_rows]
        print(f"\n{len(auto_rows)}/{len(todo)} reports: median {statistics.median(secs):.1f} s, max {max(secs):.1f} s "
              "(target for 2025: < 120 s incl. model load)")
    if failures:
        print("\n## failures\n")
        for year, method, err in failures:
            print(f"{year} {method}: {err}")


if __name__ == "__main__":
    main()
