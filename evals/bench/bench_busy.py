"""Benchmark: the embedded model on a machine that is doing other work.

A writer's laptop always runs something else. llama.cpp splits each token over its threads and
waits for the slowest, so a thread on a core another program keeps busy holds all of them
back. This measures the thread choice (pipeline.model.backends.cpu) against one competing busy
process (`python -c "while True: pass"`, bounded in time, killed after each run):

  A. the README's Quick start adapt (1,500 字) on the embedded model: quiet vs beside the busy
     process, automatic threads vs a fixed --threads (the old default: every core).
     Target: busy ≤ 1.3 × quiet with automatic threads. The cells run in rounds (each
     configuration quiet and busy in turn), and every run is printed beside the medians.
  B. 200 `summarize --method hybrid` jobs of about 100 字 through `batch run` beside the busy
     process. Target: ≥ 0.8 jobs/s.

    python evals/bench/bench_busy.py                       # both, 2 runs per cell
    python evals/bench/bench_busy.py --part adapt --runs 3
    python evals/bench/bench_busy.py --part batch --jobs 200 --fixed 2

Every command runs through `python -m pipeline` in a subprocess, as a user would run it. The
load average is printed beside each number: on a shared machine "quiet" is not quiet, so read
the ratios, not the absolute seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADAPT = [
    "adapt", "--occasion", "全县安全生产工作会议", "--speaker", "县长", "--audience", "各乡镇、县直各部门负责同志",
    "--point", "压实安全生产责任", "--point", "深入开展隐患排查整治", "--length", "1500",
]
SPIN = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


class Busy:
    """One competing process that keeps a core busy for at most `seconds`."""

    def __init__(self, on: bool, seconds: float) -> None:
        self.on = on
        self.seconds = seconds
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Busy:
        if self.on:
            self.proc = subprocess.Popen([sys.executable, "-c", SPIN.format(seconds=self.seconds)])
            time.sleep(0.5)  # let it get going before the command measures the free cores
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


def _env(threads: int | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SPEECHSMITH_LOG": "0"}
    env.pop("SPEECHSMITH_THREADS", None)
    if threads:
        env["SPEECHSMITH_THREADS"] = str(threads)
    return env


def run_adapt(threads: int | None, busy: bool, out_dir: Path, timeout: float) -> tuple[float, str, str]:
    out = out_dir / f"adapt-{threads or 'auto'}-{'busy' if busy else 'quiet'}-{time.monotonic_ns()}.txt"
    with Busy(busy, timeout):
        load = _load()
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pipeline", *ADAPT, "-o", str(out), "-v"],
                              capture_output=True, text=True, env=_env(threads), timeout=timeout)
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"adapt failed: {proc.stderr.strip()[-500:]}")
    # every choice the run made (the first, then each switch between calls): 1 or 1→2→1
    chosen = re.findall(r"threads: (\d+) thread", proc.stderr)
    return seconds, load, "→".join(chosen) or "?"


def short_texts(n: int) -> list[str]:
    """n texts of about 100 字: consecutive sentences of the bundled reports."""
    from pipeline.text.hanzi import split_sentences

    sentences: list[str] = []
    for path in sorted((ROOT / "tests" / "fixtures" / "reports").glob("*.txt")):
        for para in path.read_text(encoding="utf-8").split("\n"):
            sentences += [s for s in split_sentences(para) if 15 <= len(s) <= 80]
    texts, i = [], 0
    while len(texts) < n:
        text = ""
        while len(text) < 100:
            text += sentences[i % len(sentences)]
            i += 1
        texts.append(text)
    return texts


def run_batch(threads: int | None, busy: bool, n: int, out_dir: Path, timeout: float) -> tuple[float, float, str]:
    jobs = out_dir / f"jobs-{n}.jsonl"
    if not jobs.exists():
        with jobs.open("w", encoding="utf-8") as fh:
            for i, text in enumerate(short_texts(n)):
                fh.write(json.dumps({"id": f"j{i}", "task": "summarize", "text": text, "method": "hybrid",
                                     "length": "short"}, ensure_ascii=False) + "\n")
    out = out_dir / f"out-{threads or 'auto'}-{'busy' if busy else 'quiet'}-{time.monotonic_ns()}.jsonl"
    with Busy(busy, timeout):
        load = _load()
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pipeline", "batch", "run", str(jobs), "-o", str(out),
                               "--backend", "local", "--no-progress"],
                              capture_output=True, text=True, env=_env(threads), timeout=timeout)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"batch failed: {proc.stderr.strip()[-500:]}")
    m = re.search(r"(\d+) ok.* in ([0-9.]+) s", proc.stderr)
    ok, run_seconds = (int(m.group(1)), float(m.group(2))) if m else (n, wall)
    return ok / run_seconds, wall, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("adapt", "batch", "both"), default="both")
    parser.add_argument("--runs", type=int, default=2, help="runs per cell (the median is reported)")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--fixed", type=int, default=os.cpu_count() or 2,
                        help="the fixed thread count to compare with (default: every core, the old default)")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, load average (1/5 min) at start {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(tmp)
        if args.part in ("adapt", "both"):
            print("\nA. adapt 1,500 字 (Quick start), seconds; median of", args.runs)
            print(f"{'threads':<10} {'quiet':>8} {'busy':>8} {'busy/quiet':>11}  chosen (quiet/busy)  load at start")
            # Rounds of every cell in turn: a machine whose speed drifts (a neighbour on the host,
            # the page cache) then slows every configuration alike, not the one measured last.
            configs = (None, args.fixed)
            cells = {(t, b): [] for t in configs for b in (False, True)}
            chosen = {(t, b): [] for t in configs for b in (False, True)}
            loads: dict[int | None, list[str]] = {t: [] for t in configs}
            for _ in range(args.runs):
                for threads in configs:
                    for busy in (False, True):
                        seconds, load, picked = run_adapt(threads, busy, out_dir, args.timeout)
                        cells[threads, busy].append(seconds)
                        chosen[threads, busy].append(picked)
                        loads[threads].append(load)
            for threads in configs:
                quiet, busy_s = statistics.median(cells[threads, False]), statistics.median(cells[threads, True])
                print(f"{threads or 'auto':<10} {quiet:>8.1f} {busy_s:>8.1f} {busy_s / quiet:>11.2f}  "
                      f"{','.join(chosen[threads, False])} / {','.join(chosen[threads, True])}   "
                      f"{' '.join(loads[threads])}", flush=True)
                for busy in (False, True):
                    print(f"{'':<10} {'busy' if busy else 'quiet'} runs: "
                          + " ".join(f"{x:.1f}" for x in cells[threads, busy]), flush=True)
        if args.part in ("batch", "both"):
            print(f"\nB. batch run: {args.jobs} summarize --method hybrid jobs of ~100 字, beside a busy process")
            print(f"{'threads':<10} {'jobs/s':>8} {'wall s':>8}  load at start")
            for threads in (None, args.fixed):
                rates, walls, loads = [], [], []
                for _ in range(args.runs):
                    rate, wall, load = run_batch(threads, True, args.jobs, out_dir, args.timeout)
                    rates.append(rate)
                    walls.append(wall)
                    loads.append(load)
                print(f"{threads or 'auto':<10} {statistics.median(rates):>8.2f} {statistics.median(walls):>8.1f}  "
                      f"{' '.join(loads)}", flush=True)
    print(f"\nload average at end {_load()}")


if __name__ == "__main__":
    main()
