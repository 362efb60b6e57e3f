"""Sentence centrality for the extractive ranking: TextRank over bigram-TF-IDF cosine similarity,
averaged with similarity to the centroid, on a block of sentences (their feature sets)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MAX_PAIRS", "centrality"]


def centrality(feats: list[set[str]], sparse: bool = False) -> Any:
    """TextRank over bigram-TF-IDF cosine similarity, averaged with similarity to the centroid.

    `sparse`: build the similarities from the few features each sentence has (the blocks of a
    huge text), instead of a dense sentences x vocabulary product; the same numbers up to float
    rounding, at a fraction of the time. A whole ordinary text keeps the dense product, so its
    ranking (and every recorded eval) stays exactly as it was."""
    import numpy as np

    n = len(feats)
    df: dict[str, int] = {}
    for f in feats:
        for w in f:
            df[w] = df.get(w, 0) + 1
    # Words in one sentence only cannot link two sentences; words in most sentences say nothing.
    vocab = {w: i for i, w in enumerate(w for w, c in df.items() if c >= 2 and c <= max(2, n // 2))}
    if not vocab:
        return np.zeros(n)
    found = _sparse_similarity(feats, vocab, df) if sparse else None
    if found is not None:
        sim, cos = found
    else:
        x = np.zeros((n, len(vocab)), dtype=np.float32)
        for row, f in enumerate(feats):
            for w in f:
                col = vocab.get(w)
                if col is not None:
                    x[row, col] = math.log(n / df[w])
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x /= np.maximum(norms, 1e-9)
        sim = x @ x.T
        centroid = x.mean(axis=0)
        cos = x @ centroid / max(float(np.linalg.norm(centroid)), 1e-9)
    np.fill_diagonal(sim, 0.0)
    sim[sim < 0.05] = 0.0
    out_weight = sim.sum(axis=1, keepdims=True)
    trans = np.divide(sim, out_weight, out=np.zeros_like(sim), where=out_weight > 0)
    pr = np.full(n, 1.0 / n)
    for _ in range(30):
        pr = 0.15 / n + 0.85 * (trans.T @ pr)
    return 0.5 * pr / max(float(pr.max()), 1e-12) + 0.5 * cos / max(float(cos.max()), 1e-12)


# Pairs of entries the sparse product may expand to (~40 bytes each); a degenerate text where
# every sentence shares most features with half the others goes the dense way instead.
MAX_PAIRS = 4_000_000


def _sparse_similarity(
    feats: list[set[str]], vocab: dict[str, int], df: dict[str, int]
) -> tuple[Any, Any] | None:
    """(sentence x sentence cosine similarities, cosine to the centroid) from (row, column,
    weight) triples: every pair of sentences sharing a feature adds the product of its weights.
    None when that would take more than MAX_PAIRS products."""
    import numpy as np

    n = len(feats)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for row, f in enumerate(feats):
        for w in f:
            col = vocab.get(w)
            if col is not None:
                rows.append(row)
                cols.append(col)
                vals.append(math.log(n / df[w]))
    r = np.array(rows, dtype=np.int64)
    c = np.array(cols, dtype=np.int64)
    v = np.array(vals, dtype=np.float64)
    norms = np.sqrt(np.bincount(r, weights=v * v, minlength=n))
    v = v / np.maximum(norms[r], 1e-9)
    # Group the entries by feature; each group of k sentences contributes its k x k products.
    order = np.argsort(c, kind="stable")
    r, c, v = r[order], c[order], v[order]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    sizes = np.diff(np.r_[starts, len(c)])
    if int((sizes * sizes).sum()) > MAX_PAIRS:
        return None
    k = np.repeat(sizes, sizes)  # for every entry: the size of its group
    first = np.repeat(starts, sizes)  # for every entry: where its group starts
    left = np.repeat(np.arange(len(c)), k)
    offsets = np.arange(len(left)) - np.repeat(np.cumsum(k) - k, k)
    right = np.repeat(first, k) + offsets
    sim = np.bincount(r[left] * n + r[right], weights=v[left] * v[right], minlength=n * n).reshape(n, n)
    centroid = np.bincount(c, weights=v, minlength=len(vocab)) / n
    cos = np.bincount(r, weights=v * centroid[c], minlength=n) / max(float(np.linalg.norm(centroid)), 1e-9)
    return sim, cos
