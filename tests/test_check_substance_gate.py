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


def test_adapt_drops_invented_meetings_and_is_not_ok_when_a_section_empties():
    results = replay("adapt/veterans-symposium", "adapt/eco-protection", "adapt/school-opening")
    vets = results["adapt/veterans-symposium"]
    sub = vets["checks"]["substance"]
    assert sub["passed"] and any("十八届五中全会" in s for s in sub["dropped"])
    assert "十八届五中全会" not in vets["text"]
    assert vets["ok"] is False and vets["checks"]["structure"]["passed"] is False  # 一、 left empty
    eco = results["adapt/eco-protection"]
    assert not any(m in eco["text"] for m in ("中央新疆工作座谈会", "党的十八大"))
    school = results["adapt/school-opening"]
    assert "灾区" not in school["text"] and school["checks"]["substance"]["dropped"]


def test_restyle_news_without_an_occasion_is_not_ok():
    result = replay("restyle/news-garden")["restyle/news-garden"]
    assert result["ok"] is False
    assert "D102" in result["checks"]["substance"]["rules"]
    assert "十七大" not in result["text"]  # the invented congress was dropped


def test_summarize_reports_substance_and_stays_ok():
    result = replay("summarize/r2025-review")["summarize/r2025-review"]
    assert result["checks"]["substance"]["passed"] is True and result["ok"] is True
