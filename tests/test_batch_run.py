"""`batch run` against a real loopback OpenAI-compatible server: faults, 429s, kill -9, Ctrl-C.

Jobs are `summarize --method llm` on short texts: one structured call each through the real
task, Client, openai backend (SDK + retries) and the batch runner.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.batch.jobs import read_jobs
from pipeline.batch.limits import Pacer
from pipeline.batch.results import ResultWriter, read_results
from pipeline.batch.runner import run_batch
from pipeline.model.backends.openai_backend import OpenAIBackend
from pipeline.model.client import Client
from pipeline.tasks import TaskContext
from tests.openai_server import OpenAIServer, Reply
from tests.test_batch_inputs import GOOD  # a valid summary reply to SPEECH

ROOT = Path(__file__).resolve().parent.parent


def _text(i: int, marker: str = "") -> str:
    return (f"同志们：\n今天召开全县安全生产工作会议（第{i}场）{marker}。\n"
            "各乡镇要压实安全生产责任，深入开展隐患排查整治。\n谢谢大家！")


def _jobs_file(path: Path, n: int, markers: dict[int, str] | None = None) -> Path:
    markers = markers or {}
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            job = {"id": f"j{i:03d}", "task": "summarize", "method": "llm", "length": "short",
                   "text": _text(i, markers.get(i, ""))}
            fh.write(json.dumps(job, ensure_ascii=False) + "\n")
    return path


def _client(server: OpenAIServer, *, retries: int = 4) -> Client:
    backend = OpenAIBackend("test-model", base_url=server.url, api_key="sk-test-batch", max_retries=retries,
                            backoff=0.01, max_backoff=0.05, timeout=10)
    return Client(backend, command="batch", max_reasks=1)


def _prompt(body: dict) -> str:
    return json.dumps(body.get("messages"), ensure_ascii=False)


def test_twenty_percent_faults_every_job_recorded_once(tmp_path):
    # About a fifth of all requests fail (500, 429 with Retry-After, dropped connection), on a
    # fixed schedule per job so that no job can run out of retries by bad luck: one fault for
    # every 5th job, two in a row for every 20th. Two jobs always get 500 (recorded as errors
    # after their retries), one always gets prose instead of JSON (recorded as invalid).
    lock = threading.Lock()
    attempts: dict[int, int] = {}
    injected: dict[str, int] = {"500": 0, "429": 0, "drop": 0}
    kinds = ("500", "429", "drop")

    def responder(body: dict) -> str | Reply:
        prompt = _prompt(body)
        if "ALWAYS-FAIL" in prompt:
            return Reply.error(500, "upstream exploded")
        if "INVALID-OUTPUT" in prompt:
            return "这不是JSON，是一段闲聊。"
        job = int(re.search(r"第(\d+)场", prompt).group(1))
        with lock:
            attempt = attempts[job] = attempts.get(job, 0) + 1
            faults = 2 if job % 20 == 3 else 1 if job % 5 == 0 else 0
            kind = kinds[sum(injected.values()) % 3] if attempt <= faults else None
            if kind:
                injected[kind] += 1
        if kind == "500":
            return Reply.error(500)
        if kind == "429":
            return Reply.rate_limited(retry_after=0.05)
        if kind == "drop":
            return Reply.dropped()
        return GOOD

    n = 60
    jobs_path = _jobs_file(tmp_path / "jobs.jsonl", n, {5: "ALWAYS-FAIL", 17: "INVALID-OUTPUT", 41: "ALWAYS-FAIL"})
    with OpenAIServer(responder=responder) as server:
        client = _client(server)
        pacer = Pacer(8)
        with ResultWriter(tmp_path / "out.jsonl") as writer:
            summary = run_batch(read_jobs(jobs_path), writer, TaskContext(client=client), concurrency=8, pacer=pacer)
        assert server.max_in_flight <= 8
        requests = len(server.chat_requests)

    records, _ = read_results(tmp_path / "out.jsonl")
    ids = [r["id"] for r in records]
    assert sorted(ids) == [f"j{i:03d}" for i in range(n)]  # none lost, none duplicated
    status = {r["id"]: r for r in records}
    assert summary.counts == {"ok": 57, "invalid": 1, "error": 2}
    for i in (5, 41):
        rec = status[f"j{i:03d}"]
        assert rec["status"] == "error" and "HTTP 500" in rec["errors"][0] and "after 5 attempt" in rec["errors"][0]
        assert (rec["usage"]["calls"], rec["usage"]["retries"]) == (1, 4)  # what was really spent
    invalid = status["j017"]
    assert invalid["status"] == "invalid" and invalid["raw"] == "这不是JSON，是一段闲聊。" and invalid["errors"]
    assert invalid["usage"]["calls"] == 2  # the first try and one re-ask
    ok = [r for r in records if r["status"] == "ok"]
    assert all(r["result"]["output"]["gist"] == "会议部署了全县安全生产工作。" for r in ok)
    assert all(r["usage"]["prompt_tokens"] > 0 and r["usage"]["calls"] >= 1 for r in ok)
    # The faults really happened (a fifth of all requests) and were retried, not skipped.
    assert min(injected.values()) >= 5
    assert sum(r["usage"]["retries"] for r in ok) == sum(injected.values())
    assert 0.17 <= sum(injected.values()) / requests <= 0.23
    assert requests == 57 + sum(injected.values()) + 2 * 5 + 2  # + the always-failing and the re-ask
    assert pacer.limit.rate_limited >= injected["429"]
    assert "sk-test-batch" not in (tmp_path / "out.jsonl").read_text(encoding="utf-8")


def test_concurrency_backs_off_on_429_and_recovers(tmp_path):
    # The server allows 4 requests in flight and answers 429 beyond that, like a provider's
    # concurrency limit; the runner starts at 16.
    server = OpenAIServer(latency=0.05)

    def responder(body: dict) -> str | Reply:
        if server._in_flight > 4:
            return Reply.rate_limited(retry_after=0.1)
        return GOOD

    server.responder = responder
    n = 48
    with server:
        pacer = Pacer(16)
        with ResultWriter(tmp_path / "out.jsonl") as writer:
            summary = run_batch(read_jobs(_jobs_file(tmp_path / "jobs.jsonl", n)), writer,
                                TaskContext(client=_client(server, retries=8)), concurrency=16, pacer=pacer)
        limited = sum(1 for r in server.chat_requests if r.json)  # all requests, 429s included
    assert summary.counts["ok"] == n
    assert pacer.limit.rate_limited > 0 and pacer.limit.limit < 16
    # Without backing off, 16 workers against a limit of 4 burn most requests on 429s: measured
    # 120-186 requests for 48 jobs without the adaptive limit (some jobs failing even after 8
    # retries), 68-71 with it.
    assert limited < n * 2


def test_requests_and_tokens_per_minute_limits_pace_the_calls(tmp_path):
    with OpenAIServer(responder=lambda body: GOOD) as server:
        pacer = Pacer(8, rpm=300)  # 5 requests per second, bursts of 5
        with ResultWriter(tmp_path / "out.jsonl") as writer:
            summary = run_batch(read_jobs(_jobs_file(tmp_path / "jobs.jsonl", 12)), writer,
                                TaskContext(client=_client(server)), concurrency=8, pacer=pacer)
        times = sorted(r.time for r in server.chat_requests)
        assert summary.counts["ok"] == 12
        assert summary.seconds >= 1.35  # 5 at once, then 7 more at 5 per second
        assert times[-1] - times[0] >= 0.9
        # Tokens: each call is estimated at prompt + max_tokens (700 for --length short); with
        # 60,000 per minute (1,000 per second) the 4 calls need about 3 seconds, not 0.
        server.reset()
        server.responder = lambda body: GOOD
        pacer = Pacer(8, tpm=60_000)
        with ResultWriter(tmp_path / "out2.jsonl") as writer:
            summary = run_batch(read_jobs(_jobs_file(tmp_path / "jobs2.jsonl", 4)), writer,
                                TaskContext(client=_client(server)), concurrency=8, pacer=pacer)
    assert summary.counts["ok"] == 4
    assert summary.seconds >= 2.0


def test_dead_endpoint_or_rejected_key_stops_the_batch_and_records_nothing(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.errors import SpeechsmithError

    monkeypatch.setenv("SPEECHSMITH_MAX_RETRIES", "0")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-batch")
    jobs = _jobs_file(tmp_path / "jobs.jsonl", 10)
    out = tmp_path / "out.jsonl"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"

    def run(url: str) -> str:
        args = ["batch", "run", str(jobs), "-o", str(out), "--backend", "openai", "--base-url", url,
                "-m", "test-model", "-j", "2", "--processes", "1", "--no-progress"]
        with pytest.raises(SpeechsmithError) as caught:
            CliRunner().invoke(app, args, catch_exceptions=False)
        return str(caught.value)

    message = run(dead)
    assert message.startswith("batch stopped: cannot reach") and "10 job(s) left, rerun to continue" in message
    assert out.read_bytes() == b""  # 10 "connection refused" lines would need --retry-failed
    with OpenAIServer(api_key="sk-the-right-one", responder=lambda body: GOOD) as server:
        message = run(server.url)
        assert "rejected the API key (401)" in message
        assert len(server.chat_requests) <= 2  # stopped at once, not after all 10 jobs
    assert out.read_bytes() == b"" and "sk-test-batch" not in message


def test_max_tokens_cap_stops_the_batch_and_a_rerun_finishes(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipeline.batch.results import read_results
    from pipeline.cli import app
    from pipeline.errors import SpeechsmithError

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-batch")
    jobs = _jobs_file(tmp_path / "jobs.jsonl", 10)
    out = tmp_path / "out.jsonl"
    with OpenAIServer(responder=lambda body: GOOD) as server:
        args = ["batch", "run", str(jobs), "-o", str(out), "--backend", "openai", "--base-url", server.url,
                "-m", "test-model", "-j", "1", "--no-progress"]
        # Each call reserves its prompt plus max_tokens (700) before it is sent.
        with pytest.raises(SpeechsmithError, match=r"batch stopped: the next call could use up to .* --max-tokens 4000"):
            CliRunner().invoke(app, [*args, "--max-tokens", "4000"], catch_exceptions=False)
        first = read_results(out)[0]
        assert 1 <= len(first) < 10 and all(r["status"] == "ok" for r in first)
        result = CliRunner().invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0
    assert sorted(r["id"] for r in read_results(out)[0]) == [f"j{i:03d}" for i in range(10)]


def _cli(jobs: Path, out: Path, server: OpenAIServer, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, OPENAI_API_KEY="sk-test-batch", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "pipeline", "batch", "run", str(jobs), "-o", str(out), "--backend", "openai",
           "--base-url", server.url, "-m", "test-model", "--no-progress", *extra]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _lines_when(out: Path, at_least: int, proc: subprocess.Popen, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.exists():
            count = out.read_bytes().count(b"\n")
            if count >= at_least:
                return count
        if proc.poll() is not None:
            pytest.fail(f"batch run ended early: {proc.stderr.read()}")
        time.sleep(0.02)
    pytest.fail("batch run made no progress")


def _check_file(out: Path) -> list[dict]:
    blob = out.read_bytes()
    assert blob.endswith(b"\n")  # no torn last line
    return [json.loads(line) for line in blob.splitlines()]  # every line is whole JSON


@pytest.mark.parametrize("processes", ["1", "2"])
def test_kill_9_mid_run_then_rerun_every_id_exactly_once(tmp_path, processes):
    n = 30
    jobs = _jobs_file(tmp_path / "jobs.jsonl", n)
    out = tmp_path / "out.jsonl"
    with OpenAIServer(latency=0.1, responder=lambda body: GOOD) as server:
        proc = _cli(jobs, out, server, "-j", "4", "--processes", processes)
        _lines_when(out, 8, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
        time.sleep(0.5)  # worker processes die with their parent: nothing more arrives
        # A kill can cut the line being written (a torn tail without its newline): readers skip
        # it and the rerun truncates it; every complete line stays as it is.
        first, _ = read_results(out)
        assert len(server.chat_requests) <= len(first) + 4
        assert 8 <= len(first) < n
        again = _cli(jobs, out, server, "-j", "4", "--processes", processes)
        _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert f"{len(first)} done earlier" in err
    records = _check_file(out)
    assert sorted(r["id"] for r in records) == [f"j{i:03d}" for i in range(n)]
    assert [r for r in records if r["status"] != "ok"] == []
    assert records[: len(first)] == first  # what was written is never rewritten


def test_ctrl_c_finishes_in_flight_jobs_then_rerun_completes(tmp_path):
    n = 30
    jobs = _jobs_file(tmp_path / "jobs.jsonl", n)
    out = tmp_path / "out.jsonl"
    with OpenAIServer(latency=0.25, responder=lambda body: GOOD) as server:
        proc = _cli(jobs, out, server, "-j", "4", "--processes", "2")  # forwarded to both workers
        at_signal = _lines_when(out, 4, proc)
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "interrupted" in err and "run the same command again" in err
        first = _check_file(out)
        # Every request that had started was finished and written (none abandoned), and no new
        # job started after the interrupt (at most the 4 in flight, plus any started while the
        # signal was on its way).
        assert len(first) == len(server.chat_requests)
        assert at_signal <= len(first) <= at_signal + 8 < n
        again = _cli(jobs, out, server, "-j", "8", "--processes", "1")
        _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    records = _check_file(out)
    assert sorted(r["id"] for r in records) == [f"j{i:03d}" for i in range(n)]


def test_second_ctrl_c_abandons_in_flight_jobs_at_once(tmp_path):
    jobs = _jobs_file(tmp_path / "jobs.jsonl", 12)
    out = tmp_path / "out.jsonl"
    with OpenAIServer(latency=5.0, responder=lambda body: GOOD) as server:
        proc = _cli(jobs, out, server, "-j", "4", "--processes", "1")
        deadline = time.monotonic() + 30
        while len(server.chat_requests) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGINT)
        time.sleep(0.3)
        start = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - start
    assert proc.returncode == 130, err
    assert took < 3  # did not wait for the 5 s replies
    assert not out.exists() or out.read_bytes() == b""


def test_verbose_prints_one_usage_line(tmp_path):
    jobs = _jobs_file(tmp_path / "jobs.jsonl", 3)
    with OpenAIServer(responder=lambda body: GOOD) as server:
        proc = _cli(jobs, tmp_path / "out.jsonl", server, "-j", "2", "--processes", "1", "-v")
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert err.count("speechsmith: usage:") == 1 and "3 call(s)" in err


@pytest.mark.model
def test_local_batch_with_verbose_prints_one_usage_line_and_the_thread_choice(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    # its first sentence (over 40 字) is sent to the model to be shortened
    text = ("今天召开全县安全生产工作会议，深入分析当前全县安全生产面临的严峻复杂形势，全面部署今年和今后一个时期的安全生产工作。"
            "各地区各部门要压实安全生产责任，确保不发生重大事故。")
    jobs.write_text(json.dumps({"id": "a", "task": "summarize", "text": text, "method": "hybrid",
                                "length": "short"}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "batch", "run", str(jobs), "-o", str(tmp_path / "out.jsonl"),
         "--backend", "local", "--no-progress", "-v"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "SPEECHSMITH_LOG": "0"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("speechsmith: usage:") == 1, out.stderr
    assert "speechsmith: threads:" in out.stderr
