"""The one-call strategy: the whole SpeechDraft as JSON in one structured call, checked against
the outline (one section per point, in order) and given the pipeline's title, 称呼 and headings."""

from __future__ import annotations

from pydantic import model_validator

from pipeline.model.types import ChatRequest
from pipeline.prompts import load_prompt
from pipeline.speech import Section, Speech, SpeechDraft, numbered_heading
from pipeline.tasks import OneCall, TaskContext
from pipeline.tasks.adapt.brief import Brief, allowed_facts_list
from pipeline.tasks.adapt.outline import (
    Outline,
    plan,
)
from pipeline.tasks.adapt.selection import (
    Selection,
)
from pipeline.text.hanzi import normalize

__all__ = ["conform", "draft_schema", "one_call_request", "part_lengths"]


def draft_schema(brief: Brief) -> type[SpeechDraft]:
    """SpeechDraft that also checks the outline: one section per point, in order."""
    points = list(brief.points)

    class SpeechForBrief(SpeechDraft):
        @model_validator(mode="after")
        def _one_section_per_point(self) -> SpeechForBrief:
            if len(self.sections) != len(points):
                raise ValueError(
                    f"sections 应有{len(points)}个（每个要点一个：{'；'.join(points)}），实际{len(self.sections)}个"
                )
            for i, (section, point) in enumerate(zip(self.sections, points, strict=True)):
                if not section.paragraphs:
                    raise ValueError(f"sections[{i}].paragraphs 为空：每个部分至少一段正文")
                if normalize(point) not in normalize(section.heading):
                    raise ValueError(f"sections[{i}].heading 应为“{numbered_heading(i + 1, point)}”")
            return self

    SpeechForBrief.__name__ = "SpeechDraft"
    return SpeechForBrief


def part_lengths(brief: Brief, outline: Outline) -> dict[str, int]:
    by_key = {p.key: p.target for p in outline.parts}
    return {"opening": by_key["opening"], "closing": by_key["closing"], "section": by_key.get("section-1", 0)}


def one_call_request(
    brief: Brief, selection: Selection, ctx: TaskContext, ratio: float, material: list[dict] | None = None,
) -> OneCall:
    """`material`: retrieved sentences per part (grounding.prompt_material), shown as phrasing
    to adapt."""
    tpl = load_prompt("adapt", ctx.prompts_dir)
    outline = plan(brief)
    messages = tpl.render(
        brief=brief.model_dump(),
        title=outline.title,
        salutation=outline.salutation,
        headings=[p.heading for p in outline.parts if p.heading],
        length=brief.length,
        part_lengths=part_lengths(brief, outline),
        facts=allowed_facts_list(brief),
        examples=[{"id": e.id, "title": e.title, "text": e.text} for e in selection.examples],
        material=material or [],
    )
    # Room for the JSON around the prose, plus 40% over the target so the model never truncates.
    max_tokens = int(brief.length * ratio * 1.4) + 400
    schema = draft_schema(brief)
    request = ChatRequest(
        messages=messages, max_tokens=max_tokens, temperature=0.7,
        json_schema=SpeechDraft.model_json_schema(), schema_name="SpeechDraft",
    )
    return OneCall(request, schema, tpl.ref)


def conform(draft: SpeechDraft, brief: Brief, outline: Outline) -> Speech:
    """The model's draft with the pipeline's title, 称呼 and numbered headings."""
    sections = [
        Section(heading=numbered_heading(i, p), paragraphs=s.paragraphs, subsections=s.subsections)
        for i, (s, p) in enumerate(zip(draft.sections, brief.points, strict=True), 1)
    ]
    return Speech(
        title=outline.title, subtitle=outline.subtitle, salutation=outline.salutation,
        opening=draft.opening, sections=sections, closing=draft.closing,
    )


