"""adapt against a real OpenAI-compatible server on 127.0.0.1: the one-call strategy is used,
its reply validated and re-asked when bad; the CLI end to end (JSON, .docx, errors)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import docx
from docx.oxml.ns import qn

from pipeline.model.backends.openai_backend import OpenAIBackend
from pipeline.model.client import Client
from pipeline.speech import SpeechDraft
from pipeline.tasks import TaskContext, run_task
from tests.openai_server import Reply

KEY = "sk-adapt-test-0123456789abcdef"
BRIEF = {
    "occasion": "2025中国数字经济发展论坛",
    "speaker": "市长",
    "audience": "出席论坛的各位领导、各位来宾、企业家朋友",
    "points": ["数字经济发展的良好基础", "携手共建数字产业生态"],
    "facts": ["2025年"],
}

GOOD = {
    "title": "致辞",
    "salutation": "尊敬的各位领导、各位来宾：",
    "opening": "金秋时节，我们相聚一堂，共同出席数字经济发展论坛。我代表市委、市政府，对各位嘉宾的到来表示热烈欢迎！",
    "sections": [
        {"heading": "一、数字经济发展的良好基础", "paragraphs": [
            "近年来，我们坚持把数字经济作为转型发展的关键增量，网络基础设施不断完善，数据要素加快流通，一批数字企业茁壮成长。",
            "我们持续优化营商环境，推动政务服务一网通办，为企业发展提供了坚实保障。",
        ]},
        {"heading": "二、携手共建数字产业生态", "paragraphs": [
            "数字经济是开放的经济，需要各方携手。我们真诚欢迎各位企业家朋友来投资兴业，共享发展机遇。",
            "我们将以最大的诚意、最优的服务，与大家一道把数字产业生态建设得更加完善。",
        ]},
    ],
    "closing": "最后，预祝本次论坛取得圆满成功！祝各位嘉宾身体健康、工作顺利！",
}


def _zi(draft: dict) -> int:
    return SpeechDraft.model_validate(draft).to_speech().zishu


def _client(server) -> Client:
    return Client(OpenAIBackend("test-model", base_url=server.url, api_key=KEY, max_retries=1, backoff=0.01))


def test_one_call_over_http_is_validated_and_reasked(openai_server) -> None:
    bad = dict(GOOD, sections=GOOD["sections"][:1])  # one point missing: must be re-asked
    openai_server.script(
        Reply.ok("好的，这是讲话稿：……"),  # not JSON
        Reply.ok(json.dumps(bad, ensure_ascii=False)),
        Reply.ok(json.dumps(GOOD, ensure_ascii=False)),
    )
    inputs = {**BRIEF, "length": _zi(GOOD)}
    result = run_task("adapt", inputs, TaskContext(client=_client(openai_server)))
    assert result.metadata["strategy"] == "one-call" and result.metadata["backend"] == "openai"
    requests = openai_server.chat_requests
    assert len(requests) == 3 and result.metadata["usage"]["reasks"] == 2
    first = requests[0].json
    assert "response_format" in first  # structured output was asked for
    reask = requests[2].json["messages"]
    assert any("sections 应有2个" in m["content"] for m in reask if m["role"] == "user")
    speech = result.output
    assert speech["title"] == "在2025中国数字经济发展论坛上的讲话"
    assert speech["salutation"] == "尊敬的各位领导、各位来宾："
    assert [s["heading"] for s in speech["sections"]] == ["一、数字经济发展的良好基础", "二、携手共建数字产业生态"]
    assert result.checks["length"]["passed"] and result.checks["facts"]["passed"]
    assert result.checks["structure"]["passed"] and result.ok
    assert KEY not in json.dumps(result.model_dump(), ensure_ascii=False)
    # the prompt carries the outline, the allowed facts and masked examples
    user = first["messages"][-1]["content"]
    assert "一、数字经济发展的良好基础" in user and "2025年" in user and "范文1：" in user


def test_short_reply_gets_a_targeted_expand(openai_server) -> None:
    longer = "".join(GOOD["sections"][1]["paragraphs"]) * 1
    expanded = (
        "数字经济是开放的经济，需要各方携手。我们真诚欢迎各位企业家朋友来投资兴业，共享发展机遇。\n"
        "我们将以最大的诚意、最优的服务，与大家一道把数字产业生态建设得更加完善，让创新活力充分涌流。\n"
        "我们将加快建设算力基础设施，完善数据交易规则，支持龙头企业牵头组建创新联合体，带动中小企业协同发展。\n"
        "我们将健全人才引育机制，让更多数字人才在这里安家落户、施展才华。"
    )
    assert len(expanded) > len(longer)
    openai_server.script(Reply.ok(json.dumps(GOOD, ensure_ascii=False)), Reply.ok(expanded))
    inputs = {**BRIEF, "length": int(_zi(GOOD) * 1.3)}
    result = run_task("adapt", inputs, TaskContext(client=_client(openai_server)))
    assert len(openai_server.chat_requests) >= 2
    assert result.checks["length"]["repairs"][0].startswith("expanded ")
    assert result.output["zishu"] > _zi(GOOD)


def _cli(*args: str, server_url: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SPEECHSMITH_BACKEND"))}
    if server_url:
        env["OPENAI_API_KEY"] = KEY
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "adapt", *args, *(["--base-url", server_url] if server_url else [])],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=120,
    )


def test_cli_writes_json_and_docx_via_the_server(openai_server, tmp_path: Path) -> None:
    openai_server.responder = lambda body: json.dumps(GOOD, ensure_ascii=False)
    brief = tmp_path / "brief.yaml"
    brief.write_text(
        "occasion: 2025中国数字经济发展论坛\nspeaker: 市长\naudience: 出席论坛的各位领导、各位来宾、企业家朋友\n"
        f"points: [数字经济发展的良好基础, 携手共建数字产业生态]\nlength: {_zi(GOOD)}\nfacts: ['2025年']\n",
        encoding="utf-8",
    )
    out = _cli("--brief", str(brief), "--model", "test-model", "--format", "json", server_url=openai_server.url)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["metadata"]["strategy"] == "one-call" and data["metadata"]["model"] == "test-model"
    assert data["metadata"]["prompt"]["id"] == "adapt" and data["metadata"]["examples"]
    assert set(data["checks"]) >= {"length", "facts", "repetition", "placeholders", "structure", "lint"}
    assert data["speech"]["sections"][0]["heading"] == "一、数字经济发展的良好基础"

    target = tmp_path / "讲话.docx"
    out = _cli("--brief", str(brief), "--model", "test-model", "-o", str(target), "--strict",
               server_url=openai_server.url)
    assert out.returncode == 0, out.stderr
    doc = docx.Document(io.BytesIO(target.read_bytes()))
    texts = [p.text for p in doc.paragraphs if p.text]
    assert texts[0] == "在2025中国数字经济发展论坛上的讲话" and "二、携手共建数字产业生态" in texts
    heading = next(p for p in doc.paragraphs if p.text == "一、数字经济发展的良好基础")
    assert heading.runs[0]._r.find(qn("w:rPr")).find(qn("w:rFonts")).get(qn("w:eastAsia")) == "黑体"
    assert KEY not in target.read_bytes().decode("latin-1")


def test_cli_strict_exits_1_when_a_check_fails(openai_server, tmp_path: Path) -> None:
    invented = json.loads(json.dumps(GOOD))
    invented["sections"][0]["paragraphs"][0] += "去年全市数字经济规模达到1200亿元。"
    openai_server.responder = lambda body: json.dumps(invented, ensure_ascii=False)
    args = ["--occasion", BRIEF["occasion"], "--audience", BRIEF["audience"], "--point", BRIEF["points"][0],
            "--point", BRIEF["points"][1], "--length", str(_zi(invented)), "--model", "test-model"]
    out = _cli(*args, "--strict", server_url=openai_server.url)
    assert out.returncode == 1
    assert "facts" in out.stderr and "Traceback" not in out.stderr
    masked = _cli(*args, "--strict", "--strict-facts", "--format", "md", server_url=openai_server.url)
    assert masked.returncode == 0, masked.stderr
    assert "XX亿元" in masked.stdout and "1200" not in masked.stdout


def test_cli_input_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "brief.yaml"
    bad.write_text("occasion: [unclosed\npoints: a\n", encoding="utf-8")
    out = _cli("--brief", str(bad), "--backend", "local", "--dry-run")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "malformed YAML" in lines[0], out.stderr
    out = _cli("--occasion", "会议", "--point", "x", "--strategy", "magic", "--backend", "local")
    assert out.returncode == 2 and "strategy" in out.stderr
    out = _cli("--occasion", "全县会议", "--backend", "local", "--dry-run")
    assert out.returncode == 2 and "points" in out.stderr and "Traceback" not in out.stderr
