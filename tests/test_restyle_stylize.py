"""restyle stylize: the deterministic half of every style (vetted table, long sentences split,
spoken turns) and the change share that decides whether a style really happened."""

from __future__ import annotations

from pipeline.styles import get_style
from pipeline.tasks.restyle.stylize import Turns, change_share, changed, split_long, stylize
from pipeline.text.hanzi import normalize


def test_plain_table_reads_right_and_never_touches_facts() -> None:
    plain = get_style("plain")
    out = stylize("要切实贯彻落实上级决策部署，进一步加强组织领导，确保3月31日前完成98.5%的整改任务。", plain)
    assert "实实在在地落实好上级决定和安排" in out and "再加强" in out and "保证" in out
    assert "3月31日" in out and "98.5%" in out
    assert stylize("这个方案切实可行。", plain) == "这个方案切实可行。"  # 切实可行 stays
    assert "“切实贯彻落实”" in stylize("他说“切实贯彻落实”是关键。", plain)  # quotations untouched


def test_long_sentences_are_split_where_a_sentence_can_stand_alone() -> None:
    long = "全县3800多名干部群众万众一心克难奋进，并在短时间内全部恢复了水、电、路，我们要把这种精神发扬光大，让灾区群众早日重建家园。"
    parts = split_long(long, 30)
    assert len(parts) >= 2 and all(p.endswith("。") for p in parts)
    assert normalize("".join(parts)).replace("同时", "") == normalize(long).replace("并", "", 1)
    assert split_long("短句不拆。", 30) == ["短句不拆。"]


def test_oral_turns_fit_the_sentence_and_the_audience() -> None:
    oral = get_style("oral")
    turns = Turns(oral, "老师们、同学们：")
    outs = [stylize(s, oral, turns) for s in [
        "新学期开始了，学校面貌焕然一新。", "今年我校新招收学生1200名，比去年增加86名。",
        "全体师生都要珍惜时间，把学习放在首位。", "教学楼已经全部改造完成，大家可以放心使用。",
        "各班主任要抓好班级管理工作，确保平安开学。", "我们要让每一位同学都有收获。",
    ]]
    assert not any("同志们" in o for o in outs)  # a school is not addressed as 同志
    assert sum(o.startswith(("大家", "我", "说到底", "这里")) for o in outs) >= 2


def test_change_share_counts_words_and_splits_not_punctuation() -> None:
    assert not changed("我们要抓好落实；确保安全。", "我们要抓好落实。确保安全。")  # ；→。 alone
    assert changed("我们要抓好落实，让大家放心。", "我们要抓好落实。让大家放心。")  # a split counts
    assert not changed("我们要抓好落实。", "我们要抓好落实！")
    assert changed("因此我们要抓好落实。", "所以我们要抓好落实。")
    pairs = [("谢谢大家！", "谢谢大家！"), ("因此我们要抓好落实。", "所以我们要抓好落实。"), ("全县共排查隐患1260处。", "全县共排查隐患1260处。")]
    assert change_share(pairs) == (1, 2)  # 谢谢大家 is too short to count
