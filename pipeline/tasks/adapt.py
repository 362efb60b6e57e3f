"""adapt: a new speech for a brief, in the house style of the closest corpus speeches.

    brief → select examples → outline → draft (one call, or part by part) → clean → checks

Two strategies, picked by backend (inputs["strategy"] overrides):
- one-call (remote, instruction-following models): the whole SpeechDraft as JSON in one
  structured call, validated against the outline and re-asked when it does not fit;
- plan-draft (the small local base model): the pipeline plans title, 称呼 and sections and the
  model continues one paragraph at a time over a shared prompt prefix (see pipeline.draft).

Checks on every draft (reported in the JSON output; --strict makes failures exit 1): length
within ±15% (else a bounded targeted expand or shorten of the weakest part), fact guard
(figures, dates, percentages, persons not in the brief: flagged; strict_facts masks them as XX),
repeated sentences removed, placeholder leaks removed, the linter's rules.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import model_validator

from pipeline.backends.base import ChatRequest, Message
from pipeline.brief import Brief, brief_from_inputs
from pipeline.draft import (
    TOKENS_PER_ZI,
    Cleaner,
    Outline,
    PartPlan,
    off_topic_terms,
    plan,
    renumber,
    self_unit,
    trim_part,
)
from pipeline.errors import InputError
from pipeline.events import emit
from pipeline.hanzi import count_zi, split_paragraphs, split_sentences
from pipeline.prompts import PromptRef, load_prompt
from pipeline.select import (
    Selection,
    find_placeholders,
    parse_examples_option,
    select_examples,
)
from pipeline.speech import Section, Speech, SpeechDraft, numbered_heading
from pipeline.tasks import OneCall, TaskContext, TaskResult

STRATEGIES = ("one-call", "plan-draft")
TOLERANCE = 0.15
DRAFT_TEMPERATURE = 0.8
DRAFT_TOP_P = 0.9
DRAFT_REPEAT_PENALTY = 1.3
MAX_REPAIR_ROUNDS = 3
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
class AdaptOptions:
    strategy: str
    strict_facts: bool
    examples: int | list[str] | None
    example_tokens: int | None
    seed: int

    @classmethod
    def from_inputs(cls, inputs: dict[str, Any], backend_name: str) -> AdaptOptions:
        strategy = inputs.get("strategy") or default_strategy(backend_name)
        if strategy not in STRATEGIES:
            raise InputError(f"--strategy: unknown strategy {strategy!r}: use one-call or plan-draft")
        tokens = inputs.get("example_tokens")
        return cls(
            strategy=strategy,
            strict_facts=bool(inputs.get("strict_facts")),
            examples=parse_examples_option(inputs.get("examples")),
            example_tokens=int(tokens) if tokens else None,
            seed=int(inputs.get("seed") or 0),
        )


def default_strategy(backend_name: str) -> str:
    """plan-draft for the embedded base model, one-call for everything that follows instructions."""
    return "plan-draft" if backend_name == "local" else "one-call"


def _backend_name(ctx: TaskContext) -> str:
    if ctx.client is None:
        return str(ctx.extra.get("backend", "local"))
    return str(getattr(ctx.client.backend, "name", "local"))


# ---- corpus and examples ----------------------------------------------------------------------


def load_records(ctx: TaskContext) -> list[Any]:
    """Corpus speeches (ctx.extra["records"] lets a caller pass them already loaded)."""
    if "records" in ctx.extra:
        return list(ctx.extra["records"])
    from pipeline.corpus.store import load_corpus
    from pipeline.paths import corpus_dir

    folder = Path(ctx.corpus_dir) if ctx.corpus_dir else corpus_dir()
    if not folder.is_dir():
        raise InputError(f"--corpus: no corpus folder at {folder}")
    return list(load_corpus(folder))


def _count_tokens(ctx: TaskContext):
    if ctx.client is not None:
        return ctx.client.count_tokens
    return lambda text: max(1, round(count_zi(text) * TOKENS_PER_ZI))


def _select(brief: Brief, opts: AdaptOptions, ctx: TaskContext) -> Selection:
    records = load_records(ctx)
    window = ctx.client.context_window if ctx.client is not None else 8192
    if opts.strategy == "plan-draft":
        # Every token of examples is read by a 270M model at ~250 tok/s: keep the prefix short.
        count, budget = 2, min(750, window // 4)
    else:
        count, budget = 3, min(6000, int(window * 0.4))
    if opts.example_tokens:
        budget = opts.example_tokens
    return select_examples(
        brief, records, count=count, budget=budget, count_tokens=_count_tokens(ctx), override=opts.examples
    )


def _tokens_per_zi(selection: Selection, ctx: TaskContext) -> float:
    """This backend's tokens per 字, measured on the examples (Gemma ≈ 0.66, cl100k ≈ 1.2)."""
    text = "\n".join(e.text for e in selection.examples)
    zi = count_zi(text)
    if ctx.client is None or zi < 50:
        return TOKENS_PER_ZI
    return max(0.3, min(2.5, ctx.client.count_tokens(text) / zi))


# ---- facts ------------------------------------------------------------------------------------


def allowed_texts(brief: Brief) -> list[str]:
    """What the speech may state: the brief's own words."""
    return [brief.occasion, brief.speaker, brief.audience, brief.date, brief.place, brief.tone,
            *brief.points, *brief.facts]


def _unsupported_fn(brief: Brief):
    from pipeline.facts import find_unsupported

    allowed = "\n".join(allowed_texts(brief))
    return lambda text: [f.text for f in find_unsupported(text, allowed)]


# ---- one-call -----------------------------------------------------------------------------------


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
                if _core(point) not in _core(section.heading):
                    raise ValueError(f"sections[{i}].heading 应为“{numbered_heading(i + 1, point)}”")
            return self

    SpeechForBrief.__name__ = "SpeechDraft"
    return SpeechForBrief


def _core(text: str) -> str:
    from pipeline.hanzi import normalize

    return normalize(text)


def _part_lengths(brief: Brief, outline: Outline) -> dict[str, int]:
    by_key = {p.key: p.target for p in outline.parts}
    return {"opening": by_key["opening"], "closing": by_key["closing"], "section": by_key.get("section-1", 0)}


def one_call_request(brief: Brief, selection: Selection, ctx: TaskContext, ratio: float) -> OneCall:
    tpl = load_prompt("adapt", ctx.prompts_dir)
    outline = plan(brief)
    messages = tpl.render(
        brief=brief.model_dump(),
        title=outline.title,
        salutation=outline.salutation,
        headings=[p.heading for p in outline.parts if p.heading],
        length=brief.length,
        part_lengths=_part_lengths(brief, outline),
        facts=allowed_facts_list(brief),
        examples=[{"id": e.id, "title": e.title, "text": e.text} for e in selection.examples],
    )
    # Room for the JSON around the prose, plus 40% over the target so the model never truncates.
    max_tokens = int(brief.length * ratio * 1.4) + 400
    schema = draft_schema(brief)
    request = ChatRequest(
        messages=messages, max_tokens=max_tokens, temperature=0.7,
        json_schema=SpeechDraft.model_json_schema(), schema_name="SpeechDraft",
    )
    return OneCall(request, schema, tpl.ref)


def allowed_facts_list(brief: Brief) -> list[str]:
    items = list(brief.facts)
    if brief.date:
        items.insert(0, brief.date)
    if brief.place:
        items.insert(0, brief.place)
    return items


def _conform(draft: SpeechDraft, brief: Brief, outline: Outline) -> Speech:
    """The model's draft with the pipeline's title, 称呼 and numbered headings."""
    sections = [
        Section(heading=numbered_heading(i, p), paragraphs=s.paragraphs, subsections=s.subsections)
        for i, (s, p) in enumerate(zip(draft.sections, brief.points, strict=True), 1)
    ]
    return Speech(
        title=outline.title, subtitle=outline.subtitle, salutation=outline.salutation,
        opening=draft.opening, sections=sections, closing=draft.closing,
    )


# ---- plan-then-draft ------------------------------------------------------------------------------


def part_name(part: PartPlan) -> str:
    """How a person names a part: 开头, the section's heading, 结尾."""
    return {"opening": "开头", "closing": "结尾"}.get(part.key) or part.heading or part.key


class Drafter:
    """Drafts the parts of an outline paragraph by paragraph with the adapt/section prompt."""

    def __init__(
        self, brief: Brief, outline: Outline, selection: Selection, ctx: TaskContext,
        cleaner: Cleaner, ratio: float, seed: int,
    ) -> None:
        self.brief = brief
        self.outline = outline
        self.ctx = ctx
        self.cleaner = cleaner
        self.ratio = ratio
        self.seed = seed
        self.tpl = load_prompt("adapt/section", ctx.prompts_dir)
        self.examples = [{"id": e.id, "title": e.title, "text": e.text} for e in selection.examples]
        self.calls = 0

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
        return self.tpl.render(
            examples=self.examples,
            speaker=self.brief.speaker,
            occasion=self.brief.occasion,
            part=part.label,
            prior=prior,
            lead=lead,
        )

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
        response = self.ctx.client.chat(request, prompt=self.tpl.ref, step=f"draft:{part.key}")
        self.calls += 1
        part.calls += 1
        if not continues:
            part.used_leads += 1  # used once, kept or not: retrying it invites the same reply
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
            # done = the paragraph's number in its part: a page appends `text` to that paragraph.
            emit(self.ctx.progress, "draft", label=part_name(part), part=part.key, text=para,
                 done=len(part.paragraphs), tokens=self.ctx.client.usage.completion_tokens)
        # A paragraph the model looped in or could not go on with is done: the next call starts
        # a new one.
        part.stalled = (continues and not added) or response.finish_reason == "length"
        return added

    def draft(self, part: PartPlan) -> None:
        max_calls = min(math.ceil(part.target / 60) + 3, 14)
        part.misses = 0
        while part.zishu < part.target * 0.9 and part.calls < max_calls and part.misses < MAX_FAILURES:
            part.misses = 0 if self.paragraph(part) else part.misses + 1
        over = part.zishu - int(part.target * 1.1)
        if over > 0:
            part.paragraphs, _ = trim_part(part.paragraphs, over)
        # Stuck: the model gave nothing usable several times in a row before the part was done.
        part.stuck = part.misses >= MAX_FAILURES

    def draft_all(self) -> None:
        parts = self.outline.parts
        for i, part in enumerate(parts):
            emit(self.ctx.progress, "part", label=part_name(part), part=part.key, done=i, total=len(parts))
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


# ---- checks -------------------------------------------------------------------------------------


def map_paragraphs(speech: Speech, fn) -> Speech:
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


def remove_leaks(speech: Speech) -> tuple[Speech, list[str]]:
    """Drop sentences holding placeholder marks; returns the marks found."""
    leaks: list[str] = []

    def fix(para: str) -> str:
        kept = []
        for sentence in split_sentences(para):
            marks = find_placeholders(sentence)
            if marks:
                leaks.extend(marks)
            else:
                kept.append(sentence)
        return "".join(kept)

    title_leaks = find_placeholders(speech.title + speech.salutation)
    speech = map_paragraphs(speech, fix)
    return speech, title_leaks + leaks


def remove_repeats(speech: Speech) -> tuple[Speech, int]:
    """Drop sentences already said earlier in the speech (exact after normalizing)."""
    from pipeline.hanzi import normalize

    seen: set[str] = set()
    removed = 0

    def fix(para: str) -> str:
        nonlocal removed
        kept = []
        for sentence in split_sentences(para):
            key = normalize(sentence)
            if len(key) >= 6 and key in seen:
                removed += 1
                continue
            seen.add(key)
            kept.append(sentence)
        return "".join(kept)

    return map_paragraphs(speech, fix), removed


def _part_texts(speech: Speech) -> list[tuple[str, list[str]]]:
    parts = [("opening", split_paragraphs(speech.opening))]
    parts += [(f"section-{i}", s.paragraphs) for i, s in enumerate(speech.sections, 1)]
    parts.append(("closing", split_paragraphs(speech.closing)))
    return parts


def _with_part(speech: Speech, key: str, paragraphs: list[str]) -> Speech:
    if key == "opening":
        return speech.model_copy(update={"opening": "\n".join(paragraphs)})
    if key == "closing":
        return speech.model_copy(update={"closing": "\n".join(paragraphs)})
    i = int(key.split("-")[1]) - 1
    sections = list(speech.sections)
    sections[i] = sections[i].model_copy(update={"paragraphs": paragraphs})
    return speech.model_copy(update={"sections": sections})


def _fixed_tail(key: str, paras: list[str], outline: Outline) -> tuple[list[str], str, str]:
    """Split off what the pipeline wrote at the end of a part (the opening's transition, the
    closing's 谢谢大家！) so repairs work on the drafted text only.
    Returns (drafted paragraphs, tail sentence of the last paragraph, tail paragraph)."""
    paras = list(paras)
    if key == "closing" and outline.sign_off and paras[-1:] == [outline.sign_off]:
        return paras[:-1], "", outline.sign_off
    if key == "opening" and outline.transition and paras and paras[-1].endswith(outline.transition):
        last = paras[-1][: -len(outline.transition)]
        return (paras[:-1] + [last]) if last else paras[:-1], outline.transition, ""
    return paras, "", ""


def _join_tail(paras: list[str], sentence: str, paragraph: str) -> list[str]:
    paras = list(paras)
    if sentence:
        if paras:
            paras[-1] += sentence
        else:
            paras = [sentence]
    if paragraph:
        paras.append(paragraph)
    return paras


_DOUBLE_STOP = re.compile(r"[：:，,、；;]+(?=[。！？])")


def _tidy(paragraph: str) -> str:
    """'要求：。' → '要求。' (a sentence the model left open, closed by the cleaner)."""
    return _DOUBLE_STOP.sub("", paragraph)


def _renumber(speech: Speech) -> Speech:
    for key, paras in _part_texts(speech):
        speech = _with_part(speech, key, renumber(paras))
    return speech


def _targets(outline: Outline) -> dict[str, int]:
    return {p.key: p.target for p in outline.parts}


def parts_by_need(speech: Speech, outline: Outline, *, longer: bool) -> list[str]:
    """Parts that need repair in that direction, furthest from their own budget first."""
    targets = _targets(outline)
    gaps = []
    for key, paras in _part_texts(speech):
        have = count_zi("".join(paras))
        want = targets.get(key, 0)
        if key == "closing" and outline.sign_off:
            want += count_zi(outline.sign_off)
        if key == "opening" and outline.transition:
            want += count_zi(outline.transition)
        gap = (want - have) / max(want, 1) if longer else (have - want) / max(want, 1)
        if gap > 0:
            gaps.append((gap, key))
    return [key for _, key in sorted(gaps, key=lambda g: -g[0])]


def shorten(speech: Speech, outline: Outline, over: int) -> Speech:
    """Trim whole sentences from the parts furthest over budget until `over` 字 are gone (a
    part that cannot give any, e.g. one sentence long, is passed over for the next)."""
    for _ in range(len(outline.parts) * 2):
        if over <= 0:
            break
        over_budget = parts_by_need(speech, outline, longer=False)
        by_size = sorted(_part_texts(speech), key=lambda kp: -count_zi("".join(kp[1])))
        removed = 0
        for key in over_budget + [k for k, _ in by_size if k not in over_budget]:
            drafted, sentence, paragraph = _fixed_tail(key, dict(_part_texts(speech))[key], outline)
            trimmed, removed = trim_part(drafted, over)
            if removed:
                speech = _with_part(speech, key, _join_tail(trimmed, sentence, paragraph))
                over -= removed
                break
        if not removed:
            break
    return speech


def lint_speech(speech: Speech, brief: Brief, *, strict_facts: bool = False) -> dict[str, Any]:
    from pipeline.check import CheckConfig, lint

    # With --strict-facts the XX marks are the point (a human fills them in), not leaks; other
    # placeholder marks are still caught by the placeholders check.
    ignore = ["P101"] if strict_facts else []
    config = CheckConfig(length=brief.length, audience=brief.audience or None, ignore=ignore)
    findings = lint(speech.text(), config)
    errors = [f for f in findings if f.severity.value == "error"]
    return {
        "passed": not errors,
        "errors": len(errors),
        "warnings": sum(1 for f in findings if f.severity.value == "warning"),
        "findings": [f.to_dict() for f in findings[:30]],
    }


def structure_check(speech: Speech, brief: Brief) -> dict[str, Any]:
    from pipeline.brief import classify_audience

    missing = [
        p for i, p in enumerate(brief.points)
        if i >= len(speech.sections) or _core(p) not in _core(speech.sections[i].heading)
    ]
    empty = [s.heading for s in speech.sections if not s.paragraphs and not s.subsections]
    want = brief.audience_kind
    got = classify_audience(speech.salutation) if speech.salutation else ""
    fits = bool(speech.salutation) and (
        brief.salutation is not None or got == want or {got, want} <= {"cadres", "leaders_cadres", "staff"}
    )
    return {
        "passed": not missing and not empty and fits and bool(speech.opening) and bool(speech.closing),
        "points": len(brief.points),
        "sections": len(speech.sections),
        "missing_points": missing,
        "empty_sections": empty,
        "salutation": speech.salutation,
        "salutation_fits_audience": fits,
    }


def length_check(speech: Speech, brief: Brief, repairs: list[str]) -> dict[str, Any]:
    ratio = speech.zishu / brief.length
    return {
        "passed": abs(ratio - 1) <= TOLERANCE,
        "target": brief.length,
        "zishu": speech.zishu,
        "ratio": round(ratio, 3),
        "tolerance": TOLERANCE,
        "minutes": speech.minutes,
        "repairs": repairs,
    }


def facts_check(speech: Speech, brief: Brief, strict_facts: bool, cleaned: int) -> tuple[Speech, dict[str, Any]]:
    from pipeline.facts import find_unsupported, mask_unsupported

    allowed = "\n".join(allowed_texts(brief))
    flagged = [f.text for f in find_unsupported(speech.text(), allowed)]
    replaced = 0
    if strict_facts and flagged:
        replaced = len(flagged)
        speech = map_paragraphs(speech, lambda p: mask_unsupported(p, allowed))
        speech = speech.model_copy(update={"sections": [
            s.model_copy(update={"heading": mask_unsupported(s.heading, allowed)}) for s in speech.sections
        ]})
    return speech, {
        "passed": not flagged or strict_facts,
        "allowed": allowed_facts_list(brief),
        "flagged": flagged,
        "replaced_with_xx": replaced,
        "sentences_removed_while_drafting": cleaned,
    }


@dataclass
class Repairer:
    """Bounded length repair: expand the weakest part with the model, shorten by trimming."""

    strategy: str
    drafter: Drafter | None
    ctx: TaskContext
    brief: Brief
    cleaner: Cleaner

    def expand(self, speech: Speech, outline: Outline) -> tuple[Speech, str]:
        """Lengthen the part furthest under budget; if the model gives nothing usable for it,
        the next one, then any section it did not get stuck in (at most three parts per round,
        so the calls stay bounded)."""
        stuck = {p.key for p in outline.parts if p.stuck}
        needy = parts_by_need(speech, outline, longer=True)
        sections = [p.key for p in outline.parts if p.key.startswith("section-")]
        # Parts the model got stuck in come last: another round there mostly gives nothing.
        order = [k for k in needy if k not in stuck] + [k for k in sections if k not in stuck and k not in needy]
        order += [k for k in needy if k in stuck]
        for key in order[:3]:
            speech, note = self._expand_part(speech, outline, key)
            if note:
                return speech, note
        return speech, ""

    def _expand_part(self, speech: Speech, outline: Outline, key: str) -> tuple[Speech, str]:
        if self.drafter is not None:
            part = next(p for p in outline.parts if p.key == key)
            part.paragraphs, sentence, paragraph = _fixed_tail(key, dict(_part_texts(speech))[key], outline)
            added = False
            need = part.target - part.zishu
            for _ in range(3):
                if self.drafter.paragraph(part):
                    added = True
                    part.misses = 0
                else:
                    part.misses += 1
                if part.target - part.zishu <= need * 0.3:
                    break
            paras = _join_tail(part.paragraphs, sentence, paragraph)
            return (_with_part(speech, key, paras), f"expanded {key}") if added else (speech, "")
        return self._expand_remote(speech, outline, key)

    def _expand_remote(self, speech: Speech, outline: Outline, key: str) -> tuple[Speech, str]:
        assert self.ctx.client is not None
        tpl = load_prompt("adapt/expand", self.ctx.prompts_dir)
        paras = dict(_part_texts(speech))[key]
        target = _targets(outline).get(key, 200)
        heading = {"opening": "开场白", "closing": "结束语"}.get(key) or speech.sections[int(key.split("-")[1]) - 1].heading
        messages = tpl.render(
            occasion=self.brief.occasion, heading=heading, text="\n".join(paras), target=target,
            facts=allowed_facts_list(self.brief),
        )
        ratio = max(self.ctx.client.count_tokens("\n".join(paras)) / max(count_zi("".join(paras)), 1), 0.5)
        request = ChatRequest(messages=messages, max_tokens=int(target * ratio * 1.5) + 64, temperature=0.5)
        response = self.ctx.client.chat(request, prompt=tpl.ref, step=f"expand:{key}")
        new = [p for p in split_paragraphs(response.text) if count_zi(p) >= 10]
        if count_zi("".join(new)) <= count_zi("".join(paras)):
            return speech, ""
        return _with_part(speech, key, new), f"expanded {key}"


def finish(
    speech: Speech,
    brief: Brief,
    outline: Outline,
    *,
    strict_facts: bool,
    cleaner: Cleaner | None,
    repairer: Repairer | None,
) -> tuple[Speech, dict[str, Any]]:
    """All checks, with their repairs, in order: leaks, repeats, length, facts, structure, lint."""
    speech, leaks = remove_leaks(speech)
    speech, repeats = remove_repeats(speech)
    speech = _renumber(speech)  # may drop a looping list's tail: before the length is judged
    repairs: list[str] = []
    for _ in range(MAX_REPAIR_ROUNDS):
        low, high = brief.length * (1 - TOLERANCE * 0.8), brief.length * (1 + TOLERANCE * 0.8)
        if speech.zishu < low and repairer is not None:
            speech, note = repairer.expand(speech, outline)
            if not note:
                break
            repairs.append(note)
        elif speech.zishu > high:
            before = speech.zishu
            speech = shorten(speech, outline, speech.zishu - int(brief.length * 1.02))
            if speech.zishu == before:
                break
            repairs.append(f"shortened by {before - speech.zishu} 字")
        else:
            break
    speech, more_leaks = remove_leaks(speech)
    speech, more_repeats = remove_repeats(speech)
    speech = _renumber(speech)
    speech = map_paragraphs(speech, _tidy)
    stats = cleaner.stats if cleaner is not None else None
    speech, facts = facts_check(speech, brief, strict_facts, stats.facts if stats else 0)
    checks: dict[str, Any] = {
        "structure": structure_check(speech, brief),
        "length": length_check(speech, brief, repairs),
        "facts": facts,
        "repetition": {
            "passed": True,
            "removed": repeats + more_repeats + (stats.repeated if stats else 0),
        },
        "placeholders": {
            "passed": not find_placeholders(speech.text(), allow_xx=strict_facts),
            "removed": leaks + more_leaks,
            "removed_while_drafting": stats.placeholders if stats else 0,
        },
    }
    if stats is not None:
        checks["cleaning"] = stats.to_dict()
    checks["lint"] = lint_speech(speech, brief, strict_facts=strict_facts)
    return speech, checks


def _ok(checks: dict[str, Any]) -> bool:
    return all(c.get("passed", True) for c in checks.values() if isinstance(c, dict))


# ---- the task -----------------------------------------------------------------------------------


def _metadata(
    ctx: TaskContext, opts: AdaptOptions, selection: Selection, refs: list[PromptRef], start: float,
    brief: Brief,
) -> dict[str, Any]:
    client = ctx.client
    return {
        "task": "adapt",
        "strategy": opts.strategy,
        "prompt": refs[0].to_dict() if refs else None,
        "prompts": [r.to_dict() for r in refs],
        "examples": selection.ids,
        "selection": selection.to_dict(),
        "backend": getattr(client.backend, "name", "") if client else "",
        "model": getattr(client.backend, "model", "") if client else "",
        "usage": client.usage.to_dict() if client else {},
        "duration": round(time.perf_counter() - start, 3),
        "brief": brief.model_dump(),
    }


def _make_cleaner(brief: Brief, selection: Selection) -> Cleaner:
    brief_text = " ".join(allowed_texts(brief))
    return Cleaner(
        brief,
        unsupported=_unsupported_fn(brief),
        off_topic_terms=off_topic_terms(selection.examples, brief_text),
        unit=self_unit(brief),
    )


def run(inputs: dict[str, Any], ctx: TaskContext) -> TaskResult:
    start = time.perf_counter()
    brief = brief_from_inputs(inputs)
    opts = AdaptOptions.from_inputs(inputs, _backend_name(ctx))
    selection = _select(brief, opts, ctx)
    if ctx.dry_run:
        return dry_run(brief, opts, selection, ctx)
    emit(ctx.progress, "select", label="范文：" + ("、".join(selection.ids) or "不用范文"))
    if ctx.client is None:
        raise InputError("adapt needs a model (no client was opened)")
    ratio = _tokens_per_zi(selection, ctx)
    outline = plan(brief)
    cleaner = _make_cleaner(brief, selection)
    if opts.strategy == "one-call":
        call = one_call_request(brief, selection, ctx, ratio)
        emit(ctx.progress, "draft", label="整篇起草（一次调用）")
        draft = ctx.client.structured(call.request, call.schema, prompt=call.prompt, step="adapt")
        speech = _conform(draft, brief, outline)
        refs = [call.prompt] if call.prompt else []
        repairer = Repairer(opts.strategy, None, ctx, brief, cleaner)
        speech, checks = finish(speech, brief, outline, strict_facts=opts.strict_facts, cleaner=None,
                                repairer=repairer)
        refs.append(load_prompt("adapt/expand", ctx.prompts_dir).ref)
    else:
        drafter = Drafter(brief, outline, selection, ctx, cleaner, ratio, opts.seed)
        for part in outline.parts:
            if part.heading:
                cleaner.remember(part.heading)
        drafter.draft_all()
        emit(ctx.progress, "check", label="检查与调整长度")
        speech = outline.speech()
        repairer = Repairer(opts.strategy, drafter, ctx, brief, cleaner)
        speech, checks = finish(speech, brief, outline, strict_facts=opts.strict_facts, cleaner=cleaner,
                                repairer=repairer)
        refs = [drafter.tpl.ref]
    meta = _metadata(ctx, opts, selection, refs, start, brief)
    return TaskResult(
        task="adapt", output=speech.model_dump(), text=speech.text(), metadata=meta, checks=checks,
        ok=_ok(checks),
    )


# ---- dry run ------------------------------------------------------------------------------------


def dry_run(brief: Brief, opts: AdaptOptions, selection: Selection, ctx: TaskContext) -> TaskResult:
    """The rendered messages with token counts and the chosen examples; no model call."""
    count = _count_tokens(ctx)
    outline = plan(brief)
    requests: list[dict[str, Any]] = []
    refs: list[PromptRef] = []
    if opts.strategy == "one-call":
        call = one_call_request(brief, selection, ctx, _tokens_per_zi(selection, ctx))
        requests.append(_request_view("adapt", call.request, count))
        if call.prompt:
            refs.append(call.prompt)
    else:
        drafter = Drafter(brief, outline, selection, ctx, _make_cleaner(brief, selection),
                          _tokens_per_zi(selection, ctx), opts.seed)
        refs.append(drafter.tpl.ref)
        for part in outline.parts:
            requests.append(_request_view(f"draft:{part.key}", drafter.request(part), count)
                            | {"target_zi": part.target, "heading": part.heading})
    meta = {
        "task": "adapt", "dry_run": True, "strategy": opts.strategy,
        "prompt": refs[0].to_dict() if refs else None, "prompts": [r.to_dict() for r in refs],
        "examples": selection.ids, "selection": selection.to_dict(),
        "backend": _backend_name(ctx),
        "model": getattr(ctx.client.backend, "model", "") if ctx.client else "",
        "outline": {"title": outline.title, "salutation": outline.salutation,
                    "parts": [{"key": p.key, "heading": p.heading, "target_zi": p.target} for p in outline.parts]},
        "requests": requests,
    }
    return TaskResult(task="adapt", output={}, text=render_dry_run(meta), metadata=meta, ok=True)


def _request_view(step: str, request: ChatRequest, count) -> dict[str, Any]:
    messages = [{"role": m.role, "content": m.content, "tokens": count(m.content)} for m in request.messages]
    return {
        "step": step,
        "messages": messages,
        "prompt_tokens": sum(m["tokens"] for m in messages),
        "max_tokens": request.max_tokens,
    }


def render_dry_run(meta: dict[str, Any]) -> str:
    lines = [
        f"strategy: {meta['strategy']}   backend: {meta['backend']}   prompt: "
        f"{meta['prompt']['id']} v{meta['prompt']['version']} ({meta['prompt']['hash']})" if meta["prompt"] else "",
        "examples: " + (", ".join(
            f"{e['id']} ({e['tokens']} tokens{', trimmed' if e['trimmed'] else ''})"
            for e in meta["selection"]["examples"]
        ) or "(none)"),
        f"outline: {meta['outline']['title']} / {meta['outline']['salutation']} / "
        + " / ".join(p["heading"] or p["key"] for p in meta["outline"]["parts"]),
        "",
    ]
    shown_prefix = False
    for req in meta["requests"]:
        lines.append(f"=== {req['step']}: {req['prompt_tokens']} prompt tokens, max {req['max_tokens']} output tokens"
                     + (f", target {req['target_zi']} 字" if "target_zi" in req else ""))
        for m in req["messages"]:
            if m["role"] == "user" and meta["strategy"] == "plan-draft" and shown_prefix:
                lines.append(f"--- user ({m['tokens']} tokens): the shared example prefix, as above")
                continue
            lines.append(f"--- {m['role']} ({m['tokens']} tokens)")
            lines.append(m["content"])
            if m["role"] == "user":
                shown_prefix = True
        lines.append("")
    return "\n".join(lines).strip() + "\n"


# ---- one-call batch route -------------------------------------------------------------------


def batch_request(inputs: dict[str, Any], ctx: TaskContext) -> OneCall:
    brief = brief_from_inputs(inputs)
    opts = AdaptOptions.from_inputs({**inputs, "strategy": "one-call"}, _backend_name(ctx))
    selection = _select(brief, opts, ctx)
    return one_call_request(brief, selection, ctx, _tokens_per_zi(selection, ctx))


def batch_finish(inputs: dict[str, Any], raw: str, ctx: TaskContext) -> TaskResult:
    """Validate a batch reply and run the checks (only repairs that need no model)."""
    from pipeline.call import parse_json
    from pipeline.errors import ValidationFailed

    start = time.perf_counter()
    brief = brief_from_inputs(inputs)
    opts = AdaptOptions.from_inputs({**inputs, "strategy": "one-call"}, _backend_name(ctx))
    try:
        draft = parse_json(raw, draft_schema(brief))
    except ValueError as exc:
        raise ValidationFailed(f"batch reply is not a valid SpeechDraft: {exc}", raw=raw) from None
    outline = plan(brief)
    speech = _conform(draft, brief, outline)
    speech, checks = finish(speech, brief, outline, strict_facts=opts.strict_facts, cleaner=None, repairer=None)
    tpl = load_prompt("adapt", ctx.prompts_dir)
    selection = _select(brief, opts, ctx)
    meta = {
        "task": "adapt", "strategy": "one-call", "prompt": tpl.ref.to_dict(), "prompts": [tpl.ref.to_dict()],
        "examples": selection.ids, "backend": _backend_name(ctx), "duration": round(time.perf_counter() - start, 3),
        "brief": brief.model_dump(),
    }
    return TaskResult(task="adapt", output=speech.model_dump(), text=speech.text(), metadata=meta,
                      checks=checks, ok=_ok(checks))


