"""pipeline.text.facts on sentences taken from the seed speeches and the government work reports."""

from __future__ import annotations

import pytest

from pipeline.text.facts import compare_facts, extract_facts, find_unsupported, mask_unsupported
from pipeline.text.numbers import cn_to_int, normalize_value

# 篇二 of the seed corpus, verbatim (placeholders included)
SEED_FLOOD = (
    "众所周知，在2周以前的7月15日□aa遭遇了520xx年一遇的特大洪灾，我市29个乡镇都不同程度的受灾，"
    "我们东坪也未能幸免。为了援助灾区人民，aa市开展了大规模的捐款活动，短短两周，筹得捐款近1000万元。"
)
# 2025 report, verbatim
REPORT_2025 = (
    "经济规模稳步扩大，国内生产总值达到134.9万亿元、增长5%，增速居世界主要经济体前列，对全球经济增长的"
    "贡献率保持在30%左右。就业、物价总体平稳，城镇新增就业1256万人、城镇调查失业率平均为5.1%，"
    "居民消费价格上涨0.2%。"
)


def _pairs(text: str, kinds=None) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in extract_facts(text, kinds)]


def test_seed_figures_and_dates_verbatim():
    pairs = _pairs(SEED_FLOOD)
    assert ("date", "7月15日") in pairs
    assert ("number", "29个") in pairs
    assert ("number", "近1000万元") in pairs
    # 520xx年 is a placeholder, not a year or a figure
    assert not any("520" in text or "xx" in text for _, text in pairs)


def test_report_figures_with_values():
    facts = {f.text: f for f in extract_facts(REPORT_2025)}
    assert facts["134.9万亿元"].value == "134900000000000元"
    assert facts["5%"].kind == "percent"
    assert facts["30%左右"].value == "30%"
    assert facts["1256万人"].value == "12560000人"
    assert facts["5.1%"].kind == "percent"


@pytest.mark.parametrize(
    ("text", "kind", "fact", "value"),
    [
        ("现有会员3800多，比去年增加。", "number", "3800多", "3800"),
        ("占全省总量的近四成。", "percent", "近四成", "40%"),
        ("约1/8的家庭参与。", "number", "1/8", "1/8"),
        ("用2-3年时间基本完成。", "number", "2-3年", "2-3年"),
        ("增长5.2%左右。", "percent", "5.2%左右", "5.2%"),
        ("开展第二轮督察。", "ordinal", "第二轮", "第2轮"),
        ("会议于9月16日至18日举行。", "date", "9月16日至18日", "9月16日~18日"),
        ("2024年是关键一年。", "date", "2024年", "2024年"),
        ("完成“十四五”规划目标。", "quote", "“十四五”", "十四五"),
        ("推动加入《数字经济伙伴关系协定》。", "title", "《数字经济伙伴关系协定》", "数字经济伙伴关系协定"),
        ("尊敬的刘局长，尊敬的市审计组各位领导", "person", "刘局长", "刘局长"),
        ("贾卫东副局长作了讲话", "person", "贾卫东副局长", "贾卫东副局长"),
        ("有五千年的文明史", "number", "五千年", "5000年"),
        ("提高０．５个百分点", "percent", "０．５个百分点", "0.5pp"),
        ("二〇二四年七月十五日", "date", "二〇二四年七月十五日", "2024年7月15日"),
        ("百分之八十五的群众满意", "percent", "百分之八十五", "85%"),
        ("三分之一的村", "number", "三分之一", "1/3"),
        ("实施2021—2025年规划", "date", "2021—2025年", "2021~2025年"),
    ],
)
def test_forms_issue_lists(text, kind, fact, value):
    got = [(f.kind, f.text, f.value) for f in extract_facts(text)]
    assert (kind, fact, value) in got


@pytest.mark.parametrize(
    "text",
    [
        "讲三点意见：一是统一思想，二是明确任务。",  # counting words are structure, not facts
        "坚持“三个代表”重要思想",  # only a quote, no figure
        "一成不变的老办法要改。",
        "我叫--，是实验中学---届的毕业生",
        "20xx年工作总结",
        "一、进一步明确指导思想",
        "（3）加强领导",
        "各位同志、全体同志们",
        "千方百计推动农业发展，应对世界百年变局",  # set phrases, not figures
        "发展第三产业，新增万吨级港口泊位，亿万人民",
        "严厉查处长春长生公司问题疫苗案件",  # not a 处长 named 严厉查
    ],
)
def test_not_figures(text):
    assert _pairs(text, ["number", "percent", "date", "ordinal", "person"]) == []


def test_list_marks_are_not_figures_but_figures_at_line_start_are():
    assert _pairs("1. 加强领导\n2、狠抓落实", ["number"]) == []
    assert _pairs("29个乡镇受灾", ["number"]) == [("number", "29个")]


def test_cn_to_int():
    assert cn_to_int("二〇二四") == 2024
    assert cn_to_int("十五") == 15
    assert cn_to_int("一千三百") == 1300
    assert cn_to_int("两万") == 20000
    assert cn_to_int("十三亿") == 1_300_000_000
    assert cn_to_int("abc") is None


def test_normalize_width_and_magnitudes():
    assert normalize_value("number", "１０００万元") == normalize_value("number", "一千万元")
    assert normalize_value("number", "1,000万元") == "10000000元"
    assert normalize_value("percent", "５％") == "5%"


def test_compare_facts_kept_dropped_added():
    output = "全市２９个乡镇受灾，捐款一千万元。7月16日，增长百分之十。王书记讲话。"
    report = compare_facts(SEED_FLOOD, output)
    kept = {f.text for f in report.kept}
    dropped = {f.text for f in report.dropped}
    added = {f.text for f in report.added}
    assert {"29个", "近1000万元"} <= kept  # full width and 一千万 normalize to the source figures
    assert "7月15日" in dropped
    assert {"7月16日", "百分之十", "王书记"} <= added
    assert 0 < report.recall < 1
    assert report.to_dict()["added"][0]["kind"] in ("date", "percent", "person")


def test_compare_facts_identical_text_has_nothing_added_or_dropped():
    report = compare_facts(REPORT_2025, REPORT_2025)
    assert report.dropped == [] and report.added == []
    assert report.recall == 1.0


def test_find_unsupported_and_mask_for_the_fact_guard():
    brief = ["全县安全生产工作会议", "今年以来发生事故3起，死亡2人", "县长"]
    speech = "今年以来全县发生事故3起，死亡2人，直接经济损失1200万元，同比下降15.6%。7月15日起开展第二轮排查。"
    bad = [f.text for f in find_unsupported(speech, brief)]
    assert bad == ["1200万元", "15.6%", "7月15日", "第二轮"]
    masked = mask_unsupported(speech, brief)
    assert masked == (
        "今年以来全县发生事故3起，死亡2人，直接经济损失XX万元，同比下降XX%。XX月XX日起开展第XX轮排查。"
    )
    # a single string works as the allowed text too, and supported figures stay
    assert mask_unsupported("死亡2人", "死亡2人") == "死亡2人"


def test_mask_person_keeps_title():
    assert mask_unsupported("贾卫东副局长作重要讲话", []) == "XX副局长作重要讲话"
    assert mask_unsupported("贾卫东副局长作重要讲话", ["贾卫东"]) == "贾卫东副局长作重要讲话"


def test_verbatim_match_respects_number_boundaries():
    # 5% occurs inside 15% and 29个 inside 129个, but they are other figures
    bad = [f.text for f in find_unsupported("增长5%，共29个乡镇，投资1.5万亿元", ["增长15%，共129个乡镇，投资21.5万亿元"])]
    assert bad == ["5%", "29个", "1.5万亿元"]
    assert find_unsupported("增长15%，共129个乡镇", "增长15%，共129个乡镇") == []


def test_a_title_before_the_name_is_a_person_too() -> None:
    from pipeline.text.facts import extract_facts, find_unsupported, mask_unsupported

    def persons(text: str) -> list[str]:
        return [f.text for f in extract_facts(text, ["person"])]

    assert persons("市委常委、市委政法委副书记张国庆主持会议。") == ["副书记张国庆"]
    assert persons("会议由县长李明主持。总理李强所作的报告") == ["县长李明", "总理李强"]
    # a title followed by an ordinary word is no name
    assert persons("书记万分感谢大家。县长要求各乡镇要落实。市长高度重视。局长和同志们一起。") == []
    assert [f.text for f in find_unsupported("副县长李明主持会议。", "李明")] == []
    assert mask_unsupported("副县长李明主持会议。", "") == "副县长XX主持会议。"


def test_substance_kinds_are_opt_in():
    """count, year, meeting, org: asked for by name; the default extraction is unchanged."""
    from pipeline.text.facts import SUBSTANCE_KINDS, extract_facts, find_unsupported

    text = "今年，我市有十个部门和十二位专家组开展了督查，贯彻《职责报告（2018）》和党的十八届五中全会精神，吉林省、新华市委参加。"
    assert [f.kind for f in extract_facts(text)] == ["title"]
    got = {(f.kind, f.text, f.value) for f in extract_facts(text, SUBSTANCE_KINDS)}
    assert {("count", "十个", "10个"), ("count", "十二位", "12位"), ("year", "2018", "2018年"),
            ("meeting", "党的十八届五中全会", "十八届五中全会"), ("org", "吉林省", "吉林省"),
            ("org", "新华市委", "新华市委")} <= got
    # three structural counts and list words are no figures
    assert not extract_facts("三个方面，十个坚持，五位一体，落实好县委部署", SUBSTANCE_KINDS)
    assert not find_unsupported("有十二位专家", ["12位专家"], SUBSTANCE_KINDS)
    assert [f.text for f in find_unsupported("十八届五中全会以来", ["党的十八届五中全会"], SUBSTANCE_KINDS)] == []
