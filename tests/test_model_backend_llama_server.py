"""Every default endpoint path against the REAL llama-cpp-python server (`python -m llama_cpp.server`
serving the bundled Gemma 3 270M with the gemma chat format on 127.0.0.1, see tests/llama_server.py).

The model is weak and the machine may be busy, so these assert the protocol, not prose: which
structured-output form was sent and accepted, that a reply was parsed or re-asked, and that a
failure is one clean line with exit 2. A Tap in front of the server records every exchange and
caps max_tokens (the replies are cut, which exercises the re-ask path too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

import openai
import pytest
from pydantic import BaseModel

from pipeline.errors import BackendError
from pipeline.model.backends.openai_backend import OpenAIBackend
from pipeline.model.client import Client
from pipeline.model.types import ChatRequest, Message
from tests.llama_server import LlamaServer, Tap

pytestmark = pytest.mark.llama_server

ROOT = Path(__file__).resolve().parent.parent
N_CTX = 4096
SPEECH = (
    "同志们：\n今天召开全县安全生产工作会议，主要任务是部署今年的安全生产工作。\n"
    "一、压实安全生产责任。各乡镇、各部门要落实属地管理责任，主要负责同志要亲自抓。\n"
    "二、深入开展隐患排查整治。今年要完成排查企业1200家，整改隐患3500处。\n"
    "三、提升应急处置能力。要在6月底前完成应急预案修订，组织演练不少于两次。\n"
    "同志们，安全生产责任重于泰山，让我们共同努力，确保全县安全生产形势持续稳定。\n谢谢大家！\n"
)


class Score(BaseModel):
    # An enum keeps the grammar-forced reply a few tokens long (a bare integer can run on in digits).
    score: Literal[1, 2, 3, 4, 5]


@pytest.fixture(scope="module")
def llama() -> LlamaServer:
    with LlamaServer(n_ctx=N_CTX) as server:
        yield server


@pytest.fixture
def tap(llama: LlamaServer) -> Tap:
    with Tap(llama, max_tokens=16) as t:
        yield t


def _probes(tap: Tap) -> list:
    """The system-message measurement: 1-token requests without response_format."""
    return [e for e in tap.chats if e.body.get("max_tokens") == 1 and "response_format" not in e.body]


def _formats(tap: Tap) -> list[tuple[str, int]]:
    """(form sent, status answered) for every chat request but the probes, in order."""
    out = []
    for e in tap.chats:
        if e in _probes(tap):
            continue
        fmt = e.body.get("response_format")
        name = "none" if fmt is None else fmt["type"] + ("+schema" if "schema" in fmt else "")
        out.append((name, e.status))
    return out


def _cli(tap: Tap, llama: LlamaServer, *args: str, stdin: str | None = None, reasks: int = 0) -> subprocess.CompletedProcess[str]:
    # Re-asks are exercised once (summarize); elsewhere each costs a minute on a busy CPU.
    env = dict(
        os.environ, PYTHONPATH=str(ROOT), SPEECHSMITH_BASE_URL=tap.url, SPEECHSMITH_MODEL=llama.model,
        SPEECHSMITH_MAX_REASKS=str(reasks), SPEECHSMITH_MAX_RETRIES="1", SPEECHSMITH_TIMEOUT="600",
    )
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=ROOT, env=env, input=stdin, capture_output=True,
        text=True, timeout=900,
    )


def _protocol(tap: Tap, result: subprocess.CompletedProcess[str], reasks: int = 0) -> None:
    """What every structured endpoint path must show against this server."""
    assert "Traceback" not in result.stderr, result.stderr
    formats = _formats(tap)
    # json_schema is refused with HTTP 500 once, then json_object with the schema is accepted
    assert formats[0] == ("json_schema", 500), formats
    assert len(formats) >= 2 and all(f == ("json_object+schema", 200) for f in formats[1:]), formats
    assert "refused response_format json_schema (HTTP 500" in result.stderr  # -v says it once
    assert result.stderr.count("refused response_format") == 1
    # the system prompt: measured once (two 1-token requests), then folded into the user message
    assert len(_probes(tap)) == 2 and "drops system messages" in result.stderr
    assert all(m["role"] != "system" for e in tap.chats[2:] for m in e.body["messages"])
    if result.returncode != 0:
        # the model's cut reply never validated: re-asked (when allowed), then one clean line
        assert result.returncode == 2 and len(formats) >= 2 + reasks, (result.returncode, formats, result.stderr)
        if reasks:
            reask = tap.chats[-1].body["messages"]
            assert [m["role"] for m in reask[-2:]] == ["assistant", "user"] and "JSON" in reask[-1]["content"]
        errors = [line for line in result.stderr.splitlines() if line.startswith("speechsmith: error:")]
        assert len(errors) == 1 and "did not match" in errors[0], result.stderr


def test_structured_call_falls_to_json_object_with_schema_and_parses(llama: LlamaServer, tap: Tap) -> None:
    client = Client(OpenAIBackend(llama.model, base_url=tap.url, timeout=300, max_retries=1))
    request = ChatRequest((Message("user", "给下面这篇讲话打分（1到5分）。\n" + SPEECH),), max_tokens=16, temperature=0)
    value = client.structured(request, Score)
    assert value.score in (1, 2, 3, 4, 5)
    (refused, accepted) = tap.chats
    assert refused.status == 500 and "response_format" in json.dumps(refused.reply, ensure_ascii=False)
    assert accepted.status == 200 and accepted.body["response_format"]["type"] == "json_object"
    assert accepted.body["response_format"]["schema"]["properties"]["score"]["enum"] == [1, 2, 3, 4, 5]
    assert client.usage.retries == 0 and client.usage.calls == 1  # the refusal cost no retry


def test_gemma_format_drops_system_messages_so_they_are_folded(llama: LlamaServer, tap: Tap) -> None:
    raw = openai.OpenAI(base_url=tap.url, api_key="no-key", max_retries=0, timeout=300)
    system = "你的名字叫李青松，是县政府办公室的秘书。"
    billed = []
    for messages in ([{"role": "system", "content": system}, {"role": "user", "content": "你叫什么名字？"}],
                     [{"role": "user", "content": "你叫什么名字？"}]):
        reply = raw.chat.completions.create(model=llama.model, messages=messages, max_tokens=1, temperature=0)
        billed.append(reply.usage.prompt_tokens)
    assert billed[0] == billed[1]  # the system text never reached the prompt
    tap.clear()
    backend = OpenAIBackend(llama.model, base_url=tap.url, timeout=300, max_retries=0)
    Client(backend).chat(ChatRequest((Message("system", system), Message("user", "你叫什么名字？")), max_tokens=2))
    sent = tap.chats[-1]
    assert [m["role"] for m in sent.body["messages"]] == ["user"]
    assert sent.body["messages"][0]["content"].startswith(system)
    assert sent.reply["usage"]["prompt_tokens"] > billed[0] + 5  # now it does
    assert backend.facts.system == "fold" and len(tap.chats) == 3  # measured once: two 1-token probes


def test_overflow_is_one_line_naming_context(llama: LlamaServer, tap: Tap) -> None:
    client = Client(OpenAIBackend(llama.model, base_url=tap.url, timeout=300, max_retries=3))
    with pytest.raises(BackendError) as info:
        client.chat(ChatRequest((Message("user", "各位同志，" * 1500),), max_tokens=16))
    message = str(info.value)
    assert f"{N_CTX}-token context" in message and f"--context {N_CTX}" in message and "\n" not in message
    assert _formats(tap) == [("none", 400)]  # not retried


def test_read_timeout_is_not_sent_again(llama: LlamaServer, tap: Tap) -> None:
    client = Client(OpenAIBackend(llama.model, base_url=tap.url, timeout=0.3, max_retries=3))
    with pytest.raises(BackendError, match=r"no reply within 0.3 s; not sent again.*--timeout"):
        client.chat(ChatRequest((Message("user", SPEECH * 2),), max_tokens=32, temperature=0))
    deadline = time.monotonic() + 300
    while not tap.chats and time.monotonic() < deadline:  # the server finishes the one copy it got
        time.sleep(0.2)
    time.sleep(1)
    assert len(tap.chats) == 1 and client.usage.retries == 0


def test_summarize_llm(llama: LlamaServer, tap: Tap, tmp_path: Path) -> None:
    source = tmp_path / "讲话.txt"
    source.write_text(SPEECH, encoding="utf-8")
    result = _cli(tap, llama, "summarize", str(source), "--method", "llm", "--length", "short",
                  "--format", "json", "--context", str(N_CTX), "-v", reasks=1)
    _protocol(tap, result, reasks=1)
    if result.returncode == 0:
        assert json.loads(result.stdout)["summary"]["gist"]


def test_adapt_one_call(llama: LlamaServer, tap: Tap) -> None:
    result = _cli(tap, llama, "adapt", "--occasion", "全县安全生产工作会议", "--speaker", "县长",
                  "--point", "压实安全生产责任", "--length", "300", "--examples", "1",
                  "--format", "json", "--context", str(N_CTX), "-v")
    _protocol(tap, result)
    first = tap.chats[2].body  # after the two probes
    assert "全县安全生产工作会议" in first["messages"][0]["content"]


def test_restyle_one_call(llama: LlamaServer, tap: Tap) -> None:
    result = _cli(tap, llama, "restyle", "-", "--style", "news", "--format", "json",
                  "--context", str(N_CTX), "-v", stdin=SPEECH)
    _protocol(tap, result)


def test_batch_run(llama: LlamaServer, tap: Tap, tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    lines = [
        {"id": "s1", "task": "summarize", "method": "llm", "length": "short", "text": SPEECH},
        {"id": "r1", "task": "restyle", "style": "news", "text": SPEECH},
    ]
    jobs.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = _cli(tap, llama, "batch", "run", str(jobs), "-o", str(out), "-j", "1", "--no-progress",
                  "--context", str(N_CTX), "-v")
    assert "Traceback" not in result.stderr and result.returncode == 0, result.stderr
    assert result.stderr.count("speechsmith: usage:") == 1
    formats = _formats(tap)
    assert formats[0] == ("json_schema", 500) and formats.count(("json_schema", 500)) == 1  # paid once
    assert len(_probes(tap)) == 2
    assert all(f == ("json_object+schema", 200) for f in formats[1:]), formats
    records = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["id"] for r in records) == ["r1", "s1"]
    for record in records:
        assert record["status"] in ("ok", "invalid"), record  # parsed, or re-asked and recorded raw
        assert record["usage"]["calls"] >= 1 and record["usage"]["prompt_tokens"] > 0
