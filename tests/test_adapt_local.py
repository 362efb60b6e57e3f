"""adapt on the embedded default model (Gemma 3 270M base), plan-then-draft, short lengths.

The issue's "done when": five different briefs (genres and audiences) each give a schema-valid
speech with every point as a section, a salutation fitting the audience, no placeholder leaks,
no invented figures, and a length within ±15%. Here at ~260 字 so the suite stays fast; the
1,500-字 version is evals/bench/bench_adapt.py.
"""

from __future__ import annotations

import pytest

from pipeline.speech import Speech
from pipeline.tasks import TaskContext, run_task
from pipeline.tasks.adapt.brief import allowed_texts, classify_audience, make_brief
from pipeline.text.facts import find_unsupported
from pipeline.text.placeholders import ALL, placeholder_tokens

pytestmark = pytest.mark.model

BRIEFS = {
    "meeting-cadres": {
        "occasion": "全县安全生产工作会议", "speaker": "县长", "audience": "各乡镇、县直各部门负责同志",
        "points": ["压实安全生产责任", "深入开展隐患排查整治"],
    },
    "forum-guests": {
        "occasion": "数字经济发展论坛", "speaker": "市长", "audience": "出席论坛的各位领导、各位来宾、企业家朋友",
        "points": ["数字经济发展的良好基础", "携手共建数字产业生态"], "facts": ["2025年"],
    },
    "ceremony-students": {
        "occasion": "实验中学秋季开学典礼", "speaker": "校长", "audience": "全体师生",
        "points": ["珍惜时光，勤奋学习", "锤炼品德，全面发展"],
    },
    "mobilization-villagers": {
        "occasion": "乡村人居环境整治动员会", "speaker": "镇党委书记", "audience": "各村村民代表",
        "points": ["清理村庄垃圾", "建立长效管护机制"],
    },
    "launch-staff": {
        "occasion": "公司安全生产月活动启动仪式", "speaker": "总经理", "audience": "公司全体干部职工",
        "points": ["人人讲安全", "个个会应急"],
    },
}
EXPECTED_SALUTATION = {
    "meeting-cadres": "同志们：",
    "forum-guests": "尊敬的各位领导、各位来宾：",
    "ceremony-students": "老师们、同学们：",
    "mobilization-villagers": "父老乡亲们：",
    "launch-staff": "同志们：",
}


@pytest.mark.parametrize("name", list(BRIEFS))
def test_five_briefs_on_the_embedded_model(name: str, local_client) -> None:
    inputs = {**BRIEFS[name], "length": 260}
    result = run_task("adapt", inputs, TaskContext(client=local_client))
    assert result.metadata["strategy"] == "plan-draft" and result.metadata["backend"] == "local"
    speech = Speech.model_validate(result.output)  # schema-valid
    brief = make_brief(inputs)
    # every point a section, in order, each with text
    assert [s.heading for s in speech.sections] == [
        f"{n}、{p}" for n, p in zip("一二三", brief.points, strict=False)
    ]
    assert all(s.paragraphs for s in speech.sections), speech.text()
    assert speech.opening and speech.closing
    # a 称呼 fitting the audience
    assert speech.salutation == EXPECTED_SALUTATION[name]
    assert classify_audience(speech.salutation) == brief.audience_kind or brief.audience_kind in ("staff", "leaders_cadres")
    # no placeholders, no invented figures
    assert placeholder_tokens(speech.text(), ALL) == [], speech.text()
    assert find_unsupported(speech.text(), "\n".join(allowed_texts(brief))) == [], speech.text()
    # length within ±15%
    assert abs(speech.zishu / 260 - 1) <= 0.15, (speech.zishu, result.checks["length"], speech.text())
    assert result.checks["length"]["passed"] and result.checks["facts"]["passed"]
    assert result.checks["placeholders"]["passed"] and result.checks["structure"]["passed"]


def test_local_drafting_reuses_the_prompt_prefix(local_client) -> None:
    before = (local_client.usage.calls, local_client.usage.completion_tokens)
    run_task("adapt", {**BRIEFS["meeting-cadres"], "length": 200, "points": ["压实安全生产责任"]},
             TaskContext(client=local_client))
    calls = local_client.usage.calls - before[0]
    assert 3 <= calls <= 16
    # the per-call token caps follow the length: a 200-字 speech never costs 1,000 tokens
    assert local_client.usage.completion_tokens - before[1] <= 200 * 0.66 * 4


def test_cli_dry_run_counts_tokens_with_the_model_tokenizer() -> None:
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "adapt", "--occasion", "全县安全生产工作会议", "--speaker", "县长",
         "--point", "压实安全生产责任", "--point", "深入开展隐患排查整治", "--backend", "local",
         "--dry-run", "--format", "json"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    meta = json.loads(out.stdout)
    assert meta["dry_run"] and meta["strategy"] == "plan-draft" and meta["examples"]
    first = meta["requests"][0]
    prefix = first["messages"][0]
    # Gemma counts ~0.66 tokens per 字: far fewer tokens than characters
    assert 0.3 * len(prefix["content"]) < prefix["tokens"] < 0.9 * len(prefix["content"])
    assert sum(e["tokens"] for e in meta["selection"]["examples"]) <= meta["selection"]["budget"]
    assert [p["heading"] for p in meta["outline"]["parts"]][1:3] == ["一、压实安全生产责任", "二、深入开展隐患排查整治"]


def test_cli_names_the_points_the_bank_has_nothing_on(tmp_path) -> None:
    import os
    import subprocess
    import sys

    out = tmp_path / "speech.txt"
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "adapt", "--occasion", "全市围棋协会年会", "--speaker", "协会会长",
         "--audience", "各位会员", "--point", "普及围棋运动", "--point", "办好围棋联赛", "--length", "200", "-o", str(out)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "SPEECHSMITH_LOG": "0"},
    )
    assert proc.returncode == 0 and out.read_text(encoding="utf-8").startswith("在全市围棋协会年会上的讲话")
    assert "check(s) failed: grounding" in proc.stderr
    assert "素材库 has nothing on 普及围棋运动、办好围棋联赛" in proc.stderr and "corpus add" in proc.stderr
    assert "Traceback" not in proc.stderr
