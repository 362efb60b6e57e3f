"""restyle intake: news-site furniture out of the body, the text's own title / speaker / date /
genre, and blocks without paragraph breaks split into passages (real fixtures in
evals/data/restyle/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.tasks.restyle.intake import find_genre, read_input, split_block
from pipeline.text.hanzi import count_zi

DATA = Path(__file__).resolve().parent.parent / "evals" / "data" / "restyle"


def test_new_year_block_furniture_is_kept_out_and_its_facts_read() -> None:
    info = read_input((DATA / "newyear-heci-block.txt").read_text(encoding="utf-8"))
    assert info.genre == "贺词" and not info.is_meeting
    assert info.speaker == "国家主席习近平" and info.date == "12月31日"
    assert info.occasion == "二〇二六年新年"
    assert info.title == "国家主席习近平发表二〇二六年新年贺词"
    assert info.lead.startswith("新年前夕，国家主席习近平") and "全文如下" not in info.lead
    for furniture in ("全文如下", "新华社北京12月31日电", "摄）", "责任编辑", "王晓东"):
        assert furniture not in info.body, furniture
    lines = info.body.split("\n")
    assert lines[0] == "同志们、朋友们、女士们、先生们：" and lines[1] == "大家好！"
    assert lines[-1].startswith("祝愿") and info.split_blocks == 1
    assert 6 <= len(lines) <= 14 and all(count_zi(p) <= 300 for p in lines)


def test_published_report_header_gives_speaker_date_and_meeting() -> None:
    info = read_input((DATA / "report-2019-block.txt").read_text(encoding="utf-8"))
    assert info.genre == "报告" and info.speaker == "国务院总理李克强"
    assert info.occasion == "第十三届全国人民代表大会第二次会议" and info.is_meeting
    assert info.date == "2019年3月5日" and info.title == "政府工作报告"
    assert info.body.startswith("各位代表：") and info.split_blocks == 1
    assert "国务院总理" not in info.body.split("\n")[0]


@pytest.mark.parametrize(("text", "genre"), [
    ("在创建省级园林城市动员大会上的讲话", "讲话"), ("在“生态文明引领发展转型”论坛上的致辞", "致辞"),
    ("在全局精神文明创建工作动员大会上的表态发言", "表态发言"), ("2025年政府工作报告", "报告"),
    ("在民营企业座谈会上的讲话", "座谈会讲话"), ("习近平发表新年贺词", "贺词"),
])
def test_genre_from_the_title(text: str, genre: str) -> None:
    assert find_genre(text) == genre


def test_split_block_breaks_at_topics_and_keeps_every_sentence() -> None:
    block = (DATA / "garden-city-block.txt").read_text(encoding="utf-8").split("\n")[1]
    paras = split_block(block)
    assert paras[0] == "同志们：" and len(paras) >= 4
    assert "".join(paras[1:]) == block[len("同志们："):]  # nothing lost, nothing added
    assert any(p.startswith("第二，") for p in paras) and any(p.startswith("第三，") for p in paras)


def test_editor_and_source_lines_and_site_chrome_are_furniture() -> None:
    text = ("在全县安全生产工作会议上的讲话\n来源：县政府网 发布时间：2025-03-01 10:00\n同志们：\n"
            "今年全县共排查隐患1260处，整改完成率98.5%。各乡镇要压实责任。\n谢谢大家！\n（完）\n编辑：李明")
    info = read_input(text)
    assert "来源" not in info.body and "发布时间" not in info.body and "编辑" not in info.body
    assert "（完）" not in info.body and "1260处" in info.body
    assert info.occasion == "全县安全生产工作会议" and info.is_meeting
