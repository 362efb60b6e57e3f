"""Servers as they really are: what the openai backend learns about an endpoint, against the
loopback fault server playing llama-cpp-python's llama_cpp.server, vLLM and llama-server.

The real llama_cpp.server runs in tests/test_model_backend_llama_server.py; these are the fast twins."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from pipeline.errors import BackendError, BudgetExceeded
from pipeline.model.backends.endpoint import context_limit, facts_for, window_from_models
from pipeline.model.backends.openai_backend import OpenAIBackend
from pipeline.model.client import Client
from pipeline.model.types import ChatRequest, Message
from tests.openai_server import OpenAIServer, Reply


class Point(BaseModel):
    score: int


def _backend(server: OpenAIServer, **kw) -> OpenAIBackend:
    opts = {"timeout": 5.0, "max_retries": 3, "backoff": 0.01, "max_backoff": 0.05, **kw}
    return OpenAIBackend("test-model", base_url=server.url, api_key="sk-test", **opts)


def _req(text: str = "打分", system: str | None = None, max_tokens: int = 32) -> ChatRequest:
    messages = ((Message("system", system),) if system else ()) + (Message("user", text),)
    return ChatRequest(messages, max_tokens=max_tokens)


def _formats(server: OpenAIServer) -> list[str]:
    out = []
    for r in server.chat_requests:
        fmt = r.json.get("response_format")
        out.append("none" if fmt is None else fmt["type"] + ("+schema" if "schema" in fmt else ""))
    return out


def test_a_500_refusing_json_schema_steps_down_at_once_and_is_remembered() -> None:
    with OpenAIServer.llama_cpp() as server:
        server.script(Reply.ok('{"score": 1}'), Reply.ok('{"score": 2}'))
        client = Client(_backend(server))
        assert client.structured(_req(), Point).score == 1
        # a second backend on the same endpoint and model (batch workers, eval cases) asks right away
        again = Client(_backend(server))
        assert again.structured(_req(), Point).score == 2
        assert _formats(server) == ["json_schema", "json_object+schema", "json_object+schema"]
        sent = server.chat_requests[1].json
        assert sent["response_format"]["schema"]["properties"]["score"]["type"] == "integer"
        assert "JSON Schema" in sent["messages"][-1]["content"]  # weak models see the keys too
        assert client.usage.retries == 0 and client.usage.reasks == 0  # a refusal is not a retry


def test_a_500_that_names_nothing_of_the_format_is_still_retried() -> None:
    with OpenAIServer() as server:
        server.script(Reply.error(500, "CUDA out of memory"), Reply.ok('{"score": 3}'))
        client = Client(_backend(server))
        assert client.structured(_req(), Point).score == 3
        assert _formats(server) == ["json_schema", "json_schema"] and client.usage.retries == 1


def test_every_form_down_to_the_prompt() -> None:
    with OpenAIServer(reject_formats={"json_schema", "json_object"}, reject_status=422) as server:
        server.script(Reply.ok('{"score": 4}'))
        backend = _backend(server)
        assert Client(backend).structured(_req(), Point).score == 4
        assert _formats(server) == ["json_schema", "json_object+schema", "json_object", "none"]
        assert backend.json_mode == "prompt"


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("json_object", ["json_object+schema"]), ("prompt", ["none"]), ("json_schema", ["json_schema"])],
)
def test_structured_setting_sends_only_that_form(setting: str, expected: list[str]) -> None:
    with OpenAIServer() as server:
        server.script(Reply.ok('{"score": 5}'))
        assert Client(_backend(server, structured=setting)).structured(_req(), Point).score == 5
        assert _formats(server) == expected


def test_a_fixed_form_the_server_refuses_is_one_clear_error() -> None:
    with OpenAIServer.llama_cpp() as server:
        client = Client(_backend(server, structured="json_schema"))
        with pytest.raises(BackendError) as info:
            client.structured(_req(), Point)
        message = str(info.value)
        assert len(server.chat_requests) == 1 and "\n" not in message
        assert "HTTP 500" in message and "response_format" in message
        assert "--structured prompt" in message and "SPEECHSMITH_STRUCTURED" in message


def test_context_window_from_the_server() -> None:
    with OpenAIServer(models_extra={"max_model_len": 8192}, owned_by="vllm") as vllm:
        backend = _backend(vllm, fallback_window=131_072)
        assert backend.context_window == 8192 and "max_model_len" in backend.context_source
        assert _backend(vllm, context_window=4096).context_window == 4096  # --context beats the server
    props = {"default_generation_settings": {"n_ctx": 4096}}
    with OpenAIServer(owned_by="llamacpp", models_extra={"meta": {"n_ctx_train": 32768}}, props=props) as server:
        assert _backend(server).context_window == 4096
    with OpenAIServer() as plain:  # says nothing: the built-in table or the default
        backend = _backend(plain, fallback_window=32_768)
        assert backend.context_window == 32_768 and "--context" in backend.context_source
        client = Client(backend)
        with pytest.raises(BudgetExceeded, match=r"32768-token context.*--context"):
            client.chat(_req("字" * 40_000, max_tokens=16))
        assert plain.chat_requests == []


def test_overflow_error_names_context_and_the_window_is_learned() -> None:
    with OpenAIServer.llama_cpp(n_ctx=512) as server:
        client = Client(_backend(server, fallback_window=32_768))
        with pytest.raises(BackendError) as info:
            client.chat(_req("各位同志" * 200, max_tokens=64))
        message = str(info.value)
        assert "512-token context" in message and "--context 512" in message
        assert len(server.chat_requests) == 1  # a 400 is not retried
        # the window the server stated now guards the next call before it is sent
        with pytest.raises(BudgetExceeded, match="512-token context"):
            client.chat(_req("各位同志" * 200, max_tokens=64))
        assert len(server.chat_requests) == 1


def test_system_messages_are_folded_where_the_server_drops_them() -> None:
    with OpenAIServer.llama_cpp() as server:
        server.script(Reply.ok("1"), Reply.ok("2"), Reply.ok("好"), Reply.ok("好"))
        client = Client(_backend(server))
        client.chat(_req("写一句", system="你是县政府办公室的秘书。"))
        client.chat(_req("再写一句", system="你是县政府办公室的秘书。"))
        probe_a, probe_b, first, second = server.chat_requests
        assert probe_a.json["max_tokens"] == 1 and probe_b.json["max_tokens"] == 1  # measured once
        assert [m["role"] for m in probe_a.json["messages"]] == ["system", "user"]
        for sent in (first, second):
            assert [m["role"] for m in sent.json["messages"]] == ["user"]
            assert sent.json["messages"][0]["content"].startswith("你是县政府办公室的秘书。\n\n")
        assert client.usage.calls == 2  # the probe is not one of the command's calls


def test_system_messages_are_kept_where_the_server_keeps_them() -> None:
    with OpenAIServer(owned_by="me") as server:  # llama.cpp family, but it keeps system text
        server.script(Reply.ok("1"), Reply.ok("2"), Reply.ok("好"))
        Client(_backend(server)).chat(_req("写一句", system="你是秘书。"))
        assert [m["role"] for m in server.chat_requests[-1].json["messages"]] == ["system", "user"]
        assert len(server.chat_requests) == 3
    with OpenAIServer(drop_system=True) as other:  # not of the llama.cpp family: not probed
        Client(_backend(other)).chat(_req("写一句", system="你是秘书。"))
        assert len(other.chat_requests) == 1
    with OpenAIServer(drop_system=True) as forced:
        Client(_backend(forced, system="fold")).chat(_req("写一句", system="你是秘书。"))
        assert [m["role"] for m in forced.chat_requests[0].json["messages"]] == ["user"]


def test_a_server_that_refuses_the_system_role_gets_it_folded() -> None:
    def responder(body: dict) -> str | Reply:  # Gemma 2's chat template on vLLM
        if any(m["role"] == "system" for m in body["messages"]):
            return Reply.error(400, "jinja2.exceptions.TemplateError: System role not supported")
        return '{"score": 6}'

    with OpenAIServer(responder=responder) as server:
        client = Client(_backend(server))
        assert client.structured(_req(system="你是秘书。"), Point).score == 6
        assert client.structured(_req(system="你是秘书。"), Point).score == 6
        assert _formats(server) == ["json_schema", "json_schema", "json_schema"]  # not a format refusal
        assert [m["role"] for m in server.chat_requests[-1].json["messages"]] == ["user"]


def test_what_is_learned_is_said_once_with_verbose() -> None:
    with OpenAIServer.llama_cpp() as server:
        server.script(Reply.ok('{"score": 1}'), Reply.ok('{"score": 2}'))
        heard: list[str] = []
        backend = _backend(server)
        backend.on_notice = heard.append
        client = Client(backend)
        client.structured(_req(), Point)
        client.structured(_req(), Point)
        assert len(heard) == 1 and "refused response_format json_schema" in heard[0] and "\n" not in heard[0]
        assert "json_object with the schema" in heard[0] and "HTTP 500" in heard[0]
        assert facts_for(server.url, "test-model").refused.keys() == {"json_schema"}


def test_parsers_of_what_servers_say() -> None:
    vllm = {"data": [{"id": "qwen", "owned_by": "vllm", "max_model_len": 8192}]}
    assert window_from_models(vllm, "qwen") == (8192, "vllm", "max_model_len")
    one = {"data": [{"id": "/models/gemma.gguf", "owned_by": "me", "permissions": []}]}
    assert window_from_models(one, "anything") == (None, "me", "")
    meta = {"data": [{"id": "m", "meta": {"n_ctx": 4096}}, {"id": "n"}]}
    assert window_from_models(meta, "m") == (4096, None, "n_ctx")
    assert window_from_models({"error": "x"}, "m") == (None, None, "")
    assert context_limit("This model's maximum context length is 8192 tokens. However, you requested 9000") == 8192
    assert context_limit("Requested tokens (3000) exceed context window of 2048") == 2048
    # llama-server
    assert context_limit("request (5000 tokens) exceeds the available context size (4096 tokens), try increasing it") == 4096
    assert context_limit("rate limit: 1000 requests per minute") is None
