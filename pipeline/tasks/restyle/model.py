"""The model step of the sectioned strategy: a completion-style rewrite of one passage and the
gates it must pass before it is used (facts, drift, length, loops, truncation)."""

from __future__ import annotations

import logging
import re

from pipeline.events import emit
from pipeline.model.types import ChatRequest, Message
from pipeline.prompts import PromptRef, load_prompt
from pipeline.styles import Style
from pipeline.tasks.restyle.doc import Doc, Run
from pipeline.tasks.restyle.edits import light_edit
from pipeline.tasks.restyle.source import ENUM_RE, H2_RE
from pipeline.text.facts import compare_facts, find_unsupported
from pipeline.text.hanzi import count_han, count_zi, han_bigrams, normalize, split_sentences

_log = logging.getLogger(__name__)  # logging.DEBUG shows every rewrite and its gate verdict
_TOKENS_PER_ZI = 0.66  # Gemma tokens per 字 (measured); generous caps are derived from it


# A rewrite must stay about its sentence: share of its bigrams found in the source sentence, and
# share of the sentence's bigrams it still covers. Measured on Gemma 3 270M: near-copies with edits
# score > 0.6 / > 0.5, drifted continuations ("我们这次行动，是为实现…梦想") < 0.3; a rewrite of
# one sentence that covers less than 0.6 of it has lost a clause ("我觉得深化认识是一个很重要的问题，
# 要搞清楚为什么要创建？" → "我一直都想，要搞清楚为什么要创建。"), so it is not used.
_MIN_SUPPORT, _MIN_COVERAGE = 0.45, 0.6
_MIN_LENGTH = 0.7  # of the sentence's 字: shorter has dropped content


GUARD = ("number", "percent", "date", "ordinal", "person", "quote", "title")




def _lead(style: Style, audience: str) -> str:
    who = f"，讲给{audience}听" if audience else ""
    return f"下面把讲话稿里的句子逐句改写成“{style.description.split('：')[0]}”的版本{who}。数字、日期、人名和引号里的话一字不改。"


def render_section(run: Run, source: str, start: str = "") -> tuple[tuple[Message, ...], PromptRef]:
    if run.section_prompt is None:
        run.section_prompt = load_prompt("restyle/section", run.ctx.prompts_dir)
    prompt = run.section_prompt
    examples = [{"source": e.source, "rewrite": e.rewrite} for e in run.style.examples]
    messages = prompt.render(
        lead=_lead(run.style, run.audience), cue=run.style.cue, examples=examples,
        source=source, start=start,
    )
    return messages, prompt.ref


def generate(run: Run, source: str, start: str, max_zi: int, step: str, seed: int = 0) -> str | None:
    """One completion-style call; None when there is no model (dry runs, model-free runs)."""
    client = run.ctx.client
    if client is None or run.ctx.dry_run:
        return None
    messages, ref = render_section(run, source, start)
    max_tokens = max(24, min(400, round(max_zi * _TOKENS_PER_ZI * 1.3) + 8))
    if run.ctx.max_tokens_per_call:
        max_tokens = min(max_tokens, int(run.ctx.max_tokens_per_call))
    # a continuation (start given) may open with a line break after the finished sentence
    stop = ("\n\n", "原文") if start else ("\n", "原文")
    request = ChatRequest(
        messages=messages, max_tokens=max_tokens, temperature=0.3 if not start else 0.7, top_p=0.9,
        stop=stop, repeat_penalty=1.15, seed=seed,
    )
    response = client.chat(request, prompt=ref, step=step)
    text = response.text.strip()
    return text.split("\n")[0] if text else text


def _gate(run: Run, source: str, out: str | None) -> tuple[str | None, str]:
    """The rewrite if it passes every gate, else (None, reason). Records caught facts."""
    if out is None:
        return None, "no-model"
    out = out.split("原文")[0].strip().strip("“”\"")
    if not out:
        return None, "empty"
    n_src, n_out = count_zi(source), count_zi(out)
    if count_han(out) < 0.5 * n_out:
        return None, "not-chinese"
    if n_out < _MIN_LENGTH * n_src or n_out > 1.4 * n_src + 10:
        return None, "length"
    if not re.search(r"[。！？!?；;…”’」）)]$", out) and re.search(r"[。！？!?；;…]$", source):
        return None, "truncated"  # cut off at max_tokens: never half a sentence
    if _loops(out):
        return None, "repetition"
    if any(_support(out, ex.rewrite) > 0.5 for ex in run.style.examples):
        return None, "copied-example"
    if _support(out, source) < _MIN_SUPPORT or _support(source, out) < _MIN_COVERAGE:
        return None, "drift"
    marker = ENUM_RE.match(source) or H2_RE.match(source)
    if marker and not out.startswith(marker.group(0).strip()):
        return None, "lost-enumerator"
    invented = find_unsupported(out, run.allowed, kinds=GUARD)
    if invented:
        run.caught += [{"kind": f.kind, "text": f.text, "problem": "invented"} for f in invented]
        return None, "invented-fact"
    lost = compare_facts(source, out).dropped
    if lost:
        run.caught += [{"kind": f.kind, "text": f.text, "problem": "dropped"} for f in lost]
        return None, "dropped-fact"
    return out, "model"


def _support(text: str, reference: str) -> float:
    """Share of text's Chinese bigrams that occur in reference (1.0 for text without any)."""
    grams = han_bigrams(text)
    return 1.0 if not grams else len(grams & han_bigrams(reference)) / len(grams)


def _loops(text: str) -> bool:
    sents = [normalize(s) for s in split_sentences(text)]
    if len(sents) != len(set(sents)):
        return True
    compact = normalize(text)
    for i in range(0, max(0, len(compact) - 8)):
        if compact.count(compact[i : i + 8]) >= 3:
            return True
    return False


def rewrite(run: Run, source: str, step: str) -> tuple[str, str]:
    """(text, status) for one passage: the gated model rewrite, else the source passage."""
    if count_zi(source) < 8:  # 谢谢大家！ and the like: nothing to rewrite
        return source, "source"
    cap = run.ctx.model_passages if run.ctx.model_passages is not None else run.model_cap
    if cap is not None and run.model_calls >= int(cap):
        return source, "source"  # the caller bounded the model calls (tests, quick runs)
    # a rewrite longer than 1.4x its passage is not a rewrite; the cap bounds a runaway model
    max_zi = round(count_zi(source) * 1.4) + 10
    token_cap = run.ctx.max_tokens_per_call
    if token_cap and count_zi(source) * _TOKENS_PER_ZI * 1.2 > int(token_cap):
        return source, "source"  # the caller's token cap could not hold a complete rewrite
    run.model_calls += 1
    emit(run.ctx.progress, "rewrite", label=f"第 {run.model_calls} 段")
    raw = generate(run, source, "", max_zi, step)
    out, status = _gate(run, source, raw)
    _log.debug("passage %s: %s %r -> %r", step, status, source[:60], (raw or "")[:120])
    if out is None:
        return source, f"fallback:{status}"
    return out, status


def clean_continuation(run: Run, doc: Doc, text: str) -> list[str]:
    """Complete, new, fact-free sentences of a continuation; anything doubtful is dropped."""
    seen = {normalize(s.text) for p in doc.paras() for s in p.sents}
    context = "".join(p.text for p in doc.paras())
    out: list[str] = []
    for sent in split_sentences(text.split("原文")[0]):
        key = normalize(sent)
        invented = find_unsupported(sent, run.allowed, kinds=GUARD)
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
