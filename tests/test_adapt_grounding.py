"""Grounded drafting (pipeline.tasks.adapt.grounding): material per part, scope, the keep
rule, fallbacks, sources per paragraph, the one-call prompt's material, the md notes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.material import open_library
from pipeline.render.speech import sources_notes
from pipeline.speech import Section, Speech
from pipeline.tasks import TaskContext, run_task
from pipeline.tasks.adapt.brief import make_brief
from pipeline.tasks.adapt.grounding import (
    ON_POINT_SHARE,
    Grounding,
    adapt_scope,
    attribute,
    grounding_check,
    on_point_share,
    prompt_material,
)
from pipeline.tasks.adapt.outline import plan
from pipeline.text.hanzi import split_sentences

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SAFETY = {
    "occasion": "全县安全生产工作会议", "speaker": "县长", "audience": "各乡镇、县直各部门负责同志",
    "points": ["压实安全生产责任", "深入开展隐患排查整治"], "length": 1500,
}
NATIONAL = re.compile(r"国务院|全国|我国|各省|全党")
# Points neither the reports nor the phrasebook say anything on.
GO = {"occasion": "全市围棋协会年会", "speaker": "协会会长", "audience": "各位会员",
      "points": ["普及围棋运动", "办好围棋联赛"]}


@pytest.fixture(scope="module")
def safety() -> Grounding:
    brief = make_brief(dict(SAFETY))
    return Grounding(brief, plan(brief), open_library(CORPUS))


def test_adapt_scope_says_a_national_sentence_at_the_speakers_level():
    assert adapt_scope("各地区各部门要压实安全生产责任，全国上下形成合力。", "县") == "各乡镇、各部门要压实安全生产责任，全县上下形成合力。"
    assert adapt_scope("我国安全生产形势总体稳定。", "市") == "我市安全生产形势总体稳定。"
    assert adapt_scope("国务院将出台安全生产督查办法。", "县") == ""
    # Carrying out the higher level's decisions is what a county says too.
    kept = adapt_scope("认真贯彻落实党中央、国务院决策部署，压实各方责任。", "县")
    assert kept.startswith("认真贯彻落实党中央、国务院决策部署")


def test_national_words_the_brief_uses_are_kept():
    brief = make_brief({"occasion": "创建全国文明城市动员大会", "speaker": "市委书记", "audience": "全市各级领导干部",
                        "points": ["提高思想认识", "压实创建责任"]})
    grounding = Grounding(brief, plan(brief), open_library(CORPUS))
    assert grounding.reject("section-2", "要把创建全国文明城市作为全市的头等大事，层层压实创建责任。") != "scope"
    assert grounding.reject("section-2", "国务院要求各地压实创建责任。") == "scope"
    assert adapt_scope("全国文明城市创建要全国上下一起努力。", "市", ["全国文明"]) == "全国文明城市创建要全市上下一起努力。"


def test_material_for_a_point_is_on_it_and_fit_to_say(safety):
    for key in ("section-1", "section-2"):
        texts = safety.material(key)
        assert len(texts) >= 4, key
        assert all("安全" in t or "隐患" in t for t in texts), texts
        # most of each unit is on the point: not 有序推进城市更新……再开工改造一批城镇老旧小区
        assert all(on_point_share(t, {"安全", "隐患", "排查", "整治", "责任"}) >= ON_POINT_SHARE for t in texts), texts
        assert not any("老旧小区" in t or "枫桥经验" in t for t in texts)
        assert not any(NATIONAL.search(t) for t in texts)
        assert not any(re.search(r"\d", t) for t in texts)
    assert all(u.year is None or u.year >= 2003 for u in safety.parts["section-1"].units)


def test_a_part_without_material_on_its_topic_gets_none():
    brief = make_brief(GO)
    grounding = Grounding(brief, plan(brief), open_library(CORPUS))
    # 围棋 is in neither the reports nor the phrasebook: nothing is better than 批林批孔运动.
    assert grounding.material("section-1") == []
    assert grounding.reject("section-1", "要让围棋走进校园、走进社区，吸引更多人学棋下棋。") == ""


def test_the_phrasebook_grounds_what_the_reports_never_say():
    brief = make_brief({"occasion": "秋季开学典礼", "speaker": "校长", "audience": "全体师生", "points": ["勤学善思", "强健体魄"]})
    grounding = Grounding(brief, plan(brief), open_library(CORPUS))
    for key, word in (("section-1", "勤学"), ("section-2", "体魄")):
        assert any(word in t for t in grounding.material(key)), grounding.material(key)
        assert all(u.source.startswith("常用表述") for u in grounding.parts[key].units)
    assert grounding_check(grounding, [])["passed"] is True


def test_two_topic_words_together_are_not_required_when_one_names_the_point():
    # 优抚 and 政策 rarely share a sentence; 优抚 alone keeps the material on the point.
    brief = make_brief({"occasion": "八一建军节退役军人座谈会", "speaker": "区长", "audience": "退役军人代表",
                        "points": ["落实优抚政策"]})
    texts = Grounding(brief, plan(brief), open_library(CORPUS)).material("section-1")
    assert len(texts) >= 4 and all("优抚" in t or "优待" in t or "抚恤" in t for t in texts), texts


def test_on_point_share_counts_clauses_on_the_topic():
    topic = {"隐患", "排查", "整治"}
    assert on_point_share("开展重大事故隐患专项排查整治。", topic) == 1.0
    off = "有序推进城市更新，加强市政设施和防灾减灾能力建设，开展老旧建筑和设施安全隐患排查整治，再开工改造一批城镇老旧小区。"
    assert on_point_share(off, topic) == 0.25


def test_a_sentence_in_another_body_s_voice_is_not_kept(safety):
    assert safety.reject("closing", "在这次会议上，我代表局党委向大家汇报了工作情况。") == "voice"
    assert safety.reject("section-1", "要严格执行本办法，强化安全生产责任制。") == "voice"
    assert safety.reject("section-1", "我公司全体员工要严格执行安全生产标准。") == "voice"


def test_reject_keeps_grounded_sentences_only(safety):
    # a retrieved sentence said as the speaker's own: 压实安全生产责任是做好安全生产工作的关键。
    assert safety.reject("section-1", "各乡镇、各部门要认识到，压实安全生产责任是做好安全生产工作的关键。") == ""
    assert safety.reject("section-1", "国务院要求全国各地开展安全生产大检查。") == "scope"
    assert safety.reject("section-1", "职工安全生产是我党执政的根本，文明城市创建是民族复兴的基石。") == "ungrounded"


def test_fallback_hands_out_each_retrieved_sentence_once(safety):
    first = safety.fallback("section-2", 2)
    second = safety.fallback("section-2", 2)
    assert len(first) == 2 and len(second) == 2 and not set(first) & set(second)


def test_every_paragraph_gets_its_sources(safety):
    m1, m2 = safety.material("section-1"), safety.material("section-2")
    speech = Speech(
        title="在全县安全生产工作会议上的讲话", salutation="同志们：",
        opening="这次会议是县政府常务会议研究决定召开的。",
        sections=[Section(heading="一、压实安全生产责任", paragraphs=[m1[0] + m1[1]]),
                  Section(heading="二、深入开展隐患排查整治", paragraphs=[m2[0]])],
        closing="同志们，让我们共同努力。\n谢谢大家！",
    )
    sources = attribute(speech, safety)
    assert [s["part"] for s in sources] == ["opening", "section-1", "section-2", "closing", "closing"]
    by_part = {s["part"]: s for s in sources}
    ids = {src["id"] for src in by_part["section-1"]["sources"]}
    assert ids == {u.id for u in safety.parts["section-1"].units[:2]}
    assert all(src["year"] and re.search("政府工作报告|常用表述", src["source"]) for src in by_part["section-1"]["sources"])
    assert by_part["opening"]["sources"][0]["origin"] == "brief"
    notes = sources_notes(sources)
    assert "**素材来源**" in notes and "第一部分第1段：" in notes and "开场白第1段：简报" in notes


def test_one_call_prompt_carries_material_within_budget(safety):
    from pipeline.tasks.adapt.one_call import one_call_request
    from pipeline.tasks.adapt.selection import Selection

    brief = make_brief(dict(SAFETY))
    outline = plan(brief)
    material = prompt_material(safety, outline)
    assert sum(len(m["lines"]) for m in material) <= 5 * len(outline.parts)
    assert sum(len("".join(m["lines"])) for m in material) <= 1500
    call = one_call_request(brief, Selection(examples=[], ranked=[], budget=0), TaskContext(), 0.66, material)
    user = next(m.content for m in call.request.messages if m.role == "user")
    assert "可化用的表述" in user and material[0]["lines"][0] in user


def test_useless_drafts_fall_back_to_retrieved_material():
    """The model gives nothing usable: each section takes its retrieved sentences instead, at the
    speaker's scope, and names them as its sources."""
    from pipeline.model.backends.fake import FakeBackend
    from pipeline.model.client import Client

    result = run_task("adapt", {**SAFETY, "length": 600, "strategy": "plan-draft"},
                      TaskContext(client=Client(FakeBackend(lambda request: "好。")), corpus_dir=CORPUS))
    meta = result.metadata
    assert meta["grounded"] and meta["fallback_paragraphs"] >= 2
    sections = result.output["sections"]
    assert all(s["paragraphs"] for s in sections)
    first = "".join(sections[0]["paragraphs"])
    assert "安全生产责任" in first and not NATIONAL.search(first)
    cited = [e for e in meta["sources"] if e["part"] == "section-1"]
    assert cited and all(src["origin"] == "bank" for e in cited for src in e["sources"])


@pytest.mark.model
def test_grounded_draft_on_the_embedded_model(local_client):
    """A short grounded draft: every paragraph names its sources, no sentence speaks for the
    country, and the sections say their points."""
    inputs = {**SAFETY, "length": 300, "examples": 1}
    result = run_task("adapt", inputs, TaskContext(client=local_client, corpus_dir=CORPUS))
    meta = result.metadata
    assert meta["grounded"] is True
    speech = Speech.model_validate(result.output)
    paragraphs = len([p for p in speech.opening.split("\n") if p.strip()])
    paragraphs += sum(len(s.paragraphs) for s in speech.sections)
    paragraphs += len([p for p in speech.closing.split("\n") if p.strip()])
    assert len(meta["sources"]) == paragraphs
    assert all(entry["sources"] for entry in meta["sources"])
    body = "".join(p for s in speech.sections for p in s.paragraphs)
    assert not any(NATIONAL.search(s) for s in split_sentences(body))
    assert "安全" in "".join(speech.sections[0].paragraphs)
    assert "隐患" in "".join(speech.sections[1].paragraphs) or "排查" in "".join(speech.sections[1].paragraphs)


def test_grounding_check_fails_a_section_with_nothing_to_stand_on(safety):
    sources = [
        {"part": "opening", "sources": [{"origin": "frames"}]},
        {"part": "section-1", "sources": [{"origin": "bank"}]}, {"part": "section-1", "sources": [{"origin": "brief"}]},
        {"part": "section-2", "sources": [{"origin": "brief"}]},
    ]
    check = grounding_check(safety, sources)
    assert check["passed"] is True and check["sections"] == {"section-1": "1/2", "section-2": "0/1"}
    go = grounding_check(Grounding(make_brief(GO), plan(make_brief(GO)), open_library(CORPUS)), [])
    assert go["passed"] is False and "section-1" in go["unsupported"] and "corpus add" in go["advice"]
    assert "普及围棋运动" in go["unsupported_points"]


def test_a_speech_without_material_is_not_ok():
    """围棋 is not in the material: what the model writes there is not vouched for."""
    from pipeline.model.backends.fake import FakeBackend
    from pipeline.model.client import Client

    backend = FakeBackend(lambda request: "要让围棋走进校园、走进社区，吸引更多人学棋下棋。")
    result = run_task("adapt", {**GO, "length": 600, "strategy": "plan-draft"},
                      TaskContext(client=Client(backend)))
    assert result.checks["grounding"]["passed"] is False and result.ok is False
    assert result.metadata["sources"][0]["sources"][0]["origin"] == "frames"


def test_a_greeting_point_greets_this_occasion_s_guests_only():
    brief = make_brief({"occasion": "八一建军节退役军人座谈会", "speaker": "区长", "audience": "退役军人代表",
                        "points": ["致以节日问候"]})
    texts = Grounding(brief, plan(brief), open_library(CORPUS)).material("section-1")
    assert texts and any("问候" in t for t in texts)
    assert all("军" in t for t in texts), texts  # not 向全体教师致以节日问候, not 新春祝福
    assert not any("教师" in t or "新春" in t for t in texts)


def test_material_a_local_speaker_cannot_say_is_left_out(safety):
    from pipeline.material import Unit

    def unit(text: str) -> Unit:
        return Unit(id="x", kind="sentence", text=text, origin="bank", source="2008年政府工作报告", year=2008,
                    function="措施")

    assert safety._fits(unit("加强重点优抚对象走访慰问，帮助解决实际困难。"))
    assert not safety._fits(unit("四次提高重点优抚对象的抚恤补助标准，统筹解决退役军人实际困难。"))  # a count
    assert not safety._fits(unit("再次提高革命伤残人员等优抚对象的抚恤补助标准。"))  # the State Council's act


def test_a_local_speech_takes_the_phrasebook_first(safety):
    sources = [u.source for u in safety.parts["section-1"].units]
    first_report = next((i for i, s in enumerate(sources) if not s.startswith("常用表述")), len(sources))
    assert first_report > 0 and all(not s.startswith("常用表述") for s in sources[first_report:])


def test_grounding_check_names_points_with_little_material(safety):
    import copy

    thin = copy.copy(safety)
    thin.parts = {**safety.parts, "section-2": copy.copy(safety.parts["section-2"])}
    thin.parts["section-2"].texts = safety.parts["section-2"].texts[:3]
    check = grounding_check(thin, [])
    assert check["passed"] is True and check["thin_points"] == ["深入开展隐患排查整治"]
    assert check["material"] == {"section-1": len(safety.parts["section-1"].texts), "section-2": 3}
    assert grounding_check(safety, [])["thin_points"] == []


def test_school_material_stays_out_of_a_company_speech():
    brief = make_brief({"occasion": "新员工入职培训开班仪式", "speaker": "公司总经理", "audience": "全体新员工",
                        "points": ["尽快融入团队", "练就过硬本领"]})
    grounding = Grounding(brief, plan(brief), open_library(CORPUS))
    texts = grounding.material("section-1") + grounding.material("section-2")
    assert texts and not any(w in t for t in texts for w in ("同学", "校园", "校规")), texts
