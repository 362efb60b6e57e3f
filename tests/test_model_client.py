"""Client logic around any backend: caps, cost, cache, re-ask budget, wrappers, open_client."""

from __future__ import annotations

import threading

import pytest
from pydantic import BaseModel

from pipeline.config import ModelOptions
from pipeline.errors import BudgetExceeded, ValidationFailed
from pipeline.model.backends.fake import FakeBackend
from pipeline.model.cache import ResponseCache
from pipeline.model.client import Client, Prices
from pipeline.model.connect import open_client, report_usage
from pipeline.model.types import ChatRequest, ChatResponse, Message
from tests.openai_server import OpenAIServer


class Score(BaseModel):
    score: int


def _req(text: str = "你好", max_tokens: int = 20) -> ChatRequest:
    return ChatRequest((Message("user", text),), max_tokens=max_tokens)


def test_max_tokens_stops_before_passing_the_cap() -> None:
    backend = FakeBackend(lambda r: "一二三四五")
    client = Client(backend, max_tokens=100)
    with pytest.raises(BudgetExceeded) as info:
        for _ in range(20):
            client.chat(_req("你好"))
    # each call: 2+4+3 prompt estimate + 20 max output = 29 worst case; actual 2 + 5 = 7 tokens
    assert client.usage.calls == 11 and client.usage.total_tokens == 77 <= 100
    assert client.usage.total_tokens + 29 > 100  # it did go as far as it safely could
    assert "--max-tokens 100" in str(info.value) and "29 tokens" in str(info.value)
    assert len(backend.requests) == client.usage.calls


def test_max_cost_uses_config_prices() -> None:
    # 1 per token each way: a call costs at most 9 + 20 = 29 and really 2 + 5 = 7
    client = Client(FakeBackend(lambda r: "一二三四五"), prices=Prices(1e6, 1e6), max_cost=50)
    client.chat(_req())
    assert client.usage.cost == pytest.approx(7)
    for _ in range(3):  # 7 + 29 worst case stays within 50 up to 28 spent
        client.chat(_req())
    with pytest.raises(BudgetExceeded, match=r"--max-cost 50 \(28\.0000 spent in 4 call"):
        client.chat(_req())
    assert client.usage.cost == pytest.approx(28)


def test_parallel_calls_cannot_jointly_pass_the_cap() -> None:
    with OpenAIServer(latency=0.1) as server:
        from pipeline.model.backends.openai_backend import OpenAIBackend

        client = Client(OpenAIBackend("m", base_url=server.url, api_key="k", max_retries=0), max_tokens=200)
        refused = []

        def call() -> None:
            try:
                client.chat(_req("各位", max_tokens=30))
            except BudgetExceeded:
                refused.append(1)

        threads = [threading.Thread(target=call) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert refused and len(server.chat_requests) + len(refused) == 16
    worst = client.request_tokens(_req("各位", max_tokens=30)) + 30
    assert len(server.chat_requests) * worst <= 200


def test_reask_budget_is_configurable() -> None:
    backend = FakeBackend(["no", "no", "no", "no"])
    client = Client(backend, max_reasks=0)
    with pytest.raises(ValidationFailed, match="after 1 attempt"):
        client.structured(_req(), Score)
    with pytest.raises(ValidationFailed, match="after 3 attempt"):
        client.structured(_req(), Score, max_reasks=2)
    assert len(backend.requests) == 4 and client.usage.reasks == 2


def test_cache_returns_identical_requests_without_calling(tmp_path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite3")
    first = Client(FakeBackend(["not json", '{"score": 4}', "甲"]), cache=cache)
    assert first.structured(_req("评分"), Score).score == 4
    assert first.chat(_req("写一句")).text == "甲"

    again = FakeBackend([])  # would fail if asked anything
    second = Client(again, cache=cache)
    assert second.structured(_req("评分"), Score).score == 4  # the validated reply, on the first try
    assert second.chat(_req("写一句")).text == "甲"
    assert again.requests == []
    assert second.usage.cached == 2 and second.usage.total_tokens == 0 and second.usage.reasks == 0
    # a different sample is a different request
    with pytest.raises(AssertionError, match="ran out"):
        second.chat(ChatRequest((Message("user", "写一句"),), max_tokens=20, sample_index=1))


def test_a_backend_wrapper_sits_between_client_and_backend(tmp_path, monkeypatch) -> None:
    class Recorder:
        def __init__(self, inner):
            self.inner, self.name, self.model = inner, inner.name, inner.model
            self.context_window = inner.context_window
            self.seen: list[ChatResponse] = []

        def count_tokens(self, text: str) -> int:
            return self.inner.count_tokens(text)

        def complete(self, request: ChatRequest) -> ChatResponse:
            response = self.inner.complete(request)
            self.seen.append(response)
            return response

    with OpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        server.script('{"score": 1}')
        client = open_client(ModelOptions(), "test", wrap=Recorder)
        assert isinstance(client.backend, Recorder) and client.backend.name == "openai"
        assert client.structured(_req(), Score).score == 1
        assert client.backend.seen[0].text == '{"score": 1}'


def test_open_client_picks_the_backend(monkeypatch) -> None:
    assert open_client(ModelOptions(), "t").backend.name == "local"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-123")
    client = open_client(ModelOptions(), "t")
    assert client.backend.name == "openai" and client.backend.model == "gpt-4o-mini"
    assert client.context_window == 128_000
    assert open_client(ModelOptions(backend="local"), "t").backend.name == "local"


def test_report_usage_prints_totals_on_stderr(capsys) -> None:
    client = Client(FakeBackend(["好"]), verbose=True)
    client.chat(_req())
    report_usage(client)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "1 call(s)" in captured.err and "0 transport retries" in captured.err and "0 re-ask(s)" in captured.err
    quiet = Client(FakeBackend(["好"]))
    report_usage(quiet)
    assert capsys.readouterr().err == ""


def test_usage_dict_reports_both_budgets() -> None:
    usage = Client(FakeBackend([]), max_reasks=3).usage.to_dict()
    assert usage["reask_budget"] == 3 and usage["retry_budget"] == 0
    assert {"calls", "prompt_tokens", "completion_tokens", "retries", "reasks", "cost", "cached"} <= set(usage)


def test_verbose_usage_is_reported_even_when_the_command_fails(tmp_path) -> None:
    import os
    import subprocess
    import sys

    script = (
        "from pipeline.model.connect import open_client\n"
        "from pipeline.config import ModelOptions\n"
        "from pipeline.model.types import ChatRequest, Message\n"
        "client = open_client(ModelOptions(verbose=True), 'adapt')\n"
        "client.chat(ChatRequest((Message('user', '你好'),), max_tokens=8))\n"
        "raise SystemExit(2)\n"
    )
    with OpenAIServer() as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.url, "SPEECHSMITH_DATA_DIR": str(tmp_path)}
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 2
    assert "speechsmith: usage: 1 call(s)" in out.stderr and "Traceback" not in out.stderr
