"""QA defects in `speechsmith batch` input handling: unknown job keys, files that are not batch
results, bad lines in export, '-' for stdin, output paths checked before any work.

One-line-on-stderr claims go through the real entry point (`python -m pipeline`); network paths
use the loopback OpenAI server.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.batch.jobs import read_jobs
from pipeline.batch.results import read_results
from pipeline.cli import app
from pipeline.tasks import TASKS
from pipeline.tasks.inputs import INPUTS
from tests.openai_server import OpenAIServer

ROOT = Path(__file__).resolve().parent.parent
SPEECH = "同志们：\n今天召开全县安全生产工作会议。\n各乡镇要压实安全生产责任，深入开展隐患排查整治。\n谢谢大家！"
GOOD = json.dumps({
    "gist": "会议部署了全县安全生产工作。",
    "gist_source": [2],
    "key_points": [{"text": "压实安全生产责任，深入开展隐患排查整治。", "source": [3]}],
    "tasks": [{"what": "深入开展隐患排查整治", "who": "各乡镇", "source": [3]}],
    "figures": [],
}, ensure_ascii=False)


def _cli(*args: str, stdin: bytes | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, input=stdin,
                          capture_output=True, timeout=90)


def _errors(done: subprocess.CompletedProcess) -> list[str]:
    return [x for x in done.stderr.decode().splitlines() if x.startswith("speechsmith: error: ")]


def _lines(path: Path, jobs: list[dict | str]) -> Path:
    path.write_text("".join((j if isinstance(j, str) else json.dumps(j, ensure_ascii=False)) + "\n" for j in jobs),
                    encoding="utf-8")
    return path


def _llm_job(i: int) -> dict:
    return {"id": f"s{i}", "task": "summarize", "method": "llm", "length": "short", "text": SPEECH + f"（第{i}场）"}


# ---- 1. unknown option keys --------------------------------------------------------------------


def test_unknown_key_is_an_error_line_naming_it_with_the_close_match(tmp_path):
    jobs = read_jobs(_lines(tmp_path / "jobs.jsonl", [
        {"id": "j1", "task": "summarize", "text": SPEECH, "lenght": "short"},
        {"id": "j2", "task": "check", "text": SPEECH, "max-sentence": 50},
        {"id": "j3", "task": "adapt", "occasion": "全县安全生产工作会议", "point": ["压实责任"]},
        {"id": "j4", "task": "restyle", "text": SPEECH, "styel": "news", "colour": "red"},
        {"id": "j5", "task": "summarize", "text": SPEECH, "length": "short", "method": "extractive", "title": "t"},
    ]))
    by_id = {j.id: j for j in jobs}
    assert by_id["j1"].error.startswith('line 1: summarize does not take key "lenght" (did you mean "length"?)')
    assert '"max-sentence" (did you mean "max_sentence"?)' in by_id["j2"].error
    assert '"point" (did you mean "points"?)' in by_id["j3"].error
    assert by_id["j4"].error.startswith('line 4: restyle does not take keys "styel" (did you mean "style"?), "colour";')
    assert by_id["j5"].ok


def test_every_key_a_task_reads_is_accepted_and_a_full_line_of_each_task_is_ok(tmp_path):
    # The accepted sets are kept in jobs.py; this fails when a task starts reading a new key.
    # Each task reads its input's fields (typed: `inp.x`; restyle still by name from
    # `inp.options()`); every name read must be a field, or a batch line could not set it.
    sources = {
        "summarize": ["pipeline/tasks/summarize"],
        "restyle": ["pipeline/tasks/restyle/__init__.py"],
        "check": ["pipeline/tasks/check.py"],
        "adapt": ["pipeline/tasks/adapt"],
    }
    assert set(sources) == set(TASKS) == set(INPUTS)
    for task, paths in sources.items():
        files = [f for p in paths for f in ((ROOT / p).glob("*.py") if (ROOT / p).is_dir() else [ROOT / p])]
        code = "".join(f.read_text(encoding="utf-8") for f in files)
        read = set(re.findall(r"""inputs(?:\.get\(|\[)\s*["']([a-z_]+)["']""", code))
        read |= set(re.findall(r"\binp\.([a-z_]+)\b", code)) - {"options", "model_copy"}
        assert read, task
        fields = set(INPUTS[task].model_fields)
        assert read <= fields, (task, read - fields)
    (tmp_path / "b.yaml").write_text("occasion: 全县安全生产工作会议\npoints: [压实责任]\n", encoding="utf-8")
    full = {
        "summarize": {"text": SPEECH, "length": "short", "method": "llm", "title": "t"},
        "restyle": {"text": SPEECH, "style": "news", "title": "t", "length": 300, "speaker": "县长", "date": "5月",
                    "occasion": "会议", "unit": "县政府", "audience": "干部", "strategy": "one-call"},
        "check": {"text": SPEECH, "source": "x", "select": "L", "ignore": "R103", "audience": "干部", "length": 100,
                  "minutes": 1, "tolerance": 0.2, "max_sentence": 80, "fix": True},
        "adapt": {"brief": "b.yaml", "occasion": "全县安全生产工作会议", "points": ["压实责任"], "speaker": "县长",
                  "audience": "干部", "length": 800, "tone": "严肃", "date": "5月", "place": "县", "facts": ["1"],
                  "genre": "会议讲话", "salutation": "同志们：", "strategy": "one-call", "strict_facts": True,
                  "examples": 2, "example_tokens": 500, "seed": 1},
    }
    jobs = read_jobs(_lines(tmp_path / "jobs.jsonl", [{"task": t, **v} for t, v in full.items()]))
    assert [j.error for j in jobs] == [None] * 4


def test_batch_run_records_the_unknown_key_line_as_error_and_runs_the_rest(tmp_path):
    jobs = _lines(tmp_path / "jobs.jsonl", [
        {"id": "bad", "task": "check", "text": SPEECH, "max_sentense": 10},
        {"id": "good", "task": "check", "text": SPEECH, "max_sentence": 10},
    ])
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["batch", "run", str(jobs), "-o", str(out), "--no-progress"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    records = {r["id"]: r for r in read_results(out)[0]}
    assert records["bad"]["status"] == "error" and records["bad"]["result"] is None
    assert '"max_sentense" (did you mean "max_sentence"?)' in records["bad"]["errors"][0]
    assert records["good"]["status"] == "ok"


# ---- 2. import of a file that is not a results file --------------------------------------------


def _export(jobs: Path, requests: Path) -> None:
    result = CliRunner().invoke(app, ["batch", "export", str(jobs), "-o", str(requests), "-m", "test-model"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("kind", ["binary", "high-bytes", "speech", "requests"])
def test_import_of_a_file_that_is_not_batch_results_is_one_line_exit_2(tmp_path, kind):
    jobs = _lines(tmp_path / "jobs.jsonl", [_llm_job(i) for i in range(20)])
    wrong = tmp_path / "wrong.jsonl"
    if kind == "binary":
        wrong.write_bytes(bytes(range(256)) * 8)
    elif kind == "high-bytes":  # no NUL byte, 20 lines of non-JSON
        wrong.write_bytes(b"\n".join(bytes(range(0x80, 0xFF)) for _ in range(20)))
    elif kind == "speech":
        wrong.write_text("\n".join([SPEECH] * 5), encoding="utf-8")
    else:
        _export(jobs, wrong)
    out = tmp_path / "out.jsonl"
    done = _cli("batch", "import", str(wrong), "--jobs", str(jobs), "-o", str(out))
    assert done.returncode == 2
    stderr = done.stderr.decode().strip().splitlines()
    assert len(stderr) == 1 and stderr[0].startswith("speechsmith: error: ")
    assert f"{wrong} is not a batch results file" in stderr[0]
    if kind == "requests":
        assert "request lines" in stderr[0]
    assert not out.exists() or out.read_bytes() == b""


def test_import_keeps_tolerating_a_torn_last_line_and_an_empty_error_file(tmp_path):
    jobs = _lines(tmp_path / "jobs.jsonl", [_llm_job(i) for i in range(2)])
    requests = tmp_path / "requests.jsonl"
    _export(jobs, requests)
    results = tmp_path / "results.jsonl"
    with OpenAIServer(responder=lambda body: GOOD) as server:
        import openai

        client = openai.OpenAI(base_url=server.url, api_key="sk-x")
        lines = []
        for raw in requests.read_text(encoding="utf-8").splitlines():
            req = json.loads(raw)
            body = client.chat.completions.create(**req["body"]).model_dump()
            lines.append({"id": "b", "custom_id": req["custom_id"], "response": {"status_code": 200, "body": body},
                          "error": None})
    results.write_text(json.dumps(lines[0], ensure_ascii=False) + "\n" + json.dumps(lines[1])[:40], encoding="utf-8")
    empty = tmp_path / "errors.jsonl"
    empty.write_bytes(b"")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["batch", "import", str(results), str(empty), "--jobs", str(jobs), "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "line 2: not JSON (torn or truncated?)" in result.output and "1 ok, 0 invalid, 0 error, 1 missing" in result.output
    assert [r["id"] for r in read_results(out)[0]] == ["s0"]


# ---- 3. export reports each bad line and exits 2 -----------------------------------------------


def test_export_reports_each_bad_line_exports_the_good_ones_and_exits_2(tmp_path):
    jobs = _lines(tmp_path / "jobs.jsonl", [
        _llm_job(0),
        '{"id": "torn", "task": ',
        {"id": "nofile", "task": "summarize", "file": "missing.txt"},
        {"id": "x", "task": "translate", "text": SPEECH},
        {"id": "c", "task": "check", "text": SPEECH},  # not bad: `batch run` does it
        {"id": "k", "task": "summarize", "text": SPEECH, "lenght": "short"},
        _llm_job(1),
    ])
    requests = tmp_path / "requests.jsonl"
    done = _cli("batch", "export", str(jobs), "-o", str(requests), "-m", "test-model")
    assert done.returncode == 2, done.stderr.decode()
    errors = _errors(done)
    assert len(errors) == 4
    assert [re.search(r"line (\d+)", e).group(1) for e in errors] == ["2", "3", "4", "6"]
    assert "invalid JSON" in errors[0] and "file not found: missing.txt" in errors[1]
    assert "unknown task 'translate'" in errors[2] and '"lenght"' in errors[3]
    stderr = done.stderr.decode()
    assert "left out line 5 (c): task check has no one-call strategy" in stderr
    assert "2 request(s) for test-model" in stderr
    assert [json.loads(x)["custom_id"] for x in requests.read_text(encoding="utf-8").splitlines()] == ["s0", "s1"]


# ---- 4. '-' reads the jobs from stdin ----------------------------------------------------------


def test_run_and_export_read_jobs_from_stdin_and_a_rerun_resumes_by_id(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-stdin")
    (tmp_path / "speech.txt").write_text(SPEECH, encoding="utf-8")
    first = [_llm_job(0), {"task": "summarize", "method": "llm", "length": "short", "file": "speech.txt"}]
    blob = "".join(json.dumps(j, ensure_ascii=False) + "\n" for j in first)
    more = blob + json.dumps(_llm_job(2), ensure_ascii=False) + "\n"
    out = tmp_path / "out.jsonl"
    monkeypatch.chdir(tmp_path)  # relative paths on stdin lines are relative to the current folder
    with OpenAIServer(responder=lambda body: GOOD) as server:
        args = ["batch", "run", "-", "-o", str(out), "--backend", "openai", "--base-url", server.url,
                "-m", "test-model", "--no-progress", "--processes", "1"]
        result = CliRunner().invoke(app, args, input=blob.encode(), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert len(server.chat_requests) == 2
        result = CliRunner().invoke(app, args, input=more.encode(), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "2 done earlier" in result.output
        assert len(server.chat_requests) == 3  # only the new line went to the endpoint
    records = read_results(out)[0]
    assert len(records) == 3 and len({r["id"] for r in records}) == 3
    assert all(r["status"] == "ok" for r in records), records

    requests = tmp_path / "requests.jsonl"
    done = _cli("batch", "export", "-", "-o", str(requests), "-m", "test-model", stdin=more.encode(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    exported = [json.loads(x) for x in requests.read_text(encoding="utf-8").splitlines()]
    assert sorted(x["custom_id"] for x in exported) == sorted(r["id"] for r in records)


# ---- 5. output paths are checked before any work -----------------------------------------------


def test_unwritable_outputs_fail_in_one_line_before_any_job_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-out")
    jobs = _lines(tmp_path / "jobs.jsonl", [_llm_job(i) for i in range(3)])
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x", encoding="utf-8")
    a_dir = tmp_path / "folder"
    a_dir.mkdir()
    with OpenAIServer(responder=lambda body: GOOD) as server:
        for out, message in ((a_dir, "it is a directory"), (a_file / "out.jsonl", "plain.txt is not a directory")):
            done = _cli("batch", "run", str(jobs), "-o", str(out), "--backend", "openai", "--base-url", server.url,
                        "-m", "test-model", "--no-progress")
            assert done.returncode == 2 and len(done.stderr.decode().strip().splitlines()) == 1
            assert message in _errors(done)[0]
        assert server.chat_requests == []  # no job ran

    requests = tmp_path / "requests.jsonl"
    _export(jobs, requests)
    results = tmp_path / "results.jsonl"
    results.write_text(json.dumps({"custom_id": "s0", "response": {"status_code": 200, "body": {
        "choices": [{"message": {"role": "assistant", "content": GOOD}, "finish_reason": "stop"}]}}},
        ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    cases = [
        (["batch", "export", str(jobs), "-o", str(a_dir)], "it is a directory"),
        (["batch", "export", str(jobs), "-o", str(jobs)], "is also an input file"),
        (["batch", "import", str(results), "--jobs", str(jobs), "-o", str(a_file / "o.jsonl")], "is not a directory"),
        (["batch", "import", str(results), "--jobs", str(jobs), "-o", str(out), "--retry-file", str(a_dir)],
         "it is a directory"),
        (["batch", "import", str(results), "--jobs", str(jobs), "-o", str(out), "--retry-file", str(results)],
         "is also an input file"),
    ]
    before = jobs.read_bytes()
    for args, message in cases:
        done = _cli(*args)
        assert done.returncode == 2, args
        assert len(done.stderr.decode().strip().splitlines()) == 1 and message in _errors(done)[0], done.stderr
    assert not out.exists()  # the import wrote nothing before failing on --retry-file
    assert jobs.read_bytes() == before
