"""The plan-draft strategy: the model continues one paragraph at a time, part by part of the
outline, over a shared prompt prefix (the examples), and the pipeline cleans every paragraph."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.events import emit
from pipeline.model.types import ChatRequest, Message
from pipeline.paths import prompts_dir
from pipeline.prompts import load_prompt
from pipeline.tasks import TaskContext
from pipeline.tasks.adapt.brief import Brief, allowed_texts
from pipeline.tasks.adapt.frames import frame_paragraphs, load_frames
from pipeline.tasks.adapt.grounding import Grounding
from pipeline.tasks.adapt.outline import (
    Cleaner,
    Outline,
    PartPlan,
    off_topic_terms,
    self_unit,
    trim_part,
)
from pipeline.tasks.adapt.selection import Selection
from pipeline.text.hanzi import count_zi
from pipeline.text.numbering import cn_number

__all__ = ["DRAFT_MIN_TOKENS", "DRAFT_STOPS", "Drafter", "make_cleaner", "part_label"]

DRAFT_TEMPERATURE = 0.8
DRAFT_TOP_P = 0.9
DRAFT_REPEAT_PENALTY = 1.3

SHORT_PARAGRAPH = 60  # 字
# One call writes one paragraph: it stops at the line end (the pipeline picks the opener of the
# next paragraph, or has the model go on with this one) and at 谢谢 (the pipeline closes the
# speech). A paragraph that runs on to a numbered heading or a list of its own would be
# followed by lines the pipeline does not plan.
DRAFT_STOPS = ("\n", "谢谢")
# A base model ends a paragraph after one short sentence as readily as after five: a line
# break is not allowed before this many tokens (about one sentence); backends that cannot
# enforce it ignore it.
DRAFT_MIN_TOKENS = 16
PARAGRAPH_ZI = 90  # 字: a paragraph shorter than this is continued rather than followed
MAX_FAILURES = 3  # calls in a row that add nothing usable: the part is stuck (its 字 go elsewhere)


@dataclass
class Drafter:
    """Drafts the parts of an outline paragraph by paragraph with the adapt/section prompt."""

    brief: Brief
    outline: Outline
    selection: Selection
    ctx: TaskContext
    cleaner: Cleaner
    ratio: float  # the backend's tokens per 字
    seed: int
    # Grounded: each part is drafted right after the material retrieved for it, and a sentence
    # is kept only when it stands on that material or the brief.
    grounding: Grounding | None = None
    calls: int = 0

    def __post_init__(self) -> None:
        self.section_tpl = load_prompt("adapt/section", self.ctx.prompts_dir)
        self.tpl = load_prompt("adapt/grounded", self.ctx.prompts_dir) if self.grounding else self.section_tpl
        self.examples = [{"id": e.id, "title": e.title, "text": e.text} for e in self.selection.examples]
        # Grounded drafting writes the opening and closing from set phrases (frames.yaml).
        self.frames = load_frames(prompts_dir(self.ctx.prompts_dir)) if self.grounding else {}

    def _continues(self, part: PartPlan) -> bool:
        # Go on with the last paragraph while it is short; after a continuation that added
        # nothing, or a loop, start a new paragraph (from the next opener, or from none once the
        # planned ones are used up: min_tokens keeps the model from ending it at once).
        if not part.paragraphs:
            return False
        return count_zi(part.paragraphs[-1]) < PARAGRAPH_ZI and not part.stalled

    def _prompt(self, part: PartPlan) -> tuple[list[str], str, bool]:
        """(paragraphs before, the text the model continues, whether it continues the last one)."""
        if self._continues(part):
            return part.paragraphs[:-1], part.paragraphs[-1], True
        if part.misses >= 2:
            # The model keeps giving back what the part already says: a fresh start without it.
            return [], part.lead(), False
        return part.paragraphs, part.lead(), False

    def messages(self, part: PartPlan) -> tuple[Message, ...]:
        prior, lead, _ = self._prompt(part)
        return self.template(part).render(
            **({"material": self.grounding.material(part.key)} if self.grounded(part) else {}),
            examples=self.examples,
            speaker=self.brief.speaker,
            occasion=self.brief.occasion,
            part=part.label,
            prior=prior,
            lead=lead,
        )

    def grounded(self, part: PartPlan) -> bool:
        """Whether the part has material to stand on (else it is drafted after the examples)."""
        return self.grounding is not None and bool(self.grounding.material(part.key))

    def template(self, part: PartPlan) -> Any:
        return self.tpl if self.grounded(part) else self.section_tpl

    def max_tokens(self, part: PartPlan) -> int:
        # Ask for a little more than the part still needs: the cut at the last full sentence and
        # the cleaning take some back; the cap is about one long paragraph, so one runaway call
        # cannot eat the budget.
        need = max(part.target - part.zishu, 40)
        return int(min(max(need * self.ratio * 1.25 + 16, 48), 240))

    def request(self, part: PartPlan) -> ChatRequest:
        return ChatRequest(
            messages=self.messages(part), max_tokens=self.max_tokens(part),
            temperature=DRAFT_TEMPERATURE, top_p=DRAFT_TOP_P, repeat_penalty=DRAFT_REPEAT_PENALTY,
            stop=DRAFT_STOPS, seed=self.seed * 1000 + self.calls, min_tokens=DRAFT_MIN_TOKENS,
        )

    def paragraph(self, part: PartPlan) -> bool:
        """Draft more of the part (the next paragraph, or more of the last one); False when
        nothing usable came."""
        assert self.ctx.client is not None
        _, lead, continues = self._prompt(part)
        request = self.request(part)
        response = self.ctx.client.chat(request, prompt=self.template(part).ref, step=f"draft:{part.key}")
        self.calls += 1
        part.calls += 1
        if not continues:
            part.used_leads += 1  # used once, kept or not: retrying it invites the same reply
        grounding = self.grounding
        # the pipeline's own lead (首先，我代表县人民政府…) is the speaker's by construction
        said = lead if not continues else ""
        self.cleaner.reject = (lambda s: "" if s and s in said else grounding.reject(part.key, s)) if grounding else None
        # A remote model may still write several paragraphs in one reply: each is cleaned.
        lines = (response.text if continues else lead + response.text).split("\n")
        if len(lines) > 1 and not continues and lead and lines[0].strip() == lead.strip():
            # The model broke the line right after the lead (a list follows): keep them together.
            lines[:2] = [lines[0] + lines[1]]
        added = False
        for i, line in enumerate(lines):
            complete = i < len(lines) - 1 or response.finish_reason != "length"
            para = self.cleaner.clean(line, complete=complete)
            if count_zi(para) < (8 if continues and i == 0 else 15):
                continue
            # A continuation, and a one-sentence paragraph (choppy in a speech), join the
            # paragraph before.
            if part.paragraphs and ((continues and i == 0) or count_zi(para) < SHORT_PARAGRAPH):
                part.paragraphs[-1] += para
            else:
                part.paragraphs.append(para)
            added = True
            self._progress(part, para)
        # A paragraph the model looped in or could not go on with is done: the next call starts
        # a new one.
        part.stalled = (continues and not added) or response.finish_reason == "length"
        return added

    def frame(self, part: PartPlan) -> bool:
        """The opening or closing from set phrases; True when the part was written so."""
        if part.key not in ("opening", "closing"):
            return False
        first = part.leads[0] if part.key == "opening" else ""
        lines = frame_paragraphs(part.key, self.brief, self.frames, budget=max(part.target - count_zi(first), 30))
        if not lines:
            return False
        part.paragraphs = [first + lines[0]]
        self.cleaner.remember(part.paragraphs[0])
        # Its unused 字 go to the sections (draft_all moves the budget of a part marked stuck).
        part.stuck = True
        part.framed = True
        self._progress(part, part.paragraphs[0])
        return True

    def draft(self, part: PartPlan) -> None:
        if self.frames and self.frame(part):
            return
        max_calls = min(math.ceil(part.target / 60) + 3, 14)
        part.misses = 0
        while part.zishu < part.target * 0.9 and part.calls < max_calls and part.misses < MAX_FAILURES:
            part.misses = 0 if self.paragraph(part) else part.misses + 1
        if self.grounding is not None and part.zishu < part.target * 0.9:
            self.fall_back(part)
        over = part.zishu - int(part.target * 1.1)
        if over > 0:
            part.paragraphs, _ = trim_part(part.paragraphs, over)
        # Stuck: the model gave nothing usable several times in a row before the part was done.
        part.stuck = part.misses >= MAX_FAILURES and (self.grounding is None or part.zishu < part.target * 0.9)

    def fall_back(self, part: PartPlan) -> bool:
        """When the model gives nothing good, the part takes retrieved sentences (at the
        speaker's scope), two to a paragraph, cleaned like a draft; True when some were kept."""
        assert self.grounding is not None
        self.cleaner.reject = None  # retrieved material is grounded by definition
        added = False
        while part.zishu < part.target * 0.9:
            sentences = self.grounding.fallback(part.key, 2)
            if not sentences:
                break
            para = self.cleaner.clean("".join(sentences))
            if count_zi(para) < 15:
                continue
            if part.paragraphs and count_zi(part.paragraphs[-1]) < SHORT_PARAGRAPH:
                part.paragraphs[-1] += para
            else:
                part.paragraphs.append(para)
            part.fallbacks += 1
            added = True
            self._progress(part, para)
        return added

    def _progress(self, part: PartPlan, text: str = "") -> None:
        parts = self.outline.parts
        emit(self.ctx.progress, "draft", label=part_label(part.key), done=parts.index(part),
             total=len(parts), text=text, part=part.key)

    def draft_all(self) -> None:
        parts = self.outline.parts
        for part in parts:
            if part.heading:
                self.cleaner.remember(part.heading)
        for i, part in enumerate(parts):
            self._progress(part)
            self.draft(part)
            short = part.target - part.zishu
            if not part.stuck or short <= 0:
                continue
            # The model got stuck on this part (it only repeated itself): the 字 it could not
            # write go to the sections still to come, or else to the sections before it (the
            # length repairs then extend them), and only when every section is stuck to the
            # opening and closing, so that the speech still reaches its length and the repairs
            # do not return to a part that gives nothing.
            sections = [p for p in parts if p.key.startswith("section-") and not p.stuck]
            takers = ([p for p in sections if parts.index(p) > i] or sections
                      or [p for p in parts if not p.stuck])
            for p in takers:
                p.target += short // len(takers)
            part.target = part.zishu


def part_label(key: str) -> str:
    """How a person names a part of the outline: 开场白, 第二部分, 结束语."""
    if key.startswith("section-"):
        return f"第{cn_number(int(key.split('-')[1]))}部分"
    return {"opening": "开场白", "closing": "结束语"}.get(key, key)


def make_cleaner(brief: Brief, selection: Selection) -> Cleaner:
    """The paragraph cleaner for this brief: it knows what the brief allows and the examples' topics."""
    brief_text = " ".join(allowed_texts(brief))
    return Cleaner(
        brief,
        unsupported=unsupported_fn(brief),
        off_topic_terms=off_topic_terms(selection.examples, brief_text),
        unit=self_unit(brief),
    )


def unsupported_fn(brief: Brief) -> Callable[[str], list[str]]:
    """text -> the figures, dates and names in it that the brief does not give."""
    from pipeline.text.facts import find_unsupported

    allowed = "\n".join(allowed_texts(brief))
    return lambda text: [f.text for f in find_unsupported(text, allowed)]
