"""Every parsing rule of corpus ingestion, on the real seed page and real government reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.corpus.classify import classify
from pipeline.corpus.clean import clean_page, close_cjk_gaps, is_reader_boilerplate, strip_footer
from pipeline.corpus.ingest import parse_document
from pipeline.corpus.repair import repair_text, should_join
from pipeline.corpus.split import parse_number, split_collection
from pipeline.corpus.structure import find_structure, heading_level, is_salutation, split_front
from pipeline.text.placeholders import (
    find_placeholders,
    has_placeholder,
    mask_placeholders,
    placeholder_tokens,
)
from pipeline.text.textio import read_text

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
SEED = SEEDS / "000_4c88201f79132202.txt"
REPORTS = SEEDS / "reports"


@pytest.fixture(scope="module")
def seed_records():
    return [p.record for p in parse_document(read_text(SEED), SEED.name)]


@pytest.fixture(scope="module")
def seed_by_n(seed_records):
    return {i + 1: r for i, r in enumerate(seed_records)}


# --- split ---------------------------------------------------------------------------------

def test_seed_page_splits_into_seven_under_its_own_headings():
    page = clean_page(read_text(SEED)).text
    result = split_collection(page)
    labels = [s.label for s in result.sections]
    assert labels == [f"创建文明城市领导讲话篇{n}" for n in "一二三四五六七"]
    assert result.sections[0].text.lstrip().startswith("尊敬的老师，亲爱的同学们：")
    assert result.sections[-1].text.rstrip().endswith("谢谢大家！")


@pytest.mark.parametrize(
    "heads",
    [
        ["范文一", "范文二", "范文三"],
        ["【篇1】", "【篇2】"],
        ["第1篇", "第2篇"],
        ["篇一：在安全生产会议上的讲话", "篇二：在防汛工作会议上的讲话"],
        ["第一篇", "第二篇"],
        ["篇一", "篇二", "篇三"],
        ["【范文1】", "【范文2】"],
        ["精选范文1：表态发言", "精选范文2：欢迎辞"],
    ],
)
def test_other_collection_heading_styles(heads):
    bodies = [f"同志们：\n今天召开第{i}次会议。我讲三点意见。" for i in range(len(heads))]
    page = "优秀讲话稿大全\n\n" + "\n\n".join(f"{h}\n\n{b}" for h, b in zip(heads, bodies, strict=True))
    sections = split_collection(page).sections
    assert [s.label for s in sections] == heads
    assert [s.text.strip() for s in sections] == bodies


def test_a_sentence_mentioning_an_article_is_not_a_cut():
    text = "同志们：\n第一篇文章要写好。\n大家要努力。"
    assert len(split_collection(text).sections) == 1
    # numbers out of order are not a collection either
    assert len(split_collection("范文三\n甲\n范文一\n乙").sections) == 1


def test_fast_zi_count_equals_hanzi_count_zi():
    from pipeline.text.hanzi import count_zi
    from pipeline.text.hanzi import count_zi as reference

    for path in (SEED, *sorted(REPORTS.glob("*.txt"))):
        text = read_text(path)
        assert count_zi(text) == reference(text), path.name
    assert count_zi("同志们：\u3000\xa0 好\n\t") == reference("同志们：\u3000\xa0 好\n\t") == 5


def test_parse_number():
    assert [parse_number(x) for x in ("七", "十", "十二", "二十", "3", "１２", "两")] == [7, 10, 12, 20, 3, 12, 2]


# --- clean ---------------------------------------------------------------------------------

def test_seed_boilerplate_is_gone(seed_records):
    everything = "\n".join(r.text for r in seed_records)
    for junk in ("小编", "每个人都曾试图", "希望可以帮助到有需要的朋友", "大全7篇", "创建文明城市领导讲话篇"):
        assert junk not in everything


def test_reader_boilerplate_rules():
    assert is_reader_boilerplate("以上就是小编为大家整理的讲话稿，希望对大家有所帮助。")
    assert is_reader_boilerplate("下面是小编为大家收集的优秀范文，供大家参考借鉴。")
    # a speech may say 供大家参考; only reader-addressed cues count
    assert not is_reader_boilerplate("下面，我讲几点意见，供大家参考。")
    # a salutation to netizens, a railway speech about 本站: speech, not site matter
    assert not is_reader_boilerplate("各位网友、朋友们：")
    assert not is_reader_boilerplate("本站全体职工要把安全放在首位，接下来大家都要写好这篇文章。")
    # a long paragraph of a report that says 仅供参考 in passing is speech, not boilerplate
    assert not is_reader_boilerplate("有些工业建设单位不按照建设程序办事，" * 20 + "仅供参考")


@pytest.mark.parametrize("name", ["2024年政府工作报告.txt", "2021年政府工作报告.txt", "1992年政府工作报告.txt"])
def test_wikisource_licence_footer_is_stripped(name):
    raw = read_text(REPORTS / name)
    assert "本作品是中华人民共和国的" in raw and "Public domain" in raw
    records = parse_document(raw, name)
    assert len(records) == 1
    text = records[0].record.text
    for junk in ("本作品", "公有领域", "Public domain", "false", "维基文库", "著作权法"):
        assert junk not in text
    assert text.endswith(("！", "。"))


def test_footer_after_wiki_links_and_junk_lines():
    body = "会议号召全国各族人民团结奋斗。" * 5
    text, footer = strip_footer(body + "\n\n本作品来自\n中华人民共和国法律\n。\n\nPublic domain\nfalse")
    assert text == body and footer.startswith("本作品来自")
    assert strip_footer(body + "\n\nPublic domain\nPublic domain\nfalse\nfalse")[0] == body


def test_spaces_inside_chinese_are_closed_but_latin_words_keep_theirs():
    assert close_cjk_gaps("文明创建人 是关键") == "文明创建人是关键"
    assert close_cjk_gaps("从1 9 9 3 年3 月就职") == "从1993年3月就职"
    assert close_cjk_gaps("在 WTO 框架下") == "在 WTO 框架下"


# --- repair --------------------------------------------------------------------------------

def test_the_two_named_broken_paragraphs_are_joined(seed_by_n):
    assert "主要领导任职期间" in seed_by_n[3].text
    assert "当你的孩子为新学期开学做着准备时" in seed_by_n[2].text
    for n, r in seed_by_n.items():
        assert "主要领\n" not in r.text and "孩子为\n" not in r.text, n


@pytest.mark.parametrize(
    ("n", "joined"),
    [
        (1, "我建议大家到了初中后把成绩看淡一些"),
        (5, "广大群众对生态安全的期待"),
        (5, "持久影响力，充分利用各种方式"),
        (6, "围绕中心，服务大局，贴近实际"),
        (6, "提高文明程度作为为人民群众"),
        (6, "在全处大力开展创建文明科室"),
        (7, "发展水平的集中体现，也是"),
        (7, "社会主义市场经济体制的不断发展"),
        (7, "形成班子合力"),
        (7, "把握构建和谐人际关系"),
        (7, "“五一”、“七一”、“十一”"),
    ],
)
def test_every_layout_break_in_the_seeds_is_joined(seed_by_n, n, joined):
    assert joined in seed_by_n[n].text.replace("\n", "|")


def test_no_paragraph_of_a_seed_is_left_mid_sentence(seed_records):
    for r in seed_records:
        for p in r.paragraphs():
            ends_open = p[-1] in "，、（《“" or (p[-1] not in "。！？；：…”" and len(p) > 45)
            assert not ends_open, (r.id, p[-20:])


def test_real_paragraphs_and_headings_are_not_joined(seed_by_n):
    paras1 = seed_by_n[1].paragraphs()
    assert "要用一个词总结初一的话，那就是“适应”" in paras1  # a sub-heading line stays alone
    paras2 = seed_by_n[2].paragraphs()
    assert paras2[:2] == ["父老乡亲们：", "大家上午好"]  # greeting without punctuation stays
    paras7 = seed_by_n[7].paragraphs()
    assert "一、统一思想，提高认识，深刻理解创建精神文明单位的重要意义" in paras7
    assert "二、严格标准，迅速行动，全面落实好创建文明单位各项工作任务" in paras7
    paras6 = seed_by_n[6].paragraphs()
    assert "一、进一步明确指导思想" in paras6


def test_should_join_rules():
    assert should_join("政府经济责任审计是由国家审计机关对各级党政机关主要领", "导任职期间国家受托经济责任")
    assert not should_join("一、统一思想，提高认识", "创建精神文明单位是体现行业形象的重要标志。")
    assert not should_join("大家上午好", "众所周知，在2周以前")
    assert not should_join("同志们：", "今天召开动员大会。")
    assert not should_join("这是很重要的。", "下面我讲三点。")
    # a heading of a report without numbering is not glued to its first paragraph
    assert not should_join("五年来，国民经济保持良好发展势头，经济结构战略性调整迈出重要步伐", "经济持续较快增长。")
    # '意见|过去' must not be read as the word 见过
    assert not should_join("请予审议，并请全国政协委员提出意见", "过去的一年，面对复杂多变的国际环境")
    # a list item after a lead-in keeps its own paragraph
    assert not should_join("主要原因是：", "一是企业管理体制不适应。")
    # the page marks a new paragraph (indent): only punctuation could prove a continuation
    assert not should_join("各方面的经济效果提高了。但是仍然不够好，效益提高了", "在农业生产中", new_block=True)


def test_report_soft_wraps_and_word_breaks_are_joined():
    text = read_text(REPORTS / "2021年政府工作报告.txt")
    record = parse_document(text, "2021年政府工作报告.txt")[0].record
    body = record.text
    assert "交出一份人民满意、世界瞩目、可以载入史册的答卷" in body  # broken by the page, with U+200B
    assert "完善资本市场基础制度。" in body
    assert "\u200b" not in body
    # the headings keep their own lines
    assert "一、2020年工作回顾" in record.paragraphs()


def test_repair_in_a_one_line_per_paragraph_file():
    text = "同志们：\n今天召开全县安全生产工作会议，主要任务是\n部署今年的安全生产工作。\n一、提高认识\n安全生产是头等大事。"
    assert repair_text(text).paragraphs == [
        "同志们：",
        "今天召开全县安全生产工作会议，主要任务是部署今年的安全生产工作。",
        "一、提高认识",
        "安全生产是头等大事。",
    ]


# --- structure -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("n", "salutation", "closing"),
    [
        (1, "尊敬的老师，亲爱的同学们：", "谢谢大家！"),
        (2, "父老乡亲们：", "谢谢大家！"),
        (3, "尊敬的刘局长，尊敬的市审计组各位领导同志们：", "谢谢大家！"),
        (4, "同志们：", None),
        (5, "尊敬的各位领导、各位来宾：", "谢谢大家。"),
        (6, "各位领导、同志们：", None),
        (7, "同志们：", "谢谢大家！"),
    ],
)
def test_salutation_and_closing(seed_by_n, n, salutation, closing):
    assert seed_by_n[n].salutation == salutation
    assert seed_by_n[n].closing == closing


def test_numbered_headings_all_levels(seed_by_n):
    assert seed_by_n[6].headings == [
        "一、进一步明确指导思想",
        "二、进一步明确工作目标、任务、强化工作措施",
        "三、进一步调动全社会力量，全方位推进创建工作",
        "四、进一步加强领导，加大督查力度",
    ]
    h7 = seed_by_n[7].headings
    assert h7[0] == "一、统一思想，提高认识，深刻理解创建精神文明单位的重要意义"
    # a long paragraph that opens with (一) contributes its lead sentence
    assert "(一) 强化领导班子建设增强文明创建领导力" in h7
    assert "(六)深化工商文化建设增强文明建设的凝聚力" in h7
    assert len(h7) == 12
    assert [heading_level(x) for x in ("一、总体要求", "（一）目标", "(二)任务", "1. 加强领导", "2、落实责任", "（1）细则")] == [1, 2, 2, 3, 3, 4]
    assert heading_level("1.5亿元") is None
    structure = find_structure(["同志们：", "1. 加强领导", "要提高认识。", "2、落实责任"])
    assert structure.headings == ["1. 加强领导", "2、落实责任"]


def test_salutation_variants():
    assert is_salutation("各位代表：") and is_salutation("各位代表:") and is_salutation("各位代表！")
    assert is_salutation("尊敬的各位领导、各位来宾，女士们、先生们：")
    assert not is_salutation("主要表现在：")
    assert not is_salutation("我们的目标是：") and not is_salutation("你们好！")
    assert is_salutation("各位学员们：") and is_salutation("村民们！")
    assert find_structure(["各位代表，现在，我代表国务院，作政府工作报告。"]).salutation == "各位代表"
    for closing in ("谢谢大家！", "谢谢！", "谢谢大家。", "再次感谢大家！", "谢谢各位!", "感谢大家的聆听！"):
        assert find_structure(["同志们：", "要抓好落实。", closing]).closing == closing
    assert find_structure(["同志们：", "谢谢大家的支持，我们一定努力。"]).closing is None


def test_report_title_byline_and_speaker_come_off_the_text():
    record = parse_document(read_text(REPORTS / "2024年政府工作报告.txt"), "2024年政府工作报告.txt")[0].record
    assert record.salutation == "各位代表："
    assert record.paragraphs()[0] == "各位代表："
    assert record.date == "2024-03-05"
    assert record.occasion == "第十四届全国人民代表大会第二次会议"
    assert record.speaker == "国务院总理李强"
    assert record.title == "2024年政府工作报告"
    assert "——2024年3月5日" not in record.text
    front, rest = split_front(["政府工作报告", "——2024年3月5日在第十四届全国人民代表大会第二次会议上", "国务院总理\u3000李\u3000强", "各位代表：", "现在。"])
    assert rest == ["各位代表：", "现在。"] and front.speaker == "国务院总理李强"


# --- placeholders --------------------------------------------------------------------------

def test_every_seed_placeholder_is_recorded(seed_by_n):
    assert seed_by_n[1].placeholders == ["--", "---"]  # 我叫--，是实验中学---届的毕业生
    assert seed_by_n[2].placeholders == ["□", "aa", "520xx", "xx"]  # 7月15日□aa遭遇了520xx年一遇
    assert seed_by_n[3].placeholders == []
    assert seed_by_n[4].placeholders == ["xx", "一一"]  # 一一的园林绿化事业
    assert seed_by_n[5].placeholders == []
    assert seed_by_n[6].placeholders == ["20xx"]
    assert seed_by_n[7].placeholders == ["20xx"]


def test_placeholder_positions_and_mask(seed_by_n):
    text = seed_by_n[4].text
    blanks = [p for p in find_placeholders(text) if p.kind == "yiyi"]
    assert [text[p.start - 2: p.end + 3] for p in blanks] == ["下，一一的园林", "我们一一园林绿"]
    masked = mask_placeholders(seed_by_n[2].text)
    assert "xx" not in masked and "aa" not in masked and "□" not in masked and "＿＿年一遇" in masked
    assert has_placeholder("请xx同志发言") and not has_placeholder("请张三同志发言")


@pytest.mark.parametrize(
    "text",
    ["要把问题一一落实", "逐一解决、一一列举", "二○○○年", "30--40人", "--我们要推动经济发展", "2-3年", "Xbox", "2024年"],
)
def test_ordinary_text_is_not_a_placeholder(text):
    assert placeholder_tokens(text) == []


def test_no_placeholders_in_government_reports():
    for path in REPORTS.glob("*.txt"):
        assert parse_document(read_text(path), path.name)[0].record.placeholders == [], path.name


# --- labels from content -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("n", "genre", "speaker", "audience"),
    [
        (1, "经验交流发言", "实验中学毕业生", "中学生（学弟学妹）和老师"),
        (2, "募捐动员讲话", "乡党委政府领导", "父老乡亲"),
        (3, "欢迎致辞", "彬县人民政府县长", "市审计组"),
        (4, "动员大会讲话", "市领导", "与会同志"),
        (5, "论坛致辞", "市人民政府领导", "出席论坛的领导和来宾"),
        (6, "表态发言", "局党组代表", "全局干部职工"),
        (7, "动员大会讲话", "局主要领导", "全局干部职工"),
    ],
)
def test_labels_follow_content_not_the_page_title(seed_by_n, n, genre, speaker, audience):
    r = seed_by_n[n]
    assert (r.genre, r.speaker, r.audience) == (genre, speaker, audience)
    assert "创建文明城市" not in r.title
    assert not has_placeholder(r.title + (r.occasion or "") + (r.speaker or ""))


def test_occasions(seed_by_n):
    assert seed_by_n[2].occasion == "“我为灾民献爱心”活动"
    assert seed_by_n[4].occasion == "创建省级园林城市动员大会"
    assert seed_by_n[5].occasion == "“生态文明引领发展转型”论坛"
    assert seed_by_n[6].occasion == "全局精神文明创建工作动员大会"
    assert seed_by_n[7].occasion == "争创自治区精神文明单位动员会"


def test_reports_are_government_work_reports():
    for path in REPORTS.glob("*.txt"):
        r = parse_document(read_text(path), path.name)[0].record
        assert (r.genre, r.audience) == ("政府工作报告", "全国人民代表大会代表"), path.name
        assert r.speaker and r.speaker.startswith("国务院总理")


def test_classify_on_a_short_text():
    labels = classify("同志们：\n今天召开全县安全生产工作动员大会。下面，我讲几点意见。", salutation="同志们：")
    assert labels.genre == "动员大会讲话"
    assert labels.occasion == "全县安全生产工作动员大会"
    assert labels.title == "在全县安全生产工作动员大会上的讲话"


@pytest.mark.parametrize(
    ("text", "genre", "occasion"),
    [
        ("同志们：\n今天，我们召开全县安全生产工作会议，主要任务是部署今年任务。下面，我讲三点意见。",
         "工作会议讲话", "全县安全生产工作会议"),
        ("尊敬的各位来宾，女士们、先生们：\n在这金秋时节，第十届农民丰收节隆重开幕了。我谨代表县委、县政府，向各位来宾表示热烈欢迎！",
         "开幕致辞", "第十届农民丰收节开幕式"),
        ("同志们：\n今天，我们隆重召开全市教育系统表彰大会，对先进集体和先进个人进行表彰。",
         "表彰大会讲话", "全市教育系统表彰大会"),
        ("尊敬的各位领导、同志们：\n衷心感谢组织的信任，让我走上新的工作岗位。请各位领导放心。", "表态发言", None),
        ("同志们：\n今天召开民营企业家座谈会，主要是听取大家的意见建议。", "座谈会讲话", "民营企业家座谈会"),
        ("各位领导、同志们：\n根据安排，现将本人一年来履职情况述职如下，请予评议。", "述职报告", None),
    ],
)
def test_other_genres_from_content(text, genre, occasion):
    structure = find_structure(text.split("\n"))
    labels = classify(text, salutation=structure.salutation)
    assert (labels.genre, labels.occasion) == (genre, occasion)


@pytest.mark.parametrize("width", [24, 30, 38])
def test_text_hard_wrapped_at_a_fixed_width_is_reflowed(seed_records, width):
    """Text copied from a PDF: every paragraph cut into lines of `width` characters."""
    restored = total = 0
    for r in seed_records:
        paras = r.paragraphs()
        wrapped = "\n".join("\n".join(p[i: i + width] for i in range(0, len(p), width)) for p in paras)
        out = repair_text(wrapped).paragraphs
        total += len(paras)
        restored += len(set(paras) & set(out))
        assert all(p in out for p in paras if heading_level(p) and len(p) < width - 3), r.id
    assert restored >= 0.9 * total, (restored, total)
