"""restyle: rewrite a speech for another register, length, audience or genre, keeping its facts.

Two strategies:

- sectioned (local base models): the source is parsed into salutation / opening / numbered
  sections / closing and rewritten passage by passage with a completion-style prompt
  (prompts/restyle/section) whose prefix is shared, so the KV cache reads it once. Every
  rewrite passes gates (facts kept verbatim, nothing new, sane length, no garbage or loops);
  a passage that fails falls back to the source passage. Then the style's deterministic light
  edits (removals, replacements, openers; never inside facts or quotations) are applied, and for
  genres that restructure (news, minutes, remarks) the style's frame supplies the genre formula.
- one-call (remote models): the whole result as one Speech JSON object (prompts/restyle),
  validated and re-asked by the Client; the same length and fact checks run on it.

Length: a requested length (--length, or the style's own) is met within ±20% by selecting
source sentences before rewriting, trimming whole sentences after, and a bounded expand (unused
source sentences first, then at most two model continuations of the weakest part).

Facts: the JSON output reports kept / dropped / added facts of the final text against the
source (plus given inputs such as speaker or date) and the inventions the gates caught.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from pipeline.backends.base import ChatRequest, Message
from pipeline.errors import InputError
from pipeline.facts import compare_facts, extract_facts, find_unsupported
from pipeline.hanzi import count_han, count_zi, normalize, split_paragraphs, split_sentences
from pipeline.prompts import PromptRef, load_prompt
from pipeline.speech import Section, Speech, numbered_heading
from pipeline.styles import Style, get_style
from pipeline.tasks import OneCall, TaskContext, TaskResult

TOLERANCE = 0.2  # the requested length is met within ±20%
_AIM_LOW, _AIM_HIGH = 0.9, 1.1  # what the pipeline aims for, leaving room inside the tolerance
_MAX_EXPAND_CALLS = 2
_TOKENS_PER_ZI = 0.66  # Gemma tokens per 字 (measured); generous caps are derived from it
# A rewrite must stay about its passage: share of its bigrams found in the source passage, and
# share of the passage's bigrams it still covers. Measured on Gemma 3 270M: near-copies with edits
# score > 0.6 / > 0.5, drifted continuations ("我们这次行动，是为实现…梦想") < 0.3.
_MIN_SUPPORT, _MIN_COVERAGE = 0.45, 0.35
_GUARD = ("number", "percent", "date", "ordinal", "person", "quote", "title")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")

_H1_RE = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|第[一二三四五六七八九十]+部分[，、：:\s])")
_H2_RE = re.compile(r"^\s*[（(][一二三四五六七八九十]+[)）]")
_ENUM_RE = re.compile(r"^\s*(?:[一二三四五六七八九十]是|第[一二三四五六七八九十][，、])")
_MARK_RE = re.compile(r"^\s*(?:[一二三四五六七八九十]是|第[一二三四五六七八九十][，、]|[（(][一二三四五六七八九十]+[)）])")
_SALUTATION_RE = re.compile(r"^[^。！？!?]{2,40}[：:]$")
_SALUTATION_WORDS = ("同志", "领导", "来宾", "朋友", "们", "乡亲", "代表", "老师", "同学", "先生", "女士")
_THANKS_RE = re.compile(r"^(?:谢谢(?:大家|各位)?|再见)[！!。.]?$")
_GREETING_RE = re.compile(r"^(?:大家|各位)?(?:上午|下午|晚上)?好[！!。.]?$")
_TITLE_MAX = 40
_CUE_WORDS = ("要", "必须", "务必", "确保", "坚持", "加强", "推进", "落实", "强调", "重点")
_CLAIM_WORDS = ("是", "意义", "成绩", "取得", "成效", "标志", "基础", "体现", "说明")
# 要 as a demand, not in 重要 / 主要 / 需要 / 必要 / 要求 / 要素 / 要点
_DEMAND_RE = re.compile(r"(?<![重主需必])要(?![求素点害])|必须|务必|确保|抓紧|严禁|一定|力争|狠抓")


# --- the working document -------------------------------------------------------------


@dataclass
class _Sent:
    text: str
    score: float = 0.0
    fixed: bool = False  # frame text and headings-as-sentences are never trimmed


@dataclass
class _Para:
    sents: list[_Sent]
    source: str = ""  # the source passage this paragraph renders (for fact gates)
    status: str = "source"  # model | fallback:<reason> | source | frame | expand

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.sents)


@dataclass
class _Doc:
    title: str
    salutation: str = ""
    opening: list[_Para] = field(default_factory=list)
    sections: list[tuple[str, list[_Para]]] = field(default_factory=list)
    closing: list[_Para] = field(default_factory=list)
    # source sentences left out by selection, (part index, text, score): expand re-uses them
    unused: list[tuple[int, str, float]] = field(default_factory=list)

    def paras(self) -> list[_Para]:
        return self.opening + [p for _, ps in self.sections for p in ps] + self.closing

    def to_speech(self) -> Speech:
        def join(paras: list[_Para]) -> str:
            return "\n".join(_end(p.text) for p in paras if p.text.strip())

        return Speech(
            title=self.title or "讲话",
            salutation=self.salutation,
            opening=join(self.opening),
            sections=[
                Section(heading=h, paragraphs=[_end(p.text) for p in ps if p.text.strip()])
                for h, ps in self.sections
            ],
            closing=join(self.closing),
        )

    def zishu(self) -> int:
        return self.to_speech().zishu


def _close(sentence: str) -> str:
    # a sub-heading used as a sentence ("（一）…的必然要求") needs its full stop once joined
    sentence = sentence.strip()
    return sentence if re.search(r"[。！？!?；;…”’」）)]$", sentence) else sentence + "。"


def _end(paragraph: str) -> str:
    # trimming can leave a paragraph ending on a clause mark; a paragraph ends a sentence
    paragraph = paragraph.strip()
    return paragraph[:-1] + "。" if paragraph.endswith(("，", "；", "、", ",", ";")) else paragraph


@dataclass
class _Run:
    """Everything one restyle run knows; passed between the steps."""

    style: Style
    source_text: str
    source: Speech
    target: int | None
    audience: str
    given: dict[str, str]
    ctx: TaskContext
    section_prompt: Any = None
    caught: list[dict[str, Any]] = field(default_factory=list)  # inventions and losses the gates stopped
    units: list[dict[str, Any]] = field(default_factory=list)
    expand_calls: int = 0
    model_calls: int = 0
    trimmed: int = 0

    @property
    def allowed(self) -> list[str]:
        return [self.source_text, *self.given.values()]


# --- parsing the source -----------------------------------------------------------------


def parse_source(text: str, title: str = "") -> Speech:
    """A plain-text speech as a Speech: title, salutation, opening, numbered sections, closing.

    Lines broken in the middle of a sentence (common in pasted web text) are joined first.
    """
    lines = split_paragraphs(text)
    if not lines:
        raise InputError("the input has no text to restyle")
    # the title is taken before broken lines are joined: it also ends without punctuation
    if not title and _looks_like_title(lines[0]) and len(lines) > 1 and (
        _looks_like_salutation(lines[1]) or re.match(r"\s*[^\n]+\n[ \t\u3000]*\n", text)
    ):
        title, lines = lines[0], lines[1:]
    lines = _join_broken_lines(lines)
    salutation = ""
    if lines and _looks_like_salutation(lines[0]):
        salutation, lines = lines[0], lines[1:]
    closing: list[str] = []
    while lines and (_THANKS_RE.match(lines[-1]) or (closing and len(lines[-1]) <= 40 and "祝" in lines[-1])):
        closing.insert(0, lines.pop())
    opening: list[str] = []
    sections: list[Section] = []
    for line in lines:
        if _H1_RE.match(line) and len(line) <= 60 and not line.endswith(("。", "！", "？")):
            sections.append(Section(heading=line, paragraphs=[]))
        elif sections:
            sections[-1].paragraphs.append(line)
        else:
            opening.append(line)
    if sections and len(sections) == 1 and not sections[0].paragraphs:
        opening.append(sections.pop().heading)
    return Speech(
        title=title or "讲话",
        salutation=salutation,
        opening="\n".join(opening),
        sections=sections,
        closing="\n".join(closing),
    )


def _join_broken_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if out and _is_broken(out[-1]) and not (_H1_RE.match(line) or _H2_RE.match(line) or _looks_like_salutation(line)):
            out[-1] += line
        else:
            out.append(line)
    return out


def _is_broken(line: str) -> bool:
    # a long line that stops without any closing punctuation continues on the next line
    if (_H1_RE.match(line) or _H2_RE.match(line) or _ENUM_RE.match(line)) and len(line) <= 40:
        return False  # a heading line ends without punctuation on purpose
    return len(line) >= 20 and not re.search(r"[。！？!?；;：:…”’」）)\]】》]$", line)


def _looks_like_title(line: str) -> bool:
    return (
        len(line) <= _TITLE_MAX
        and not re.search(r"[。！？!?，,；;：:]", line)
        and not _H1_RE.match(line)
        and not _looks_like_salutation(line)
    )


def _looks_like_salutation(line: str) -> bool:
    return bool(_SALUTATION_RE.match(line)) and any(w in line for w in _SALUTATION_WORDS)


# --- light edits (deterministic, never inside facts or quotations) --------------------------


def _protected_spans(text: str) -> list[tuple[int, int]]:
    spans = [f.span for f in extract_facts(text)]
    spans += [m.span() for m in re.finditer(r"“[^”\n]*”|「[^」\n]*」|《[^》\n]*》", text)]
    return sorted(spans)


def light_edit(text: str, style: Style) -> str:
    """Apply the style's removals and replacements outside facts and quotations."""
    for phrase in style.remove:
        text = _replace_unprotected(text, phrase, "")
    for old, new in style.replacements.items():
        text = _replace_unprotected(text, old, new)
    # removals can leave a dangling clause mark: "…很多，。" / "，，" / a leading "，"
    text = re.sub(r"[，,、；;]+(?=[。！？!?；;])", "", text)
    text = re.sub(r"([，,])[，,]+", r"\1", text)
    text = re.sub(r"(^|(?<=[。！？!?]))[，,、；;：:]+", "", text)
    return text.strip()


def _replace_unprotected(text: str, old: str, new: str) -> str:
    if not old or old not in text:
        return text
    spans = _protected_spans(text)
    out, pos = [], 0
    for m in re.finditer(re.escape(old), text):
        start, end = m.span()
        if any(a < end and start < b for a, b in spans):
            continue
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return "".join(out)


# --- scoring and selecting sentences ------------------------------------------------------


def _score(sentence: str, first: bool) -> float:
    n = count_zi(sentence)
    score = 2.0 * len(extract_facts(sentence))
    score += 1.5 if first else 0.0
    score += 1.0 if any(w in sentence for w in _CUE_WORDS) else 0.0
    score += 2.0 if _H2_RE.match(sentence) or _ENUM_RE.match(sentence) else 0.0
    score += 0.5 if 15 <= n <= 90 else 0.0
    score -= 1.5 if n < 8 else 0.0
    score -= 1.0 if _GREETING_RE.match(sentence) or _THANKS_RE.match(sentence) else 0.0
    return score


def _sentences(paragraph: str) -> list[_Sent]:
    sents = split_sentences(paragraph) or [paragraph]
    return [_Sent(s, _score(s, i == 0)) for i, s in enumerate(sents)]


def _select(groups: list[list[list[_Sent]]], budget: int) -> set[tuple[int, int, int]]:
    """Pick sentences (group, paragraph, sentence) worth keeping within `budget` 字.

    Each group (section) first keeps its best sentence, so no section is emptied; then the
    highest-scoring sentences are added while they fit. Order is restored by the caller.
    """
    chosen: set[tuple[int, int, int]] = set()
    used = 0
    ranked: list[tuple[float, int, tuple[int, int, int]]] = []
    fair = budget / max(1, sum(1 for paras in groups if paras)) * 1.5
    for g, paras in enumerate(groups):
        best: tuple[float, tuple[int, int, int], int] | None = None
        for p, sents in enumerate(paras):
            for s, sent in enumerate(sents):
                n = count_zi(sent.text)
                ranked.append((sent.score, n, (g, p, s)))
                # a section's anchor: its best sentence of a fair size (else its shortest)
                rank = sent.score if n <= fair else -1000.0 - n
                if best is None or rank > best[0]:
                    best = (rank, (g, p, s), n)
        if best and used + best[2] <= budget * 1.05:
            chosen.add(best[1])
            used += best[2]
    # then each paragraph's best sentence, best paragraphs first, so compression thins every
    # paragraph instead of keeping one whole and dropping the rest
    anchors = []
    for g, paras in enumerate(groups):
        for p, sents in enumerate(paras):
            if sents and not any((g, p, s) in chosen for s in range(len(sents))):
                s, sent = max(enumerate(sents), key=lambda e: e[1].score)
                anchors.append((sent.score, count_zi(sent.text), (g, p, s)))
    for _, n, key in sorted(anchors, key=lambda r: (-r[0], r[2])):
        if used + n <= budget:
            chosen.add(key)
            used += n
    for _, n, key in sorted(ranked, key=lambda r: (-r[0], r[2])):
        if key in chosen:
            continue
        if used + n <= budget * 1.02:
            chosen.add(key)
            used += n
    return chosen


# --- the model step (sectioned strategy) ----------------------------------------------------


def _lead(style: Style, audience: str) -> str:
    who = f"，讲给{audience}听" if audience else ""
    return f"下面把讲话稿里的段落逐段改写成“{style.description.split('：')[0]}”的版本{who}。数字、日期、人名和引号里的话一字不改。"


def _render_section(run: _Run, source: str, start: str = "") -> tuple[tuple[Message, ...], PromptRef]:
    if run.section_prompt is None:
        run.section_prompt = load_prompt("restyle/section", run.ctx.prompts_dir)
    prompt = run.section_prompt
    examples = [{"source": e.source, "rewrite": e.rewrite} for e in run.style.examples]
    messages = prompt.render(
        lead=_lead(run.style, run.audience), cue=run.style.cue, examples=examples,
        source=source, start=start,
    )
    return messages, prompt.ref


def _generate(run: _Run, source: str, start: str, max_zi: int, step: str, seed: int = 0) -> str | None:
    """One completion-style call; None when there is no model (dry runs, model-free runs)."""
    client = run.ctx.client
    if client is None or run.ctx.dry_run:
        return None
    messages, ref = _render_section(run, source, start)
    max_tokens = max(24, min(400, round(max_zi * _TOKENS_PER_ZI * 1.3) + 8))
    if run.ctx.extra.get("max_tokens_per_call"):
        max_tokens = min(max_tokens, int(run.ctx.extra["max_tokens_per_call"]))
    # a continuation (start given) may open with a line break after the finished sentence
    stop = ("\n\n", "原文") if start else ("\n", "原文")
    request = ChatRequest(
        messages=messages, max_tokens=max_tokens, temperature=0.3 if not start else 0.7, top_p=0.9,
        stop=stop, repeat_penalty=1.15, seed=seed,
    )
    response = client.chat(request, prompt=ref, step=step)
    text = response.text.strip()
    return text.split("\n")[0] if text else text


def _gate(run: _Run, source: str, out: str | None) -> tuple[str | None, str]:
    """The rewrite if it passes every gate, else (None, reason). Records caught facts."""
    if out is None:
        return None, "no-model"
    out = out.split("原文")[0].strip().strip("“”\"")
    if not out:
        return None, "empty"
    n_src, n_out = count_zi(source), count_zi(out)
    if count_han(out) < 0.5 * n_out:
        return None, "not-chinese"
    if n_out < 0.5 * n_src or n_out > 2.0 * n_src + 10:
        return None, "length"
    if not re.search(r"[。！？!?；;…”’」）)]$", out) and re.search(r"[。！？!?；;…]$", source):
        return None, "truncated"  # cut off at max_tokens: never half a sentence
    if _loops(out):
        return None, "repetition"
    if any(_support(out, ex.rewrite) > 0.5 for ex in run.style.examples):
        return None, "copied-example"
    if _support(out, source) < _MIN_SUPPORT or _support(source, out) < _MIN_COVERAGE:
        return None, "drift"
    marker = _ENUM_RE.match(source) or _H2_RE.match(source)
    if marker and not out.startswith(marker.group(0).strip()):
        return None, "lost-enumerator"
    invented = find_unsupported(out, run.allowed, kinds=_GUARD)
    if invented:
        run.caught += [{"kind": f.kind, "text": f.text, "problem": "invented"} for f in invented]
        return None, "invented-fact"
    lost = compare_facts(source, out).dropped
    if lost:
        run.caught += [{"kind": f.kind, "text": f.text, "problem": "dropped"} for f in lost]
        return None, "dropped-fact"
    return out, "model"


def _bigrams(text: str) -> set[str]:
    han = "".join(_HAN_RE.findall(text))
    return {han[i : i + 2] for i in range(len(han) - 1)}


def _support(text: str, reference: str) -> float:
    """Share of text's Chinese bigrams that occur in reference (1.0 for text without any)."""
    grams = _bigrams(text)
    return 1.0 if not grams else len(grams & _bigrams(reference)) / len(grams)


def _loops(text: str) -> bool:
    sents = [normalize(s) for s in split_sentences(text)]
    if len(sents) != len(set(sents)):
        return True
    compact = normalize(text)
    for i in range(0, max(0, len(compact) - 8)):
        if compact.count(compact[i : i + 8]) >= 3:
            return True
    return False


def _rewrite(run: _Run, source: str, step: str) -> tuple[str, str]:
    """(text, status) for one passage: the gated model rewrite, else the source passage."""
    if count_zi(source) < 8:  # 谢谢大家！ and the like: nothing to rewrite
        return source, "source"
    cap = run.ctx.extra.get("model_passages")
    if cap is not None and run.model_calls >= int(cap):
        return source, "source"  # the caller bounded the model calls (tests, quick runs)
    run.model_calls += 1
    # a rewrite longer than 1.4x its passage is not a rewrite; the cap bounds a runaway model
    raw = _generate(run, source, "", round(count_zi(source) * 1.4) + 10, step)
    out, status = _gate(run, source, raw)
    if os.environ.get("SPEECHSMITH_RESTYLE_TRACE"):
        print(f"[{status}] {source[:60]!r}\n   -> {(raw or '')[:120]!r}", file=sys.stderr)
    if out is None:
        return source, f"fallback:{status}"
    return out, status


# --- building the output ------------------------------------------------------------------


def _frame_vars(run: _Run) -> dict[str, Any]:
    topic = run.given.get("occasion") or _topic(run.source.title, run.source_text) or "有关会议"
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


def _topic(title: str, text: str) -> str:
    m = re.search(r"在(.{2,30}?)上的[^，。]{0,6}?(?:讲话|发言|致辞|报告)", title or "")
    if m:
        return m.group(1)
    m = re.search(
        r"(?:召开|举办|举行)(?:的|这次|本次|这个)?([^，。；！？：\s“”]{2,30}?"
        r"(?:会议|大会|动员会|座谈会|论坛|推进会|部署会|表彰会|见面会))",
        text,
    )
    if m:
        return m.group(1)
    m = re.search(r"(?:这次|本次|今天的)([^，。；！？：\s“”]{2,20}?(?:会议|大会|论坛|动员会))", text)
    return m.group(1) if m else ""


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


def _audience_salutation(audience: str) -> str:
    return f"{audience}：" if audience.endswith(("们", "同志")) else f"各位{audience}："


def _build_kept(run: _Run) -> _Doc:
    """Styles that keep the structure: the same parts, each passage rewritten in the style."""
    src = run.source
    groups: list[list[list[_Sent]]] = [
        [_sentences(p) for p in split_paragraphs(src.opening)],
        *[[_sentences(p) for p in sec.paragraphs] for sec in src.sections],
        [_sentences(p) for p in split_paragraphs(src.closing)],
    ]
    fixed = count_zi(src.salutation) + sum(count_zi(s.heading) for s in src.sections)
    chosen = None
    if run.target is not None:
        total = sum(count_zi(s.text) for g in groups for p in g for s in p) + fixed
        if total > run.target * _AIM_HIGH:
            chosen = _select(groups, max(0, run.target - fixed))
    paras_out: list[list[_Para]] = []
    for g, paras in enumerate(groups):
        out: list[_Para] = []
        for p, sents in enumerate(paras):
            keep = [s for i, s in enumerate(sents) if chosen is None or (g, p, i) in chosen]
            if not keep:
                continue
            passage = "".join(s.text for s in keep)
            text, status = _rewrite(run, passage, step=f"restyle.{g}.{p}")
            run.units.append({"part": g, "paragraph": p, "status": status, "zi": count_zi(text)})
            out.append(_Para(_sentences(light_edit(text, run.style)), passage, status))
        paras_out.append(out)
    # the paragraph right after the salutation needs no second 同志们
    _add_openers(run.style, paras_out[1:-1] if src.sections else paras_out[:1], not src.sections)
    title = src.title
    if title == "讲话":
        topic = run.given.get("occasion") or _topic("", run.source_text)
        title = f"在{topic}上的讲话" if topic else title
    doc = _Doc(
        title=title,
        salutation=_audience_salutation(run.audience) if run.audience and src.salutation else src.salutation,
        opening=paras_out[0],
        sections=[(sec.heading, paras_out[i + 1]) for i, sec in enumerate(src.sections)],
        closing=paras_out[-1],
    )
    doc.unused = _unused(groups, chosen)
    return doc


def _unused(groups: list[list[list[_Sent]]], chosen: set[tuple[int, int, int]] | None) -> list[tuple[int, str, float]]:
    if chosen is None:
        return []
    return [
        (g, s.text, s.score)
        for g, paras in enumerate(groups)
        for p, sents in enumerate(paras)
        for i, s in enumerate(sents)
        if (g, p, i) not in chosen
    ]


def _add_openers(style: Style, part_groups: list[list[_Para]], skip_first: bool) -> None:
    # Spoken delivery marks a turn every few paragraphs; more would be a tic.
    if not style.openers:
        return
    k, since = 0, 1
    for g, paras in enumerate(part_groups):
        for i, para in enumerate(paras):
            since += 1
            if since < 2 or not para.sents or (g == 0 and i == 0 and skip_first):
                continue
            first = para.sents[0].text
            if first.startswith(tuple(style.openers)) or first.startswith(("同志们", "大家")):
                continue
            if _ENUM_RE.match(first) or _H2_RE.match(first):  # 第二，… keeps its enumerator first
                continue
            para.sents[0] = _Sent(style.openers[k % len(style.openers)] + first, para.sents[0].score)
            k, since = k + 1, 0


def _body_items(run: _Run, budget: int, max_items: int | None = None) -> list[tuple[str, str]]:
    """(heading, passage) items of the source body worth reporting, within `budget` 字."""
    src = run.source
    parts: list[tuple[str, list[str]]] = []
    opening = [p for p in split_paragraphs(src.opening) if not _GREETING_RE.match(p)]
    if opening and not (max_items and src.sections):  # pledges answer the sections
        parts.append(("", opening))
    parts += [(sec.heading, sec.paragraphs or [sec.heading]) for sec in src.sections]
    if max_items and len(parts) < max_items and not src.sections:
        # no numbered sections: each paragraph may be its own item
        parts = [("", [p]) for p in opening]
    groups = [[_sentences(p) for p in paras] for _, paras in parts]
    if run.style.frame.demand_prefix:  # remarks answer the speech's demands
        for sents in (s for paras in groups for s in paras):
            for sent in sents:
                sent.score += 2.0 if _DEMAND_RE.search(sent.text) else 0.0
    chosen = _select(groups, budget)
    items: list[tuple[str, str]] = []
    for g, (heading, _) in enumerate(parts):
        for p, sents in enumerate(groups[g]):
            # the source's own 一是 / （二） marks would clash with the new genre's order
            passage = "".join(_close(_MARK_RE.sub("", s.text)) for i, s in enumerate(sents) if (g, p, i) in chosen)
            if passage:
                items.append((heading, passage))
    return items


def _build_restructured(run: _Run) -> _Doc:
    """News, minutes, remarks: the style's frame around the source's main points."""
    style, frame = run.style, run.style.frame
    variables = _frame_vars(run)
    body_final = _final_call(run)
    variables["final"] = light_edit(body_final, style) if body_final else ""
    title = _render_frame(frame.title, variables) or run.source.title
    salutation = _render_frame(frame.salutation, variables)
    if run.audience and salutation:
        salutation = _audience_salutation(run.audience)
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
    paras: list[_Para] = []
    for i, (heading, passage) in enumerate(items):
        text, status = _rewrite(run, passage, step=f"restyle.item{i}")
        run.units.append({"part": "body", "paragraph": i, "status": status, "zi": count_zi(text)})
        text = _turn_round(light_edit(text, style), frame)
        if frame.enumerators:
            lead = frame.enumerators[i % len(frame.enumerators)]
            pledge = _H1_RE.sub("", heading).rstrip("。") + "。" if heading else ""
            text = lead + pledge + text
        elif frame.lead_ins and not frame.headings and not _has_lead_in(text):
            text = _render_frame(_pick_lead_in(frame.lead_ins, passage, i), variables) + text
        paras.append(_Para(_sentences(text), passage, status))
    doc = _Doc(title=title, salutation=salutation)
    doc.opening = [_Para([_Sent(opening, fixed=True)], status="frame")] if opening else []
    if frame.headings:
        buckets: dict[int, list[_Para]] = {}
        for para in paras:
            buckets.setdefault(_classify(para.source, len(frame.headings)), []).append(para)
        n = 0
        for h, heading in enumerate(frame.headings):
            if buckets.get(h):
                n += 1
                doc.sections.append((numbered_heading(n, heading), buckets[h]))
    else:
        doc.opening += paras
    doc.closing = [_Para([_Sent(closing, fixed=True)], status="frame")] if closing else []
    return doc


_DEMAND_START = re.compile(r"^(?:我们|各级|各部门|各单位|大家|全局|全市|全县)?(?:都|一定|务必)?(?:要|必须|务必|一定要)")


def _turn_round(text: str, frame: Any) -> str:
    """Remarks answer a speech: its demands become pledges."""
    if not frame.demand_prefix or text.startswith(tuple(frame.speaker_marks)):
        return text
    m = _DEMAND_START.match(text)
    if m and frame.demand_prefix:
        return frame.demand_prefix + text[m.end():]
    return text


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


def _final_call(run: _Run) -> str:
    """The source's last substantive sentence (a call to action), for the news frame's closing."""
    if "final" not in (run.style.frame.closing or ""):
        return ""
    paras = [p for p in split_paragraphs(run.source.closing) if not _THANKS_RE.match(p)]
    body = paras or ([run.source.sections[-1].paragraphs[-1]] if run.source.sections and run.source.sections[-1].paragraphs else split_paragraphs(run.source.opening)[-1:])
    for para in reversed(body):
        sents = [s for s in split_sentences(para) if count_zi(s) >= 10 and not _THANKS_RE.match(s)]
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


# --- length ---------------------------------------------------------------------------------


def _fit_length(run: _Run, doc: _Doc) -> None:
    if run.target is None:
        return
    low, high = run.target * _AIM_LOW, run.target * _AIM_HIGH
    if doc.zishu() > run.target * (1 + TOLERANCE) or doc.zishu() > high:
        _trim(run, doc, high)
    if doc.zishu() < low:
        _expand(run, doc, low)
    if doc.zishu() > run.target * (1 + TOLERANCE):
        _trim(run, doc, high)


def _trim(run: _Run, doc: _Doc, limit: float) -> None:
    """Drop the lowest-scoring sentences (never frame text, never a section's last one)."""
    while doc.zishu() > limit:
        candidates = []
        for _, paras in [("", doc.opening), *doc.sections, ("", doc.closing)]:
            alive = sum(1 for p in paras for s in p.sents if not s.fixed)
            for p in paras:
                for i, s in enumerate(p.sents):
                    if s.fixed or (alive <= 1 and doc.sections and paras is not doc.opening):
                        continue
                    candidates.append((s.score - 0.002 * count_zi(s.text), p, i))
        if not candidates:
            return
        _, para, i = min(candidates, key=lambda c: c[0])
        del para.sents[i]
        run.trimmed += 1
        for paras in [doc.opening, *(ps for _, ps in doc.sections), doc.closing]:
            paras[:] = [p for p in paras if p.sents]


def _expand(run: _Run, doc: _Doc, goal: float) -> None:
    """Bounded: unused source sentences first (fact-safe), then ≤2 model continuations."""
    unused = sorted(doc.unused, key=lambda u: -u[2])
    for group, text, score in unused:
        if doc.zishu() >= goal:
            return
        paras = _group_paras(doc, group)
        if paras is None:
            continue
        edited = light_edit(text, run.style)
        if not edited:
            continue
        if paras:
            paras[-1].sents.append(_Sent(edited, score))
        else:
            paras.append(_Para([_Sent(edited, score)], text, "source"))
    tried: list[_Para] = []
    while doc.zishu() < goal and run.expand_calls < _MAX_EXPAND_CALLS and run.ctx.client is not None and not run.ctx.dry_run:
        para = _weakest(doc, tried)
        if para is None:
            return
        tried.append(para)
        run.expand_calls += 1
        deficit = round(goal - doc.zishu()) + 20
        source = para.source or run.source_text[:600]
        bridges = run.style.bridges or [""]
        bridge = bridges[(run.expand_calls - 1) % len(bridges)]
        more = _generate(run, source, para.text + bridge, min(deficit, 120),
                         step=f"restyle.expand{run.expand_calls}", seed=run.expand_calls)
        added = _clean_continuation(run, doc, bridge + more if more else "")
        run.units.append({"part": "expand", "paragraph": run.expand_calls, "status": "expand" if added else "expand:rejected", "zi": sum(count_zi(s) for s in added)})
        para.sents += [_Sent(s, 0.5) for s in added]


def _group_paras(doc: _Doc, group: int) -> list[_Para] | None:
    parts = [doc.opening, *(ps for _, ps in doc.sections), doc.closing]
    return parts[group] if 0 <= group < len(parts) else None


def _weakest(doc: _Doc, tried: list[_Para]) -> _Para | None:
    # the body paragraph shortest relative to its source is the one to develop (ties: the one
    # with the most source material); never the closing wishes, never one tried already
    closing = {id(p) for p in doc.closing}
    body = [
        p for p in doc.paras()
        if p.status != "frame" and p.source and count_zi(p.source) >= 15
        and id(p) not in closing and all(p is not q for q in tried)
    ]
    if not body:
        return None
    return min(body, key=lambda p: (round(count_zi(p.text) / max(1, count_zi(p.source)), 1), -count_zi(p.source)))


def _clean_continuation(run: _Run, doc: _Doc, text: str) -> list[str]:
    """Complete, new, fact-free sentences of a continuation; anything doubtful is dropped."""
    seen = {normalize(s.text) for p in doc.paras() for s in p.sents}
    context = "".join(p.text for p in doc.paras())
    out: list[str] = []
    for sent in split_sentences(text.split("原文")[0]):
        key = normalize(sent)
        invented = find_unsupported(sent, run.allowed, kinds=_GUARD)
        if invented:  # reported even when the sentence would be dropped anyway
            run.caught += [{"kind": f.kind, "text": f.text, "problem": "invented"} for f in invented]
            continue
        if not re.search(r"[。！？!?；]$", sent) or count_zi(sent) < 6:
            continue
        if key in seen or count_han(sent) < 0.6 * count_zi(sent) or _loops(sent):
            continue
        if _support(sent, context) > 0.75:  # a restatement of what is already there
            continue
        seen.add(key)
        out.append(light_edit(sent, run.style))
    return [s for s in out if s]


# --- checks and result ------------------------------------------------------------------------


def _checks(run: _Run, speech: Speech) -> tuple[dict[str, Any], dict[str, Any]]:
    report = compare_facts("\n".join(run.allowed), speech.text())
    facts = report.to_dict()
    facts["caught"] = run.caught
    facts["passed"] = not report.added
    zi = speech.zishu
    length: dict[str, Any] = {"target": run.target, "zishu": zi, "source_zishu": run.source.zishu}
    if run.target:
        ratio = zi / run.target
        length.update(ratio=round(ratio, 3), tolerance=TOLERANCE, passed=abs(ratio - 1) <= TOLERANCE)
    else:
        length.update(ratio=round(zi / max(1, run.source.zishu), 3), passed=True)
    return facts, length


def _result(run: _Run, speech: Speech, strategy: str, started: float, prompt: PromptRef | None) -> TaskResult:
    facts, length = _checks(run, speech)
    client = run.ctx.client
    metadata: dict[str, Any] = {
        "style": run.style.name,
        "style_file": run.style.path,
        "output_kind": run.style.output,
        "strategy": strategy,
        "audience": run.audience,
        "prompt": (prompt or (run.section_prompt.ref if run.section_prompt else None) or _ref_or_none(run)),
        "backend": getattr(getattr(client, "backend", None), "name", None),
        "model": getattr(getattr(client, "backend", None), "model", None),
        "usage": client.usage.to_dict() if client is not None else None,
        "duration": round(time.perf_counter() - started, 3),
        "units": run.units,
        "fallbacks": sum(1 for u in run.units if str(u["status"]).startswith("fallback")),
        "expand_calls": run.expand_calls,
        "trimmed_sentences": run.trimmed,
    }
    if isinstance(metadata["prompt"], PromptRef):
        metadata["prompt"] = metadata["prompt"].to_dict()
    output = {
        "speech": speech.model_dump(),
        "style": run.style.name,
        "kind": run.style.output,
        "facts": facts,
        "length": length,
    }
    checks = {"facts": {"passed": facts["passed"], "added": len(facts["added"]), "dropped": len(facts["dropped"]), "kept": len(facts["kept"])}, "length": length}
    return TaskResult(
        task="restyle", output=output, text=speech.text(), metadata=metadata, checks=checks,
        ok=bool(facts["passed"] and length["passed"]),
    )


def _ref_or_none(run: _Run) -> dict[str, str] | None:
    try:
        return load_prompt("restyle/section", run.ctx.prompts_dir).ref.to_dict()
    except InputError:
        return None


# --- entry points ---------------------------------------------------------------------------


def _prepare(inputs: dict[str, Any], ctx: TaskContext) -> _Run:
    text = inputs.get("text")
    if text is None and inputs.get("file"):
        from pipeline.textio import read_text

        text = read_text(inputs["file"])
    if not text or not str(text).strip():
        raise InputError("restyle needs a text (a file, '-' for stdin, or inputs['text'])")
    style_name = inputs.get("style") or "plain"
    style = style_name if isinstance(style_name, Style) else get_style(str(style_name), ctx.prompts_dir)
    source = parse_source(str(text), str(inputs.get("title") or ""))
    length = inputs.get("length")
    if length is not None:
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise InputError(f"length must be a number of 字, not {length!r}") from None
        if not 50 <= length <= 100_000:
            raise InputError(f"length {length} is out of range (50–100000 字)")
    target = length or style.target_length(source.zishu)
    given = {k: str(inputs[k]) for k in ("speaker", "date", "occasion", "unit") if inputs.get(k)}
    return _Run(
        style=style, source_text=str(text), source=source, target=target,
        audience=str(inputs.get("audience") or ""), given=given, ctx=ctx,
    )


def _strategy(inputs: dict[str, Any], ctx: TaskContext) -> str:
    wanted = inputs.get("strategy")
    if wanted in ("sectioned", "one-call"):
        return wanted
    if wanted:
        raise InputError(f"unknown strategy {wanted!r}: use sectioned or one-call")
    backend = getattr(getattr(ctx.client, "backend", None), "name", "local")
    return "one-call" if backend in ("openai", "cassette-openai") else "sectioned"


def run(inputs: dict[str, Any], ctx: TaskContext) -> TaskResult:
    """Restyle inputs["text"] (or inputs["file"]) with inputs["style"], "length", "audience"."""
    started = time.perf_counter()
    if _strategy(inputs, ctx) == "one-call":
        if ctx.client is None:
            raise InputError("the one-call strategy needs a model")
        call = batch_request(inputs, ctx)
        if ctx.dry_run:
            return _dry_result(call, ctx, "one-call strategy: the whole result in one JSON reply")
        speech = ctx.client.structured(call.request, Speech, prompt=call.prompt, step="restyle")
        return _finish(inputs, speech, ctx, started, call.prompt)
    run_ = _prepare(inputs, ctx)
    if ctx.dry_run:
        passage = _first_passage(run_.source)
        messages, ref = _render_section(run_, passage, "")
        note = (f"sectioned strategy: one completion like this per passage (the first shown); style "
                f"{run_.style.name}, target {run_.target or 'the source length'} 字")
        return _dry_result(OneCall(ChatRequest(messages=messages), Speech, ref), ctx, note)
    doc = _build_kept(run_) if run_.style.keep_structure else _build_restructured(run_)
    _fit_length(run_, doc)
    return _result(run_, doc.to_speech(), "sectioned", started, None)


def _first_passage(speech: Speech) -> str:
    parts = split_paragraphs(speech.opening) + [p for s in speech.sections for p in s.paragraphs]
    return next((p for p in parts if count_zi(p) >= 8), parts[0] if parts else speech.title)


def _dry_result(call: OneCall, ctx: TaskContext, note: str = "") -> TaskResult:
    count = ctx.client.count_tokens if ctx.client is not None else (lambda s: 0)
    messages = [{"role": m.role, "content": m.content, "tokens": count(m.content)} for m in call.request.messages]
    text = "\n\n".join(f"[{m['role']}: {m['tokens']} tokens]\n{m['content']}" for m in messages)
    if note:
        text = f"{note}\n\n{text}"
    return TaskResult(
        task="restyle", output={"messages": messages}, text=text,
        metadata={"dry_run": True, "note": note, "prompt": call.prompt.to_dict() if call.prompt else None,
                  "max_tokens": call.request.max_tokens},
    )


def batch_request(inputs: dict[str, Any], ctx: TaskContext) -> OneCall:
    """The one-call request: the whole restyled text as a Speech JSON object."""
    run_ = _prepare(inputs, ctx)
    prompt = load_prompt("restyle", ctx.prompts_dir)
    facts = [f.text for f in extract_facts(run_.source_text)]
    messages = prompt.render(
        style_name=run_.style.name,
        style_description=run_.style.description,
        instructions=run_.style.instructions.strip(),
        audience=run_.audience,
        length=run_.target or "",
        keep_structure=run_.style.keep_structure,
        output_kind={"speech": "讲话稿", "news": "新闻通稿", "minutes": "会议纪要"}[run_.style.output],
        facts=list(dict.fromkeys(facts))[:80],
        source=run_.source_text.strip(),
    )
    expected = run_.target or run_.source.zishu
    request = ChatRequest(
        messages=messages,
        max_tokens=min(16000, round(expected * 2.2) + 600),
        temperature=0.4,
        json_schema=Speech.model_json_schema(),
        schema_name="Speech",
    )
    return OneCall(request=request, schema=Speech, prompt=prompt.ref)


def batch_finish(inputs: dict[str, Any], raw: str, ctx: TaskContext) -> TaskResult:
    """Validate a one-call reply and run the length and fact checks on it."""
    from pipeline.call import parse_json
    from pipeline.errors import ValidationFailed

    started = time.perf_counter()
    try:
        speech = parse_json(raw, Speech)
    except ValueError as exc:
        raise ValidationFailed(f"restyle reply is not a valid Speech: {exc}", raw=raw, errors=[str(exc)]) from None
    return _finish(inputs, speech, ctx, started, load_prompt("restyle", ctx.prompts_dir).ref)


def _finish(inputs: dict[str, Any], speech: Speech, ctx: TaskContext, started: float, prompt: PromptRef | None) -> TaskResult:
    run_ = _prepare(inputs, ctx)
    doc = _Doc(
        title=speech.title,
        salutation=speech.salutation,
        opening=[_Para(_sentences(p), status="model") for p in split_paragraphs(speech.opening)],
        sections=[(s.heading, [_Para(_sentences(p), status="model") for p in s.paragraphs]) for s in speech.sections],
        closing=[_Para(_sentences(p), status="model") for p in split_paragraphs(speech.closing)],
    )
    invented = find_unsupported(speech.text(), run_.allowed, kinds=_GUARD)
    run_.caught += [{"kind": f.kind, "text": f.text, "problem": "invented"} for f in invented]
    if run_.target is not None and doc.zishu() > run_.target * (1 + TOLERANCE):
        _trim(run_, doc, run_.target * _AIM_HIGH)
        speech = doc.to_speech()
    return _result(run_, speech, "one-call", started, prompt)


# --- diff ------------------------------------------------------------------------------------


def paragraph_diff(source: str, output: str, *, color: bool = False) -> str:
    """What changed, paragraph by paragraph: '-' source, '+' output, '~' a rewritten pair with
    the changed characters marked [-…-]{+…+}. Readable in a terminal."""
    a, b = split_paragraphs(source), split_paragraphs(output)
    lines: list[str] = []
    red, green, off = ("\x1b[31m", "\x1b[32m", "\x1b[0m") if color else ("", "", "")
    matcher = difflib.SequenceMatcher(None, [normalize(x) for x in a], [normalize(x) for x in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            lines += [f"  {p}" for p in a[i1:i2]]
            continue
        olds, news = a[i1:i2], b[j1:j2]
        pairs = _pair_paragraphs(olds, news)
        for old, new in pairs:
            if old is not None and new is not None:
                lines.append(f"~ {_inline_diff(old, new, red, green, off)}")
            elif old is not None:
                lines.append(f"{red}- {old}{off}")
            elif new is not None:
                lines.append(f"{green}+ {new}{off}")
    return "\n".join(lines) + "\n"


def _pair_paragraphs(olds: list[str], news: list[str]) -> list[tuple[str | None, str | None]]:
    # a rewritten paragraph is shown as one edited line when it still resembles its source
    out: list[tuple[str | None, str | None]] = []
    j = 0
    for old in olds:
        best, best_ratio = None, 0.0
        for k in range(j, len(news)):
            ratio = difflib.SequenceMatcher(None, old, news[k], autojunk=False).ratio()
            if ratio > best_ratio:
                best, best_ratio = k, ratio
        if best is not None and best_ratio >= 0.35:
            out += [(None, n) for n in news[j:best]]
            out.append((old, news[best]))
            j = best + 1
        else:
            out.append((old, None))
    out += [(None, n) for n in news[j:]]
    return out


def _inline_diff(old: str, new: str, red: str, green: str, off: str) -> str:
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(old[i1:i2])
            continue
        if i2 > i1:
            parts.append(f"{red}[-{old[i1:i2]}-]{off}")
        if j2 > j1:
            parts.append(f"{green}{{+{new[j1:j2]}+}}{off}")
    return "".join(parts)
