"""Benchmark: peak memory and time of summarize, check and corpus add on very large texts.

The input limit (pipeline.text.textio.MAX_BYTES) lets a 50 MB file in, so every command that reads
one must finish on it with bounded memory. Sentence ranking builds its similarity graph per
block of about 600 sentences above 2,000 (pipeline.tasks.summarize.extractive.rank_blocks), so memory stays
flat and time grows linearly. Texts of 1, 3, 10 and 30 MB are made by concatenating the
government work reports of the shared data set (or the bundled ones), repeated as needed.

    python evals/bench/bench_large.py
    python evals/bench/bench_large.py --sizes 1 3 --commands summarize

Each command runs as `python -m pipeline …` in its own process; peak memory is that process's
max RSS (wait4), time is wall time. Summarize uses --method extractive (no model: the point
here is the algorithm; with a model the same ranking runs first, then a handful of calls).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path("/work/shared/data/government_work_reports.jsonl")
LIMIT_MB = 1024  # the target: under 1 GB at any size the input limit accepts


def source_texts() -> list[str]:
    if SHARED.is_file():
        rows = [json.loads(line) for line in SHARED.read_text(encoding="utf-8").splitlines() if line.strip()]
        texts = [r.get("content") or r.get("text") or "" for r in rows]
        texts = [t for t in texts if len(t) > 1000]
        if texts:
            return texts
    return [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "fixtures" / "reports").glob("*.txt"))]


def make_text(path: Path, megabytes: float, texts: list[str]) -> None:
    target = int(megabytes * 1024 * 1024)
    parts: list[bytes] = []
    size, i = 0, 0
    while size < target:
        chunk = (texts[i % len(texts)] + "\n\n").encode("utf-8")
        parts.append(chunk)
        size += len(chunk)
        i += 1
    path.write_bytes(b"".join(parts)[:target].decode("utf-8", "ignore").encode("utf-8"))


def measure(args: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, last stderr line) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    last = err.strip().splitlines()[-1] if err.strip() else ""
    return seconds, usage.ru_maxrss / 1024, proc.returncode, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 3, 10, 30])
    parser.add_argument("--commands", nargs="+", default=["summarize", "check", "corpus-add"],
                        choices=["summarize", "check", "corpus-add"])
    args = parser.parse_args()
    texts = source_texts()
    one, five, _ = os.getloadavg()
    print(f"cores {os.cpu_count()}, load average {one:.1f}/{five:.1f} (a shared machine: read the growth, not the seconds)")
    print(f"{'command':<11} {'MB':>5} {'seconds':>8} {'s/MB':>6} {'peak MB':>8}  exit  note")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "SPEECHSMITH_LOG": "0",
               "SPEECHSMITH_DATA_DIR": str(tmp_path / "data")}
        for mb in args.sizes:
            text = tmp_path / f"report-{mb:g}mb.txt"
            make_text(text, mb, texts)
            for command in args.commands:
                if command == "summarize":
                    cmd = ["summarize", str(text), "--method", "extractive", "--format", "json"]
                elif command == "check":
                    cmd = ["check", str(text), "--format", "json"]
                else:
                    corpus = tmp_path / "corpus"
                    shutil.rmtree(corpus, ignore_errors=True)
                    cmd = ["corpus", "add", str(text), "--corpus", str(corpus)]
                seconds, peak, code, last = measure(cmd, env)
                flag = "" if peak < LIMIT_MB else "  OVER 1 GB"
                print(f"{command:<11} {mb:>5g} {seconds:>8.1f} {seconds / mb:>6.1f} {peak:>8.0f}  {code:>4}  "
                      f"{last[:70]}{flag}", flush=True)
    one, five, _ = os.getloadavg()
    print(f"load average at end {one:.1f}/{five:.1f}")


if __name__ == "__main__":
    main()
