"""Building the restyled document: the same parts rewritten (styles that keep the structure), or
the style's frame around the source's main points (news, minutes, remarks)."""

from __future__ import annotations

import re
from typing import Any

from pipeline.errors import InputError
from pipeline.events import emit
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
from pipeline.tasks.restyle.intake import is_meeting
from pipeline.tasks.restyle.length import AIM_HIGH
from pipeline.tasks.restyle.model import rewrite
from pipeline.tasks.restyle.source import GREETING_RE, H1_RE, MARK_RE, THANKS_RE, find_topic
from pipeline.tasks.restyle.stylize import Turns, changed, stylize
from pipeline.text.hanzi import count_zi, split_paragraphs, split_sentences

_CLAIM_WORDS = ("是", "意义", "成绩", "取得", "成效", "标志", "基础", "体现", "说明")


# 要 as a demand, not in 重要 / 主要 / 需要 / 必要 / 要求 / 要素 / 要点
_DEMAND_RE = re.compile(r"(?<![重主需必])要(?![求素点害])|必须|务必|确保|抓紧|严禁|一定|力争|狠抓")


# How the news of each genre reports its speaker: (say, stress, demand, closing call)
_VERBS = {
    "贺词": ("表示", "指出", "表示", "说"),
    "报告": ("指出", "强调", "提出", "强调"),
    "致辞": ("表示", "指出", "希望", "表示"),
    "发言": ("表示", "指出", "表示", "表示"),
    "表态发言": ("表示", "指出", "表示", "表示"),
}
_ACTS = {"贺词": "发表新年贺词", "报告": "作报告", "致辞": "致辞", "发言": "发言", "表态发言": "作表态发言"}
_NAME_AFTER_TITLE = re.compile(r"(?:主席|总书记|总理|委员长|书记|省长|市长|县长|区长|局长|校长|院长|部长|董事长|主任)([\u4e00-\u9fff]{2,3})$")


def frame_facts(run: Run) -> dict[str, Any]:
    """What the frame may say: only what the text or the user states (say less, never invent)."""
    info = run.info
    occasion = run.given.get("occasion") or (info.occasion if info else "") or find_topic(run.source.title, run.source_text)
    speaker = run.given.get("speaker") or (info.speaker if info else "")
    date = run.given.get("date") or (info.date if info else "")
    genre = info.genre if info else "讲话"
    m = _NAME_AFTER_TITLE.search(speaker)
    meeting = is_meeting(occasion)
    return {"occasion": occasion, "speaker": speaker, "short": m.group(1) if m else speaker, "date": date,
            "genre": genre, "meeting": meeting, "lead": info.lead if info else ""}


def _frame_vars(run: Run) -> dict[str, Any]:
    f = frame_facts(run)
    occasion, speaker, short, genre = f["occasion"], f["speaker"], f["short"], f["genre"]
    topic = occasion
    # 会议 are 召开, 活动 / 论坛 / 仪式 are 举行
    event = bool(re.search(r"(?:活动|论坛|仪式|典礼|晚会|比赛|开幕式|闭幕式|启动式|发布会)$", topic))
    verb = "举行" if event else "召开"
    held = f["meeting"] or event  # an audit or a New Year is not 召开
    short_topic = re.sub(r"(?:动员|工作|推进|部署)?(?:会议|大会|动员会|座谈会|论坛|会)$", "", topic)
    say, stress, demand, call = _VERBS.get(genre, ("指出", "强调", "要求", "号召"))
    # who the news says said it: the speaker; else the meeting (a 讲话 at a meeting); else the genre
    subject = short or ("会议" if f["meeting"] and genre in ("讲话", "座谈会讲话") else genre if genre != "座谈会讲话" else "讲话")
    act = _ACTS.get(genre, "讲话")
    title = run.source.title if run.source.title != "讲话" else ""
    if genre == "贺词":
        headline = f"{speaker}发表{occasion}贺词" if speaker else (title or f"{occasion}贺词")
    elif genre == "报告" and speaker:
        named = re.search(r"[\u4e00-\u9fff]{0,6}工作报告", title)
        headline = f"{speaker}作{named.group(0) if named else '报告'}"
    elif topic and held:
        headline = f"{topic}{verb}"
    elif speaker:
        headline = f"{speaker}{act if act != '讲话' else '发表讲话'}"
    else:
        headline = title or "讲话要点"
    date = f"{f['date']}，" if f["date"] else ""
    if f["lead"]:
        lead = f["lead"]  # the source's own news lead: already third person and factual
    elif topic and f["meeting"]:
        lead = f"{date}{topic}{verb}。" + (f"{speaker}出席会议并{act if act != '讲话' else '讲话'}。" if speaker else "")
    elif topic and speaker:
        lead = f"{date}{speaker}在{topic}上{act if act != '讲话' else '发表讲话'}。"
    elif topic and held:
        lead = f"{date}{topic}{verb}。"
    elif speaker:
        lead = f"{date}{speaker}{act if act != '讲话' else '发表讲话'}。"
    else:
        lead = ""  # nothing stated: say less rather than 有关会议召开
    minutes_lead = (f"{date}{topic}{verb}" + (f"，{speaker}出席会议并讲话" if speaker else "") + "。") if topic else ""
    return {
        "verb": verb,
        "topic_found": bool(topic),
        "topic": topic,
        "topic_short": (short_topic + "工作") if short_topic else "下一步工作",
        "speaker": speaker,
        "subject": subject,
        "date": f["date"],
        "audience": run.audience,
        "unit": run.given.get("unit", ""),
        "genre": genre,
        "meeting": f["meeting"],
        "headline": headline,
        "lead": lead,
        "minutes_lead": minutes_lead,
        "say": say, "stress": stress, "demand": demand, "call": call, "held": held,
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
    turns = Turns(run.style, src.salutation)
    paras_out: list[list[Para]] = []
    total = sum(
        1 for g, paras in enumerate(groups) for p, sents in enumerate(paras)
        if any(chosen is None or (g, p, i) in chosen for i in range(len(sents)))
    )
    done = 0
    for g, paras in enumerate(groups):
        out: list[Para] = []
        for p, sents in enumerate(paras):
            keep = [s for i, s in enumerate(sents) if chosen is None or (g, p, i) in chosen]
            if not keep:
                continue
            passage = "".join(s.text for s in keep)
            emit(run.ctx.progress, "passage", label=f"改写第 {done + 1}/{total} 段", done=done, total=total)
            text, status = render_sentences(run, [s.text for s in keep], f"restyle.{g}.{p}", turns)
            done += 1
            run.units.append({"part": g, "paragraph": p, "status": status, "zi": count_zi(text)})
            out.append(Para(sentences(text), passage, status))
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
    doc.subtitle = "\n".join(run.info.header) if run.info else ""
    doc.unused = unused_sentences(groups, chosen)
    return doc


def render_sentences(run: Run, sents: list[str], step: str, turns: Turns | None = None,
                     report: Any = None) -> tuple[str, str]:
    """Sentences in the style: the deterministic edits first (what is reliable); a sentence they
    leave unchanged goes to the model, whose rewrite is used only when it passes every fact
    gate, then edited the same way; spoken turns and reported speech last. Each (source,
    rendering) pair is recorded for the change share. Status: model when at least one model
    rewrite was kept."""
    out: list[str] = []
    statuses: list[str] = []
    for i, sent in enumerate(sents):
        styled = stylize(sent, run.style)
        if not changed(sent, styled):
            text, status = rewrite(run, sent, step=f"{step}.{i}")
            statuses.append(status)
            if status == "model":
                styled = stylize(text, run.style)
        if turns is not None:
            styled = "".join(turns.apply(p) for p in split_sentences(styled)) if styled else styled
        if report is not None:
            styled = report(styled, i)
        run.pairs.append((sent, styled))
        if styled:
            out.append(styled)
    models = sum(1 for s in statuses if s == "model")
    run.model_kept += models
    fallbacks = [s for s in statuses if s.startswith("fallback")]
    status = "model" if models else (fallbacks[0] if fallbacks else "edited")
    return "".join(out), status


def _body_items(run: Run, budget: int, max_items: int | None = None) -> list[tuple[str, str]]:
    """(heading, passage) items of the source body worth reporting, within `budget` 字."""
    src = run.source
    parts: list[tuple[str, list[str]]] = []
    # greetings and the closing wishes are no point to report (the frame's closing has the wishes)
    opening = [p for p in split_paragraphs(src.opening)
               if not GREETING_RE.match(p) and not is_wishes(p) and not _FORMULA_RE.search(p)]
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
    variables["wishes"] = _wishes(run) if "wishes" in (frame.closing or "") else ""
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
    reporter = _Reporter(run, variables)
    for i, (heading, passage) in enumerate(items):
        emit(run.ctx.progress, "passage", label=f"改写第 {i + 1}/{len(items)} 段", done=i, total=len(items))
        first = len(run.pairs)
        text, status = render_sentences(run, [s.text for s in sentences(passage)], f"restyle.item{i}",
                                        report=reporter)
        run.units.append({"part": "body", "paragraph": i, "status": status, "zi": count_zi(text)})
        text = turn_round(text, frame)
        if frame.enumerators:
            lead = frame.enumerators[i % len(frame.enumerators)]
            pledge = H1_RE.sub("", heading).rstrip("。") + "。" if heading else ""
            text = lead + pledge + text
        elif frame.lead_ins and not frame.headings and not _has_lead_in(text):
            # the lead-in fits the sentence it introduces: 要求 for a demand, 指出 for a statement
            first_sent = (split_sentences(text) or [text])[0]
            text = _render_frame(_pick_lead_in(frame.lead_ins, first_sent, i), variables) + text
        if first < len(run.pairs):  # what the paragraph's first sentence became, lead-in and all
            src0, out0 = run.pairs[first]
            at = text.find(out0)
            run.pairs[first] = (src0, text[: at + len(out0)] if at >= 0 else out0)
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


class _Reporter:
    """Reported speech for news and minutes: the speaker's 我 becomes the speaker, and a later
    demand in a paragraph is reported once more (…还要求，要…)."""

    _SELF = re.compile(r"^我(?![们国市县区省乡镇局校院党厂司])")
    _DEMAND_START = re.compile(r"^(?:各级|各地|各部门|各单位|全市|全县|全区|大家|我们)?(?:都|一定)?(?:要|必须|务必|一定要)")

    def __init__(self, run: Run, variables: dict[str, Any]) -> None:
        self.on = run.style.output in ("news", "minutes")
        self.subject = variables["subject"]
        self.named = bool(_NAME_AFTER_TITLE.search(variables["speaker"]))
        self.demand = variables["demand"] if run.style.output == "news" else "要求"
        if run.style.output == "minutes":
            self.subject = "会议"

    def __call__(self, sentence: str, i: int) -> str:
        if not self.on or not sentence:
            return sentence
        if self.named and self._SELF.match(sentence):
            sentence = self.subject + sentence[1:]
        if i > 0 and self._DEMAND_START.match(sentence) and not _has_lead_in(sentence):
            sentence = f"{self.subject}还{self.demand}，" + sentence
        return sentence


# a report's opening formula is procedure, not a point (现在，我代表国务院，向大会报告政府工作，请予审议)
_FORMULA_RE = re.compile(r"请予审议|向大会报告|请各位(?:代表|委员)审议")
_WISHES_RE = re.compile(r"^(?:最后，?)?(?:衷心|真诚|诚挚)?(?:祝愿|祝|预祝|恭祝)")


def is_wishes(paragraph: str) -> bool:
    sents = split_sentences(paragraph)
    return bool(sents) and all(_WISHES_RE.match(s) or THANKS_RE.match(s) for s in sents)


def _wishes(run: Run) -> str:
    """The source's closing wishes as one reported sentence (祝愿A！祝愿B！ → 祝愿A，祝愿B。)."""
    src = run.source
    paras = split_paragraphs(src.opening) + [p for s in src.sections for p in s.paragraphs] + split_paragraphs(src.closing)
    for para in reversed(paras[-2:]):
        sents = [re.sub(r"^(?:最后，?)?(?:衷心|真诚|诚挚)?", "", s) for s in split_sentences(para) if _WISHES_RE.match(s)]
        if sents:
            return "，".join(s.rstrip("！!。") for s in sents) + "。"
    return ""


def _final_call(run: Run) -> str:
    """The source's last call to action, for the news frame's closing (never its 谢谢 or 祝愿)."""
    if "final" not in (run.style.frame.closing or ""):
        return ""
    src = run.source
    body = split_paragraphs(src.opening) + [p for s in src.sections for p in s.paragraphs]
    for para in reversed(split_paragraphs(src.closing) + body[-2:]):
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
