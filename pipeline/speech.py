"""A speech as structured data: what adapt writes, restyle rewrites and the renderers lay out.

    title        在全县安全生产工作会议上的讲话
    salutation   同志们：
    opening      one or more paragraphs ("\n" between them)
    sections     一、<heading> + paragraphs (optionally 二级 subsections)
    closing      one or more paragraphs

字数 counts the body as read aloud (salutation to closing, headings included, title not).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from pipeline.text.hanzi import count_zi, speaking_minutes, split_paragraphs
from pipeline.text.numbering import H1_MARK, LEADING_NUMBER, cn_number, heading_level

BlockKind = Literal["title", "subtitle", "salutation", "h1", "h2", "para"]

def numbered_heading(n: int, text: str) -> str:
    """`一、压实安全生产责任` (any numbering the text already had is replaced)."""
    return f"{cn_number(n)}、{H1_MARK.sub('', text).strip()}"


class Subsection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    heading: str = Field(description="二级标题, e.g. （一）健全责任体系")
    paragraphs: list[str] = Field(default_factory=list)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    heading: str = Field(description="一级标题, e.g. 一、压实安全生产责任")
    paragraphs: list[str] = Field(default_factory=list, description="正文段落")
    subsections: list[Subsection] = Field(default_factory=list)

    @field_validator("paragraphs")
    @classmethod
    def _clean(cls, value: list[str]) -> list[str]:
        return [p.strip() for p in value if p and p.strip()]

    def text_parts(self) -> Iterator[str]:
        yield self.heading
        yield from self.paragraphs
        for sub in self.subsections:
            yield sub.heading
            yield from sub.paragraphs


class Speech(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, description="标题，如：在全县安全生产工作会议上的讲话")
    salutation: str = Field(default="", description="称呼，如：同志们：")
    opening: str = Field(default="", description="开场白，可含多段，段间用换行")
    sections: list[Section] = Field(default_factory=list)
    closing: str = Field(default="", description="结束语，可含多段")
    subtitle: str = Field(default="", description="题注，如：（2025年3月1日）或讲话人，可空")

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: Any) -> Any:
        # A dumped Speech carries its derived fields; reading it back must not trip extra="forbid".
        if isinstance(data, dict) and ("zishu" in data or "minutes" in data):
            data = {k: v for k, v in data.items() if k not in ("zishu", "minutes")}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def zishu(self) -> int:
        """字数 of the body (what is read aloud)."""
        return count_zi("".join(self.body_parts()))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def minutes(self) -> float:
        """Speaking time at about 220 字 per minute."""
        return speaking_minutes(self.zishu)

    def body_parts(self) -> Iterator[str]:
        if self.salutation:
            yield self.salutation
        yield from split_paragraphs(self.opening)
        for section in self.sections:
            yield from section.text_parts()
        yield from split_paragraphs(self.closing)

    def blocks(self) -> list[tuple[BlockKind, str]]:
        """The speech as typed blocks, the one input every renderer takes."""
        out: list[tuple[BlockKind, str]] = [("title", self.title)]
        if self.subtitle:
            out.append(("subtitle", self.subtitle))
        if self.salutation:
            out.append(("salutation", self.salutation))
        out += [("para", p) for p in split_paragraphs(self.opening)]
        for section in self.sections:
            out.append(("h1", section.heading))
            out += [("para", p) for p in section.paragraphs]
            for sub in section.subsections:
                out.append(("h2", sub.heading))
                out += [("para", p) for p in sub.paragraphs]
        out += [("para", p) for p in split_paragraphs(self.closing)]
        return out

    def text(self) -> str:
        """Plain text, one paragraph per line, a blank line between blocks."""
        return "\n\n".join(text for _, text in self.blocks()) + "\n"


class SpeechDraft(BaseModel):
    """What a capable model is asked to return in one call (no derived or signature fields)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, description="标题，如：在全县安全生产工作会议上的讲话")
    salutation: str = Field(min_length=2, description="称呼，如：同志们：")
    opening: str = Field(min_length=20, description="开场白，一到两段")
    sections: list[Section] = Field(min_length=1, description="每个要点一个部分，按要点顺序")
    closing: str = Field(min_length=10, description="结束语")

    def to_speech(self, subtitle: str = "") -> Speech:
        return Speech(**self.model_dump(), subtitle=subtitle)


_CLOSING_RE = re.compile(r"^(同志们|最后|让我们|谢谢|我相信|我们相信|衷心祝愿|祝|预祝|各位|朋友们|老师们)")


def map_paragraphs(speech: Speech, fn: Callable[[str], str]) -> Speech:
    """Apply fn(paragraph) -> paragraph ('' drops it) to every body paragraph."""
    def each(paras: list[str]) -> list[str]:
        return [q for q in (fn(p) for p in paras) if q]

    sections = []
    for s in speech.sections:
        subs = [sub.model_copy(update={"paragraphs": each(sub.paragraphs)}) for sub in s.subsections]
        sections.append(s.model_copy(update={"paragraphs": each(s.paragraphs), "subsections": subs}))
    return speech.model_copy(update={
        "opening": "\n".join(each(split_paragraphs(speech.opening))),
        "sections": sections,
        "closing": "\n".join(each(split_paragraphs(speech.closing))),
    })


def _is_heading(line: str, level: int) -> bool:
    # A heading is short, has words after its number, and has no full stop inside;
    # "（一）强化…。进一步…" is a lead-in paragraph.
    body = line.rstrip("。：:")
    return (heading_level(line) == level and bool(LEADING_NUMBER.sub("", line))
            and count_zi(line) <= 45 and "。" not in body)


def parse_speech_text(text: str, title: str = "") -> Speech:
    """Best-effort structure of a plain-text speech: salutation, opening, sections, closing.

    Used to learn the shape of corpus examples and to read a speech back for restyle.
    """
    lines = split_paragraphs(text)
    if lines and title and lines[0].strip() == title.strip():
        lines = lines[1:]
    elif lines and not title and count_zi(lines[0]) <= 40 and not lines[0].endswith(("。", "：", ":", "！")):
        title, lines = lines[0], lines[1:]
    salutation = ""
    for i, line in enumerate(lines[:2]):
        if line.endswith(("：", ":")) and count_zi(line) <= 30 and not _is_heading(line, 1):
            salutation = line
            lines = lines[i + 1 :]
            break
    opening: list[str] = []
    sections: list[Section] = []
    for line in lines:
        if _is_heading(line, 1):
            sections.append(Section(heading=line))
        elif not sections:
            opening.append(line)
        elif _is_heading(line, 2):
            sections[-1].subsections.append(Subsection(heading=line))
        elif sections[-1].subsections:
            sections[-1].subsections[-1].paragraphs.append(line)
        else:
            sections[-1].paragraphs.append(line)
    closing: list[str] = []
    if sections:
        tail = sections[-1].subsections[-1].paragraphs if sections[-1].subsections else sections[-1].paragraphs
        for j in range(max(0, len(tail) - 3), len(tail)):
            if _CLOSING_RE.match(tail[j]):
                closing, tail[j:] = tail[j:], []
                break
    else:
        for j in range(max(1, len(opening) - 3), len(opening)):
            if _CLOSING_RE.match(opening[j]):
                closing, opening = opening[j:], opening[:j]
                break
    return assemble(title, salutation, opening, sections, closing)


def assemble(title: str, salutation: str, opening: list[str], sections: list[Section],
             closing: list[str]) -> Speech:
    """A Speech from the lines a parser sorted into its parts ("讲话" when no title was found)."""
    return Speech(title=title or "讲话", salutation=salutation, opening="\n".join(opening),
                  sections=sections, closing="\n".join(closing))
