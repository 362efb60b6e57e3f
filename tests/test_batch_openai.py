"""The OpenAI Batch route: export request lines, answer them over real HTTP, import the results.

Result files come back shuffled, partial, torn and with failures, as they do from the OpenAI
Batch API and `vllm run-batch`; the follow-up file closes the loop.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from pipeline.batch.jobs import line_id
from pipeline.batch.results import read_results
from pipeline.cli import app
from tests.openai_server import OpenAIServer, Reply

BROKEN = '{"id": "broken", "task": '
BROKEN_ID = line_id(BROKEN)  # a line that is not JSON gets the hash of the line as its id
GOOD = json.dumps({
    "gist": "会议部署了全县安全生产工作。",
    "key_points": [{"text": "压实安全生产责任，深入开展隐患排查整治。", "source": [3]}],
    "tasks": [{"what": "深入开展隐患排查整治", "who": "各乡镇", "source": [3]}],
    "figures": [],
}, ensure_ascii=False)


def _jobs(path: Path) -> Path:
    lines = [
        json.dumps({"id": f"j{i}", "task": "summarize", "method": "llm", "length": "short",
                    "text": f"同志们：\n今天召开全县安全生产工作会议（第{i}场）。\n各乡镇要压实安全生产责任，深入开展隐患排查整治。\n谢谢大家！"},
                   ensure_ascii=False)
        for i in range(8)
    ]
    lines.insert(3, json.dumps({"id": "c1", "task": "check", "text": "同志们：\n今天开会。\n谢谢大家！"}, ensure_ascii=False))
    lines.insert(5, BROKEN)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _invoke(*args: str):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result


def _engine(server: OpenAIServer, requests_path: Path) -> list[dict]:
    """What the Batch API / vllm run-batch does: POST each body, write a result line."""
    out = []
    root = server.url.removesuffix("/v1")
    for line in requests_path.read_text(encoding="utf-8").splitlines():
        req = json.loads(line)
        http = urllib.request.Request(root + req["url"], data=json.dumps(req["body"]).encode(), method="POST",
                                      headers={"Content-Type": "application/json", "Authorization": "Bearer sk-x"})
        try:
            with urllib.request.urlopen(http, timeout=10) as resp:
                status, body = resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            status, body = exc.code, json.loads(exc.read())
        out.append({"id": f"batch_req_{req['custom_id']}", "custom_id": req["custom_id"],
                    "response": {"status_code": status, "request_id": "r", "body": body}, "error": None})
    return out


def _write(path: Path, lines: list[dict], torn: str = "") -> Path:
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines) + torn, encoding="utf-8")
    return path


def test_export_import_roundtrip_with_partial_shuffled_results_and_followup(tmp_path):
    jobs = _jobs(tmp_path / "jobs.jsonl")
    requests = tmp_path / "requests.jsonl"
    result = _invoke("batch", "export", str(jobs), "-o", str(requests), "-m", "test-model")
    assert result.exit_code == 2, result.output  # the bad line; the good ones are still exported
    lines = [json.loads(x) for x in requests.read_text(encoding="utf-8").splitlines()]
    assert [x["custom_id"] for x in lines] == [f"j{i}" for i in range(8)]  # check and the bad line left out
    assert "error: " in result.output and "line 6: invalid JSON" in result.output
    assert "task check has no one-call strategy" in result.output
    first = lines[0]
    assert first["method"] == "POST" and first["url"] == "/v1/chat/completions"
    body = first["body"]
    assert body["model"] == "test-model" and body["max_tokens"] > 0 and body["messages"][-1]["role"] == "user"
    assert "（第0场）" in body["messages"][-1]["content"]
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Summary"
    assert "title" not in fmt["json_schema"]["schema"] and "gist" in fmt["json_schema"]["schema"]["properties"]

    def responder(req: dict) -> str | Reply:
        text = req["messages"][-1]["content"]
        if "第3场" in text:
            return "抱歉，我无法完成。"  # not JSON: invalid
        if "第5场" in text:
            return Reply.error(500, "upstream exploded")
        return GOOD

    with OpenAIServer(responder=responder) as server:
        answered = _engine(server, requests)
        # A partial download: j6 and j7 have no result yet; the order is the engine's, not ours;
        # the last line is torn.
        answered = [x for x in answered if x["custom_id"] not in ("j6", "j7")]
        random.Random(3).shuffle(answered)
        results = _write(tmp_path / "results.jsonl", answered, torn='{"custom_id": "j6", "resp')

        out = tmp_path / "out.jsonl"
        followup = tmp_path / "followup.jsonl"
        result = _invoke("batch", "import", str(results), "--jobs", str(jobs), "-o", str(out),
                         "--requests", str(requests), "--retry-file", str(followup))
        assert result.exit_code == 0, result.output
        assert "4 ok, 1 invalid, 2 error, 2 missing" in result.output
        assert "not JSON (torn or truncated?)" in result.output
        records = {r["id"]: r for r in read_results(out)[0]}
        assert set(records) == {"j0", "j1", "j2", "j3", "j4", "j5", BROKEN_ID}
        assert records["j0"]["status"] == "ok" and records["j0"]["result"]["output"]["gist"] == "会议部署了全县安全生产工作。"
        assert records["j0"]["usage"]["calls"] == 1 and records["j0"]["usage"]["prompt_tokens"] > 0
        assert records["j3"]["status"] == "invalid" and records["j3"]["raw"] == "抱歉，我无法完成。"
        assert records["j5"]["status"] == "error" and "HTTP 500" in records["j5"]["errors"][0]
        assert records[BROKEN_ID]["status"] == "error" and "line 6" in records[BROKEN_ID]["errors"][0]
        again = [json.loads(x) for x in followup.read_text(encoding="utf-8").splitlines()]
        assert sorted(x["custom_id"] for x in again) == ["j3", "j5", "j6", "j7"]
        by_id = {x["custom_id"]: x for x in lines}
        assert all(x == by_id[x["custom_id"]] for x in again)  # the very same requests

        # Without --requests the follow-up is rebuilt from the jobs: the same bodies.
        rebuilt = tmp_path / "rebuilt.jsonl"
        result = _invoke("batch", "import", str(results), "--jobs", str(jobs), "-o", str(tmp_path / "out2.jsonl"),
                         "--retry-file", str(rebuilt))
        assert result.exit_code == 0, result.output
        assert [json.loads(x) for x in rebuilt.read_text(encoding="utf-8").splitlines()] == again

        # The follow-up batch succeeds; importing it into the same OUT.jsonl replaces the failures.
        server.responder = lambda req: GOOD
        second = _write(tmp_path / "results2.jsonl", list(reversed(_engine(server, followup))))
        result = _invoke("batch", "import", str(second), "--jobs", str(jobs), "-o", str(out),
                         "--retry-file", str(followup))
        assert result.exit_code == 0, result.output
        assert "4 ok, 0 invalid, 0 error, 0 missing" in result.output
        assert followup.read_text(encoding="utf-8") == ""

    # The check job is not for the Batch route: `batch run` on the same OUT.jsonl does just that one.
    result = _invoke("batch", "run", str(jobs), "-o", str(out), "--no-progress")
    assert result.exit_code == 0, result.output
    records = read_results(out)[0]
    ids = [r["id"] for r in records]
    assert sorted(ids) == sorted([f"j{i}" for i in range(8)] + ["c1", BROKEN_ID]) and len(set(ids)) == len(ids)
    assert all(r["status"] == "ok" for r in records if r["id"] != BROKEN_ID)


def test_import_reply_for_an_unknown_job_and_a_missing_results_file(tmp_path):
    jobs = _jobs(tmp_path / "jobs.jsonl")
    stray = _write(tmp_path / "results.jsonl", [{"custom_id": "zzz", "response": {"status_code": 200, "body": {
        "choices": [{"message": {"role": "assistant", "content": GOOD}, "finish_reason": "stop"}]}}}])
    result = _invoke("batch", "import", str(stray), "--jobs", str(jobs), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0
    assert "1 result line(s) match no job" in result.output and "8 job(s) failed or are missing" in result.output
    from pipeline.errors import InputError

    try:
        _invoke("batch", "import", str(tmp_path / "nope.jsonl"), "--jobs", str(jobs), "-o", str(tmp_path / "o.jsonl"))
    except InputError as exc:
        assert "results file not found" in str(exc)
    else:
        raise AssertionError("a missing results file must be an InputError")


def test_export_sends_only_jobs_that_are_one_call_on_an_endpoint(tmp_path):
    long_text = "同志们：\n" + "".join(f"第{i}项工作要压实责任，深入开展隐患排查整治。\n" for i in range(12)) + "谢谢大家！"
    short_text = "同志们：\n今天开会。\n谢谢大家！"
    jobs = [
        {"id": "llm", "task": "summarize", "method": "llm", "text": long_text},
        {"id": "auto", "task": "summarize", "text": long_text},
        {"id": "extractive", "task": "summarize", "method": "extractive", "text": long_text},
        {"id": "hybrid", "task": "summarize", "method": "hybrid", "text": long_text},
        {"id": "auto-short", "task": "summarize", "text": short_text},
        {"id": "sectioned", "task": "restyle", "style": "news", "strategy": "sectioned", "text": long_text},
        {"id": "one-call", "task": "restyle", "style": "news", "text": long_text},
        {"id": "plan-draft", "task": "adapt", "occasion": "全县安全生产工作会议", "points": ["压实安全生产责任"],
         "strategy": "plan-draft"},
        {"id": "check", "task": "check", "text": short_text},
    ]
    path = tmp_path / "jobs.jsonl"
    path.write_text("".join(json.dumps(j, ensure_ascii=False) + "\n" for j in jobs), encoding="utf-8")
    requests = tmp_path / "requests.jsonl"
    result = _invoke("batch", "export", str(path), "-o", str(requests), "-m", "test-model")
    assert result.exit_code == 0, result.output
    sent = [json.loads(x)["custom_id"] for x in requests.read_text(encoding="utf-8").splitlines()]
    assert sent == ["llm", "auto", "one-call"]
    for why in ("method extractive calls no model", "method hybrid makes one short call",
                "summarizes a text of 3 sentence(s) without a model", "strategy sectioned makes one call per section",
                "strategy plan-draft makes one call per paragraph", "task check has no one-call strategy"):
        assert why in result.output
    assert "3 request(s)" in result.output and "6 left for batch run" in result.output
