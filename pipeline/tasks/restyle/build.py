"""Building the restyled document: the same parts rewritten (styles that keep the structure), or
the style's frame around the source's main points (news, minutes, remarks)."""

from __future__ import annotations

import re
from typing import Any

from pipeline.errors import InputError
from pipeline.speech import numbered_heading
from pipeline.tasks.restyle.doc import (
    Doc,
    Para,
    Run,
    Sent,
    close_sentence,
    select_sentences,
    sentences,
    unused_sentences,
)
from pipeline.tasks.restyle.edits import add_openers, audience_salutation, light_edit, turn_round
from pipeline.tasks.restyle.length import AIM_HIGH
from pipeline.tasks.restyle.model import rewrite
from pipeline.tasks.restyle.source import GREETING_RE, H1_RE, MARK_RE, THANKS_RE, find_topic
from pipeline.text.hanzi import count_zi, split_paragraphs, split_sentences

_CLAIM_WORDS = ("是", "意义", "成绩", "取得", "成效", "标志", "基础", "体现", "说明")


# 要 as a demand, not in 重要 / 主要 / 需要 / 必要 / 要求 / 要素 / 要点
_DEMAND_RE = re.compile(r"(?<![重主需必])要(?![求素点害])|必须|务必|确保|抓紧|严禁|一定|力争|狠抓")


def _frame_vars(run: Run) -> dict[str, Any]:
    topic = run.given.get("occasion") or find_topic(run.source.title, run.source_text) or "有关会议"
    speaker = run.given.get("speaker", "")
    short = re.sub(r"(?:动员|工作|推进|部署)?(?:会议|大会|动员会|座谈会|论坛|会)$", "", topic)
    return {
        # 会议 are 召开, 活动 / 论坛 / 仪式 are 举行
        "verb": "举行" if re.search(r"(?:活动|论坛|仪式|典礼|晚会|比赛)$", topic) else "召开",
        "topic_found": topic != "有关会议",
        "topic": topic,
        "topic_short": (short + "工作") if short and short != "有关" else "下一步工作",
        "speaker": speaker,
        "subject": speaker or "会议",
        "date": run.given.get("date", "") or "近日",
        "audience": run.audience,
        "unit": run.given.get("unit", ""),
    }


def _render_frame(template: str | None, variables: dict[str, Any]) -> str:
    if not template:
        return ""
    from jinja2 import StrictUndefined
    from jinja2.exceptions import TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    try:
        return env.from_string(template).render(**variables).strip()
    except TemplateError as exc:
        raise InputError(f"style frame template error: {exc}") from None


def build_kept(run: Run) -> Doc:
    """Styles that keep the structure: the same parts, each passage rewritten in the style."""
    src = run.source
    groups: list[list[list[Sent]]] = [
        [sentences(p) for p in split_paragraphs(src.opening)],
        *[[sentences(p) for p in sec.paragraphs] for sec in src.sections],
        [sentences(p) for p in split_paragraphs(src.closing)],
    ]
    fixed = count_zi(src.salutation) + sum(count_zi(s.heading) for s in src.sections)
    chosen = None
    if run.target is not None:
        total = sum(count_zi(s.text) for g in groups for p in g for s in p) + fixed
        if total > run.target * AIM_HIGH:
            chosen = select_sentences(groups, max(0, run.target - fixed))
    paras_out: list[list[Para]] = []
    for g, paras in enumerate(groups):
        out: list[Para] = []
        for p, sents in enumerate(paras):
            keep = [s for i, s in enumerate(sents) if chosen is None or (g, p, i) in chosen]
            if not keep:
                continue
            passage = "".join(s.text for s in keep)
            text, status = rewrite(run, passage, step=f"restyle.{g}.{p}")
            run.units.append({"part": g, "paragraph": p, "status": status, "zi": count_zi(text)})
            out.append(Para(sentences(light_edit(text, run.style)), passage, status))
        paras_out.append(out)
    # the paragraph right after the salutation needs no second 同志们
    add_openers(run.style, paras_out[1:-1] if src.sections else paras_out[:1], not src.sections, src.salutation)
    title = src.title
    if title == "讲话":
        topic = run.given.get("occasion") or find_topic("", run.source_text)
        title = f"在{topic}上的讲话" if topic else title
    doc = Doc(
        title=title,
        salutation=audience_salutation(run.audience) if run.audience and src.salutation else src.salutation,
        opening=paras_out[0],
        sections=[(sec.heading, paras_out[i + 1]) for i, sec in enumerate(src.sections)],
        closing=paras_out[-1],
    )
    doc.unused = unused_sentences(groups, chosen)
    return doc


def _body_items(run: Run, budget: int, max_items: int | None = None) -> list[tuple[str, str]]:
    """(heading, passage) items of the source body worth reporting, within `budget` 字."""
    src = run.source
    parts: list[tuple[str, list[str]]] = []
    opening = [p for p in split_paragraphs(src.opening) if not GREETING_RE.match(p)]
    if opening and not (max_items and src.sections):  # pledges answer the sections
        parts.append(("", opening))
    parts += [(sec.heading, sec.paragraphs or [sec.heading]) for sec in src.sections]
    if max_items and len(parts) < max_items and not src.sections:
        # no numbered sections: each paragraph may be its own item
        parts = [("", [p]) for p in opening]
    groups = [[sentences(p) for p in paras] for _, paras in parts]
    if run.style.frame.demand_prefix:  # remarks answer the speech's demands
        for sents in (s for paras in groups for s in paras):
            for sent in sents:
                sent.score += 2.0 if _DEMAND_RE.search(sent.text) else 0.0
    chosen = select_sentences(groups, budget)
    items: list[tuple[str, str]] = []
    for g, (heading, _) in enumerate(parts):
        for p, sents in enumerate(groups[g]):
            # the source's own 一是 / （二） marks would clash with the new genre's order
            passage = "".join(close_sentence(MARK_RE.sub("", s.text)) for i, s in enumerate(sents) if (g, p, i) in chosen)
            if passage:
                items.append((heading, passage))
    return items


def build_restructured(run: Run) -> Doc:
    """News, minutes, remarks: the style's frame around the source's main points."""
    style, frame = run.style, run.style.frame
    variables = _frame_vars(run)
    body_final = _final_call(run)
    variables["final"] = light_edit(body_final, style) if body_final else ""
    title = _render_frame(frame.title, variables) or run.source.title
    salutation = _render_frame(frame.salutation, variables)
    if run.audience and salutation:
        salutation = audience_salutation(run.audience)
    opening = _render_frame(frame.opening, variables)
    closing = _render_frame(frame.closing, variables)
    fixed = count_zi(salutation + opening + closing) + sum(count_zi(h) + 2 for h in frame.headings)
    target = run.target or count_zi(run.source_text)
    budget = max(60, target - fixed)
    n_enum = len(frame.enumerators) or None
    items = _body_items(run, budget, n_enum)
    if body_final:  # the closing reports it; the body must not repeat it
        items = [(h, p.replace(body_final, "")) for h, p in items]
        items = [(h, p) for h, p in items if count_zi(p) >= 4]
    if n_enum and run.source.sections:
        items = _merge_by_heading(items)
    if n_enum and len(items) > n_enum:
        items = _fold(items, n_enum)
    elif not n_enum:
        items = _merge_short(items)
    paras: list[Para] = []
    for i, (heading, passage) in enumerate(items):
        text, status = rewrite(run, passage, step=f"restyle.item{i}")
        run.units.append({"part": "body", "paragraph": i, "status": status, "zi": count_zi(text)})
        text = turn_round(light_edit(text, style), frame)
        if frame.enumerators:
            lead = frame.enumerators[i % len(frame.enumerators)]
            pledge = H1_RE.sub("", heading).rstrip("。") + "。" if heading else ""
            text = lead + pledge + text
        elif frame.lead_ins and not frame.headings and not _has_lead_in(text):
            text = _render_frame(_pick_lead_in(frame.lead_ins, passage, i), variables) + text
        paras.append(Para(sentences(text), passage, status))
    doc = Doc(title=title, salutation=salutation)
    doc.opening = [Para([Sent(opening, fixed=True)], status="frame")] if opening else []
    if frame.headings:
        buckets: dict[int, list[Para]] = {}
        for para in paras:
            buckets.setdefault(_classify(para.source, len(frame.headings)), []).append(para)
        n = 0
        for h, heading in enumerate(frame.headings):
            if buckets.get(h):
                n += 1
                doc.sections.append((numbered_heading(n, heading), buckets[h]))
    else:
        doc.opening += paras
    doc.closing = [Para([Sent(closing, fixed=True)], status="frame")] if closing else []
    return doc


def _merge_short(items: list[tuple[str, str]], floor: int = 60) -> list[tuple[str, str]]:
    """Reported points of one section share a paragraph until it is substantial."""
    merged: list[tuple[str, str]] = []
    for heading, passage in items:
        if merged and merged[-1][0] == heading and count_zi(merged[-1][1]) < floor:
            merged[-1] = (heading, merged[-1][1] + passage)
        else:
            merged.append((heading, passage))
    return merged


def _fold(items: list[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    """n consecutive groups of about equal length (a 表态发言 has a few points, not twelve)."""
    total = sum(count_zi(p) for _, p in items)
    groups: list[tuple[str, str]] = []
    acc = 0
    for heading, passage in items:
        boundary = len(groups) < n and (not groups or acc >= total * len(groups) / n)
        if boundary:
            groups.append((heading, passage))
        else:
            groups[-1] = (groups[-1][0], groups[-1][1] + passage)
        acc += count_zi(passage)
    return groups


def _merge_by_heading(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for heading, passage in items:
        if heading and merged and merged[-1][0] == heading:
            merged[-1] = (heading, merged[-1][1] + passage)
        else:
            merged.append((heading, passage))
    return merged


_WISHES_RE = re.compile(r"^(?:最后，?)?(?:衷心|真诚|诚挚)?(?:祝愿|祝|预祝|恭祝)")


def _final_call(run: Run) -> str:
    """The source's last call to action, for the news frame's closing (never its 谢谢 or 祝愿)."""
    if "final" not in (run.style.frame.closing or ""):
        return ""
    src = run.source
    body = split_paragraphs(src.opening) + [p for s in src.sections for p in s.paragraphs]
    for para in reversed(split_paragraphs(src.closing) + body[-1:]):
        sents = [
            s for s in split_sentences(para)
            if count_zi(s) >= 10 and not THANKS_RE.match(s) and not _WISHES_RE.match(s)
        ]
        if sents:
            return sents[-1]
    return ""


def _pick_lead_in(lead_ins: list[str], passage: str, i: int) -> str:
    # the last lead-in (要求) reports demands; the others take turns for statements
    if len(lead_ins) > 1 and _DEMAND_RE.search(passage):
        return lead_ins[-1]
    plain = lead_ins[:-1] if len(lead_ins) > 1 else lead_ins
    return plain[i % len(plain)]


_LEAD_IN_RE = re.compile(r"^[^，。]{0,12}(?:指出|强调|要求|认为|提出|号召|表示)[，：:]")


def _has_lead_in(text: str) -> bool:
    return bool(_LEAD_IN_RE.match(text))


def _classify(passage: str, n: int) -> int:
    # minutes: 会议认为 (judgements), 会议强调 (priorities), 会议要求 (demands)
    if n < 3:
        return 0
    if _DEMAND_RE.search(passage):
        return 2
    if any(w in passage for w in _CLAIM_WORDS):
        return 0
    return 1
