"""Overhead of the model layer over the bare libraries.

    python evals/bench/bench_model_layer.py [--local-runs 5] [--remote-calls 300] [--skip-local]

Local: Client(LocalBackend).chat against a bare llama-cpp-python `create_completion` on the same
loaded model, same prompt, same max_tokens, greedy (so both generate the same tokens); the KV cache
is reset before every call so that both read the whole prompt. Target: overhead <= 5 %.

Remote: Client(OpenAIBackend).chat with the run log on, against a bare openai SDK call, both on the
loopback server in tests/openai_server.py (zero latency). Target: <= 2 ms added per call.

Runs alternate between the two paths so that machine load drifts affect both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pipeline.model.client import Client  # noqa: E402
from pipeline.model.types import ChatRequest, Message  # noqa: E402

PROMPT = (
    "各位同志：今天我们召开全县安全生产工作会议，主要任务是深入贯彻落实上级关于安全生产的决策部署，"
    "总结去年工作，分析当前形势，部署今年任务。刚才，几位同志作了很好的发言，我都同意。下面，我讲三点意见。"
    "一、提高政治站位，切实增强做好安全生产工作的责任感紧迫感。安全生产事关人民群众生命财产安全，事关改革发展稳定大局。"
)


def _timed(real, inner: list[float]):
    """`real`, with the seconds each call spends inside it appended to `inner`."""

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            inner.append(time.perf_counter() - start)

    return timed


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench_local(runs: int, max_tokens: int) -> dict[str, float]:
    from pipeline.model.backends.local import LocalBackend, render_prompt

    backend = LocalBackend()
    client = Client(backend, command="bench")
    llm = backend.llm
    request = ChatRequest(
        (Message("user", PROMPT), Message("assistant", "同志们，")), max_tokens=max_tokens, temperature=0.0
    )
    prompt_text = render_prompt(request)
    # Warm-up both paths once (page in weights, build samplers).
    llm.reset()
    client.chat(request)
    llm.reset()
    llm.create_completion(prompt_text, max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.1, seed=0)
    # Time spent inside llama.cpp during our calls: the rest is what the pipeline adds, measured
    # directly (immune to the machine-load noise that dominates end-to-end comparisons).
    inner: list[float] = []
    timed_create = _timed(llm.create_completion, inner)

    ours: list[float] = []
    bare: list[float] = []
    ours_cpu: list[float] = []
    bare_cpu: list[float] = []
    texts = set()
    def run_ours() -> None:
        llm.reset()
        llm.create_completion = timed_create
        start, cpu = time.perf_counter(), time.process_time()
        out = client.chat(request)
        ours.append(time.perf_counter() - start)
        ours_cpu.append(time.process_time() - cpu)
        del llm.create_completion
        texts.add(out.text)

    def run_bare() -> None:
        llm.reset()
        start, cpu = time.perf_counter(), time.process_time()
        raw = llm.create_completion(
            prompt_text, max_tokens=max_tokens, temperature=0.0, top_p=0.95, repeat_penalty=1.1, seed=0
        )
        bare.append(time.perf_counter() - start)
        bare_cpu.append(time.process_time() - cpu)
        texts.add(raw["choices"][0]["text"])

    for i in range(runs):  # alternate which goes first, so neither always meets the warmer cache
        for run in (run_ours, run_bare) if i % 2 == 0 else (run_bare, run_ours):
            run()
    return {
        "prompt_tokens": backend.count_request(request),
        "max_tokens": max_tokens,
        "ours_ms": _median_ms(ours),
        "bare_ms": _median_ms(bare),
        "ours_cpu_ms": _median_ms(ours_cpu),
        "bare_cpu_ms": _median_ms(bare_cpu),
        "added_ms": statistics.median(o - i for o, i in zip(ours, inner, strict=True)) * 1000,
        "same_text": float(len(texts) == 1),
    }


def bench_remote(calls: int) -> dict[str, float]:
    import openai

    from pipeline.model.backends.openai_backend import OpenAIBackend
    from pipeline.model.runlog import RunLog
    from tests.openai_server import OpenAIServer

    messages = [{"role": "user", "content": PROMPT}]
    request = ChatRequest((Message("user", PROMPT),), max_tokens=64, temperature=0.7, seed=None)
    with OpenAIServer() as server, tempfile.TemporaryDirectory() as tmp:
        bare_client = openai.OpenAI(base_url=server.url, api_key="sk-bench", max_retries=0, timeout=30)
        client = Client(
            OpenAIBackend("test-model", base_url=server.url, api_key="sk-bench", timeout=30),
            command="bench", runlog=RunLog(Path(tmp) / "runlog.sqlite3"),
        )
        # Time inside the SDK call during our calls: the rest is exactly what the pipeline adds.
        inner: list[float] = []
        completions = client.backend._client.chat.completions
        completions.create = _timed(completions.create, inner)
        for _ in range(20):  # warm-up: connections, tiktoken, imports
            client.chat(request)
            bare_client.chat.completions.create(model="test-model", messages=messages, max_tokens=64, temperature=0.7, top_p=0.95)
        ours: list[float] = []
        bare: list[float] = []
        for _ in range(calls):
            start = time.perf_counter()
            client.chat(request)
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            bare_client.chat.completions.create(model="test-model", messages=messages, max_tokens=64, temperature=0.7, top_p=0.95)
            bare.append(time.perf_counter() - start)
        assert len(server.chat_requests) == 2 * (calls + 20)
    added = [o - i for o, i in zip(ours, inner[20:], strict=True)]
    return {"calls": calls, "ours_ms": _median_ms(ours), "bare_ms": _median_ms(bare), "added_ms": _median_ms(added)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local-runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--remote-calls", type=int, default=300)
    parser.add_argument("--skip-local", action="store_true")
    args = parser.parse_args()

    rows = []
    remote = bench_remote(args.remote_calls)
    added = remote["ours_ms"] - remote["bare_ms"]
    rows.append(("remote (loopback)", f"{remote['calls']} calls", remote["bare_ms"], remote["ours_ms"],
                 f"{added:+.2f} ms/call", "<= 2 ms", "ok" if added <= 2 else "OVER"))
    rows.append(("remote, outside the SDK call", "same calls", remote["bare_ms"], remote["bare_ms"] + remote["added_ms"],
                 f"+{remote['added_ms']:.2f} ms/call", "<= 2 ms", "ok" if remote["added_ms"] <= 2 else "OVER"))
    if not args.skip_local:
        local = bench_local(args.local_runs, args.max_tokens)
        ratio = local["ours_ms"] / local["bare_ms"] - 1
        rows.append(("local (Gemma 270M)", f"{args.local_runs} runs, {local['prompt_tokens']}+{args.max_tokens} tok",
                     local["bare_ms"], local["ours_ms"], f"{ratio * 100:+.1f} %", "<= 5 %",
                     ("ok" if ratio <= 0.05 else "OVER") + ("" if local["same_text"] else " (texts differ!)")))
        # CPU time is the steadier measure on a shared machine: wall time also counts waiting.
        cpu_ratio = local["ours_cpu_ms"] / local["bare_cpu_ms"] - 1
        rows.append(("local, CPU time", "same runs", local["bare_cpu_ms"], local["ours_cpu_ms"],
                     f"{cpu_ratio * 100:+.1f} %", "<= 5 %", "ok" if cpu_ratio <= 0.05 else "OVER"))
        added = local["added_ms"] / local["bare_ms"]
        rows.append(("local, outside llama.cpp", "same runs", local["bare_ms"], local["bare_ms"] + local["added_ms"],
                     f"+{local['added_ms']:.1f} ms ({added * 100:.2f} %)", "<= 5 %", "ok" if added <= 0.05 else "OVER"))
    header = ("path", "sample", "bare median ms", "pipeline median ms", "overhead", "target", "")
    widths = [max(len(str(r[i]) if not isinstance(r[i], float) else f"{r[i]:.2f}") for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [f"{c:.2f}" if isinstance(c, float) else str(c) for c in row]
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
