"""Deterministic light edits a style defines: removals, replacements, spoken openers, turning a
speech's demands into pledges. They never touch a fact or a quotation."""

from __future__ import annotations

import re
from typing import Any

from pipeline.styles import Style
from pipeline.tasks.restyle.doc import Para, Sent
from pipeline.tasks.restyle.source import ENUM_RE, H2_RE
from pipeline.text.facts import extract_facts


def protected_spans(text: str) -> list[tuple[int, int]]:
    spans = [f.span for f in extract_facts(text)]
    spans += [m.span() for m in re.finditer(r"“[^”\n]*”|「[^」\n]*」|《[^》\n]*》", text)]
    return sorted(spans)


def light_edit(text: str, style: Style) -> str:
    """Apply the style's removals and replacements outside facts and quotations."""
    for phrase in style.remove:
        text = _replace_unprotected(text, phrase, "")
    for old, new in style.replacements.items():
        text = _replace_unprotected(text, old, new)
    for pattern, new in style.compiled_patterns():
        text = _replace_unprotected(text, pattern, new)
    # removals can leave a dangling clause mark: "…很多，。" / "，，" / a leading "，"
    text = re.sub(r"[，,、；;]+(?=[。！？!?；;])", "", text)
    text = re.sub(r"([，,])[，,]+", r"\1", text)
    text = re.sub(r"(^|(?<=[。！？!?]))[，,、；;：:]+", "", text)
    return text.strip()


def _replace_unprotected(text: str, old: str | re.Pattern[str], new: str) -> str:
    if isinstance(old, str) and (not old or old not in text):
        return text
    pattern = old if isinstance(old, re.Pattern) else re.compile(re.escape(old))
    spans = protected_spans(text)
    out, pos = [], 0
    for m in pattern.finditer(text):
        start, end = m.span()
        if any(a < end and start < b for a, b in spans):
            continue
        out.append(text[pos:start])
        out.append(m.expand(new) if isinstance(old, re.Pattern) else new)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def add_openers(style: Style, part_groups: list[list[Para]], skip_first: bool, salutation: str = "") -> None:
    # Spoken delivery marks a turn every few paragraphs; more would be a tic. 同志们 only where
    # the speech addresses 同志 (not 老师们、同学们).
    openers = [o for o in style.openers if "同志" not in o or "同志" in salutation or not salutation]
    if not openers:
        return
    k, since = 0, 1
    for g, paras in enumerate(part_groups):
        for i, para in enumerate(paras):
            since += 1
            if since < 2 or not para.sents or (g == 0 and i == 0 and skip_first):
                continue
            first = para.sents[0].text
            if first.startswith(tuple(openers)) or first.startswith(("同志们", "大家")):
                continue
            if ENUM_RE.match(first) or H2_RE.match(first):  # 第二，… keeps its enumerator first
                continue
            para.sents[0] = Sent(openers[k % len(openers)] + first, para.sents[0].score)
            k, since = k + 1, 0


def audience_salutation(audience: str) -> str:
    return f"{audience}：" if audience.endswith(("们", "同志")) else f"各位{audience}："


_DEMAND_START = re.compile(r"^(?:我们|各级|各部门|各单位|大家|全局|全市|全县)?(?:都|一定|务必)?(?:要|必须|务必|一定要)")


def turn_round(text: str, frame: Any) -> str:
    """Remarks answer a speech: its demands become pledges."""
    if not frame.demand_prefix or text.startswith(tuple(frame.speaker_marks)):
        return text
    m = _DEMAND_START.match(text)
    if m and frame.demand_prefix:
        return frame.demand_prefix + text[m.end():]
    return text
