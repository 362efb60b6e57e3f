"""Each check rule on real text: the seven seed speeches and excerpts of the government work
reports (tests/fixtures/check/*.txt are verbatim paragraphs of the named report year)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.check import (
    RULES,
    CheckConfig,
    apply_fixes,
    fix_text,
    has_errors,
    lint,
    validate_codes,
)

FIXTURES = Path(__file__).parent / "fixtures"
CHECK = FIXTURES / "check"
REPORTS = FIXTURES / "reports"


def _seed_speeches() -> dict[str, str]:
    text = (FIXTURES / "seeds" / "000_4c88201f79132202.txt").read_text(encoding="utf-8")
    parts = re.split(r"\n创建文明城市领导讲话篇([一二三四五六七])\n", text)
    return {f"篇{parts[i]}": parts[i + 1] for i in range(1, len(parts), 2)}


SEEDS = _seed_speeches()


def fixture(name: str) -> str:
    return (CHECK / name).read_text(encoding="utf-8")


def rules(text: str, prefix: str, **cfg) -> list:
    return lint(text, CheckConfig(select=[prefix], **cfg))


def ids(findings) -> list[str]:
    return [f.rule for f in findings]


# --- P placeholders -------------------------------------------------------------------------


def test_placeholders_in_seed_speeches():
    found = {(name, f.excerpt.strip("…")[:0] or f.message.split("“")[1].split("”")[0])
             for name, text in SEEDS.items() for f in rules(text, "P")}
    assert ("篇一", "--") in found and ("篇一", "---") in found  # 我叫--，是实验中学---届
    assert ("篇二", "□") in found and ("篇二", "aa") in found and ("篇二", "xx") in found
    assert ("篇四", "xx") in found  # xx同志
    assert ("篇六", "20xx") in found  # 20xx年, the whole blank
    assert ("篇四", "一一") in found  # 一一的园林绿化事业: the one the linter missed before
    assert not rules(SEEDS["篇三"], "P") and not rules(SEEDS["篇五"], "P")
    f = next(f for f in rules(SEEDS["篇四"], "P"))
    assert f.severity.value == "error" and f.paragraph == 2 and "xx同志" in f.excerpt


@pytest.mark.parametrize(
    "text",
    [
        "请【单位名称】各部门负责同志参会。",
        "由{姓名}同志主持。",
        "会议时间为X月X日。",
        "某某同志作了发言。",
        "此处插入具体数据。",
        "投资总额达XX万元。",
        "××县委书记讲话",
        "○○年○○月○○日召开会议。",
    ],
)
def test_placeholder_positive_forms(text):
    assert has_errors(rules(text, "P"))


@pytest.mark.parametrize(
    "text",
    [
        "用2-3年时间完成改造。",  # a range
        "这是我们的目标——建设文明城市。",  # the em-dash is punctuation
        "一九五○年开始的抗美援朝战争，二百○八所高等学校",  # ○ as zero in the 1955 report
        "打造AAAA级景区，某些地方还有差距。",
        "---",  # a Markdown rule
    ],
)
def test_placeholder_negative_forms(text):
    assert rules(text, "P") == []


def test_reports_have_no_placeholders():
    for path in REPORTS.glob("gwr_*.txt"):
        assert rules(path.read_text(encoding="utf-8"), "P") == [], path.name


# --- N numbering ----------------------------------------------------------------------------


def test_seed_seven_jumps_from_er_shi_to_si_shi():
    found = rules(SEEDS["篇七"], "N")
    assert ids(found) == ["N101"]
    assert "四是" in found[0].message and "三是 is missing" in found[0].message
    assert found[0].excerpt.startswith("四是加强监督检查")
    # the corpus engineer's copy of the same speech says the same
    assert ids(rules((REPORTS / "speech_wenming.txt").read_text(encoding="utf-8"), "N")) == ["N101"]


def test_seed_four_starts_at_di_er():
    found = rules(SEEDS["篇四"], "N")
    assert ids(found) == ["N101"] and "第二 comes without 第一" in found[0].message


def test_nested_headings_restart_under_each_parent():
    # 篇七: （一）（二）（三） under 一、, （一）…（六） under 二、 — no finding
    assert rules(SEEDS["篇六"], "N") == []
    for name in ("篇一", "篇二", "篇三", "篇五", "篇六"):
        assert rules(SEEDS[name], "N") == [], name


def test_report_2007_misses_heading_san():
    found = rules(fixture("gwr_2007_part3.txt"), "N")
    # the excerpt starts at part 三、, so that is reported too
    assert ids(found) == ["N101", "N101"]
    assert "三、 comes without 一、、二、" in found[0].message
    assert found[1].paragraph == 16
    assert "（四）" in found[1].message and "（三） is missing" in found[1].message


def test_report_2010_says_si_shi_twice():
    found = rules(fixture("gwr_2010_monetary.txt"), "N")
    assert ids(found) == ["N102"] and "四是 twice" in found[0].message


@pytest.mark.parametrize(
    "name",
    [
        "gwr_1955_nested.txt",  # 第一， holds its own 一、二、三、四、 and 第二， follows
        "gwr_1981_nested.txt",  # 四、 holds 一、二、三、 and 五、 follows
        "gwr_1999_shouxian.txt",  # 首先…其次…第三
        "gwr_2000_lines.txt",  # 一是 on a line of its own
    ],
)
def test_legitimate_report_numbering_is_not_flagged(name):
    # an excerpt may open with a heading such as 四、 (reported as coming without 一、), but
    # nothing after it is a finding
    assert [f for f in rules(fixture(name), "N") if f.paragraph > 1] == []


def test_full_reports_numbering_clean():
    for path in REPORTS.glob("gwr_*.txt"):
        assert rules(path.read_text(encoding="utf-8"), "N") == [], path.name


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("一、总体要求\n内容。\n三、保障措施\n内容。", "N101"),
        ("（一）加强领导\n（二）落实责任\n（二）强化督查", "N102"),
        ("1. 学习\n2. 部署\n4. 落实", "N101"),
        ("一、形势\n二、任务\n四、措施\n三、要求", "N103"),
        ("要做到：一是统一思想，二是明确任务，二是狠抓落实。", "N102"),
        ("**一是加强组织领导。**要成立专班。\n**二是强化督查。**\n**四是严肃问责。**", "N101"),
        ("## 一、提高认识\n### （一）形势\n### （三）责任\n## 二、落实", "N101"),
    ],
)
def test_numbering_kinds(text, rule):
    assert rule in ids(rules(text, "N"))


@pytest.mark.parametrize(
    "text",
    [
        "实事求是，一是一，二是二。",
        "这是唯一是非标准。坚持统一是前提。",
        "他说：“一是要学，三是要用。”",  # numbering inside a quotation is the quotation's
        "1.5万亿元用于基建。\n3.2万亿元用于民生。",
        "一、形势\n（一）成绩\n（二）问题\n二、任务\n（一）目标\n（二）措施",
        "主要是一要保重点，二要保民生。",
    ],
)
def test_numbering_negatives(text):
    assert rules(text, "N") == []


# --- U punctuation --------------------------------------------------------------------------


def test_half_width_in_seed_seven_is_fixed():
    text = SEEDS["篇七"]
    found = rules(text, "U101")
    assert found and all(f.fixable for f in found)
    fixed = apply_fixes(text, found)
    assert "(一)" not in fixed and "（一）" in fixed and "子合力；用大局" in fixed
    assert rules(fixed, "U101") == []
    # numbering still reads the same after the fix
    assert ids(rules(fixed, "N")) == ["N101"]


def test_half_width_report_2002():
    text = fixture("gwr_2002_halfwidth.txt")
    found = rules(text, "U101")
    assert {f.paragraph for f in found} >= {3, 4}  # 各位代表! and 努力奋斗!
    assert "各位代表！" in apply_fixes(text, found)


def test_chinese_numeral_heading_with_a_dot():
    fixed, left = fix_text("一.形势\n## 二．任务\n三、措施", CheckConfig(select=["U"]))
    assert fixed == "一、形势\n## 二、任务\n三、措施" and left == []


def test_half_width_negatives():
    text = "会议于10:30开始，共有1,000人参加，网址 https://www.gov.cn/a,b 可查，f(x) 取值。"
    assert rules(text, "U101") == []


def test_unbalanced_quotes_in_reports():
    found = rules(fixture("gwr_1982_quotes.txt"), "U102")
    assert found and all("”" in f.message for f in found)  # ”五讲四美三热爱” opens with a closer
    found = rules(fixture("gwr_2006_titles.txt"), "U102")
    assert any("》 closes nothing" in f.message for f in found)  # “纲要（草案）》


def test_balanced_pairs_and_multi_paragraph_quotation():
    assert rules(SEEDS["篇五"], "U102") == []
    text = "他指出：“第一段引文，\n“第二段引文。”\n（完）"
    assert rules(text, "U102") == []
    # a pair broken over lines by a web page (《\n文件名\n》) is one pair
    assert rules("通过了《\n中共中央关于加快农业发展若干问题的决定\n》。", "U102") == []


def test_doubled_punctuation_report_2006():
    text = fixture("gwr_2006_punct.txt")
    found = rules(text, "U103")
    assert len(found) == 1 and "，，" in found[0].message
    fixed = apply_fixes(text, found)
    assert "，，" not in fixed and "精神状态，更加扎实" in fixed
    assert rules("我们要努力。。大家要团结，。", "U103") and rules("……我们——", "U103") == []


def test_ascii_dash_report_2011():
    text = fixture("gwr_2011_dash.txt")
    found = rules(text, "U104")
    assert len(found) == 7
    assert "——我们要推动经济发展" in apply_fixes(text, found)
    assert rules(text, "P") == []  # a leading -- is a dash, not a placeholder
    assert rules(SEEDS["篇一"], "U104") == []  # 我叫--， is a placeholder, not a dash


# --- S salutation and closing ---------------------------------------------------------------


def test_closing_missing_in_seed_four_and_six():
    assert ids(rules(SEEDS["篇四"], "S")) == ["S103"]
    assert ids(rules(SEEDS["篇六"], "S")) == ["S103"]
    for name in ("篇一", "篇二", "篇三", "篇五", "篇七"):
        assert rules(SEEDS[name], "S") == [], name


def test_salutation_missing():
    text = SEEDS["篇七"].replace("同志们：", "", 1)
    assert "S101" in ids(rules(text, "S"))


def test_salutation_fits_audience():
    report = (REPORTS / "gwr_2025.txt").read_text(encoding="utf-8")
    assert rules(report, "S", audience="各位代表") == []
    assert ids(rules(SEEDS["篇七"], "S", audience="各位代表")) == ["S102"]
    assert rules(SEEDS["篇七"], "S", audience="全局干部职工") == []
    assert rules(SEEDS["篇五"], "S", audience="各位领导、各位来宾") == []


def test_welcome_speech_wants_zunjing():
    text = SEEDS["篇五"].replace("尊敬的各位领导、各位来宾：", "各位领导、各位来宾：", 1)
    assert ids(rules(text, "S")) == ["S104"]
    assert rules(SEEDS["篇三"], "S104") == []  # 尊敬的刘局长… welcomes the audit team properly


def test_report_closings_are_closings():
    for path in REPORTS.glob("gwr_*.txt"):
        assert rules(path.read_text(encoding="utf-8"), "S") == [], path.name


# --- R repetition and long sentences ----------------------------------------------------------


def test_repeated_sentences_in_report_2010():
    found = rules(fixture("gwr_2010_monetary.txt"), "R102")
    assert len(found) == 1 and "2 sentences said before" in found[0].message


def test_repeated_paragraph_removed_by_fix():
    text = SEEDS["篇五"]
    paras = [p for p in text.split("\n") if p.strip()]
    doubled = text.replace(paras[3], paras[3] + "\n\n" + paras[3], 1)
    found = rules(doubled, "R101")
    assert len(found) == 1 and found[0].paragraph == 5 and found[0].fixable
    assert apply_fixes(doubled, found) == text
    assert rules(text, "R101") == [] and rules(text, "R102") == []


def test_long_sentences():
    found = rules(SEEDS["篇三"], "R103")
    assert [f.paragraph for f in found] == [4, 5]
    assert "179 字" in found[0].message
    assert rules(SEEDS["篇三"], "R103", max_sentence=200) == []


# --- L length -------------------------------------------------------------------------------


def test_length_and_minutes():
    text = SEEDS["篇三"]  # 479 characters, ~450 字
    zi = len(re.sub(r"\s", "", text))
    assert rules(text, "L", length=zi) == []
    assert ids(rules(text, "L", length=zi * 2)) == ["L101"]
    assert "too long" in rules(text, "L", length=zi // 2)[0].message
    assert rules(text, "L", minutes=zi / 220) == []
    found = rules(text, "L", minutes=10)
    assert ids(found) == ["L102"] and "too short" in found[0].message
    assert rules(text, "L") == []  # no target, no finding


# --- F facts against a source ---------------------------------------------------------------


def test_figures_not_in_source():
    source = SEEDS["篇二"]
    speech = source.replace("29个乡镇", "35个乡镇").replace("近1000万元", "近1200万元")
    found = rules(speech, "F", source=source)
    assert ids(found) == ["F101", "F101"]
    assert "35个" in found[0].message and "1200万元" in found[1].message
    assert rules(source, "F", source=source) == []
    assert rules(speech, "F") == []  # without --source the rule is quiet


def test_names_and_documents_not_in_source():
    source = SEEDS["篇三"]
    speech = source + "\n王书记作了重要讲话，要认真学习《关于加强审计工作的意见》。"
    assert ids(rules(speech, "F", source=source)) == ["F102", "F103"]


# --- T traditional characters ---------------------------------------------------------------


def test_traditional_characters_in_report_1957():
    text = fixture("gwr_1957_opening.txt")
    found = rules(text, "T")
    assert found and all(f.fixable for f in found)
    assert any("議→议" in f.message for f in found)
    fixed, left = fix_text(text, CheckConfig(select=["T"]))
    assert left == [] and "会议" in fixed and "會議" not in fixed


def test_traditional_negative():
    assert rules(SEEDS["篇七"], "T") == []
    # a text written in traditional characters (the 1954 report) is not "mixed"
    assert rules(fixture("gwr_1954_opening.txt"), "T") == []
    assert rules("政府工作報告。各位代表：現在，我代表國務院，向大會報告政府工作。", "T") == []


# --- selection, API -------------------------------------------------------------------------


def test_select_and_ignore_like_ruff():
    text = SEEDS["篇七"]
    assert set(ids(lint(text))) == {"P101", "U101", "R103", "N101"}
    assert set(ids(lint(text, CheckConfig(ignore=["U", "R103"])))) == {"P101", "N101"}
    assert set(ids(lint(text, CheckConfig(select=["N1", "P"], ignore=["P101"])))) == {"N101"}
    assert validate_codes(["P", "N101", "Z9", "all"]) == ["Z9"]


def test_every_rule_is_documented():
    for rule in RULES.values():
        assert re.fullmatch(r"[PNUSRLFTGVQD]1\d\d|A[12]\d\d", rule.id) and rule.summary and rule.name


def test_fix_text_on_whole_seed_seven():
    text = SEEDS["篇七"]
    fixed, left = fix_text(text)
    assert not any(f.fixable for f in left)
    assert {f.rule for f in left} == {"P101", "R103", "N101"}
    assert fixed.count("（") == fixed.count("）")


def test_finding_dict():
    f = lint(SEEDS["篇四"], CheckConfig(select=["N"]))[0]
    d = f.to_dict()
    assert d["rule"] == "N101" and d["name"] == "numbering-gap" and d["severity"] == "error"
    assert d["paragraph"] == 4 and d["fixable"] is False
