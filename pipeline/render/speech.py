"""Speeches out: plain text, Markdown, JSON and .docx laid out per GB/T 9704-2012.

Everything renders from typed blocks, so any command can lay out what it wrote:

    blocks = speech.blocks()                  # [("title", …), ("salutation", …), ("h1", …), ("para", …)]
    render_blocks(blocks, "md")               # text / md
    docx_bytes(blocks, title=…)               # .docx
    render_speech(speech, fmt, payload=…)     # the four formats for a Speech; json wraps payload

Block kinds: title, subtitle, salutation, h1 (一、), h2 （一）, para.

GB/T 9704-2012 as offices apply it to a speech: A4; margins top 37 mm, bottom 35 mm, left 28 mm,
right 26 mm; title in 方正小标宋简体 22 pt (二号), centred; body 仿宋 16 pt (三号) with a
two-character first-line indent and a fixed 28 pt line pitch; first-level headings 黑体,
second-level 楷体; page numbers "— 1 —" at the foot. python-docx writes only the Latin font
name, which Word ignores for Chinese characters: the East Asian font (w:eastAsia) is set on
every style and every run, and theme font attributes that would override it are removed.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pipeline.speech import BlockKind, Speech

if TYPE_CHECKING:
    from pipeline.tasks import TaskResult

Block = tuple[BlockKind, str]

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋"
H1_FONT = "黑体"
H2_FONT = "楷体"
TITLE_PT = 22
BODY_PT = 16
LINE_PT = 28
TITLE_LINE_PT = 36  # a 22 pt title on the 28 pt body pitch would clip its tops
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
PAGE_MM = (210, 297)


# ---- text and Markdown ------------------------------------------------------------------------


def render_blocks(blocks: Iterable[Block], fmt: str = "text") -> str:
    """Blocks as plain text (a blank line between blocks) or Markdown."""
    out: list[str] = []
    for kind, text in blocks:
        if not text:
            continue
        if fmt == "md":
            prefix = {"title": "# ", "h1": "## ", "h2": "### "}.get(kind, "")
            if kind == "subtitle":
                text = f"*{text}*"
            out.append(prefix + text)
        else:
            out.append(text)
    return "\n\n".join(out) + "\n"


def speech_payload(
    speech: Speech, metadata: dict[str, Any] | None = None, checks: dict[str, Any] | None = None,
    ok: bool | None = None,
) -> dict[str, Any]:
    """The JSON document of a speech: the speech, its text, metadata and checks."""
    payload: dict[str, Any] = {"speech": speech.model_dump(), "text": speech.text()}
    if metadata is not None:
        payload["metadata"] = metadata
    if checks is not None:
        payload["checks"] = checks
    if ok is not None:
        payload["ok"] = ok
    return payload


def render_json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def render_speech(speech: Speech, fmt: str, *, payload: dict[str, Any] | None = None) -> str | bytes:
    """A speech in one of text, md, json, docx (json uses `payload` when given)."""
    fmt = getattr(fmt, "value", fmt)
    if fmt == "json":
        return render_json(payload if payload is not None else speech_payload(speech))
    if fmt == "docx":
        return docx_bytes(speech.blocks(), title=speech.title)
    if fmt in ("text", "md"):
        return render_blocks(speech.blocks(), fmt)
    raise ValueError(f"unknown format {fmt!r}")


def render_speech_result(result: TaskResult, fmt: str) -> str | bytes:
    """A task result whose output is a Speech (adapt) in one of the four formats; json: the
    speech, its metadata and checks."""
    speech = Speech.model_validate(result.output)
    payload = speech_payload(speech, result.metadata, result.checks, result.ok) | {"task": result.task}
    out = render_speech(speech, fmt, payload=payload)
    if fmt == "md" and result.metadata.get("sources") and isinstance(out, str):
        # Grounded drafting: where each paragraph's sentences came from, as notes below it.
        out = out.rstrip("\n") + "\n\n" + sources_notes(result.metadata["sources"])
    return out


# ---- docx ---------------------------------------------------------------------------------------


def _set_fonts(element: Any, east_asia: str, latin: str | None = None) -> None:
    """Set w:rFonts on a style's or run's rPr: ascii/hAnsi/cs = latin, eastAsia = east_asia."""
    from docx.oxml.ns import qn

    rpr = element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(theme), None)  # a theme font would win over the names below
    latin = latin or east_asia
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:cs"), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)


def _indent_chars(paragraph_format: Any, chars: int, size_pt: int) -> None:
    """First-line indent of `chars` characters: in points and as w:firstLineChars (Word uses it)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    paragraph_format.first_line_indent = Pt(chars * size_pt) if chars else Pt(0)
    ppr = paragraph_format._element.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is not None:
        ind.set(qn("w:firstLineChars"), str(chars * 100))


def _style(doc: Any, name: str, *, font: str, size: int, bold: bool = False, center: bool = False,
           indent_chars: int = 2, exact_pt: float | None = LINE_PT, base: str | None = None) -> Any:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Pt, RGBColor

    styles = doc.styles
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        if base:
            style.base_style = styles[base]
    style.font.name = font
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    _set_fonts(style.element, font)
    pf = style.paragraph_format
    pf.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.JUSTIFY
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    if exact_pt:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(exact_pt)
    _indent_chars(pf, indent_chars, size)
    # Heading styles of the default template carry keep-with-next and an outline level: keep.
    return style


def _page_number_footer(section: Any) -> None:
    """“— 1 —” centred at the foot (宋体 14 pt), the PAGE field in the middle."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    para = section.footer.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def run(text: str = "") -> Any:
        r = para.add_run(text)
        r.font.size = Pt(14)
        _set_fonts(r._r, "宋体")
        return r

    run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        r = run()
        if kind:
            fld = r._r.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind})
            r._r.append(fld)
        else:
            instr = r._r.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
            instr.text = text
            r._r.append(instr)
    run(" —")


_KIND_STYLE = {
    "title": "讲话标题",
    "subtitle": "讲话题注",
    "salutation": "讲话称呼",
    "h1": "Heading 1",
    "h2": "Heading 2",
    "para": "Normal",
}
_KIND_FONT = {
    "title": TITLE_FONT, "subtitle": H2_FONT, "salutation": BODY_FONT, "h1": H1_FONT, "h2": H2_FONT,
    "para": BODY_FONT,
}


def build_docx(blocks: Sequence[Block], *, title: str = "") -> Any:
    """A python-docx Document of the blocks, GB/T 9704 layout."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])

    normal = _style(doc, "Normal", font=BODY_FONT, size=BODY_PT)
    lang = normal.element.get_or_add_rPr().makeelement(
        qn("w:lang"), {qn("w:val"): "en-US", qn("w:eastAsia"): "zh-CN"}
    )
    normal.element.get_or_add_rPr().append(lang)
    _style(doc, "Heading 1", font=H1_FONT, size=BODY_PT)
    _style(doc, "Heading 2", font=H2_FONT, size=BODY_PT)
    title_style = _style(doc, "讲话标题", font=TITLE_FONT, size=TITLE_PT, center=True, indent_chars=0,
                         exact_pt=TITLE_LINE_PT, base="Normal")
    title_style.paragraph_format.space_after = Pt(LINE_PT)
    _style(doc, "讲话题注", font=H2_FONT, size=BODY_PT, center=True, indent_chars=0, base="Normal")
    _style(doc, "讲话称呼", font=BODY_FONT, size=BODY_PT, indent_chars=0, base="Normal")

    for kind, text in blocks:
        if not text:
            continue
        para = doc.add_paragraph(style=_KIND_STYLE[kind])
        run = para.add_run(text)
        # Direct formatting on the run too: some viewers ignore style-level East Asian fonts.
        run.font.name = _KIND_FONT[kind]
        run.font.size = Pt(TITLE_PT if kind == "title" else BODY_PT)
        _set_fonts(run._r, _KIND_FONT[kind])
    _page_number_footer(section)
    doc.core_properties.title = title or next((t for k, t in blocks if k == "title"), "")
    doc.core_properties.language = "zh-CN"
    return doc


def docx_bytes(blocks: Sequence[Block], *, title: str = "") -> bytes:
    buf = io.BytesIO()
    build_docx(blocks, title=title).save(buf)
    return buf.getvalue()


def sources_notes(sources: list[dict[str, Any]]) -> str:
    """Markdown notes naming the material every paragraph stands on (adapt's metadata.sources),
    so a writer sees where a sentence came from."""
    from pipeline.speech import cn_number

    def part_name(key: str) -> str:
        if key.startswith("section-"):
            return f"第{cn_number(int(key.split('-')[1]))}部分"
        return {"opening": "开场白", "closing": "结束语"}.get(key, key)

    lines = ["---", "", "**素材来源**（每段所依据的素材；“简报”：只依据讲话要求本身）", ""]
    for entry in sources:
        cited = []
        for src in entry.get("sources", []):
            if src.get("origin") == "brief":
                cited.append("简报")
            else:
                cited.append(f"{src.get('source', '')}：「{src.get('text', '')}」")
        lines.append(f"- {part_name(entry['part'])}第{entry['paragraph'] + 1}段：" + "；".join(cited))
    return "\n".join(lines) + "\n"
