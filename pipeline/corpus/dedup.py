"""Refuse exact and near duplicates, naming the speech they duplicate.

Texts are compared on 5-character shingles of their normalized form (no spaces or punctuation,
NFKC), so re-encoding, re-wrapping or re-punctuating a speech does not make it new.
Near duplicate: Jaccard similarity ≥ 0.8, or ≥ 90 % of the shorter speech's shingles inside the
longer one (a trimmed copy). Comparisons are exact set operations: a corpus of a few hundred
speeches is compared in well under a second (see evals/bench/bench_corpus.py).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

_NOT_WORD = re.compile(r"[\W_]+")

SHINGLE = 5
JACCARD_MIN = 0.8
CONTAINMENT_MIN = 0.9
_MIN_SHINGLES_FOR_CONTAINMENT = 150
_SAMPLE = 64
_SCREEN = 0.6  # far below both thresholds, so the screen never hides a real duplicate  # a short greeting inside a long speech is not a copy


@dataclass(frozen=True)
class Match:
    id: str
    kind: str  # "exact" | "near" | "contained"
    similarity: float

    def describe(self) -> str:
        if self.kind == "exact":
            return f"exact duplicate of {self.id}"
        if self.kind == "contained":
            return f"near duplicate of {self.id} ({_pct(self.similarity)} of it is in {self.id})"
        return f"near duplicate of {self.id} ({_pct(self.similarity)} similar)"


def _pct(x: float) -> str:
    return f"{min(x, 0.999):.1%}"  # never print 100% for a copy that is not exact


@dataclass
class _Entry:
    id: str
    digest: str
    shingles: frozenset[str]
    sample: tuple[str, ...]  # bottom-k hashes: a random sample of the shingles


@lru_cache(maxsize=64)
def normalize(text: str) -> str:
    """NFKC without spaces or punctuation (like pipeline.text.hanzi.normalize, but in C speed)."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text))


def fingerprint(text: str) -> str:
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


@lru_cache(maxsize=16)
def shingles(text: str, k: int = SHINGLE) -> frozenset[str]:
    norm = normalize(text)
    if len(norm) <= k:
        return frozenset({norm})
    return frozenset({norm[i: i + k] for i in range(len(norm) - k + 1)})


@dataclass
class DedupIndex:
    """The speeches seen so far; `check` a new text before adding it with `add`."""

    _entries: list[_Entry] = field(default_factory=list)
    _by_digest: dict[str, str] = field(default_factory=dict)

    def add(self, speech_id: str, text: str) -> None:
        sh = shingles(text)
        entry = _Entry(speech_id, fingerprint(text), sh, _sample(sh))
        self._entries.append(entry)
        self._by_digest.setdefault(entry.digest, speech_id)

    def remove(self, speech_id: str) -> None:
        self._entries = [e for e in self._entries if e.id != speech_id]
        self._by_digest = {d: i for d, i in self._by_digest.items() if i != speech_id}

    def check(self, text: str, *, ignore: str | None = None) -> Match | None:
        digest = fingerprint(text)
        same = self._by_digest.get(digest)
        if same is not None and same != ignore:
            return Match(same, "exact", 1.0)
        sh = shingles(text)
        sample = _sample(sh)
        best: Match | None = None
        for e in self._entries:
            if e.id == ignore:
                continue
            if not _worth_comparing(len(sh), len(e.shingles)):
                continue
            # Both tests need most of the smaller text inside the larger: estimate that from
            # the smaller one's sample before paying for a full set intersection.
            small_sample, large = (sample, e.shingles) if len(sh) <= len(e.shingles) else (e.sample, sh)
            inside = sum(1 for h in small_sample if h in large) / max(1, len(small_sample))
            if inside < _SCREEN:
                continue
            match = _compare(e.id, sh, e.shingles)
            if match and (best is None or match.similarity > best.similarity):
                best = match
        return best


def _sample(sh: frozenset[str]) -> tuple[str, ...]:
    # Any fair sample of the smaller text estimates how much of it the larger one holds; a set
    # iterates in (salted) hash order, so its first elements are such a sample, for free.
    return tuple(itertools.islice(sh, _SAMPLE))


def _worth_comparing(na: int, nb: int) -> bool:
    # Jaccard ≥ 0.8 needs similar sizes; containment needs a shorter text of some length.
    small, large = min(na, nb), max(na, nb)
    return small >= JACCARD_MIN * large or small >= _MIN_SHINGLES_FOR_CONTAINMENT


def _compare(other_id: str, a: frozenset[str], b: frozenset[str]) -> Match | None:
    inter = len(a & b)
    if not inter:
        return None
    jaccard = inter / len(a | b)
    if jaccard >= JACCARD_MIN:
        return Match(other_id, "near", jaccard)
    small = min(len(a), len(b))
    containment = inter / small
    if small >= _MIN_SHINGLES_FOR_CONTAINMENT and containment >= CONTAINMENT_MIN:
        return Match(other_id, "contained", containment)
    return None
