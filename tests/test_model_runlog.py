"""The run log records every attempt, `speechsmith log` reads it, and no key ever reaches disk."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import ModelOptions
from pipeline.errors import BackendError, BudgetExceeded, InputError, ValidationFailed
from pipeline.model.backends.fake import FakeBackend
from pipeline.model.client import Client
from pipeline.model.connect import open_client
from pipeline.model.runlog import RunLog
from pipeline.model.types import ChatRequest, Message
from pipeline.prompts import PromptRef
from tests.openai_server import OpenAIServer, Reply

KEY = "sk-test-SECRET-123"
REF = PromptRef("summarize", "3", "abcdef0123456789")


class Score(BaseModel):
    score: int


def _req(text: str = "你好") -> ChatRequest:
    return ChatRequest((Message("user", text),), max_tokens=16)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SPEECHSMITH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPEECHSMITH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def test_every_attempt_is_a_row(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with OpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("SPEECHSMITH_MAX_RETRIES", "2")
        server.script(Reply.error(503), Reply.ok("没有JSON"), Reply.ok('{"score": 5}'))
        client = open_client(ModelOptions(), "summarize")
        client.backend.backoff = 0.01
        assert client.structured(_req(), Score, prompt=REF, step="gist").score == 5
        client.finish()
    run = RunLog().run(client.run_id)
    assert run["command"] == "summarize" and run["backend"] == "openai"
    assert run["usage"]["retries"] == 1 and run["usage"]["reasks"] == 1
    kinds = [(c["kind"], c["attempt"], c["status"]) for c in run["calls"]]
    assert kinds == [("retry", 1, "retry"), ("call", 1, "invalid"), ("reask", 2, "ok")]
    retry, invalid, ok = run["calls"]
    assert "503" in retry["error"]
    assert invalid["raw"] == "没有JSON" and "no JSON" in invalid["error"]
    assert invalid["retries"] == 1 and ok["retries"] == 0
    for row in run["calls"]:
        assert (row["prompt_id"], row["prompt_version"], row["prompt_hash"]) == ("summarize", "3", REF.hash)
        assert row["step"] == "gist" and len(row["request_hash"]) == 64
    assert ok["tokens_in"] > 0 and ok["tokens_out"] > 0 and ok["duration_ms"] >= 0
    assert invalid["request_hash"] != ok["request_hash"]  # the re-ask is a different request


def test_failures_and_refusals_are_logged(data_dir: Path) -> None:
    log = RunLog()
    client = Client(FakeBackend(["x", "y"]), command="adapt", runlog=log, max_reasks=1, max_tokens=5)
    with pytest.raises(BudgetExceeded):
        client.chat(_req())
    client.max_tokens = None
    with pytest.raises(ValidationFailed) as info:
        client.structured(_req(), Score)
    assert f"log show {client.run_id}" in str(info.value)
    statuses = [c["status"] for c in log.run(client.run_id)["calls"]]
    assert statuses == ["refused", "invalid", "invalid"]


def test_log_cli_list_and_show(data_dir: Path) -> None:
    client = Client(FakeBackend(["坏", '{"score": 1}']), command="restyle", runlog=RunLog())
    client.structured(_req(), Score, prompt=REF, step="rewrite")
    client.finish()
    runner = CliRunner()
    listed = runner.invoke(app, ["log", "list"])
    assert listed.exit_code == 0, listed.output
    assert "restyle" in listed.output and "fake:fake-1" in listed.output
    shown = runner.invoke(app, ["log", "show", str(client.run_id)])
    assert shown.exit_code == 0
    assert "invalid" in shown.output and "summarize@3" in shown.output and "raw output" in shown.output and "坏" in shown.output
    as_json = json.loads(runner.invoke(app, ["log", "show", str(client.run_id), "--format", "json"]).output)
    assert [c["status"] for c in as_json["calls"]] == ["invalid", "ok"]
    missing = runner.invoke(app, ["log", "show", "999"])  # main() turns this into one line, exit 2
    assert isinstance(missing.exception, InputError) and "no run 999" in str(missing.exception)


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_the_key_appears_nowhere_on_disk(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with OpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("SPEECHSMITH_CACHE", "1")
        monkeypatch.setenv("SPEECHSMITH_MAX_RETRIES", "1")
        # Providers echo keys back (in errors, even in content): none of it may be stored.
        server.script(
            Reply.error(500, f"backend error for key {KEY}"),
            Reply.ok(f"not json, your key is {KEY}"),
            Reply.ok('{"score": 2}'),
            Reply.error(401, f"Incorrect API key provided: {KEY}"),
        )
        client = open_client(ModelOptions(), "summarize")
        client.backend.backoff = 0.01
        assert client.structured(_req(), Score).score == 2
        with pytest.raises(BackendError) as info:
            client.chat(_req("另一个"))
        client.finish()
        assert server.chat_requests[0].headers["authorization"] == f"Bearer {KEY}"  # it was used
    assert KEY not in str(info.value)
    for conn in (client.runlog, client.cache):
        conn.close()  # flush WAL files into the databases before scanning
    assert _files_containing(data_dir, KEY.encode()) == []
    assert len(list((data_dir / "data").iterdir())) >= 1 and any((data_dir / "cache").iterdir())
    runner = CliRunner()
    shown = runner.invoke(app, ["log", "show", str(client.run_id), "--format", "json"])
    assert KEY not in shown.output and "***" in shown.output
    config = runner.invoke(app, ["config", "show"], env={**os.environ, "OPENAI_API_KEY": KEY})
    assert config.exit_code == 0 and KEY not in config.output and "***" in config.output


def test_an_unwritable_log_or_cache_warns_once_and_the_call_goes_on(tmp_path: Path, capsys) -> None:
    from pipeline.model.cache import ResponseCache

    blocked = tmp_path / "is-a-directory"
    blocked.mkdir()
    client = Client(FakeBackend(["甲", "乙"]), runlog=RunLog(blocked), cache=ResponseCache(blocked))
    assert client.chat(_req("一")).text == "甲"
    assert client.chat(_req("二")).text == "乙"
    client.finish()
    err = capsys.readouterr().err
    assert err.count("warning: run log disabled") == 1 and err.count("warning: response cache disabled") == 1


def test_log_prune_removes_old_runs(data_dir: Path) -> None:
    import sqlite3

    log = RunLog()
    old = Client(FakeBackend(["甲"]), command="adapt", runlog=log)
    old.chat(_req())
    new = Client(FakeBackend(["乙"]), command="adapt", runlog=log)
    new.chat(_req())
    with sqlite3.connect(log.path) as db:
        db.execute("UPDATE runs SET started = '2020-01-01T00:00:00.000Z' WHERE id = ?", (old.run_id,))
    result = CliRunner().invoke(app, ["log", "prune", "--older-than", "7"])
    assert result.exit_code == 0 and "removed 1 run(s)" in result.output
    assert log.run(old.run_id) is None and log.run(new.run_id)["calls"]
