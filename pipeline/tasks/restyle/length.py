"""Meeting a requested length within ±20%: trim whole sentences, or expand (unused source
sentences first, then at most three model continuations of the weakest paragraphs)."""

from __future__ import annotations

from pipeline.tasks.restyle.doc import Doc, Para, Run, Sent
from pipeline.tasks.restyle.edits import light_edit
from pipeline.tasks.restyle.model import clean_continuation, generate
from pipeline.text.hanzi import count_zi

TOLERANCE = 0.2  # the requested length is met within ±20%


_AIM_LOW, AIM_HIGH = 0.9, 1.1  # what the pipeline aims for, leaving room inside the tolerance


_MAX_EXPAND_CALLS = 3


def fit_length(run: Run, doc: Doc) -> None:
    if run.target is None:
        return
    low, high = run.target * _AIM_LOW, run.target * AIM_HIGH
    if doc.zishu() > run.target * (1 + TOLERANCE) or doc.zishu() > high:
        trim(run, doc, high)
    if doc.zishu() < low:
        _expand(run, doc, low)
    if doc.zishu() > run.target * (1 + TOLERANCE):
        trim(run, doc, high)


def trim(run: Run, doc: Doc, limit: float) -> None:
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


def _expand(run: Run, doc: Doc, goal: float) -> None:
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
            paras[-1].sents.append(Sent(edited, score))
        else:
            paras.append(Para([Sent(edited, score)], text, "source"))
    tried: list[Para] = []
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
        more = generate(run, source, para.text + bridge, min(deficit, 120),
                         step=f"restyle.expand{run.expand_calls}", seed=run.expand_calls)
        added = clean_continuation(run, doc, bridge + more if more else "")
        run.units.append({"part": "expand", "paragraph": run.expand_calls, "status": "expand" if added else "expand:rejected", "zi": sum(count_zi(s) for s in added)})
        para.sents += [Sent(s, 0.5) for s in added]


def _group_paras(doc: Doc, group: int) -> list[Para] | None:
    parts = [doc.opening, *(ps for _, ps in doc.sections), doc.closing]
    return parts[group] if 0 <= group < len(parts) else None


def _weakest(doc: Doc, tried: list[Para]) -> Para | None:
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
