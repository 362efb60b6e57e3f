"""The output gates report Findings (A rules) and keep the records the tasks always returned."""

from __future__ import annotations

from pathlib import Path

from pipeline.check import RULES, gates, validate_codes
from pipeline.check.base import GATE_RULES, CheckConfig, Severity
from pipeline.render.findings import rules_table
from pipeline.speech import parse_speech_text
from pipeline.summary import LENGTHS, Summary
from pipeline.tasks.summarize.chunk import segment
from pipeline.tasks.summarize.verify import verify

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
SPEECH = parse_speech_text(
    "在全县安全生产工作会议上的讲话\n同志们：\n今天召开全县安全生产工作会议，部署今年的工作。\n"
    "一、压实安全生产责任\n各乡镇要把责任落实到人，2025年完成整治1200处。\n"
    "二、深入开展隐患排查整治\n\n谢谢大家！"
)


def rules_of(check: gates.GateCheck) -> list[str]:
    return [f.rule for f in check.findings]


def test_every_gate_rule_is_registered_and_in_the_readme() -> None:
    assert len(GATE_RULES) == 12
    for rule_id in GATE_RULES:
        assert f"| {rule_id} | {RULES[rule_id].severity.value} |" in README, rule_id
    # `speechsmith check` does not run them, so it neither lists nor accepts them
    assert not any(r["id"] in GATE_RULES for r in rules_table())
    assert validate_codes(["A101", "P101"]) == ["A101"]


def test_structure_gate_findings_decide_passed_and_keep_the_record() -> None:
    check = gates.structure_gate(SPEECH, ["压实安全生产责任", "深入开展隐患排查整治", "强化监管执法"], "cadres",
                           salutation_given=False)
    assert rules_of(check) == ["A101", "A102"]
    assert check.findings[0].excerpt == "强化监管执法" and check.findings[0].severity == Severity.error
    record = check.record()
    assert record["passed"] is False and record["missing_points"] == ["强化监管执法"]
    assert record["empty_sections"] == ["二、深入开展隐患排查整治"] and record["salutation_fits_audience"]
    assert [f["rule"] for f in record["findings"]] == ["A101", "A102"]
    assert gates.structure_gate(SPEECH, ["压实安全生产责任"], "students", salutation_given=False).record()["passed"] is False


def test_facts_gate_error_or_info_when_masked() -> None:
    _, flagged = gates.facts_gate(SPEECH, "2025年", ["2025年"], mask=False, cleaned=0)
    assert rules_of(flagged) == ["A106"] and "1200处" in flagged.findings[0].excerpt and not flagged.passed
    masked_speech, masked = gates.facts_gate(SPEECH, "2025年", ["2025年"], mask=True, cleaned=0)
    assert masked.passed and masked.findings[0].severity == Severity.info
    assert "XX处" in masked_speech.text() and masked.record()["replaced_with_xx"] == 1


def test_placeholder_length_repetition_and_lint_gates() -> None:
    leaky = parse_speech_text("讲话\n同志们：\n请到__处报名，xx同志负责。\n谢谢大家！")
    check = gates.placeholder_gate(leaky, allow_xx=False, removed=["aa"], removed_while_drafting=1)
    assert [f.excerpt for f in check.findings] == ["__", "xx"] and not check.passed
    assert check.record()["removed"] == ["aa"] and check.record()["removed_while_drafting"] == 1
    strict = parse_speech_text("讲话\n同志们：\n投资XX万元。\n谢谢大家！")
    assert gates.placeholder_gate(strict, allow_xx=True, removed=[], removed_while_drafting=0).passed
    assert not gates.placeholder_gate(strict, allow_xx=False, removed=[], removed_while_drafting=0).passed
    assert gates.length_gate(SPEECH, SPEECH.zishu, 0.15, []).passed
    too_long = gates.length_gate(SPEECH, SPEECH.zishu // 2, 0.15, ["trim"])
    assert rules_of(too_long) == ["A105"] and too_long.record()["repairs"] == ["trim"]
    assert gates.repetition_gate(2).passed and rules_of(gates.repetition_gate(2)) == ["A108"] and not gates.repetition_gate(0).findings
    lint = gates.lint_gate(leaky, CheckConfig()).record()
    assert lint["passed"] is False and lint["errors"] >= 2
    assert {f["rule"] for f in lint["findings"]} >= {"P101"}


def test_verify_reports_what_it_dropped_as_findings() -> None:
    doc = segment("今年发展主要预期目标是：国内生产总值增长5%左右。\n各地区各部门要压实责任，狠抓落实。")
    summary = Summary.model_validate({
        "gist": "今年国内生产总值增长5%左右。", "gist_source": [1],
        "key_points": [{"text": "经济增长6%。", "source": [1]}, {"text": "各地区各部门要压实责任。", "source": [9]}],
        "tasks": [{"what": "压实责任，狠抓落实", "who": "各乡镇", "source": [2]}],
        "figures": [{"value": "左右", "measures": "不是数字", "source": [1]}],
    })
    _, checks = verify(summary, doc, LENGTHS["medium"])
    verbatim, sources = checks["verbatim"], checks["sources"]
    assert verbatim["passed"] and sources["passed"]  # dropped and repaired: warnings and notes only
    assert [f["rule"] for f in verbatim["findings"]] == ["A201", "A202", "A203"]
    assert "6%" in verbatim["findings"][0]["message"] and verbatim["who_not_in_source"][0]["who"] == "各乡镇"
    assert [f["rule"] for f in sources["findings"]] == ["A204"] and sources["repaired"][0]["from"] == [9]
