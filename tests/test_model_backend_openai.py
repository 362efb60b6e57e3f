"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1 with injected faults."""

from __future__ import annotations

import threading
import time

import pytest
from pydantic import BaseModel, Field

from pipeline.errors import BackendError, BudgetExceeded, ValidationFailed
from pipeline.model.backends.openai_backend import OpenAIBackend
from pipeline.model.backends.openai_wire import clean_schema
from pipeline.model.client import Client
from pipeline.model.types import ChatRequest, Message
from tests.openai_server import OpenAIServer, Reply

KEY = "sk-test-SECRET-123"


class Point(BaseModel):
    title: str = Field(default="", title="标题")
    score: int


def _backend(server: OpenAIServer, **kw) -> OpenAIBackend:
    opts = {"timeout": 2.0, "max_retries": 3, "backoff": 0.01, "max_backoff": 0.05, **kw}
    return OpenAIBackend("test-model", base_url=server.url, api_key=KEY, **opts)


def _req(text: str = "你好", **kw) -> ChatRequest:
    return ChatRequest((Message("user", text),), max_tokens=32, **kw)


def test_plain_call_sends_key_and_reports_usage(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.ok("各位同志"))
    client = Client(_backend(openai_server))
    response = client.chat(_req())
    assert response.text == "各位同志" and response.retries == 0 and response.finish_reason == "stop"
    (sent,) = openai_server.chat_requests
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json["model"] == "test-model" and sent.json["max_tokens"] == 32
    assert "response_format" not in sent.json
    assert client.usage.calls == 1 and client.usage.completion_tokens == len("各位同志")


def test_429_waits_for_retry_after(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.rate_limited(retry_after=0.4), Reply.ok("好"))
    client = Client(_backend(openai_server))
    response = client.chat(_req())
    first, second = openai_server.chat_requests
    assert response.text == "好" and response.retries == 1
    assert second.time - first.time >= 0.38  # honoured, not our 10 ms backoff
    assert client.usage.retries == 1


def test_500_and_503_are_retried_with_backoff(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.error(500), Reply.error(503), Reply.ok("好"))
    response = Client(_backend(openai_server)).chat(_req())
    assert response.text == "好" and response.retries == 2
    assert len(openai_server.chat_requests) == 3


def test_dropped_connection_is_retried(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.dropped(), Reply.error(502), Reply.ok("好"))
    response = Client(_backend(openai_server)).chat(_req())
    assert response.text == "好" and response.retries == 2


def test_html_page_with_200_is_one_clear_error_not_retried(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.garbage("<html><body>登录</body></html>"), Reply.ok("不该到这里"))
    client = Client(_backend(openai_server))
    with pytest.raises(BackendError) as info:
        client.chat(_req())
    message = str(info.value)
    assert len(openai_server.chat_requests) == 1  # the same URL answers the same page again
    assert "an HTML page that is not a chat completion" in message and "--base-url" in message
    assert "\n" not in message
    assert client.usage.retries == 0


def test_slow_reply_times_out_and_is_not_sent_again(openai_server: OpenAIServer) -> None:
    # The server may still be generating the first copy: a second would double its work.
    openai_server.script(Reply.slow(20.0), Reply.ok("不该到这里"))
    start = time.perf_counter()
    client = Client(_backend(openai_server, timeout=0.3))
    with pytest.raises(BackendError) as info:
        client.chat(_req())
    assert time.perf_counter() - start < 15.0  # did not wait for the slow reply (loose: busy machines)
    assert len(openai_server.chat_requests) == 1 and client.usage.retries == 0
    assert "no reply within 0.3 s" in str(info.value) and "--timeout" in str(info.value)


def test_retry_budget_is_exact_and_final_error_is_one_clear_line(openai_server: OpenAIServer) -> None:
    openai_server.script(*[Reply.error(503, "overloaded")] * 5)
    client = Client(_backend(openai_server, max_retries=2))
    with pytest.raises(BackendError) as info:
        client.chat(_req())
    message = str(info.value)
    assert len(openai_server.chat_requests) == 3  # 1 try + 2 retries, the SDK adds none
    assert "503" in message and "3 attempt(s)" in message and "overloaded" in message
    assert "\n" not in message and KEY not in message
    assert client.usage.retries == 2 and client.usage.calls == 0


def test_timeout_error_message_names_the_real_option(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.slow(1.0))
    with pytest.raises(BackendError, match=r"no reply within 0\.2 s; not sent again.*raise --timeout"):
        Client(_backend(openai_server, timeout=0.2, max_retries=1)).chat(_req())


@pytest.mark.parametrize(("status", "words"), [(400, "HTTP 400"), (401, "rejected the API key"), (403, "403"), (404, "not found")])
def test_client_errors_are_never_retried(openai_server: OpenAIServer, status: int, words: str) -> None:
    openai_server.script(Reply.error(status, f"problem {status}: Incorrect API key provided: {KEY}"), Reply.ok("不该到这里"))
    with pytest.raises(BackendError) as info:
        Client(_backend(openai_server)).chat(_req())
    assert len(openai_server.chat_requests) == 1
    assert words in str(info.value)
    assert KEY not in str(info.value)  # providers echo keys in error bodies; we never do


def test_quota_429_is_not_retried(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.error(429, "You exceeded your current quota", kind="insufficient_quota"))
    with pytest.raises(BackendError, match="429"):
        Client(_backend(openai_server)).chat(_req())
    assert len(openai_server.chat_requests) == 1


def test_dead_endpoint_is_a_clear_error() -> None:
    with OpenAIServer() as server:
        url = server.url
    backend = OpenAIBackend("m", base_url=url, api_key=KEY, timeout=1, max_retries=1, backoff=0.01)
    with pytest.raises(BackendError, match=r"cannot reach http://127\.0\.0\.1:\d+/v1 after 2 attempt"):
        Client(backend).chat(_req())


def test_non_json_content_is_reasked_not_retried(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.ok("好的，我来回答：没有 JSON"), Reply.ok('{"title": "安全", "score": 3}'))
    client = Client(_backend(openai_server))
    point = client.structured(_req(), Point)
    assert point.score == 3
    assert client.usage.reasks == 1 and client.usage.retries == 0
    reask = openai_server.chat_requests[1].json["messages"]
    assert reask[-2] == {"role": "assistant", "content": "好的，我来回答：没有 JSON"}
    assert "no JSON found" in reask[-1]["content"]


def test_schema_violation_is_reasked_with_the_field_errors(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.ok('{"title": "安全", "score": "很高"}'), Reply.ok('{"title": "安全", "score": 9}'))
    client = Client(_backend(openai_server))
    assert client.structured(_req(), Point).score == 9
    assert "score" in openai_server.chat_requests[1].json["messages"][-1]["content"]


def test_transport_errors_never_reach_the_prompt(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.error(500, "upstream exploded"), Reply.ok("not json"), Reply.ok('{"score": 1}'))
    client = Client(_backend(openai_server))
    assert client.structured(_req(), Point).score == 1
    assert client.usage.retries == 1 and client.usage.reasks == 1
    for sent in openai_server.chat_requests:
        assert "exploded" not in str(sent.json["messages"]) and "500" not in str(sent.json["messages"])


def test_reasks_run_out_with_the_raw_output(openai_server: OpenAIServer) -> None:
    openai_server.script(*[Reply.ok('{"score": "x"}')] * 3)
    client = Client(_backend(openai_server), max_reasks=2)
    with pytest.raises(ValidationFailed) as info:
        client.structured(_req(), Point)
    assert info.value.raw == '{"score": "x"}'
    assert "after 3 attempt(s)" in str(info.value) and "score" in str(info.value)
    assert len(openai_server.chat_requests) == 3 and client.usage.reasks == 2


def test_finish_reason_length(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.length("各位同志，今天"), Reply.length('{"title": "安'), Reply.ok('{"score": 2}'))
    client = Client(_backend(openai_server))
    assert client.chat(_req()).finish_reason == "length"
    assert client.structured(_req(), Point).score == 2
    assert "cut off at max_tokens=32" in openai_server.chat_requests[2].json["messages"][-1]["content"]


def test_structured_output_falls_back_and_remembers(openai_server: OpenAIServer) -> None:
    openai_server.reject_formats = {"json_schema"}
    openai_server.script(Reply.ok('{"score": 1}'), Reply.ok('{"score": 2}'))
    backend = _backend(openai_server)
    client = Client(backend)
    assert client.structured(_req(), Point).score == 1
    assert client.structured(_req(), Point).score == 2
    formats = [(r.json.get("response_format") or {}).get("type") for r in openai_server.chat_requests]
    assert formats == ["json_schema", "json_object", "json_object"]  # probed once per backend
    assert "JSON Schema" in openai_server.chat_requests[1].json["messages"][-1]["content"]

    openai_server.reject_formats = {"json_schema", "json_object"}
    openai_server.script(Reply.ok('{"score": 3}'))
    assert client.structured(_req(), Point).score == 3
    assert backend.json_mode == "prompt"
    assert "response_format" not in openai_server.chat_requests[-1].json


def test_schema_keywords_are_stripped_but_property_names_kept(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.ok('{"score": 1}'))
    Client(_backend(openai_server)).structured(_req(), Point)
    schema = openai_server.chat_requests[0].json["response_format"]["json_schema"]["schema"]
    assert "title" in schema["properties"]  # a field called title survives
    assert "title" not in schema and "title" not in schema["properties"]["title"]
    assert "default" not in schema["properties"]["title"]
    nested = clean_schema({"$defs": {"A": {"title": "A", "type": "object"}}, "items": [{"default": 1}]})
    assert nested == {"$defs": {"A": {"type": "object"}}, "items": [{}]}


def test_prefill_is_folded_and_stripped(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.ok("同志们：今天召开会议。"))
    request = ChatRequest((Message("user", "写开头"), Message("assistant", "同志们：")), max_tokens=16)
    response = Client(_backend(openai_server)).chat(request)
    assert response.text == "今天召开会议。"
    messages = openai_server.chat_requests[0].json["messages"]
    assert [m["role"] for m in messages] == ["user"] and messages[0]["content"].endswith("同志们：")


def test_context_window_refused_before_sending(openai_server: OpenAIServer) -> None:
    client = Client(_backend(openai_server, context_window=100))
    with pytest.raises(BudgetExceeded) as info:
        client.chat(ChatRequest((Message("user", "各位同志" * 100),), max_tokens=50))
    assert "100-token context" in str(info.value) and "+ 50 output" in str(info.value)
    assert openai_server.chat_requests == []


def test_32_requests_in_parallel_with_latency() -> None:
    with OpenAIServer(latency=0.2) as server:
        client = Client(_backend(server))
        threads = [threading.Thread(target=client.chat, args=(_req(f"第{i}个"),)) for i in range(32)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    assert client.usage.calls == 32 and len(server.chat_requests) == 32
    assert server.max_in_flight >= 8  # truly concurrent (loose: the CI machine may be busy)
    assert elapsed < 32 * 0.2 / 2  # far from the 6.4 s a serial server would take


def test_each_sample_gets_its_own_seed(openai_server: OpenAIServer) -> None:
    client = Client(_backend(openai_server))
    client.chat(ChatRequest((Message("user", "写"),), max_tokens=8, seed=5, sample_index=0, stop=("。",)))
    client.chat(ChatRequest((Message("user", "写"),), max_tokens=8, seed=5, sample_index=2))
    first, second = (r.json for r in openai_server.chat_requests)
    assert (first["seed"], second["seed"]) == (5, 7)
    assert first["stop"] == ["。"] and "stop" not in second


def test_prefill_as_assistant_message_for_servers_that_continue_it(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.ok("今天召开会议。"))
    request = ChatRequest((Message("user", "写开头"), Message("assistant", "同志们：")), max_tokens=16)
    response = Client(_backend(openai_server, prefill="assistant")).chat(request)
    sent = openai_server.chat_requests[0].json
    assert sent["messages"][-1] == {"role": "assistant", "content": "同志们："}
    assert sent["continue_final_message"] is True and sent["add_generation_prompt"] is False
    assert response.text == "今天召开会议。"


def test_retry_after_forms() -> None:
    import email.utils
    from types import SimpleNamespace

    from pipeline.model.backends.openai_wire import retry_after

    def exc(headers: dict[str, str]) -> SimpleNamespace:
        return SimpleNamespace(response=SimpleNamespace(headers=headers))

    assert retry_after(exc({"retry-after": "3"})) == 3.0
    assert retry_after(exc({"retry-after-ms": "250", "retry-after": "3"})) == 0.25
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after(exc({"retry-after": future})) <= 31
    assert retry_after(exc({"retry-after": "soon"})) is None and retry_after(exc({})) is None
    assert retry_after(None) is None


def test_reasoning_block_is_not_part_of_the_answer(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply.ok('<think>\n用户要JSON {先想想}\n</think>\n\n{"score": 4}'), Reply.ok("<think>嗯</think>同志们："))
    client = Client(_backend(openai_server))
    assert client.structured(_req(), Point).score == 4
    assert client.chat(_req()).text == "同志们："
