"""Text similarity for Chinese: ROUGE at character or jieba-word level, copy detection.

Pure Python but linear or bit-parallel, so scoring 1,000 cases takes seconds: LCS uses the
bit-vector algorithm of Crochemore et al. (one big-int operation per token of the second text),
the longest common substring a suffix automaton.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

_PUNCT_MAP = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"', "『": '"', "』": '"'})


def canon(text: str) -> str:
    """NFKC (full-width ASCII to half-width) and one form of each quotation mark.

    What regex assertions see: punctuation stays (patterns may use it), spelled one way.
    """
    return unicodedata.normalize("NFKC", text).translate(_PUNCT_MAP)


def _drop_table() -> dict[int, None]:
    # Every BMP punctuation and white-space character, deleted in one str.translate pass.
    return {
        cp: None for cp in range(0x10000)
        if chr(cp).isspace() or unicodedata.category(chr(cp)).startswith("P")
    }


_DROP: dict[int, None] | None = None


def strip_marks(text: str) -> str:
    """canon() without white space and punctuation: what contains / not_contains compare."""
    global _DROP
    if _DROP is None:
        _DROP = _drop_table()
    out = canon(text).translate(_DROP)
    if out and max(out) > "\uffff":  # astral characters are rare: slow path for their punctuation
        out = "".join(ch for ch in out if not unicodedata.category(ch).startswith("P"))
    return out


_WORD_SPLIT = re.compile(r"\s+")


def tokens(text: str, level: str = "char") -> list[str]:
    """Characters (punctuation and spaces dropped) or jieba words (punctuation dropped)."""
    text = strip_marks(text) if level == "char" else canon(text)
    if level == "char":
        return list(text)
    import jieba  # heavy: only when word-level ROUGE is asked for

    jieba.setLogLevel(60)
    return [
        w for w in jieba.lcut(text)
        if w.strip() and not all(unicodedata.category(c).startswith(("P", "Z", "C")) for c in w)
    ]


def _ngrams(seq: Sequence[str], n: int) -> Counter:
    return Counter(tuple(seq[i:i + n]) for i in range(len(seq) - n + 1))


def _f1(overlap: int, cand: int, ref: int) -> float:
    if not overlap or not cand or not ref:
        return 0.0
    p, r = overlap / cand, overlap / ref
    return 2 * p * r / (p + r)


def rouge_n(cand: Sequence[str], ref: Sequence[str], n: int) -> float:
    c, r = _ngrams(cand, n), _ngrams(ref, n)
    return _f1(sum((c & r).values()), sum(c.values()), sum(r.values()))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, bit-parallel: O(len(b) · len(a) / word)."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, tok in enumerate(a):
        masks[tok] = masks.get(tok, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for tok in b:
        u = v & masks.get(tok, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l(cand: Sequence[str], ref: Sequence[str]) -> float:
    return _f1(lcs_length(ref, cand), len(cand), len(ref))


def rouge(candidate: str, reference: str, metric: str = "rougeL", level: str = "char") -> float:
    cand, ref = tokens(candidate, level), tokens(reference, level)
    if metric == "rouge1":
        return rouge_n(cand, ref, 1)
    if metric == "rouge2":
        return rouge_n(cand, ref, 2)
    return rouge_l(cand, ref)


def longest_common_substring(text: str, source: str) -> str:
    """The longest piece of `text` that also occurs in `source` (suffix automaton of source)."""
    if not text or not source:
        return ""
    link = [-1]
    length = [0]
    trans: list[dict[str, int]] = [{}]
    last = 0
    for ch in source:
        cur = len(length)
        length.append(length[last] + 1)
        link.append(-1)
        trans.append({})
        p = last
        while p != -1 and ch not in trans[p]:
            trans[p][ch] = cur
            p = link[p]
        if p == -1:
            link[cur] = 0
        else:
            q = trans[p][ch]
            if length[p] + 1 == length[q]:
                link[cur] = q
            else:
                clone = len(length)
                length.append(length[p] + 1)
                link.append(link[q])
                trans.append(dict(trans[q]))
                while p != -1 and trans[p].get(ch) == q:
                    trans[p][ch] = clone
                    p = link[p]
                link[q] = clone
                link[cur] = clone
        last = cur
    state, cur_len, best, best_end = 0, 0, 0, 0
    for i, ch in enumerate(text):
        while state and ch not in trans[state]:
            state = link[state]
            cur_len = length[state]
        if ch in trans[state]:
            state = trans[state][ch]
            cur_len += 1
        else:
            state, cur_len = 0, 0
        if cur_len > best:
            best, best_end = cur_len, i + 1
    return text[best_end - best:best_end]


def ngram_overlap(text: str, source: str, n: int = 8) -> float:
    """Share of `text`'s character n-grams that also occur in `source` (0 when text is shorter)."""
    grams = [text[i:i + n] for i in range(len(text) - n + 1)]
    if not grams:
        return 0.0
    seen = {source[i:i + n] for i in range(len(source) - n + 1)}
    return sum(1 for g in grams if g in seen) / len(grams)


def bigram_recall(point: str, text: str) -> float:
    """Share of the point's character bigrams found in the text (1.0 for a verbatim mention)."""
    p, t = strip_marks(point), strip_marks(text)
    if not p:
        return 1.0
    if p in t:
        return 1.0
    grams = {p[i:i + 2] for i in range(len(p) - 1)} or {p}
    have = {t[i:i + 2] for i in range(len(t) - 1)} | set(t)
    return sum(1 for g in grams if g in have) / len(grams)
