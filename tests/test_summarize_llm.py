"""summarize --method llm against a real loopback OpenAI-compatible server (tests/openai_server.py)."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.model.backends.openai_backend import OpenAIBackend
from pipeline.model.client import Client
from pipeline.tasks import TaskContext, run_task
from tests.openai_server import Reply

SPEECH = (Path(__file__).parent / "fixtures" / "reports" / "speech_wenming.txt").read_text(encoding="utf-8")
KEY = "sk-summarize-test-0123456789"

GOOD = {
    "gist": "动员全局干部职工争创自治区精神文明单位。",
    "gist_source": [2],
    "key_points": [
        {"text": "统一思想，提高认识，深刻理解创建精神文明单位的重要意义。", "source": [4]},
        {"text": "创建工作将推动全局上水平、上台阶，文明单位数量将减少20%。", "source": [5]},
    ],
    "tasks": [{"what": "加强监督检查，发现问题及时整改", "who": "各部门", "source": [29]}],
    "figures": [{"value": "10%", "measures": "自治区文明单位整体数量将减少", "source": [5]}],
}


def _client(server) -> Client:
    return Client(OpenAIBackend("test-model", base_url=server.url, api_key=KEY, max_retries=1, backoff=0.01))


def test_llm_one_call_over_http_reasks_a_bad_reply(openai_server) -> None:
    openai_server.script(
        Reply.ok("好的，下面是摘要：动员大会很成功。"),  # not JSON: must be re-asked
        Reply.ok(json.dumps({"gist": "x"}, ensure_ascii=False)),  # JSON, but gist too short
        Reply.ok(json.dumps(GOOD, ensure_ascii=False)),
    )
    client = _client(openai_server)
    result = run_task(
        "summarize", {"text": SPEECH, "length": "short", "method": "auto"}, TaskContext(client=client)
    )
    assert result.metadata["method"] == "llm" and result.metadata["mode"] == "one-call"
    assert result.metadata["method_reason"].startswith("auto:")
    assert len(openai_server.chat_requests) == 3
    assert result.metadata["usage"]["reasks"] == 2
    # The re-ask shows the model its own output and the validation error.
    reask = openai_server.chat_requests[1].json["messages"]
    assert any("好的，下面是摘要" in m["content"] for m in reask if m["role"] == "assistant")
    out = result.output
    # The invented 20% is caught by the pipeline: that point is dropped, the rest kept.
    assert [p["source"] for p in out["key_points"]] == [[4]]
    assert result.checks["verbatim"]["dropped"][0]["not_in_source"] == ["20%"]
    assert out["figures"] == [{"value": "10%", "measures": "自治区文明单位整体数量将减少", "source": [5]}]
    assert out["tasks"][0]["who"] == "各部门"
    # The numbered source went to the endpoint; the key never appears in what we return.
    first = openai_server.chat_requests[0].json["messages"]
    assert "[4] 一、统一思想" in first[-1]["content"]
    assert KEY not in json.dumps(result.model_dump(), ensure_ascii=False)


def test_llm_map_reduce_over_http(openai_server) -> None:
    openai_server.responder = lambda body: json.dumps(GOOD, ensure_ascii=False)
    backend = OpenAIBackend("test-model", base_url=openai_server.url, api_key=KEY, context_window=2500)
    result = run_task(
        "summarize", {"text": SPEECH, "length": "short", "method": "llm"}, TaskContext(client=Client(backend))
    )
    meta = result.metadata
    assert meta["mode"] == "map-reduce" and len(meta["chunks"]) >= 2
    assert len(openai_server.chat_requests) == meta["usage"]["calls"] >= len(meta["chunks"]) + 1
    assert result.output["figures"][0]["value"] == "10%"
