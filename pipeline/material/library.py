"""The material library: the shipped bank plus the user's corpus, ranked by BM25.

    lib = open_library(corpus_dir)                        # cached indexes, rebuilt when stale
    hits = lib.search("压实安全生产责任", function="要求/部署", origin="bank", n=20)

The bank's index is built once per installed bank file (seconds) into the cache dir; the
corpus's whenever its files change (a `corpus add`, an edit), so the user's own material is
searchable right after it is added.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.material.index import Index, query_terms, score, vocabulary
from pipeline.material.label import FUNCTION_ALIASES, FUNCTIONS
from pipeline.material.phrasebook import phrasebook_digest, phrasebook_dir, phrasebook_units
from pipeline.material.units import Unit, units_from_record
from pipeline.text.hanzi import normalize

BANK_FILE = Path(__file__).resolve().parent / "data" / "reports.jsonl.xz"
INDEX_VERSION = "5"
# Measured on 20 labelled points (evals/bench/bench_material.py): see the README table.
DEFAULT_ANALYZER = "bigram"
DEFAULT_SYNONYMS = True
DEFAULT_WORDS = True  # query bigrams only inside the query's words (split over the bank's topic words)
DEFAULT_COVERAGE = False  # scaling by the share of the query a unit holds: measured, no gain


@dataclass
class Hit:
    unit: Unit
    score: float

    def to_dict(self) -> dict[str, object]:
        return {**self.unit.to_dict(), "score": round(self.score, 3)}


@dataclass
class Shelf:
    """One set of units and its index, stored by column: loading ~30,000 unit objects from the
    cache would cost seconds on every command; strings load in milliseconds and a Unit is made
    only for a hit."""

    name: str
    texts: list[str]
    meta: list[str]  # each unit's other fields as compact JSON
    functions: np.ndarray  # index into FUNCTIONS, for filtering without parsing meta
    kinds: np.ndarray  # 0 paragraph, 1 sentence
    index: Index
    words: dict[str, int] = field(default_factory=dict)  # topic words -> count, to split queries
    # normalize(text) of each unit, the key a search de-duplicates on: computed once at build, as
    # normalizing the candidates at every search cost 0.6 s of each draft's retrieval.
    keys: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, name: str, units: list[Unit], analyzer: str) -> Shelf:
        meta = []
        for u in units:
            row = {k: v for k, v in u.to_dict().items() if k != "text" and v not in ([], "", None)}
            meta.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        return cls(
            name, [u.text for u in units], meta,
            np.array([FUNCTIONS.index(u.function) for u in units], dtype=np.int8),
            np.array([u.kind == "sentence" for u in units], dtype=np.int8),
            Index.build((u.text for u in units), analyzer),
            vocabulary(u.topics for u in units),
            [normalize(u.text) for u in units],
        )

    def __len__(self) -> int:
        return len(self.texts)

    def unit(self, i: int) -> Unit:
        return Unit.from_dict({**json.loads(self.meta[i]), "text": self.texts[i]})

    @property
    def units(self) -> list[Unit]:
        return [self.unit(i) for i in range(len(self))]


def load_bank(path: Path = BANK_FILE) -> list[Unit]:
    """The shipped public-domain units (government work reports)."""
    if not path.is_file():
        from pipeline.errors import InputError

        raise InputError(f"{path}: the material bank is missing; rebuild it with `python -m pipeline.material.build`")
    with lzma.open(path, "rt", encoding="utf-8") as fh:
        return [Unit.from_dict(json.loads(line)) for line in fh if line.strip()]


def _cache_dir() -> Path:
    from pipeline.paths import cache_dir

    return cache_dir() / "material"


_ARRAYS = ("indptr", "docs", "tfs", "lengths")


def _load_cached(folder: Path) -> Shelf | None:
    """A shelf from its cache folder: strings from a pickle, postings memory-mapped (a search
    reads only the postings of its terms, so opening the bank costs milliseconds)."""
    try:
        with open(folder / "shelf.pkl", "rb") as fh:
            head = pickle.load(fh)
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
        index = Index(head["analyzer"], head["vocab"], **arrays)
        return Shelf(head["name"], head["texts"], head["meta"], head["functions"], head["kinds"], index,
                     head["words"], head["keys"])
    except (OSError, ValueError, KeyError, TypeError, pickle.UnpicklingError, EOFError):
        return None


def _save_cached(folder: Path, shelf: Shelf, stale_glob: str) -> None:
    import shutil

    folder.parent.mkdir(parents=True, exist_ok=True)
    for old in folder.parent.glob(stale_glob):
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)
    tmp = folder.with_name(f"{folder.name}.{np.random.randint(1 << 30)}.tmp")
    tmp.mkdir(parents=True)
    head = {"name": shelf.name, "texts": shelf.texts, "meta": shelf.meta, "functions": shelf.functions,
            "kinds": shelf.kinds, "analyzer": shelf.index.analyzer, "vocab": shelf.index.vocab,
            "words": shelf.words, "keys": shelf.keys}
    with open(tmp / "shelf.pkl", "wb") as fh:
        pickle.dump(head, fh, protocol=pickle.HIGHEST_PROTOCOL)
    for name in _ARRAYS:
        np.save(tmp / f"{name}.npy", getattr(shelf.index, name))
    try:
        tmp.replace(folder)
    except OSError:  # another process cached it first
        shutil.rmtree(tmp, ignore_errors=True)


def _digest(*parts: object) -> str:
    return hashlib.sha1("\x00".join(map(str, parts)).encode()).hexdigest()[:16]


# Shelves opened in this process, by cache folder. Tasks run in threads (eval cases, batch jobs):
# on a fresh cache dir each would build the bank's index at once, and one thread's save (which
# clears older versions) could pull the folder from under another's load, leaving that draft
# without material. One lock, one build, one shared shelf.
_OPEN: dict[Path, Shelf] = {}
_OPEN_LOCK = threading.Lock()


def _shelf(target: Path, stale_glob: str, build: Callable[[], Shelf], cache: bool) -> Shelf:
    if not cache:
        return build()
    with _OPEN_LOCK:
        if (shelf := _OPEN.get(target)) is None:
            shelf = _load_cached(target)
            if shelf is None:
                shelf = build()
                try:
                    _save_cached(target, shelf, stale_glob)
                except OSError:
                    pass  # a read-only or full cache dir: the index is only a speed-up, use it unsaved
            _OPEN[target] = shelf
        return shelf


def bank_shelf(
    analyzer: str = DEFAULT_ANALYZER, *, path: Path = BANK_FILE, phrasebook: Path | None = None, cache: bool = True,
) -> Shelf:
    """The shipped units: the reports and the phrasebook (常用表述; phrasebook_dir()), one shelf."""
    phrasebook = phrasebook or phrasebook_dir()
    stat = path.stat()
    key = _digest(INDEX_VERSION, analyzer, stat.st_size, hashlib.sha1(path.read_bytes()).hexdigest(),
                  phrasebook_digest(phrasebook))
    return _shelf(
        _cache_dir() / f"bank-{analyzer}-{key}", f"bank-{analyzer}-*",
        lambda: Shelf.of("bank", load_bank(path) + phrasebook_units(phrasebook), analyzer), cache,
    )


def _corpus_signature(folder: Path) -> str:
    from pipeline.corpus.store import corpus_files

    files = corpus_files(folder)
    return _digest(INDEX_VERSION, *((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files))


def corpus_shelf(folder: Path, analyzer: str = DEFAULT_ANALYZER, *, cache: bool = True) -> Shelf:
    """Units of the corpus speeches; rebuilt when any corpus file changed since the last one."""
    from pipeline.corpus.store import load_corpus

    folder = Path(folder)
    where = _digest(folder.resolve())
    return _shelf(
        _cache_dir() / f"corpus-{where}-{analyzer}-{_corpus_signature(folder)}", f"corpus-{where}-{analyzer}-*",
        lambda: Shelf.of("corpus", [u for record in load_corpus(folder) for u in units_from_record(record)], analyzer),
        cache,
    )


def normalize_function(value: str | None) -> str | None:
    if not value:
        return None
    name = FUNCTION_ALIASES.get(value.strip())
    if name is None:
        from pipeline.errors import InputError

        names = "、".join(dict.fromkeys(FUNCTION_ALIASES.values()))
        raise InputError(f"--function: unknown function {value!r}: use one of {names}")
    return name


class Library:
    """Ranked look-up over one or more shelves."""

    def __init__(
        self, shelves: list[Shelf], *, synonyms: bool = DEFAULT_SYNONYMS, words: bool = DEFAULT_WORDS,
        coverage: bool = DEFAULT_COVERAGE,
    ) -> None:
        self.shelves = shelves
        self.analyzer = shelves[0].index.analyzer if shelves else DEFAULT_ANALYZER
        self.synonyms = synonyms
        self.words = words
        self.coverage = coverage
        self.vocab: dict[str, int] = {}
        for shelf in shelves:
            for w, c in shelf.words.items():
                self.vocab[w] = self.vocab.get(w, 0) + c

    @property
    def size(self) -> int:
        return sum(len(s) for s in self.shelves)

    def df(self, term: str) -> int:
        """In how many units of all shelves the index term (a bigram) occurs."""
        return sum(s.index.df(term) for s in self.shelves)

    def search(
        self,
        query: str,
        *,
        function: str | None = None,
        origin: str | None = None,
        kind: str | None = None,
        n: int = 20,
        where: Callable[[Unit], bool] | None = None,
        weights: dict[str, float] | None = None,
    ) -> list[Hit]:
        """The n best units for the query; the same text (a sentence a later report repeats)
        is listed once, at its best score. `weights` adds weighted extra terms (the occasion
        beside a point)."""
        function = normalize_function(function)
        shelves = [s for s in self.shelves if origin in (None, "all", s.name)]
        indexes = [s.index for s in self.shelves]
        terms = query_terms(query, self.analyzer, synonyms=self.synonyms, words=self.words, df=self.df, vocab=self.vocab)
        for extra, w in (weights or {}).items():
            for t, tw in query_terms(extra, self.analyzer, synonyms=False, words=self.words, vocab=self.vocab).items():
                terms[t] = max(terms.get(t, 0.0), w * tw)
        if not shelves or not terms:
            return []
        scored = score(indexes, terms, coverage=self.coverage)
        fcode = FUNCTIONS.index(function) if function else -1
        kcode = {"paragraph": 0, "sentence": 1}.get(kind or "", -1)
        candidates: list[tuple[float, int, Shelf, int]] = []
        for shelf, scores in zip(self.shelves, scored, strict=True):
            if shelf not in shelves:
                continue
            mask = scores > 0
            if fcode >= 0:
                mask &= shelf.functions == fcode
            if kcode >= 0:
                mask &= shelf.kinds == kcode
            nz = np.flatnonzero(mask)
            if not nz.size:
                continue
            # Enough candidates that filters and de-duplication still leave n.
            take = min(nz.size, max(n * 20, 400))
            top = nz[np.argpartition(-scores[nz], take - 1)[:take]] if take < nz.size else nz
            candidates += [(float(scores[i]), int(i), shelf, 0) for i in top]
        candidates.sort(key=lambda c: -c[0])
        hits: list[Hit] = []
        seen: set[str] = set()
        for s, i, shelf, _ in candidates:
            key = shelf.keys[i]
            if key in seen:
                continue
            unit = shelf.unit(i)
            if where is not None and not where(unit):
                continue
            seen.add(key)
            hits.append(Hit(unit, s))
            if len(hits) >= n:
                break
        return hits


def open_library(
    corpus_dir: Path | str | None = None,
    *,
    analyzer: str = DEFAULT_ANALYZER,
    synonyms: bool = DEFAULT_SYNONYMS,
    words: bool = DEFAULT_WORDS,
    bank: bool = True,
    corpus: bool = True,
) -> Library:
    """The bank and (when the folder exists) the corpus, indexed with the given analyzer."""
    shelves: list[Shelf] = []
    if bank:
        shelves.append(bank_shelf(analyzer))
    if corpus:
        from pipeline.paths import corpus_dir as default_corpus

        folder = Path(corpus_dir) if corpus_dir else default_corpus()
        if folder.is_dir():
            shelves.append(corpus_shelf(folder, analyzer))
    return Library(shelves, synonyms=synonyms, words=words)
