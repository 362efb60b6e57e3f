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
source sentences first, then at most three model continuations of the weakest parts).

Facts: the JSON output reports kept / dropped / added facts of the final text against the
source (plus given inputs such as speaker or date) and the inventions the gates caught.
"""

from __future__ import annotations

import time
from typing import Any

from pipeline.errors import InputError
from pipeline.model.types import ChatRequest
from pipeline.prompts import PromptRef, load_prompt
from pipeline.speech import Speech
from pipeline.styles import Style, get_style
from pipeline.tasks import OneCall, TaskContext, TaskResult, TaskSpec
from pipeline.tasks.inputs import RestyleInput
from pipeline.tasks.restyle.build import build_kept, build_restructured
from pipeline.tasks.restyle.diff import paragraph_diff
from pipeline.tasks.restyle.doc import Doc, Para, Run, sentences
from pipeline.tasks.restyle.edits import light_edit
from pipeline.tasks.restyle.length import AIM_HIGH, TOLERANCE, fit_length, trim
from pipeline.tasks.restyle.model import GUARD, render_section
from pipeline.tasks.restyle.source import drop_instructions, parse_source
from pipeline.text.facts import compare_facts, extract_facts, find_unsupported
from pipeline.text.hanzi import count_zi, split_paragraphs

__all__ = ["TASK", "RestyleInput", "batch_finish", "batch_request", "light_edit", "paragraph_diff", "parse_source", "run"]


def _checks(run: Run, speech: Speech) -> tuple[dict[str, Any], dict[str, Any]]:
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


def _result(run: Run, speech: Speech, strategy: str, started: float, prompt: PromptRef | None) -> TaskResult:
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
        "dropped_instructions": run.instructions,  # sentences in the source addressed to a model
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
    source = parse_source(cleaned, str(inputs.get("title") or ""))
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
    return Run(
        style=style, source_text=str(text), source=source, target=target, instructions=instructions,
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
        messages, ref = render_section(run_, passage, "")
        note = (f"sectioned strategy: one completion like this per passage (the first shown); style "
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
)
