"""Repairs of a drafted speech: placeholder leaks and repeated sentences removed, lists
renumbered, and the length brought within tolerance (expand the weakest part with the model,
shorten by trimming whole sentences)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.events import ProgressFn, emit
from pipeline.model.types import ChatRequest
from pipeline.prompts import load_prompt
from pipeline.speech import Speech, map_paragraphs
from pipeline.tasks import TaskContext
from pipeline.tasks.adapt.brief import Brief, allowed_facts_list
from pipeline.tasks.adapt.drafting import Drafter
from pipeline.tasks.adapt.options import TOLERANCE
from pipeline.tasks.adapt.outline import Cleaner, Outline, renumber, trim_part
from pipeline.text.hanzi import count_zi, normalize, split_paragraphs, split_sentences
from pipeline.text.placeholders import ALL, find_placeholders

__all__ = [
    "MAX_REPAIR_ROUNDS",
    "Repairer",
    "fit_length",
    "parts_by_need",
    "remove_leaks",
    "remove_repeats",
    "renumber_speech",
    "shorten",
    "tidy",
]

MAX_REPAIR_ROUNDS = 3


def remove_leaks(speech: Speech) -> tuple[Speech, list[str]]:
    """Drop sentences holding placeholder marks; returns the marks found."""
    leaks: list[str] = []

    def fix(para: str) -> str:
        kept = []
        for sentence in split_sentences(para):
            marks = [p.token for p in find_placeholders(sentence, ALL)]
            if marks:
                leaks.extend(marks)
            else:
                kept.append(sentence)
        return "".join(kept)

    title_leaks = [p.token for p in find_placeholders(speech.title + speech.salutation, ALL)]
    speech = map_paragraphs(speech, fix)
    return speech, title_leaks + leaks


def remove_repeats(speech: Speech) -> tuple[Speech, int]:
    """Drop sentences already said earlier in the speech (exact after normalizing)."""
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


def part_texts(speech: Speech) -> list[tuple[str, list[str]]]:
    parts = [("opening", split_paragraphs(speech.opening))]
    parts += [(f"section-{i}", s.paragraphs) for i, s in enumerate(speech.sections, 1)]
    parts.append(("closing", split_paragraphs(speech.closing)))
    return parts


def with_part(speech: Speech, key: str, paragraphs: list[str]) -> Speech:
    if key == "opening":
        return speech.model_copy(update={"opening": "\n".join(paragraphs)})
    if key == "closing":
        return speech.model_copy(update={"closing": "\n".join(paragraphs)})
    i = int(key.split("-")[1]) - 1
    sections = list(speech.sections)
    sections[i] = sections[i].model_copy(update={"paragraphs": paragraphs})
    return speech.model_copy(update={"sections": sections})


def fixed_tail(key: str, paras: list[str], outline: Outline) -> tuple[list[str], str, str]:
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


def join_tail(paras: list[str], sentence: str, paragraph: str) -> list[str]:
    paras = list(paras)
    if sentence:
        if paras:
            paras[-1] += sentence
        else:
            paras = [sentence]
    if paragraph:
        paras.append(paragraph)
    return paras


DOUBLE_STOP = re.compile(r"[：:，,、；;]+(?=[。！？])")


def tidy(paragraph: str) -> str:
    """'要求：。' → '要求。' (a sentence the model left open, closed by the cleaner)."""
    return DOUBLE_STOP.sub("", paragraph)


def renumber_speech(speech: Speech) -> Speech:
    for key, paras in part_texts(speech):
        speech = with_part(speech, key, renumber(paras))
    return speech


def part_targets(outline: Outline) -> dict[str, int]:
    return {p.key: p.target for p in outline.parts}


def parts_by_need(speech: Speech, outline: Outline, *, longer: bool) -> list[str]:
    """Parts that need repair in that direction, furthest from their own budget first."""
    targets = part_targets(outline)
    gaps = []
    for key, paras in part_texts(speech):
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
        by_size = sorted(part_texts(speech), key=lambda kp: -count_zi("".join(kp[1])))
        removed = 0
        for key in over_budget + [k for k, _ in by_size if k not in over_budget]:
            drafted, sentence, paragraph = fixed_tail(key, dict(part_texts(speech))[key], outline)
            trimmed, removed = trim_part(drafted, over)
            if removed:
                speech = with_part(speech, key, join_tail(trimmed, sentence, paragraph))
                over -= removed
                break
        if not removed:
            break
    return speech


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
        # a part written from set phrases is done: the model drafting more there is what they replace
        framed = {p.key for p in outline.parts if p.framed}
        for key in [k for k in order if k not in framed][:3]:
            speech, note = self._expand_part(speech, outline, key)
            if note:
                return speech, note
        return speech, ""

    def _expand_part(self, speech: Speech, outline: Outline, key: str) -> tuple[Speech, str]:
        if self.drafter is not None:
            part = next(p for p in outline.parts if p.key == key)
            part.paragraphs, sentence, paragraph = fixed_tail(key, dict(part_texts(speech))[key], outline)
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
            paras = join_tail(part.paragraphs, sentence, paragraph)
            return (with_part(speech, key, paras), f"expanded {key}") if added else (speech, "")
        return self._expand_remote(speech, outline, key)

    def _expand_remote(self, speech: Speech, outline: Outline, key: str) -> tuple[Speech, str]:
        assert self.ctx.client is not None
        tpl = load_prompt("adapt/expand", self.ctx.prompts_dir)
        paras = dict(part_texts(speech))[key]
        target = part_targets(outline).get(key, 200)
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
        return with_part(speech, key, new), f"expanded {key}"


def fit_length(
    speech: Speech, brief: Brief, outline: Outline, repairer: Repairer | None, progress: ProgressFn | None = None,
) -> tuple[Speech, list[str]]:
    """Bring the speech within the length tolerance (aiming inside it): expand with the model
    when a repairer is given, shorten by trimming; at most MAX_REPAIR_ROUNDS rounds."""
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
        emit(progress, "repair", label=repairs[-1])
    return speech, repairs
