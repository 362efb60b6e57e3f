"""batch building blocks: jobs file, crash-safe results file, pacing, result-line parsing."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from pipeline.batch.jobs import line_id, read_jobs
from pipeline.batch.limits import AdaptiveLimit, Pacer, TokenBucket
from pipeline.batch.openai_batch import parse_reply, read_replies
from pipeline.batch.results import ResultWriter, make_record, read_results
from pipeline.errors import InputError


def _write_jobs(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---- jobs ------------------------------------------------------------------------------------


def test_jobs_bad_lines_become_error_jobs_naming_the_line(tmp_path):
    (tmp_path / "a.txt").write_text("各位代表：现在，我代表市人民政府作报告。", encoding="utf-8")
    jobs = read_jobs(_write_jobs(tmp_path / "jobs.jsonl", [
        '{"id": "j1", "task": "check", "text": "同志们：今天召开会议。"}',
        '{"id": "j2", "task": "summarize", "text": "未闭合',
        '',
        '{"id": "j3", "task": "translate", "text": "x"}',
        '{"id": "j4", "task": "summarize"}',
        '{"id": "j5", "task": "summarize", "file": "a.txt", "method": "extractive"}',
        '{"id": "j6", "task": "restyle", "file": "nope.txt"}',
        '{"id": "j1", "task": "check", "text": "重复"}',
        '[1, 2]',
        '{"task": "adapt", "occasion": "全县安全生产工作会议", "points": ["压实责任"]}',
    ]))
    by_line = {j.line: j for j in jobs}
    assert len(jobs) == 9  # the blank line is not a job
    assert by_line[1].ok and by_line[1].inputs == {"text": "同志们：今天召开会议。"}
    assert by_line[2].error.startswith("line 2: invalid JSON")
    assert "line 4: unknown task 'translate'" in by_line[4].error
    assert by_line[5].error == 'line 5: summarize needs "text" or "file"'
    assert by_line[6].ok and by_line[6].inputs["file"] == str(tmp_path / "a.txt")  # relative to the jobs file
    assert by_line[6].inputs["method"] == "extractive"
    assert by_line[7].error == "line 7: file not found: nope.txt"
    assert "duplicate id 'j1' (first on line 1)" in by_line[8].error and by_line[8].id != "j1"
    assert "must be a JSON object" in by_line[9].error
    assert by_line[10].ok and by_line[10].task == "adapt" and by_line[10].id.startswith("h")
    assert len({j.id for j in jobs}) == len(jobs)


def test_default_id_is_a_stable_hash_of_the_line(tmp_path):
    line = '{"task": "check", "text": "同志们：今天召开会议。"}'
    first = read_jobs(_write_jobs(tmp_path / "a.jsonl", [line]))[0].id
    again = read_jobs(_write_jobs(tmp_path / "b.jsonl", ['{"task": "check", "text": "别的"}', line]))[1].id
    assert first == again == line_id(line)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "has no jobs"), (b"\x00\x01\x02binary", "binary"), ("{}".encode("gbk") + "中文".encode("gbk"), "not UTF-8")],
)
def test_unusable_jobs_file_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "jobs.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_jobs(path)
    with pytest.raises(InputError, match="not found"):
        read_jobs(tmp_path / "missing.jsonl")


# ---- results ---------------------------------------------------------------------------------


def test_torn_last_line_is_dropped_and_done_ids_are_skipped(tmp_path):
    out = tmp_path / "out.jsonl"
    good = json.dumps(make_record("a", "check", "ok", result={"x": 1}), ensure_ascii=False)
    out.write_text(good + "\n" + '{"id": "b", "task": "check", "status": "o', encoding="utf-8")
    with ResultWriter(out) as writer:
        assert writer.torn_bytes > 0
        assert writer.is_done("a") and not writer.is_done("b")
        assert writer.write(make_record("b", "check", "ok"))
        assert not writer.write(make_record("a", "check", "error"))  # never a second line for an id
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["a", "b"]
    assert out.read_bytes().endswith(b"\n")


def test_concurrent_writers_never_interleave_or_duplicate(tmp_path):
    out = tmp_path / "out.jsonl"
    big = "讲话" * 20000  # 120 KB lines: larger than a pipe buffer, still one line each
    with ResultWriter(out) as writer:
        def work(k):
            for i in range(25):
                writer.write(make_record(f"{k}-{i}", "check", "ok", result={"text": big}))
                writer.write(make_record(f"{k}-{i}", "check", "ok"))  # the duplicate is refused
        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    records, _ = read_results(out)
    ids = [r["id"] for r in records]
    assert len(ids) == 200 and len(set(ids)) == 200
    assert all(r["result"]["text"] == big for r in records)


def test_retry_failed_and_replace_drop_only_failed_lines(tmp_path):
    out = tmp_path / "out.jsonl"
    with ResultWriter(out) as writer:
        writer.write(make_record("a", "check", "ok"))
        writer.write(make_record("b", "check", "error", errors=["down"]))
        writer.write(make_record("c", "check", "invalid", raw="{"))
    with ResultWriter(out, replace={"a", "b"}) as writer:  # import: only ids with a new reply
        assert writer.dropped == 1 and not writer.is_done("b") and writer.is_done("c") and writer.is_done("a")
    with ResultWriter(out, retry_failed=True) as writer:
        assert not writer.is_done("c") and writer.is_done("a")
        writer.write(make_record("c", "check", "ok"))
    records, _ = read_results(out)
    assert [(r["id"], r["status"]) for r in records] == [("a", "ok"), ("c", "ok")]


def test_second_writer_on_the_same_file_is_refused(tmp_path):
    out = tmp_path / "out.jsonl"
    with ResultWriter(out), pytest.raises(InputError, match="another batch run"):
        ResultWriter(out)
    ResultWriter(out).close()  # free again once the first is closed


# ---- pacing ----------------------------------------------------------------------------------


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_token_bucket_paces_to_the_rate():
    bucket = TokenBucket(600)  # 10 per second, burst 10
    start = time.monotonic()
    for _ in range(25):
        bucket.take(1)
    elapsed = time.monotonic() - start
    assert 1.2 < elapsed < 4.0  # 10 from the burst, 15 more at 10/s (slack for a busy machine)


def test_token_bucket_lets_an_oversized_take_through_into_debt():
    clock = _Clock()
    bucket = TokenBucket(60, clock=clock)  # 1 per second, capacity 1
    bucket.take(5)  # bigger than the bucket: allowed once full, leaves a debt of 4
    assert bucket._tokens == -4
    clock.now = 5.0
    bucket.take(1)  # the debt is paid after 5 s
    bucket.give_back(10)
    assert bucket._tokens == 1  # never above capacity


def test_adaptive_limit_halves_once_per_round_and_grows_back():
    clock = _Clock()
    limit = AdaptiveLimit(32, clock=clock)
    sent = threading.Barrier(4)

    def call():  # three calls in flight at once, each in its own thread as batch workers are
        limit.acquire()
        sent.wait()
        limit.release(rate_limited=True, retry_after=2)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    sent.wait()  # all three were sent under limit 32 and all come back 429: one round, one cut
    for t in threads:
        t.join()
    assert limit.limit == 16 and limit.rate_limited == 3
    stop = threading.Event()
    stop.set()
    with pytest.raises(InterruptedError):  # paused by Retry-After (until t=2)
        limit.acquire(stop)
    clock.now = 2.5
    limit.acquire()  # a call sent after the cut, in this thread
    limit.rate_limited_now(retry_after=None)  # 429 again: the new round halves again
    assert limit.limit == 8
    limit.rate_limited_now()  # its retry was sent under 8; a 429 on it halves once more
    limit.release()
    assert limit.limit == 4
    for _ in range(4 + 5 + 6 + 7):  # one more after `limit` clean calls: 4 -> 8
        limit.acquire()
        limit.release()
    assert limit.limit == 8 and limit.in_flight == 0


def test_pacer_counts_429_exceptions():
    pacer = Pacer(4)

    class RateLimited(Exception):
        status_code = 429

    def boom():
        raise RateLimited("Too Many Requests")

    with pytest.raises(RateLimited):
        pacer.call(boom)
    assert pacer.limit.limit == 2 and pacer.limit.in_flight == 0
    assert pacer.call(lambda: 7) == 7 and pacer.limit.in_flight == 0


# ---- batch result lines ----------------------------------------------------------------------


def _ok_line(custom_id, content, **extra):
    body = {"id": "c1", "object": "chat.completion", "model": "m1",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}
    return {"id": "batch_req_1", "custom_id": custom_id, "response": {"status_code": 200, "request_id": "r", "body": body}, "error": None, **extra}


def test_reply_forms_openai_and_vllm():
    ok = parse_reply(_ok_line("a", '{"x": 1}'))
    assert ok.content == '{"x": 1}' and ok.usage == {"calls": 1, "prompt_tokens": 11, "completion_tokens": 7}
    assert ok.model == "m1"
    failed = parse_reply({"custom_id": "b", "response": None, "error": {"code": "batch_expired", "message": "expired"}})
    assert failed.content is None and failed.error == "batch_expired: expired"
    http = parse_reply({"custom_id": "c", "response": {"status_code": 500, "body": {"error": {"message": "boom", "type": "server_error"}}}})
    assert http.error == "HTTP 500: server_error: boom"
    empty = parse_reply({"custom_id": "d", "response": {"status_code": 200, "body": {"choices": []}}})
    assert "no choices" in empty.error


def test_read_replies_tolerates_torn_lines_and_prefers_success(tmp_path):
    path = tmp_path / "results.jsonl"
    lines = [
        json.dumps({"custom_id": "a", "response": None, "error": {"message": "x"}}),
        json.dumps(_ok_line("b", "{}")),
        json.dumps(_ok_line("a", '{"ok": true}')),
        "garbage",
        json.dumps(_ok_line("c", "{}"))[:40],
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    replies, problems = read_replies(path)
    assert set(replies) == {"a", "b"} and replies["a"].content == '{"ok": true}'
    assert problems == ["line 4: not JSON (torn or truncated?), ignored", "line 5: not JSON (torn or truncated?), ignored"]


def test_kill_during_write_never_loses_a_line_or_reads_half_a_line(tmp_path):
    # A child appends 150 KB lines in a loop and is SIGKILLed mid-stream. Linux may stop a
    # multi-page write at a fatal signal, so the file may end in a torn tail; readers must
    # ignore it, reopening must truncate it, and every line reported written must be there.
    import signal
    import subprocess
    import sys

    out = tmp_path / "out.jsonl"
    code = (
        "import sys\nfrom pipeline.batch.results import ResultWriter, make_record\n"
        "w = ResultWriter(sys.argv[1])\n"
        "for i in range(100000):\n"
        "    w.write(make_record(f'j{i}', 'check', 'ok', result={'t': '讲' * 50000}))\n"
        "    print(i, flush=True)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    reported = -1
    for _ in range(5):
        reported = int(child.stdout.readline())
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    records, intact = read_results(out)
    assert [r["id"] for r in records][: reported + 1] == [f"j{i}" for i in range(reported + 1)]
    assert all(r["result"]["t"] == "讲" * 50000 for r in records)
    size = out.stat().st_size
    with ResultWriter(out) as writer:
        assert writer.torn_bytes == size - intact  # the torn tail, if the kill made one, is cut
        assert len(writer.done) == len(records)
    blob = out.read_bytes()
    assert len(blob) == intact and (not blob or blob.endswith(b"\n"))
    assert [json.loads(x)["id"] for x in blob.splitlines()] == [r["id"] for r in records]


@pytest.mark.parametrize(
    ("jobs_bytes", "out_is_dir", "message"),
    [
        (None, False, "jobs file not found"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", False, "is binary, not a JSONL jobs file"),
        ('{"task": "check", "text": "同志们：今天开会。"}\n'.encode(), True, "out.jsonl: it is a directory"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, jobs_bytes, out_is_dir, message):
    import subprocess
    import sys
    from pathlib import Path

    jobs = tmp_path / "jobs.jsonl"
    if jobs_bytes is not None:
        jobs.write_bytes(jobs_bytes)
    out = tmp_path / "out.jsonl"
    if out_is_dir:
        out.mkdir()
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "pipeline", "batch", "run", str(jobs), "-o", str(out)],
                          cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("speechsmith: error: ") and message in lines[0]


def test_progress_line_has_rate_eta_errors_and_tokens():
    import io

    from pipeline.batch.progress import Progress

    stream = io.StringIO()
    progress = Progress(10, already=2, stream=stream, log_every=0.0)
    progress.start -= 2.0  # two seconds into the run
    progress.add("ok", 1200)
    progress.add("error")
    progress.add("invalid", 30000)
    progress.finish()
    last = stream.getvalue().strip().splitlines()[-1]
    assert "5/10" in last and "1.5 jobs/s" in last and "ETA 0:03" in last
    assert "errors 2" in last and "tokens 31k" in last
    quiet = io.StringIO()
    Progress(3, stream=quiet, enabled=False).add("ok")
    assert quiet.getvalue() == ""
