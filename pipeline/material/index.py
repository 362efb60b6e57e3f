"""BM25 over material units, with a choice of analyzer, cached in the user cache dir.

    index = Index.build(units, analyzer="bigram")
    scores = score([index, other], query_terms)      # shared df and length statistics

Analyzers (measured in evals/bench/bench_material.py on 20 labelled points):
- "bigram": character bigrams of the Chinese runs (no dictionary, matches compounds);
- "jieba": jieba words of two or more 字.
A query may add synonyms of official phrasing at a lower weight (pipeline.material.synonyms).

Postings are kept as flat numpy arrays (CSR), so a query touches only the units that hold one
of its terms: a search over ~30,000 units takes a few milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

ANALYZERS = ("bigram", "jieba")
K1 = 1.2
B = 0.75

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
# Function words jieba returns as words of two 字; they rank nothing.
_JIEBA_STOP = frozenset("我们 他们 你们 这个 那个 一个 以及 进一步 一些 没有 可以 还是 就是 这些 那些 已经".split())


def bigram_terms(text: str) -> list[str]:
    out: list[str] = []
    for run in _HAN_RUN.findall(text):
        if len(run) == 1:
            continue
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def jieba_terms(text: str) -> list[str]:
    import jieba

    return [w for w in jieba.lcut(text) if len(w) >= 2 and _HAN_RUN.fullmatch(w) and w not in _JIEBA_STOP]


def analyze(text: str, analyzer: str) -> list[str]:
    if analyzer == "bigram":
        return bigram_terms(text)
    if analyzer == "jieba":
        return jieba_terms(text)
    raise ValueError(f"unknown analyzer {analyzer!r}: use one of {', '.join(ANALYZERS)}")


# The verbs and adverbs of official phrasing: how a point is said, not what it is about. In a
# query with a topic word they weigh less, so 落实防汛责任 finds 防汛 before 落实…责任制.
GENERIC_WORDS = frozenset(
    "落实 加强 推进 推动 深入 开展 做好 抓好 全面 切实 进一步 扎实 持续 不断 大力 积极 着力 强化 完善 健全 "
    "提高 提升 扩大 严格 坚决 加快 促进 实施 坚持 狠抓 抓实 压实 夯实 认真 努力 有效 深化 保障 确保 "
    "工作 建设 发展 介绍 做好 进行 组织".split()
)
GENERIC_WEIGHT = 0.4


def is_generic(word: str) -> bool:
    """A generic word, or one made of two (深入开展 = 深入 + 开展)."""
    return word in GENERIC_WORDS or any(
        word[:i] in GENERIC_WORDS and word[i:] in GENERIC_WORDS for i in range(2, len(word) - 1)
    )


def segment(text: str, words: dict[str, int]) -> list[str]:
    """Words of a short text by the most probable split into known words (a unigram model over
    `words`, word -> count, as jieba does with its dictionary); a run of unknown characters
    stays one word. The vocabulary is the bank's own topic words, so no dictionary of 350,000
    words has to be loaded for a query (jieba's costs about a second at start-up)."""
    import math

    out: list[str] = []
    for run in _HAN_RUN.findall(text):
        total = sum(words.values()) or 1
        n = len(run)
        best = [0.0] + [-math.inf] * n
        back = [0] * (n + 1)
        for end in range(1, n + 1):
            for start in range(max(0, end - 8), end):
                w = run[start:end]
                count = words.get(w, 0)
                if count:
                    lp = math.log(count / total)
                elif end - start == 1:
                    lp = math.log(0.5 / total)  # an unknown character
                else:
                    continue
                if best[start] + lp > best[end]:
                    best[end], back[end] = best[start] + lp, start
        pieces: list[str] = []
        end = n
        while end > 0:
            pieces.append(run[back[end] : end])
            end = back[end]
        pieces.reverse()
        merged: list[str] = []
        unknown_before = False
        for p in pieces:  # unknown single characters in a row: one unknown word (勤学善思)
            unknown = len(p) == 1 and p not in words
            if unknown and unknown_before:
                merged[-1] += p
            else:
                merged.append(p)
            unknown_before = unknown
        out.extend(merged)
    return out


def word_bigrams(text: str, words: dict[str, int] | None = None) -> dict[str, float]:
    """Bigrams inside the words of a short text (落实防汛责任 → 落实 防汛 责任, not 实防 汛责):
    a bigram across a word boundary matches unrelated text (落实防范). Generic words weigh
    GENERIC_WEIGHT when the text has a topic word too. Words come from `segment` over the given
    vocabulary, else from jieba."""
    if words:
        found = [w for w in segment(text, words) if len(w) >= 2]
    else:
        import jieba

        found = [w for w in jieba.lcut(text) if _HAN_RUN.fullmatch(w) and len(w) >= 2]
    topical = any(not is_generic(w) for w in found)
    out: dict[str, float] = {}
    for w in found:
        weight = GENERIC_WEIGHT if topical and is_generic(w) else 1.0
        for i in range(len(w) - 1):
            out[w[i : i + 2]] = max(out.get(w[i : i + 2], 0.0), weight)
    return out or dict.fromkeys(bigram_terms(text), 1.0)


def vocabulary(topic_lists: Iterable[list[str]]) -> dict[str, int]:
    """word -> count from the units' topic words, plus the generic and synonym words."""
    from pipeline.material.synonyms import GROUPS

    counts: dict[str, int] = {}
    for topics in topic_lists:
        for t in topics:
            counts[t] = counts.get(t, 0) + 1
    top = max(counts.values(), default=1)
    for w in (*GENERIC_WORDS, *(w for g in GROUPS for w in g)):
        counts[w] = max(counts.get(w, 0), top // 4 or 1)
    return counts


def query_terms(
    query: str, analyzer: str, *, synonyms: bool, words: bool = False, df: Callable[[str], int] | None = None,
    vocab: dict[str, int] | None = None,
) -> dict[str, float]:
    """Weighted terms of a query: its own terms at 1, synonyms of its words lower (or at 1 when
    the texts never use the query's own word: 摸排 is searched as 排查).
    `words`: with the bigram analyzer, only bigrams inside the query's words."""
    if words and analyzer == "bigram":
        weights = word_bigrams(query, vocab)
    else:
        weights = dict.fromkeys(analyze(query, analyzer), 1.0)
    if synonyms:
        from pipeline.material.synonyms import SYNONYM_WEIGHT, expansions

        for present, others in expansions(query):
            own = [t for w in present for t in (analyze(w, analyzer) or [w])]
            unused = df is not None and all(not df(t) for t in own)
            # A synonym weighs as much as the word it stands for (less, unless that word is
            # never used): a generic verb's synonyms stay generic.
            base = max((weights.get(t, 1.0) for t in own), default=1.0)
            for word in others:
                for t in analyze(word, analyzer) or [word]:
                    weights[t] = max(weights.get(t, 0.0), base * (1.0 if unused else SYNONYM_WEIGHT))
    return weights


@dataclass
class Index:
    """Postings of one set of units (the shipped bank, or the user's corpus)."""

    analyzer: str
    vocab: dict[str, int]
    indptr: np.ndarray  # term t's postings are docs[indptr[t]:indptr[t+1]]
    docs: np.ndarray
    tfs: np.ndarray
    lengths: np.ndarray

    @property
    def size(self) -> int:
        return int(self.lengths.shape[0])

    @classmethod
    def build(cls, texts: Iterable[str], analyzer: str) -> Index:
        # One pass that maps every term to an id, then numpy sorts (term, doc) pairs into
        # postings: a few seconds for the ~2 million bigrams of the bank.
        vocab: dict[str, int] = {}
        ids: list[int] = []
        lengths: list[int] = []
        get = vocab.setdefault
        for text in texts:
            terms = analyze(text, analyzer)
            lengths.append(len(terms))
            ids.extend(get(t, len(vocab)) for t in terms)
        n_docs = len(lengths)
        term_ids = np.array(ids, dtype=np.int64)
        doc_ids = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        keys, tf = np.unique(term_ids * max(n_docs, 1) + doc_ids, return_counts=True)
        terms_of_keys = keys // max(n_docs, 1)
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.add.at(indptr, terms_of_keys + 1, 1)
        return cls(analyzer, vocab, np.cumsum(indptr), (keys % max(n_docs, 1)).astype(np.int32),
                   np.minimum(tf, 255).astype(np.uint8), np.array(lengths, dtype=np.float32))

    def df(self, term: str) -> int:
        t = self.vocab.get(term)
        return 0 if t is None else int(self.indptr[t + 1] - self.indptr[t])

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        t = self.vocab.get(term)
        if t is None:
            return self.docs[:0], self.tfs[:0]
        lo, hi = self.indptr[t], self.indptr[t + 1]
        return self.docs[lo:hi], self.tfs[lo:hi]


def score(indexes: Sequence[Index], terms: dict[str, float], *, coverage: bool = False) -> list[np.ndarray]:
    """BM25 scores of every unit of each index, with document frequencies and the average
    length taken over all of them (so a corpus sentence and a bank sentence compare).

    `coverage`: scale each score by the share of the query's weight (idf × weight) the unit
    holds, so a unit that says every part of the point (落实 防汛 责任) outranks a short one
    that repeats the common parts (落实…责任)."""
    n = sum(ix.size for ix in indexes)
    total_len = sum(float(ix.lengths.sum()) for ix in indexes)
    avgdl = total_len / n if n else 1.0
    out = [np.zeros(ix.size, dtype=np.float32) for ix in indexes]
    held = [np.zeros(ix.size, dtype=np.float32) for ix in indexes]
    total = 0.0
    for term, weight in terms.items():
        df = sum(ix.df(term) for ix in indexes)
        if not df:
            continue
        idf = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
        if weight >= 1.0:
            total += idf
        for ix, acc, cov in zip(indexes, out, held, strict=True):
            docs, tf = ix.postings(term)
            if not docs.size:
                continue
            tf = tf.astype(np.float32)
            norm = K1 * (1 - B + B * ix.lengths[docs] / avgdl)
            acc[docs] += weight * idf * tf * (K1 + 1) / (tf + norm)
            cov[docs] += idf * min(weight, 1.0)
    if coverage and total:
        for acc, cov in zip(out, held, strict=True):
            acc *= 0.25 + 0.75 * np.minimum(cov / total, 1.0)
    return out
