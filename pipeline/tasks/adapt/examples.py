"""The corpus examples for a brief, sized for the backend: how many and how many tokens of them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.tasks import TaskContext
from pipeline.tasks.adapt.brief import Brief
from pipeline.tasks.adapt.options import AdaptOptions
from pipeline.tasks.adapt.outline import TOKENS_PER_ZI
from pipeline.tasks.adapt.selection import Selection, select_examples
from pipeline.text.hanzi import count_zi

__all__ = ["choose_examples", "count_tokens_fn", "load_records", "tokens_per_zi"]


def load_records(ctx: TaskContext) -> list[Any]:
    """Corpus speeches (ctx.records lets a caller pass them already loaded)."""
    if ctx.records is not None:
        return list(ctx.records)
    from pipeline.corpus.store import load_corpus
    from pipeline.paths import corpus_dir

    folder = Path(ctx.corpus_dir) if ctx.corpus_dir else corpus_dir()
    if not folder.is_dir():
        raise InputError(f"--corpus: no corpus folder at {folder}")
    return list(load_corpus(folder))


def count_tokens_fn(ctx: TaskContext) -> Callable[[str], int]:
    """The backend's token counter, or an estimate from 字 without a model."""
    if ctx.client is not None:
        return ctx.client.count_tokens
    return lambda text: max(1, round(count_zi(text) * TOKENS_PER_ZI))


def choose_examples(brief: Brief, opts: AdaptOptions, ctx: TaskContext) -> Selection:
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
        brief, records, count=count, budget=budget, count_tokens=count_tokens_fn(ctx), override=opts.examples
    )


def tokens_per_zi(selection: Selection, ctx: TaskContext) -> float:
    """This backend's tokens per 字, measured on the examples (Gemma ≈ 0.66, cl100k ≈ 1.2)."""
    text = "\n".join(e.text for e in selection.examples)
    zi = count_zi(text)
    if ctx.client is None or zi < 50:
        return TOKENS_PER_ZI
    return max(0.3, min(2.5, ctx.client.count_tokens(text) / zi))
