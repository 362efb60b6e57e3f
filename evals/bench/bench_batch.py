"""Benchmark: `speechsmith batch run` throughput against an endpoint with a fixed latency.

A loopback OpenAI-compatible server (its own process, so it does not share our GIL) answers
every /v1/chat/completions request after exactly LATENCY seconds. With concurrency C the ideal
rate is C / LATENCY jobs per second (32 / 0.2 s = 160 jobs/s); the batch runner, the task, the
model layer and the openai SDK together must reach at least 85% of it.

    python evals/bench/bench_batch.py                 # 480 jobs, C=32, 200 ms
    python evals/bench/bench_batch.py --jobs 960 --concurrency 64 --processes 1

Jobs are `summarize --method llm` on short texts (one model call each): the real task path,
prompt rendering, schema validation and fact checks included, through `python -m pipeline batch
run` in a subprocess. Throughput is measured by the server, from the first request in to the
last reply out, so interpreter start-up (a second or two, which vanishes in a 5,000-job run) is
left out; the wall time with start-up and the CPU per job are printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPLY = {
    "gist": "会议部署了安全生产重点工作。",
    "gist_source": [1],
    "key_points": [{"text": "压实安全生产责任，深入开展隐患排查整治。", "source": [2]}],
    "tasks": [{"what": "深入开展隐患排查整治", "who": "各乡镇", "source": [2]}],
    "figures": [],
}

TEXT = (
    "同志们：\n今天召开全县安全生产工作会议，主要任务是部署当前和今后一个时期的安全生产工作。\n"
    "各乡镇要压实安全生产责任，深入开展隐患排查整治，确保全县安全形势持续稳定。\n"
    "同志们，安全生产责任重于泰山，让我们共同努力，确保各项任务落到实处。"
)


def serve(port: int, latency: float, content: str) -> None:
    """The server process: fixed latency, a fixed valid reply, HTTP/1.1 keep-alive."""

    stats = {"first": 0.0, "last": 0.0, "count": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # http.server sends the headers and the body in two writes; with Nagle on, the body
        # waits for the client's delayed ACK of the headers (40 ms on Linux), so every reply
        # took 240 ms instead of the 200 ms this benchmark promises.
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            pass

        def _json(self, data: dict) -> None:
            body = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            with lock:
                self._json(dict(stats))

        def do_DELETE(self) -> None:  # noqa: N802
            with lock:
                stats.update(first=0.0, last=0.0, count=0)
            self._json({})

        def do_POST(self) -> None:  # noqa: N802
            arrived = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            time.sleep(max(0.0, latency - (time.monotonic() - arrived)))
            self._json({
                "id": "chatcmpl-bench", "object": "chat.completion", "created": int(time.time()),
                "model": request.get("model", "bench"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 40, "total_tokens": 140},
            })
            with lock:
                stats["first"] = stats["first"] or arrived
                stats["last"] = time.monotonic()
                stats["count"] += 1

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    Server(("127.0.0.1", port), Handler).serve_forever()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("bench server did not start")


def run_once(base_url: str, jobs: int, concurrency: int, workdir: Path, processes: int | None = None) -> tuple[float, dict]:
    jobs_file = workdir / "jobs.jsonl"
    out = workdir / "out.jsonl"
    out.unlink(missing_ok=True)
    with jobs_file.open("w", encoding="utf-8") as fh:
        for i in range(jobs):
            # Distinct texts: no response cache, no accidental sharing between jobs.
            fh.write(json.dumps({"id": f"j{i:05d}", "task": "summarize", "method": "llm", "length": "short",
                                 "text": TEXT + f"\n（第{i}号）"}, ensure_ascii=False) + "\n")
    env = dict(os.environ, OPENAI_API_KEY="sk-bench-not-a-real-key", SPEECHSMITH_DATA_DIR=str(workdir / "data"))
    cmd = [sys.executable, "-m", "pipeline", "batch", "run", str(jobs_file), "-o", str(out),
           "--backend", "openai", "--base-url", base_url, "--model", "bench-model",
           "--concurrency", str(concurrency), "--no-progress"]
    if processes:
        cmd += ["--processes", str(processes)]
    _stats(base_url, "DELETE")
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"batch run failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    records = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    statuses = {s: sum(1 for r in records if r["status"] == s) for s in ("ok", "invalid", "error")}
    if statuses["ok"] != jobs:
        first_bad = next((r for r in records if r["status"] != "ok"), {})
        raise SystemExit(f"not all jobs ok: {statuses}; first: {first_bad.get('errors')}")
    # The server's view: from the first request in to the last reply out. Start-up (interpreter,
    # imports, worker processes) is excluded, as it is for a 5,000-job run where it vanishes.
    stats = _stats(base_url)
    assert stats["count"] == jobs, stats
    span = stats["last"] - stats["first"]
    return span, {"wall": wall, "cpu_ms_per_job": cpu / jobs * 1000, **statuses}


def _stats(base_url: str, method: str = "GET") -> dict:
    request = urllib.request.Request(base_url.removesuffix("/v1") + "/stats", method=method)
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=480)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--processes", type=int, default=None, help="batch run --processes (default: its own choice)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    content = json.dumps(REPLY, ensure_ascii=False)
    if args.serve:
        serve(args.serve, args.latency, content)
        return
    port = _free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--latency", str(args.latency)])
    try:
        _wait_for(port)
        ideal = args.concurrency / args.latency
        rates = []
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.repeat):
                inner, info = run_once(f"http://127.0.0.1:{port}/v1", args.jobs, args.concurrency, Path(tmp), args.processes)
                rates.append(args.jobs / inner)
                print(f"  run: {args.jobs} jobs served in {inner:.2f} s ({info['wall']:.2f} s with start-up): "
                      f"{args.jobs / inner:.1f} jobs/s, {info['cpu_ms_per_job']:.1f} ms CPU per job "
                      "(start-up included)", file=sys.stderr)
    finally:
        server.terminate()
        server.wait()
    median = statistics.median(rates)
    ratio = median / ideal
    procs = args.processes or "auto"
    print("| jobs | concurrency | processes | latency | ideal jobs/s | median jobs/s | ratio | target |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {args.jobs} | {args.concurrency} | {procs} | {args.latency * 1000:.0f} ms | {ideal:.1f} | {median:.1f} | "
          f"{ratio:.1%} | ≥ 85% {'PASS' if ratio >= 0.85 else 'FAIL'} |")


if __name__ == "__main__":
    main()
