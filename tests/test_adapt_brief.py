"""Brief and Speech schemas: flags and YAML/JSON files, clear errors, derived 称呼 and title."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.speech import Section, Speech, cn_number, numbered_heading, parse_speech_text
from pipeline.tasks.adapt.brief import Brief, brief_from_inputs, classify_audience, make_brief

BRIEF_YAML = """\
occasion: 全县安全生产工作会议
speaker: 县长
audience: 各乡镇、县直各部门负责同志
points:
  - 一、压实安全生产责任
  - 深入开展隐患排查整治
length: 1500
facts: [2025年, 较大事故3起]
"""


def test_brief_from_yaml_file_and_flags_override(tmp_path: Path) -> None:
    path = tmp_path / "brief.yaml"
    path.write_text(BRIEF_YAML, encoding="utf-8")
    brief = brief_from_inputs({"brief": str(path), "length": 800, "tone": "严肃有力"})
    assert brief.occasion == "全县安全生产工作会议"
    assert brief.points == ["压实安全生产责任", "深入开展隐患排查整治"]  # numbering stripped
    assert brief.length == 800 and brief.tone == "严肃有力"
    assert brief.facts == ["2025年", "较大事故3起"]


def test_brief_from_json_file(tmp_path: Path) -> None:
    path = tmp_path / "brief.json"
    path.write_text('{"occasion": "开学典礼", "points": "勤奋学习", "audience": "全体师生"}', encoding="utf-8")
    brief = brief_from_inputs({"brief": str(path)})
    assert brief.points == ["勤奋学习"] and brief.length == 1500


def test_brief_file_in_gbk_is_read(tmp_path: Path) -> None:
    path = tmp_path / "brief.yaml"
    path.write_bytes(BRIEF_YAML.encode("gbk"))
    assert brief_from_inputs({"brief": str(path)}).speaker == "县长"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("occasion: [unclosed\n", r"brief.yaml line \d+: malformed YAML"),
        ("- a\n- b\n", "a brief is a mapping"),
        ("", "is empty"),
        ("# only a comment\n", "the brief is empty"),
        ("occasion: 会议\npoints: [a]\nlenght: 300\n", "unknown field 'lenght'"),
        ("occasion: 全县会议\n", "field points: is required"),
        ("occasion: 全县会议\npoints: [压实责任]\nlength: 20\n", "field length: Input should be greater than or equal to 100"),
        ("occasion: 全县会议\npoints: [压实责任]\nlength: abc\n", "field length:"),
        ("occasion: 全县会议\npoints: [压实责任, 压实责任]\n", "field points: the same point is given twice"),
        ("occasion: 全县会议\npoints: [压实责任, '']\n", "field points"),
    ],
)
def test_bad_briefs_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "brief.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as err:
        brief_from_inputs({"brief": str(path)})
    assert "\n" not in str(err.value)


def test_missing_brief_file() -> None:
    with pytest.raises(InputError, match="no such file"):
        brief_from_inputs({"brief": "/nonexistent/brief.yaml"})


def test_flags_only_brief_requires_points() -> None:
    with pytest.raises(InputError, match=r"field points: is required \(--point"):
        brief_from_inputs({"occasion": "全县安全生产工作会议"})


@pytest.mark.parametrize(
    ("audience", "salutation"),
    [
        ("各乡镇、县直各部门负责同志", "同志们："),
        ("全局干部职工", "同志们："),
        ("市领导和各部门负责同志", "各位领导、同志们："),
        ("出席论坛的各位领导、各位来宾", "尊敬的各位领导、各位来宾："),
        ("全体师生", "老师们、同学们："),
        ("村民代表", "父老乡亲们："),
    ],
)
def test_salutation_fits_audience(audience: str, salutation: str) -> None:
    brief = make_brief({"occasion": "会议", "points": ["要点"], "audience": audience})
    assert brief.derived_salutation() == salutation
    internal = {"cadres", "leaders_cadres", "staff"}
    got = classify_audience(salutation)
    assert got == brief.audience_kind or {got, brief.audience_kind} <= internal


def test_salutation_override_and_title() -> None:
    brief = make_brief({"occasion": "全县安全生产工作会议", "points": ["要点"], "salutation": "各位代表"})
    assert brief.derived_salutation() == "各位代表："
    assert brief.derived_title() == "在全县安全生产工作会议上的讲话"
    assert make_brief({"occasion": "新校区启用", "points": ["x"]}).derived_title() == "在新校区启用时的讲话"


def test_speech_counts_and_round_trip() -> None:
    speech = Speech(
        title="在全县安全生产工作会议上的讲话",
        salutation="同志们：",
        opening="今天召开会议。\n这次会议很重要。",
        sections=[Section(heading="一、压实安全生产责任", paragraphs=["要压实责任。", ""])],
        closing="谢谢大家！",
    )
    body = "同志们：今天召开会议。这次会议很重要。一、压实安全生产责任要压实责任。谢谢大家！"
    assert speech.zishu == len(body)
    assert speech.minutes == round(len(body) / 220, 1)
    assert speech.sections[0].paragraphs == ["要压实责任。"]
    dumped = speech.model_dump()
    assert dumped["zishu"] == speech.zishu
    assert Speech.model_validate(dumped) == speech  # derived fields do not trip extra="forbid"
    assert [k for k, _ in speech.blocks()] == ["title", "salutation", "para", "para", "h1", "para", "para"]


def test_numbered_headings() -> None:
    assert [cn_number(n) for n in (1, 10, 11, 20, 23)] == ["一", "十", "十一", "二十", "二十三"]
    assert numbered_heading(3, "二、压实责任") == "三、压实责任"


def test_parse_speech_text() -> None:
    text = (
        "在动员会上的讲话\n同志们：\n今天召开动员会。\n一、统一思想\n思想要统一。\n（一）提高认识\n认识要提高。\n"
        "二、狠抓落实\n要狠抓落实。\n同志们，让我们行动起来！\n谢谢大家！"
    )
    speech = parse_speech_text(text)
    assert speech.title == "在动员会上的讲话" and speech.salutation == "同志们："
    assert speech.opening == "今天召开动员会。"
    assert [s.heading for s in speech.sections] == ["一、统一思想", "二、狠抓落实"]
    assert speech.sections[0].subsections[0].paragraphs == ["认识要提高。"]
    assert speech.sections[1].paragraphs == ["要狠抓落实。"]
    assert speech.closing == "同志们，让我们行动起来！\n谢谢大家！"


def test_brief_model_is_strict() -> None:
    assert "facts" in Brief.model_fields
    with pytest.raises(InputError, match="unknown field 'colour'"):
        make_brief({"occasion": "会议", "points": ["x"], "colour": "red"})


def test_the_derived_salutation_is_the_one_the_s105_check_expects():
    from pipeline.check.substance import SubstanceContext, substance_findings
    from pipeline.tasks.adapt.brief import make_brief

    for audience, want in (("全市教师代表", "老师们："), ("全体新员工", "各位新同事："),
                           ("各乡镇、县直各部门负责同志", "同志们：")):
        brief = make_brief({"occasion": "全市工作会议", "speaker": "局长", "audience": audience, "points": ["a"]})
        assert brief.derived_salutation() == want
        text = f"在全市工作会议上的讲话\n\n{want}\n\n今天，我们召开会议。\n\n谢谢大家！\n"
        assert not [f for f in substance_findings(text, SubstanceContext(audience=audience)) if f.rule == "S105"]
