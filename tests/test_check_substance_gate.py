"""The substance gate inside the tasks, on real recorded model outputs: the shipped eval suites
replayed from their cassettes (no model), and what adapt, restyle and summarize now say."""

from __future__ import annotations

from pipeline.evals.runner import RunOptions, run_suites
from pipeline.evals.suite import load_suites
from pipeline.paths import PROJECT_ROOT

SUITES = PROJECT_ROOT / "evals" / "suites"


def no_backend(spec):  # replay never builds one
    raise AssertionError("replay built a real backend")


def replay(*cases: str) -> dict[str, dict]:
    suites = load_suites([SUITES / f"{name}.yaml" for name in dict.fromkeys(c.split("/")[0] for c in cases)])
    samples = run_suites(suites, RunOptions(mode="replay", cases=list(cases), backend_factory=no_backend)).samples
    assert all(s.status == "ok" for s in samples), [s.error for s in samples]
    return {f"{s.suite}/{s.case}": s.result for s in samples}


def test_recorded_adapt_drafts_stand_on_material_and_invent_nothing():
    """The recordings before grounded drafting held 十八届五中全会 in a 区长's speech, 中央新疆工作
    座谈会 in a city's and 灾区 at a school (dropped by the gate, which left a section empty);
    drafted on the 素材库 they hold no such thing, so the gate has nothing to drop. (The gate's
    dropping is tested on a written text in test_check_substance.)"""
    results = replay("adapt/veterans-symposium", "adapt/eco-protection", "adapt/school-opening")
    for name, result in results.items():
        assert result["ok"] is True, (name, result["checks"])
        assert result["checks"]["substance"]["passed"] and result["checks"]["grounding"]["passed"]
        assert not any(m in result["text"] for m in ("十八届五中全会", "中央新疆工作座谈会", "党的十八大", "灾区")), name


def test_restyle_news_says_less_rather_than_invent_an_occasion():
    """The garden speech states no occasion: the old recorded release invented 党的十七大 and a
    generic 「有关会议召开」 headline (D102). Restyle now frames only what the text states."""
    result = replay("restyle/news-garden")["restyle/news-garden"]
    headline = result["text"].split("\n", 1)[0]
    assert "十七大" not in result["text"]
    assert "有关会议" not in headline and "D102" not in result["checks"]["substance"]["rules"]
    assert result["ok"] is True, result["checks"]


def test_summarize_reports_substance_and_stays_ok():
    result = replay("summarize/r2025-review")["summarize/r2025-review"]
    assert result["checks"]["substance"]["passed"] is True and result["ok"] is True


def test_endpoint_restyle_reply_of_14_zi_is_not_ok(openai_server, tmp_path):
    """Issue 14: an endpoint answered 14 字 for an 879-字 speech and restyle said ok: true."""
    import json
    import os
    import subprocess
    import sys

    body = (PROJECT_ROOT / "corpus" / "seed-02.md").read_text(encoding="utf-8").split("\n---\n", 1)[1]
    speech = tmp_path / "讲话.txt"
    speech.write_text(body, encoding="utf-8")
    reply = json.dumps({"title": "讲话", "salutation": "", "opening": "我为灾民献爱心，大家踊跃捐款吧。",
                        "sections": [], "closing": ""}, ensure_ascii=False)
    openai_server.responder = lambda request: reply
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-substance", "SPEECHSMITH_DATA_DIR": str(tmp_path)}
    args = [sys.executable, "-m", "pipeline", "restyle", str(speech), "--style", "plain", "--base-url",
            openai_server.url, "--model", "test-model", "--format", "json"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["ok"] is False
    assert "L103" in payload["checks"]["substance"]["rules"]
    strict = subprocess.run([*args, "--strict"], capture_output=True, text=True, timeout=120, env=env)
    assert strict.returncode == 1 and "Traceback" not in strict.stderr


def test_endpoint_adapt_draft_loses_the_invented_plenum(openai_server):
    import json

    from pipeline.model.backends.openai_backend import OpenAIBackend
    from pipeline.model.client import Client
    from pipeline.speech import SpeechDraft
    from pipeline.tasks import TaskContext, run_task

    plenum = "我在党的十八届五中全会上对数字经济工作提出了明确要求。"
    draft = {
        "title": "致辞", "salutation": "尊敬的各位领导、各位来宾：",
        "opening": "金秋时节，我们相聚一堂，共同出席数字经济发展论坛。我代表市委、市政府，对各位嘉宾的到来表示热烈欢迎！",
        "sections": [
            {"heading": "一、数字经济发展的良好基础", "paragraphs": [
                "近年来，我们坚持把数字经济作为转型发展的关键增量，网络基础设施不断完善，数据要素加快流通。" + plenum,
                "我们持续优化营商环境，推动政务服务一网通办，为企业发展提供了坚实保障。"]},
            {"heading": "二、携手共建数字产业生态", "paragraphs": [
                "数字经济是开放的经济，需要各方携手。我们真诚欢迎各位企业家朋友来投资兴业，共享发展机遇。",
                "我们将以最大的诚意、最优的服务，与大家一道把数字产业生态建设得更加完善。"]},
        ],
        "closing": "最后，预祝本次论坛取得圆满成功！祝各位嘉宾身体健康、工作顺利！",
    }
    openai_server.responder = lambda request: json.dumps(draft, ensure_ascii=False)
    client = Client(OpenAIBackend("test-model", base_url=openai_server.url, api_key="sk-test-substance",
                                  max_retries=1, backoff=0.01))
    brief = {"occasion": "2025中国数字经济发展论坛", "speaker": "市长", "audience": "各位领导、各位来宾、企业家朋友",
             "points": ["数字经济发展的良好基础", "携手共建数字产业生态"], "facts": ["2025年"],
             "length": SpeechDraft.model_validate(draft).to_speech().zishu}
    result = run_task("adapt", brief, TaskContext(client=client))
    assert plenum not in result.text and "数据要素加快流通" in result.text
    assert result.checks["substance"]["dropped"] == [plenum] and result.checks["substance"]["passed"]
