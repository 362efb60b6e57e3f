"""Every assertion type, passing and failing, on hand-made results (no model needed)."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.evals import textmetrics as tm
from pipeline.evals.assertions import CaseData, evaluate, score_sample
from pipeline.evals.results import SampleResult
from pipeline.evals.suite import parse_suite

SPEECH = {
    "title": "在全县安全生产工作会议上的讲话",
    "salutation": "同志们：",
    "opening": "今天召开全县安全生产工作会议，主要任务是部署今年的安全生产工作。",
    "sections": [
        {"heading": "一、压实安全生产责任", "paragraphs": ["要把责任落实到每一个岗位。全县共排查隐患120处。"]},
        {"heading": "二、深入开展隐患排查整治", "paragraphs": ["要做到排查不留死角，整改不留尾巴。"]},
    ],
    "closing": "同志们，安全生产责任重于泰山。",
}
TEXT = "\n".join(
    [SPEECH["title"], SPEECH["salutation"], SPEECH["opening"]]
    + [x for s in SPEECH["sections"] for x in [s["heading"], *s["paragraphs"]]]
    + [SPEECH["closing"]]
)
SOURCE = "全县共排查隐患120处，整改完成率达到95%。2024年3月1日召开会议。"


def case_data(assertion: str, *, task: str = "adapt", inputs: str = "{}", judge: Any = None, **kw: Any) -> tuple[Any, CaseData]:
    suite = parse_suite(
        f"name: t\ntask: {task}\ncases:\n  - id: c\n    inputs: {inputs}\n    assertions:\n      - {assertion}\n"
    )
    case = suite.cases[0]
    data = CaseData(suite, case, suite.inputs(case), judge=judge, **kw)
    return suite.assertions(case)[0], data


def sample(text: str = TEXT, output: dict | None = None, task: str = "adapt", **kw: Any) -> SampleResult:
    result = {"task": task, "output": SPEECH if output is None else output, "text": text, "metadata": {}}
    return SampleResult(suite="t", task=task, case="c", result=result, **kw)


def check(assertion: str, s: SampleResult | None = None, **kw: Any):
    spec, data = case_data(assertion, **kw)
    return evaluate(spec, s or sample(task=data.suite.task), data)


def test_schema_valid() -> None:
    assert check("{type: schema_valid}").passed
    bad = dict(SPEECH, title="")  # Speech.title has min_length 1
    res = check("{type: schema_valid}", sample(output=bad))
    assert not res.passed and "title" in res.detail
    assert check("{type: schema_valid, schema: 'pipeline.summary:Summary'}", sample(output={"gist": "一句话概括全文"})).passed
    assert not check("{type: schema_valid, schema: 'pipeline.nope:X'}").passed


def test_length_in_zi() -> None:
    zi = sum(1 for ch in TEXT if not ch.isspace())
    assert check(f"{{type: length, min: {zi - 1}, max: {zi + 1}}}").passed
    res = check(f"{{type: length, max: {zi - 20}}}")
    assert not res.passed and res.value == zi and 0 < res.score < 1
    assert check(f"{{type: length, target: {zi}, tolerance: 0.05}}").passed
    assert not check(f"{{type: length, target: {zi * 2}, tolerance: 0.15}}").passed
    assert check("{type: length, max: 15, field: output.title}").passed  # 15 字 title


def test_contains_and_not_contains_after_normalization() -> None:
    s = sample(text="落实“安全第一”方针，ＧＤＰ增长５％。")
    assert check("{type: contains, value: ['安全第一', 'GDP增长5%']}", s).passed  # NFKC, punctuation ignored
    res = check("{type: contains, value: ['安全第一', '预防为主']}", s)
    assert not res.passed and "预防为主" in res.detail and res.score == 0.5
    assert check("{type: contains, value: ['预防为主', '安全第一'], any: true}", s).passed
    assert check("{type: not_contains, value: ['aa市', '20xx年']}", s).passed
    assert not check("{type: not_contains, value: 'GDP 增长'}", s).passed


def test_regex_and_not_regex() -> None:
    assert check(r"{type: regex, pattern: '^同志们[:：]$'}").passed  # full-width colon canonicalized
    assert not check(r"{type: regex, pattern: '^各位代表'}").passed
    assert check(r"{type: not_regex, pattern: '\d{2}xx年'}").passed
    assert not check(r"{type: not_regex, pattern: '隐患\d+处'}").passed


def test_points_covered() -> None:
    inputs = "{points: [压实安全生产责任, 深入开展隐患排查整治]}"
    assert check("{type: points_covered}", inputs=inputs).passed
    res = check("{type: points_covered}", inputs="{points: [压实安全生产责任, 加强应急救援能力建设]}")
    assert not res.passed and res.score == 0.5 and "应急救援" in res.detail
    assert not check("{type: points_covered}").passed  # no points to check is a suite mistake


def test_substance_fails_on_old_recorded_outputs() -> None:
    """The shipped baselines recorded these adapt outputs as passing; `substance` fails them."""
    import json
    from pathlib import Path

    rows = [json.loads(line) for line in (Path(__file__).parent / "fixtures" / "substance" /
                                          "baseline_outputs.jsonl").read_text(encoding="utf-8").splitlines()]
    for row in [r for r in rows if r["task"] == "adapt"]:
        ctx = {k: v for k, v in row["context"].items() if k != "examples"}
        # examples come from the result's metadata, as in a real run
        s = sample(text=row["text"])
        s.result["metadata"] = {"examples": row["context"]["examples"]}
        res = check("{type: substance}", s, inputs=json.dumps(ctx, ensure_ascii=False),
                    corpus_dir=Path(__file__).parents[1] / "corpus")
        assert not res.passed, row["case"]
        assert any(rule in res.detail for rule in row["expect"]), (row["case"], res.detail)
    # the well-formed test speech passes; a rule filter narrows what counts
    inputs = "{occasion: 全县安全生产工作会议, points: [压实安全生产责任, 深入开展隐患排查整治], facts: [120处], length: 300}"
    assert check("{type: substance}", inputs=inputs).passed
    text = TEXT.replace("全县共排查隐患120处。", "我在党的十八届五中全会上讲过。")
    assert not check("{type: substance}", sample(text=text), inputs=inputs).passed
    assert check("{type: substance, rules: [Q]}", sample(text=text), inputs=inputs).passed


def test_check_clean_by_rule() -> None:
    assert check("{type: check_clean, rules: [P]}").passed
    res = check("{type: check_clean, rules: [P]}", sample(text="同志们：\n今天在aa市召开20xx年工作会议。\n谢谢大家！"))
    assert not res.passed and res.value and res.value >= 1 and "P" in res.detail
    # relative: a restyle that keeps its source's placeholder adds nothing; one more is a finding
    src = "{text: '同志们：\n今天在aa市召开会议。\n谢谢大家！'}"
    kept = sample(text="同志们：\n今天在aa市开会。\n谢谢大家！", task="restyle")
    more = sample(text="同志们：\n今天在aa市开会，xx同志讲话。\n谢谢大家！", task="restyle")
    rel = "{type: check_clean, rules: [P], relative: true}"
    assert check(rel, kept, task="restyle", inputs=src).passed
    assert not check(rel, more, task="restyle", inputs=src).passed


def test_facts_preserved_and_no_invented_facts() -> None:
    inputs = f"{{text: '{SOURCE}'}}"
    kept = sample(text="全县共排查隐患120处，整改完成率达到95%，2024年3月1日召开会议。", task="restyle")
    dropped = sample(text="全县排查了很多隐患，整改完成率很高。", task="restyle")
    assert check("{type: facts_preserved}", kept, task="restyle", inputs=inputs).passed
    res = check("{type: facts_preserved, threshold: 0.9}", dropped, task="restyle", inputs=inputs)
    assert not res.passed and "120" in res.detail
    assert check("{type: no_invented_facts}", kept, task="restyle", inputs=inputs).passed
    invented = sample(text="全县共排查隐患120处，投入资金3500万元。", task="restyle")
    res = check("{type: no_invented_facts}", invented, task="restyle", inputs=inputs)
    assert not res.passed and "3500万元" in res.detail
    # adapt: the brief is the source of allowed facts
    assert not check("{type: no_invented_facts}", inputs="{points: [压实责任]}").passed  # 120处 not in brief
    assert check("{type: no_invented_facts}", inputs="{points: [压实责任], facts: [全县共排查隐患120处]}").passed


def test_rouge_char_and_word_level() -> None:
    ref = "要压实安全生产责任，深入开展隐患排查整治。"
    assert check(f"{{type: rouge, metric: rougeL, level: char, threshold: 0.2, reference: '{ref}'}}").passed
    assert check(f"{{type: rouge, metric: rouge2, level: word, threshold: 0.05, reference: '{ref}'}}").passed
    res = check("{type: rouge, metric: rouge1, level: word, threshold: 0.2, reference: 乡村振兴战略全面推进}")
    assert not res.passed and res.value is not None and res.value < 0.2
    assert not check("{type: rouge, threshold: 0.1}").passed  # no reference given


def test_text_metrics_are_exact() -> None:
    assert tm.lcs_length("ABCBDAB", "BDCABA") == 4
    assert tm.longest_common_substring("今天召开全县安全生产会议", "全县安全生产工作") == "全县安全生产"
    assert tm.rouge("安全生产", "安全生产", "rouge2") == 1.0
    assert tm.ngram_overlap("abcdef", "xxabcdxx", 4) == pytest.approx(1 / 3)
    assert tm.tokens("压实安全生产责任。", "word")[:1] == ["压实"]


def test_copy_rate_against_examples_and_input() -> None:
    example = "今天召开全县安全生产工作会议，主要任务是部署今年的安全生产工作。这是一段很长的范文内容。"
    spec, data = case_data("{type: copy_rate, max_lcs: 20, max_overlap: 0.3}")
    data._corpus = {"ex1": example, "ex2": "无关的范文。"}
    copied = sample()
    copied.result["metadata"]["examples"] = [{"id": "ex1"}, "ex2"]
    res = evaluate(spec, copied, data)
    assert not res.passed and "longest copied run" in res.detail
    data._corpus = {"ex1": "乡村振兴是新时代的重大任务，必须坚持农业农村优先发展。"}
    copied.result["metadata"]["examples"] = ["ex1"]
    assert evaluate(spec, copied, data).passed
    inputs = f"{{text: '{SOURCE}'}}"
    assert not check("{type: copy_rate, source: input, max_lcs: 10}", sample(text=SOURCE, task="restyle"), task="restyle", inputs=inputs).passed


def test_latency_tokens_cost_ceilings() -> None:
    s = sample(model_seconds=12.5, usage={"prompt_tokens": 900, "completion_tokens": 300, "cost": 0.02})
    assert check("{type: latency, max_seconds: 20}", s).passed
    assert not check("{type: latency, max_seconds: 10}", s).passed
    assert check("{type: tokens, max_tokens: 1200}", s).passed
    assert not check("{type: tokens, max_tokens: 1000}", s).passed
    assert check("{type: cost, max_cost: 0.05}", s).passed
    assert not check("{type: cost, max_cost: 0.01}", s).passed


def test_rubric_threshold_applied_in_code() -> None:
    seen: list[tuple[str, str]] = []

    def judge(score: float):
        def _judge(rubric: str, text: str, label: str) -> float:
            seen.append((rubric, label))
            return score
        return _judge

    assert check("{type: rubric, rubric: 结构完整, threshold: 0.6}", judge=judge(8)).passed
    res = check("{type: rubric, rubric: 结构完整, threshold: 0.6}", judge=judge(5))
    assert not res.passed and res.score == 0.5
    assert seen[0] == ("结构完整", "c#0/judge:rubric")

    def broken(rubric: str, text: str, label: str) -> float:
        raise RuntimeError("judge down")

    assert "judge down" in check("{type: rubric, rubric: 结构完整}", judge=broken).detail
    res = check("{type: rubric, rubric: 结构完整}")  # no judge configured: not judged, never a pass
    assert not res.passed and not res.judged and res.weight == 0 and res.detail.startswith("not judged")


def test_failed_task_fails_every_assertion_and_scores_weighted() -> None:
    suite = parse_suite(
        "name: t\ntask: adapt\ncases:\n  - id: c\n    assertions:\n"
        "      - {type: contains, value: 同志们, weight: 3}\n      - {type: contains, value: 乡村振兴, name: other}\n"
    )
    case = suite.cases[0]
    s = score_sample(sample(), CaseData(suite, case, {}))
    assert not s.passed and s.score == pytest.approx(0.75)
    err = score_sample(sample(status="error", error="boom"), CaseData(suite, case, {}))
    assert not err.passed and err.score == 0 and all("boom" in a.detail for a in err.assertions)


def test_judge_reply_parsing() -> None:
    from pipeline.errors import ValidationFailed
    from pipeline.evals.judge import parse_score

    assert parse_score("8分，结构完整") == 8.0
    assert parse_score(" 12") == 10.0  # clamped
    with pytest.raises(ValidationFailed):
        parse_score("很好")


def test_reports_and_progress_bar() -> None:
    import io
    from xml.etree import ElementTree as ET

    from pipeline.evals import report
    from pipeline.evals.compare import compare
    from pipeline.evals.results import summarize
    from pipeline.evals.runner import Progress

    suite = parse_suite(
        "name: t\ntask: adapt\ncases:\n  - id: a\n  - id: b\n"
        "defaults:\n  assertions:\n    - {type: contains, value: 同志们}\n"
    )
    good = score_sample(sample(), CaseData(suite, suite.cases[0], {}))
    bad = score_sample(sample(text="各位代表："), CaseData(suite, suite.cases[1], {}))
    bad.case = "b"
    base = [good, good.model_copy(update={"case": "b"})]
    runs = [good, bad]
    comp = compare(base, runs)
    summary = summarize(runs)
    xml = ET.fromstring(report.junit(runs, summary, comp).split("\n", 1)[1])
    cases = xml.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["c#0", "b#0"]
    failures = xml.findall(".//failure")
    assert {f.get("type") for f in failures} == {"assertion", "regression"}
    md = report.markdown(runs, summary, comp)
    assert "1 regression(s)" in md and "`t/b#0`" in md and "contains" in md
    table = report.terminal(runs, summary, comp)
    assert "REGRESSION t/b#0" in table and "▼" in table
    buf = io.StringIO()
    bar = report.ProgressBar(buf, enabled=True)
    bar(Progress(done=2, total=2, hits=5, retries=1))
    assert "[########################] 2/2  hits 5" in buf.getvalue() and "retries 1" in buf.getvalue()


def test_no_prompt_leak(tmp_path) -> None:
    folder = tmp_path / "adapt"
    folder.mkdir()
    (folder / "meta.yaml").write_text("id: adapt\nversion: '1'\nvariables: [x]\n", encoding="utf-8")
    (folder / "user.md").write_text("{{ x }}", encoding="utf-8")
    (folder / "system.md").write_text(
        "你是一名资深的党政机关文字材料撰稿人，{{ x }}为领导起草讲话稿。只输出一个JSON对象。", encoding="utf-8"
    )
    spec, data = case_data("{type: no_prompt_leak, max_lcs: 12}", prompts_dir=tmp_path)
    assert evaluate(spec, sample(), data).passed
    leaked = sample(text="同志们：我是一名资深的党政机关文字材料撰稿人，为领导起草讲话稿。")
    res = evaluate(spec, leaked, data)
    assert not res.passed and res.value and res.value > 12 and "from adapt" in res.detail
