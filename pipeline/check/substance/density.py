"""R104/R105: a model looping — one content word everywhere, the same sentence again and again
with small changes (各级党委要重视抓好安全生产专项检查整改落实 three or four times).

The bounds come from measuring professionally edited texts (evals/bench/bench_substance.py
prints the numbers; the 52 government work reports 1954–2025 and the 7 corpus speeches):

  * the most frequent content bigram in any 1,000-字 window: median 21, max 40 (企业 in the
    1987 report; 27 for 文明 in seed-07). Real speeches hammer their topic word, so density
    alone separates little: R104 warns above WINDOW_MAX (45 per 1,000 字, scaled down for
    shorter texts, at least MIN_COUNT times).
  * near-duplicate sentences (character-bigram Jaccard >= NEAR, both >= MIN_ZI 字, within
    WINDOW sentences, the same figures): the reports have parallel pairs (warnings); their
    triples are lists with different figures (用于教育支出…2.43万亿元, 用于医疗卫生支出…6294亿元)
    or short refrains (我们认为这种说法是错误的。, 13 字), hence the figures test and MIN_ZI. A
    sentence said three or more times in close variants is an error.
  * the same clause (8 字 or more between two marks) within 1,500 字: at most 4 times in any of
    the 59 texts (建设社会主义新农村, 2006), so R106 flags a clause said REFRAIN_MAX (5) times or
    more — a collage of report sentences that all end 坚决遏制重特大事故发生. The findings sit on
    the third and later times, so dropping their sentences leaves the clause said twice.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from operator import add

from pipeline.check.base import CheckConfig, Doc, Finding, Severity, checker, finding, rule

R104 = rule("R104", "word-density", Severity.warning,
            "one content word far more often than real speeches use any (over 45 per 1,000 字)")
R105 = rule("R105", "near-duplicate", Severity.warning,
            "the same sentence with small changes (an error when said three or more times)")
R106 = rule("R106", "refrain", Severity.error,
            "one clause of 8 字 or more said 5 times or more within 1,500 字 (real texts: at most 4)")

WINDOW_ZI = 1000
WINDOW_MAX = 45
MIN_COUNT = 8
NEAR = 0.6
MIN_ZI = 16
WINDOW = 40  # sentences back that a near-duplicate is looked for in
REFRAIN_ZI = 8
REFRAIN_MAX = 5
REFRAIN_WINDOW = 1500
_CLAUSE = re.compile(r"[^，,。；;！!？?、：:\n“”‘’（）()《》]+")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_DIGITS = re.compile(r"[0-9０-９]+(?:[.．][0-9０-９]+)?|[〇零一二两三四五六七八九十百千万亿点]{2,}")
# characters of function words and of words every official text repeats (发展, 工作 stay in:
# they are content, and the bound is set with them counted)
_FUNC = set("的了是在和与及要把对为我们你他这那一不也就都而之其等各个有以将从到于上下中并或但还又再更很大会新年")
_BLANK_FUNC = {ord(c): " " for c in _FUNC}
_NOT_HAN = re.compile(r"[^\u4e00-\u9fff]")


@checker(R104, R105, R106)
def check_density(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    if config.enabled("R104"):
        yield from _density(doc)
    if config.enabled("R105"):
        yield from _near_duplicates(doc)
    if config.enabled("R106"):
        yield from _refrains(doc)


def _refrains(doc: Doc) -> Iterator[Finding]:
    at: dict[str, list[tuple[int, int]]] = {}
    for m in _CLAUSE.finditer(doc.text):
        clause = m.group(0).strip()
        if sum(map(len, _HAN_RUN.findall(clause))) >= REFRAIN_ZI:
            start = m.start() + m.group(0).index(clause)
            at.setdefault(clause, []).append((start, start + len(clause)))
    for clause, spans in at.items():
        if len(spans) < REFRAIN_MAX:
            continue
        # the most times within one window of REFRAIN_WINDOW 字
        most = max(sum(1 for b, _ in spans if a <= b < a + REFRAIN_WINDOW) for a, _ in spans)
        if most < REFRAIN_MAX:
            continue
        for start, end in spans[2:]:
            yield finding(doc, "R106", f"“{clause}” said {len(spans)} times (real texts: at most "
                          f"{REFRAIN_MAX - 1} in {REFRAIN_WINDOW} 字): say it once or twice", start, end)


def content_view(text: str) -> str:
    """text with everything but content 字 blanked to spaces (same offsets): what R104 counts."""
    return _NOT_HAN.sub(" ", text.translate(_BLANK_FUNC))


def _density(doc: Doc) -> Iterator[Finding]:
    """Windows of WINDOW_ZI characters, half overlapping; counting is Counter's (C) loop."""
    text = doc.text
    window = min(WINDOW_ZI, len(text))
    bound = max(MIN_COUNT, round(WINDOW_MAX * min(1.0, doc.zi / WINDOW_ZI)))
    content = content_view(text)
    reported: set[str] = set()
    for s in range(0, max(1, len(text) - window // 2), max(1, window // 2)):
        piece = content[s : s + window]
        counts = Counter(map(add, piece, piece[1:]))
        counts.pop(" " * 2, None)
        if not counts or max(counts.values()) <= bound:
            continue
        for word, n in counts.items():
            if n > bound and " " not in word and word not in reported:
                reported.add(word)
                at = text.find(word, s)
                yield finding(doc, "R104", f"“{word}” {n} times in {min(window, doc.zi)} 字 (real "
                              f"speeches: at most {WINDOW_MAX} per {WINDOW_ZI} 字): vary the wording",
                              at, at + len(word))


def _bigrams(key: str) -> frozenset[str]:
    return frozenset(key[i : i + 2] for i in range(len(key) - 1))


def _near_duplicates(doc: Doc) -> Iterator[Finding]:
    sents: list[tuple[int, int, str, tuple[str, ...]]] = []
    for _, start, end, sent in doc.sentences():
        key = "".join(_HAN_RUN.findall(sent))
        if len(key) >= MIN_ZI:
            sents.append((start, end, key, tuple(_DIGITS.findall(sent))))
    # candidates share two 4-字 pieces; the Jaccard test runs on those only (fast on reports)
    grams: dict[int, frozenset[str]] = {}
    last_seen: dict[str, list[int]] = {}
    copies: dict[int, list[int]] = {}  # first sentence -> later near-duplicates
    first_of: dict[int, int] = {}
    for j, (_, _, key, figures) in enumerate(sents):
        shared: Counter[int] = Counter()
        for i in range(0, len(key) - 3, 2):
            seen = last_seen.setdefault(key[i : i + 4], [])
            while seen and j - seen[0] > WINDOW:
                seen.pop(0)
            shared.update(seen)
            seen.append(j)
        best = None
        for k in sorted(k for k, n in shared.items() if n >= 2):
            if j not in grams:
                grams[j] = _bigrams(key)
            if k not in grams:
                grams[k] = _bigrams(sents[k][2])
            a, b = grams[j], grams[k]
            if figures != sents[k][3]:
                continue  # 用于教育支出…2.43万亿元 / 用于医疗卫生支出…6294亿元: a list, not a loop
            if len(a & b) / len(a | b) >= NEAR:
                best = first_of.get(k, k)
                break
        if best is not None:
            first_of[j] = best
            copies.setdefault(best, []).append(j)
    for first, later in copies.items():
        a = sents[first]
        severity = Severity.error if len(later) >= 2 else Severity.warning
        times = len(later) + 1
        for j in later:
            start, end = sents[j][0], sents[j][1]
            if severity == Severity.warning and sents[j][2] == a[2] and len(a[2]) >= 20:
                continue  # said twice word for word: R102's finding
            yield finding(doc, "R105", f"near-duplicate of “{doc.text[a[0]:a[1]][:30]}” ({times} variants "
                          "of one sentence): say it once", start, end, severity=severity)


__all__ = ["R104", "R105", "R106", "check_density", "content_view"]
