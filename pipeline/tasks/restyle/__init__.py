"""restyle: rewrite a speech for another register, length, audience or genre, keeping its facts.

Input first (intake): news-site furniture (datelines, 全文如下, photo credits, editor lines) is
kept out of the body, a block without paragraph breaks is split into passages, and the title,
speaker, occasion, date and genre are read where the text states them.

Two strategies:

- sectioned (local base models): the source is parsed into salutation / opening / numbered
  sections / closing and every sentence is put in the style: the style's deterministic edits
  first (stylize: table, long sentences split, spoken turns; reported speech for news and
  minutes; never inside facts or quotations), and a sentence those leave unchanged is rewritten
  by the model with a completion-style prompt (prompts/restyle/section, shared prefix read once),
  used only when it passes every gate (facts kept verbatim, nothing new, sane length, coverage,
  no loops). Genres that restructure (news, minutes, remarks) get the style's frame, filled
  only with what the text states (frame_facts: say less, never invent).
- one-call (remote models): the whole result as one Speech JSON object (prompts/restyle),
  validated and re-asked by the Client; the same checks run on it.

Checks: facts (kept / dropped / added against the body plus given inputs and what the text
states about itself; styles that keep the speech must keep 95%), length (±20% of a requested
length, else 0.6–1.6× the source), and the style itself (style_check: the share of sentences
changed against the style's min_changed; for news and minutes the source's own speaker and
occasion named, no furniture). `ok` needs all three.
"""

from __future__ import annotations

import re
import time
from typing import Any

from pipeline.errors import InputError
from pipeline.model.types import ChatRequest
from pipeline.prompts import PromptRef, load_prompt
from pipeline.speech import Speech
from pipeline.styles import Style, get_style
from pipeline.tasks import OneCall, TaskContext, TaskResult, TaskSpec
from pipeline.tasks.inputs import RestyleInput
from pipeline.tasks.restyle.build import build_kept, build_restructured, frame_facts
from pipeline.tasks.restyle.diff import paragraph_diff
from pipeline.tasks.restyle.doc import Doc, Para, Run, sentences
from pipeline.tasks.restyle.edits import light_edit
from pipeline.tasks.restyle.intake import read_input
from pipeline.tasks.restyle.length import AIM_HIGH, TOLERANCE, fit_length, trim
from pipeline.tasks.restyle.model import GUARD, render_section
from pipeline.tasks.restyle.source import parse_source
from pipeline.tasks.restyle.stylize import change_share
from pipeline.text.facts import compare_facts, extract_facts, find_unsupported
from pipeline.text.hanzi import count_zi, normalize, split_paragraphs, split_sentences
from pipeline.text.injection import drop_instructions

__all__ = ["TASK", "RestyleInput", "batch_finish", "batch_request", "light_edit", "paragraph_diff", "parse_source", "run"]


def _checks(run: Run, speech: Speech) -> tuple[dict[str, Any], dict[str, Any]]:
    report = compare_facts("\n".join([run.source_text, *run.given.values()]), speech.text())
    facts = report.to_dict()
    # what the frame takes from the furniture (the dateline's date, the lead's speaker) is no invention
    added = compare_facts("\n".join(run.allowed), speech.text()).added
    facts["added"] = [{"kind": f.kind, "text": f.text, "value": f.value} for f in added]
    facts["caught"] = run.caught
    facts["passed"] = not added
    zi = speech.zishu
    length: dict[str, Any] = {"target": run.target, "zishu": zi, "source_zishu": run.source.zishu}
    if run.target:
        ratio = zi / run.target
        length.update(ratio=round(ratio, 3), tolerance=TOLERANCE, passed=abs(ratio - 1) <= TOLERANCE)
    else:
        # no length asked: the style keeps the source's; a reply far shorter or longer is no
        # restyle of it (an endpoint's 14-字 reply to an 879-字 speech)
        ratio = zi / max(1, run.source.zishu)
        length.update(ratio=round(ratio, 3), bounds=list(_KEEP_BOUNDS), passed=_KEEP_BOUNDS[0] <= ratio <= _KEEP_BOUNDS[1])
    if run.style.keep_structure and not (run.target and run.target < run.source.zishu * 0.9):
        # a style that keeps the speech keeps its facts (only compression may leave some out)
        facts["min_recall"] = _MIN_RECALL
        facts["passed"] = facts["passed"] and report.recall >= _MIN_RECALL
    # one line for people and for eval assertions (regex on output.facts.summary)
    facts["summary"] = ("ok: " if facts["passed"] else "failed: ") + (
        f"kept {len(report.kept)} of {len(report.kept) + len(report.dropped)} facts ({report.recall:.0%}), added {len(added)}")
    return facts, length


_KEEP_BOUNDS = (0.6, 1.6)  # result / source 字 when no length is asked
_MIN_RECALL = 0.95  # facts a restyle that keeps the structure must keep


_FURNITURE_IN_BODY = re.compile(r"全文如下|[\u4e00-\u9fff]{2,6}\d{1,2}月\d{1,2}日电|责任编辑|[（(][^（）()]{0,30}摄[）)]")


def _style_check(run: Run, speech: Speech) -> dict[str, Any]:
    """Did the style really happen? The share of source sentences changed against the style's
    floor; for news and minutes also the frame: the source's own speaker, occasion and genre,
    and no news-site furniture in the body."""
    pairs = run.pairs or _aligned_pairs(run, speech)
    changed, counted = change_share(pairs)
    share = changed / counted if counted else 0.0
    floor = run.style.min_changed
    passed = share >= floor or counted == 0
    check: dict[str, Any] = {"changed": changed, "sentences": counted, "share": round(share, 3), "min": floor}
    problems = [] if passed else [f"only {share:.0%} of {counted} sentences changed ({run.style.name} needs ≥ {floor:.0%})"]
    if run.style.output in ("news", "minutes"):
        facts = frame_facts(run)
        text = speech.text()
        named = {k: facts[k] for k in ("short", "occasion") if facts[k]}
        missing = [v for v in named.values() if v not in text]
        furniture = _FURNITURE_IN_BODY.findall(text)
        check["frame"] = {"genre": facts["genre"], "speaker": facts["speaker"], "occasion": facts["occasion"],
                          "missing": missing, "furniture": furniture}
        problems += [f"does not name {m}" for m in missing] + [f"news-site furniture in the body: {f}" for f in furniture]
        if run.style.output == "minutes" and not facts["meeting"]:
            problems.append("minutes of something that was no meeting")
    check["passed"] = not problems
    check["summary"] = ("ok: " if not problems else "failed: ") + (
        "; ".join(problems) if problems else f"{share:.0%} of {counted} sentences changed (≥ {floor:.0%})")
    return check


def _aligned_pairs(run: Run, speech: Speech) -> list[tuple[str, str]]:
    """One-call replies have no sentence mapping: each source sentence is paired with the reply
    sentence most like it. A sentence with no counterpart is left out for the genres that
    report a selection (news, minutes), and counts as unchanged for styles that keep the speech
    (a dropped sentence is not a restyled one)."""
    src = run.source
    body = split_paragraphs(src.opening) + [p for s in src.sections for p in s.paragraphs] + split_paragraphs(src.closing)
    outs = [s for p in split_paragraphs(speech.text()) for s in split_sentences(p)]
    pairs = []
    for sent in (x for p in body for x in split_sentences(p)):
        best = max(outs, key=lambda o: _overlap(sent, o), default="")
        if best and _overlap(sent, best) >= 0.3:
            pairs.append((sent, best))
        elif run.style.keep_structure:
            pairs.append((sent, sent))
    return pairs


def _overlap(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / max(1, len(x))


def _bigrams(text: str) -> set[str]:
    han = normalize(text)
    return {han[i : i + 2] for i in range(len(han) - 1)}


def _result(run: Run, speech: Speech, strategy: str, started: float, prompt: PromptRef | None) -> TaskResult:
    speech, substance = substance_check(run, speech)
    facts, length = _checks(run, speech)
    style_check = _style_check(run, speech)
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
        "dropped_instructions": run.instructions,  # sentences in the source addressed to a model
        "expand_calls": run.expand_calls,
        "model_calls": run.model_calls,
        "model_sentences_kept": run.model_kept,  # sentences whose model rewrite passed the gates
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
        "style_check": style_check,
        "source_info": run.info.to_dict() if run.info else {},
    }
    checks = {"facts": {"passed": facts["passed"], "added": len(facts["added"]), "dropped": len(facts["dropped"]), "kept": len(facts["kept"])},
              "length": length, "style": {k: v for k, v in style_check.items() if k != "frame"}, "substance": substance}
    return TaskResult(
        task="restyle", output=output, text=speech.text(), metadata=metadata, checks=checks,
        ok=bool(facts["passed"] and length["passed"] and style_check["passed"] and substance["passed"]),
    )


def substance_check(run: Run, speech: Speech) -> tuple[Speech, dict[str, Any]]:
    """The substance gate: nothing the source does not say (a meeting, a document, a figure),
    the source's occasion in a news headline, a usable length; sentences that hold a
    repairable error are dropped, the rest fails the check (pipeline.check.substance)."""
    from pipeline.check.substance import REPAIRABLE, STYLE_RANGES, SubstanceContext, gate_speech

    given = {k: v for k, v in run.given.items() if v}
    info = run.info
    # what the text says about itself (title, 题注 such as ——2019年3月5日在…会议上, a news lead)
    # is the source too: the frame may repeat it, it is not invented
    own = [info.title, *info.header, info.lead] if info else []
    frame = frame_facts(run)
    context = SubstanceContext(
        brief="\n".join(given.values()), source="\n".join([*filter(None, own), run.source_text]),
        speaker=given.get("speaker") or frame["speaker"] or None,
        audience=run.audience or None, occasion=frame["occasion"] or None,
        style=run.style.name if run.style.name in STYLE_RANGES else run.style.output,
        length=run.target,
    )
    # an invented figure or date stays in, for the facts report (and fails it, so not ok)
    return gate_speech(speech, context, repairable=REPAIRABLE - {"G101", "G102"})


def _ref_or_none(run: Run) -> dict[str, str] | None:
    try:
        return load_prompt("restyle/section", run.ctx.prompts_dir).ref.to_dict()
    except InputError:
        return None


def _prepare(inputs: dict[str, Any], ctx: TaskContext) -> Run:
    text = inputs.get("text")
    if text is None and inputs.get("file"):
        from pipeline.text.textio import read_text

        text = read_text(inputs["file"])
    if not text or not str(text).strip():
        raise InputError("restyle needs a text (a file, '-' for stdin, or inputs['text'])")
    style_name = inputs.get("style") or "plain"
    style = style_name if isinstance(style_name, Style) else get_style(str(style_name), ctx.prompts_dir)
    cleaned, instructions = drop_instructions(str(text))
    info = read_input(cleaned, str(inputs.get("title") or ""))
    if not info.body.strip() and info.title and not info.furniture:
        info.body, info.title = info.title, ""  # one short line is the text, not a title
    if not info.body.strip():
        what = " (only news-site furniture such as a dateline)" if info.furniture else ""
        raise InputError(f"the input has no speech text to restyle{what}")
    source = parse_source(info.body, info.title)
    if source.title != "讲话":
        info.title = source.title
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
    body = f"{info.title}\n\n{info.body}" if info.title else info.body
    run_ = Run(
        style=style, source_text=body, source=source, target=target, instructions=instructions,
        audience=str(inputs.get("audience") or ""), given=given, ctx=ctx, info=info,
    )
    cap = inputs.get("model_sentences")
    if cap is not None:
        try:
            run_.model_cap = int(cap)
        except (TypeError, ValueError):
            raise InputError(f"model_sentences must be a number of sentences, not {cap!r}") from None
    if style.meetings_only:
        _require_meeting(run_)
    return run_


def _require_meeting(run_: Run) -> None:
    facts = frame_facts(run_)
    if facts["meeting"]:
        return
    what = f"a {facts['genre']}" + (f" ({facts['occasion']})" if facts["occasion"] else "")
    raise InputError(
        f"style {run_.style.name} is only for a meeting, and this text is {what}, not given at a meeting: "
        "use --style news, or --occasion with the meeting's name (…会议) if it was"
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
        messages, ref = render_section(run_, passage, "")
        note = (f"sectioned strategy: one completion like this per sentence the style's edits leave unchanged "
                f"(the first passage shown); style "
                f"{run_.style.name}, target {run_.target or 'the source length'} 字")
        return _dry_result(OneCall(ChatRequest(messages=messages), Speech, ref), ctx, note)
    doc = build_kept(run_) if run_.style.keep_structure else build_restructured(run_)
    fit_length(run_, doc)
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


def _source_info(run_: Run) -> str:
    # the one-call model gets what the text states about itself, so the frame can name it
    f = frame_facts(run_)
    parts = [f"体裁：{f['genre']}"]
    parts += [f"{label}：{f[key]}" for key, label in (("speaker", "讲话人"), ("occasion", "场合"), ("date", "日期")) if f[key]]
    parts.append("是会议" if f["meeting"] else "不是会议")
    return "；".join(parts)


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
        source_info=_source_info(run_),
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


def batch_skip(inputs: dict[str, Any]) -> str | None:
    """Why this job is not one model call (None: it is), for the Batch route."""
    if inputs.get("strategy") == "sectioned":
        return "strategy sectioned makes one call per section"
    return None


def batch_finish(inputs: dict[str, Any], raw: str, ctx: TaskContext) -> TaskResult:
    """Validate a one-call reply and run the length and fact checks on it."""
    from pipeline.errors import ValidationFailed
    from pipeline.model.client import parse_json

    started = time.perf_counter()
    try:
        speech = parse_json(raw, Speech)
    except ValueError as exc:
        raise ValidationFailed(f"restyle reply is not a valid Speech: {exc}", raw=raw, errors=[str(exc)]) from None
    return _finish(inputs, speech, ctx, started, load_prompt("restyle", ctx.prompts_dir).ref)


def _finish(inputs: dict[str, Any], speech: Speech, ctx: TaskContext, started: float, prompt: PromptRef | None) -> TaskResult:
    run_ = _prepare(inputs, ctx)
    doc = Doc(
        title=speech.title,
        salutation=speech.salutation,
        opening=[Para(sentences(p), status="model") for p in split_paragraphs(speech.opening)],
        sections=[(s.heading, [Para(sentences(p), status="model") for p in s.paragraphs]) for s in speech.sections],
        closing=[Para(sentences(p), status="model") for p in split_paragraphs(speech.closing)],
    )
    invented = find_unsupported(speech.text(), run_.allowed, kinds=GUARD)
    run_.caught += [{"kind": f.kind, "text": f.text, "problem": "invented"} for f in invented]
    if run_.target is not None and doc.zishu() > run_.target * (1 + TOLERANCE):
        trim(run_, doc, run_.target * AIM_HIGH)
        speech = doc.to_speech()
    return _result(run_, speech, "one-call", started, prompt)


# The registry's typed door; the task itself still reads the input's fields by name.
TASK = TaskSpec(
    "restyle", RestyleInput,
    run=lambda inp, ctx: run(inp.options(), ctx),
    batch_request=lambda inp, ctx: batch_request(inp.options(), ctx),
    batch_finish=lambda inp, raw, ctx: batch_finish(inp.options(), raw, ctx),
    batch_skip=lambda inp: batch_skip(inp.options()),
)
