"""Sentence ranking on texts far longer than any report: bounded memory, the same numbers."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import numpy as np

from pipeline.summary import length_spec
from pipeline.tasks.summarize import extractive
from pipeline.tasks.summarize.chunk import segment
from pipeline.tasks.summarize.similarity import centrality

REPORTS = Path(__file__).parent / "fixtures" / "reports"


def _reports(times: int = 1) -> str:
    texts = [p.read_text(encoding="utf-8") for p in sorted(REPORTS.glob("*.txt"))]
    return "\n\n".join(texts * times)


def test_an_ordinary_report_is_ranked_as_one_graph() -> None:
    doc = segment((REPORTS / "gwr_2025.txt").read_text(encoding="utf-8"))
    assert extractive.rank_blocks(doc.sentences) == [(0, len(doc.sentences))]


def test_a_huge_text_is_ranked_in_blocks_cut_at_paragraph_ends() -> None:
    doc = segment(_reports(4))
    sentences = doc.sentences
    assert len(sentences) > extractive.RANK_WHOLE
    blocks = extractive.rank_blocks(sentences)
    assert blocks[0][0] == 0 and blocks[-1][1] == len(sentences)
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:], strict=False))  # no gap, no overlap
    for start, end in blocks[:-1]:
        assert extractive.RANK_BLOCK <= end - start <= 2 * extractive.RANK_BLOCK
        assert sentences[end].para != sentences[end - 1].para  # a paragraph is never split


def test_sparse_and_dense_similarities_agree() -> None:
    doc = segment(_reports())
    feats = [extractive.bigram_features(s.text) for s in doc.sentences[:extractive.RANK_BLOCK]]
    dense = centrality(feats)
    sparse = centrality(feats, sparse=True)
    assert np.abs(dense - sparse).max() < 1e-5
    assert list(np.argsort(-dense)[:20]) == list(np.argsort(-sparse)[:20])


def test_summary_of_a_long_text_stays_small_in_memory() -> None:
    text = _reports(6)  # several MB of Python strings; one graph over it would need gigabytes
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = extractive.summarize(text, length_spec("medium"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.summary.gist and result.summary.key_points
    assert peak < 400 * 1024 * 1024, f"peak {peak / 2**20:.0f} MB"
    assert time.perf_counter() - start < 600
