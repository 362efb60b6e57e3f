"""Renderers: text, Markdown, JSON, and a .docx read back with python-docx (GB/T 9704 layout)."""

from __future__ import annotations

import io
import json

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt

from pipeline.render.speech import render_blocks, render_speech, speech_payload
from pipeline.speech import Section, Speech, Subsection

SPEECH = Speech(
    title="在全县安全生产工作会议上的讲话",
    subtitle="（2025年3月1日）",
    salutation="同志们：",
    opening="今天，我们召开全县安全生产工作会议。\n这次会议的主要任务是部署全年工作。",
    sections=[
        Section(
            heading="一、压实安全生产责任",
            paragraphs=["压实安全生产责任，是做好安全生产工作的关键。"],
            subsections=[Subsection(heading="（一）健全责任体系", paragraphs=["要健全责任体系。"])],
        ),
        Section(heading="二、深入开展隐患排查整治", paragraphs=["要深入开展隐患排查整治。"]),
    ],
    closing="同志们，让我们行动起来！\n谢谢大家！",
)


def _east_asia(element) -> str | None:
    rpr = element.find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts")) if rpr is not None else None
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


def test_text_and_markdown() -> None:
    text = render_speech(SPEECH, "text")
    assert text.startswith("在全县安全生产工作会议上的讲话\n\n（2025年3月1日）\n\n同志们：\n\n今天")
    assert text.endswith("谢谢大家！\n")
    md = render_speech(SPEECH, "md")
    assert md.startswith("# 在全县安全生产工作会议上的讲话\n\n*（2025年3月1日）*")
    assert "\n## 一、压实安全生产责任\n" in md and "\n### （一）健全责任体系\n" in md
    assert render_blocks([("title", "T"), ("para", ""), ("para", "P")]) == "T\n\nP\n"


def test_json_payload() -> None:
    payload = speech_payload(SPEECH, {"backend": "local"}, {"length": {"passed": True}}, True)
    data = json.loads(render_speech(SPEECH, "json", payload=payload))
    assert data["speech"]["sections"][1]["heading"] == "二、深入开展隐患排查整治"
    assert data["speech"]["zishu"] == SPEECH.zishu and data["metadata"]["backend"] == "local"
    assert data["ok"] is True and data["text"] == SPEECH.text()


def test_docx_reads_back_with_gbt9704_layout() -> None:
    data = render_speech(SPEECH, "docx")
    assert isinstance(data, bytes)
    doc = docx.Document(io.BytesIO(data))
    section = doc.sections[0]
    def mm(length) -> float:
        return round(length.mm, 1)  # stored in twips: 210 mm reads back as 210.0003 mm

    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert (mm(section.top_margin), mm(section.bottom_margin)) == (37, 35)
    assert (mm(section.left_margin), mm(section.right_margin)) == (28, 26)

    paras = [p for p in doc.paragraphs if p.text]
    assert [p.text for p in paras] == [t for _, t in SPEECH.blocks()]
    title, subtitle, salutation, opening = paras[0], paras[1], paras[2], paras[3]
    h1 = next(p for p in paras if p.text == "一、压实安全生产责任")
    h2 = next(p for p in paras if p.text == "（一）健全责任体系")

    # title: 小标宋 22 pt, centred
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER or title.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.runs[0].font.size == Pt(22)
    assert _east_asia(title.runs[0]._r) == "方正小标宋简体"
    assert _east_asia(title.style.element) == "方正小标宋简体"
    assert subtitle.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER

    # body: 仿宋 16 pt, two-character first-line indent, exactly 28 pt lines
    normal = doc.styles["Normal"]
    assert normal.font.size == Pt(16) and normal.font.name == "仿宋"
    assert _east_asia(normal.element) == "仿宋"
    pf = normal.paragraph_format
    assert pf.line_spacing_rule == WD_LINE_SPACING.EXACTLY and pf.line_spacing == Pt(28)
    assert pf.first_line_indent == Pt(32)
    ind = normal.element.find(qn("w:pPr")).find(qn("w:ind"))
    assert ind.get(qn("w:firstLineChars")) == "200"
    assert opening.style.name == "Normal"
    assert _east_asia(opening.runs[0]._r) == "仿宋" and opening.runs[0].font.size == Pt(16)
    # the 称呼 is not indented
    assert salutation.style.paragraph_format.first_line_indent == Pt(0)

    # headings: level 1 黑体, level 2 楷体, black, no theme fonts overriding them
    assert _east_asia(h1.runs[0]._r) == "黑体" and _east_asia(h1.style.element) == "黑体"
    assert _east_asia(h2.runs[0]._r) == "楷体" and _east_asia(h2.style.element) == "楷体"
    fonts = h1.style.element.find(qn("w:rPr")).find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsiaTheme")) is None and fonts.get(qn("w:asciiTheme")) is None
    assert h1.style.font.color.rgb == docx.shared.RGBColor(0, 0, 0)

    # page numbers in the footer
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and "— " in section.footer.paragraphs[0].text
    assert doc.core_properties.title == SPEECH.title


def test_docx_of_generic_blocks() -> None:
    from pipeline.render.speech import docx_bytes

    doc = docx.Document(io.BytesIO(docx_bytes([("title", "摘要"), ("h1", "一、要点"), ("para", "内容。")])))
    assert [p.text for p in doc.paragraphs if p.text] == ["摘要", "一、要点", "内容。"]
