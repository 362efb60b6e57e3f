"""A style applied to one sentence, deterministically: the style's table of phrases (plain words
for officialese, spoken words for written ones), splitting long sentences where a second
sentence can stand on its own, and spoken turns to the audience. Never inside a fact or a
quotation. Then how much of a text a style really changed, sentence by sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.styles import Style
from pipeline.tasks.restyle.edits import light_edit, protected_spans
from pipeline.tasks.restyle.source import ENUM_RE, H1_RE, H2_RE
from pipeline.text.hanzi import count_zi, normalize, split_sentences

# A clause after "，" that can open a sentence of its own; the words that open it as such.
_SPLIT_BEFORE = re.compile(
    r"，(?=(?:同时|并且|而且|但是|但|所以|因此|从而|进而|这样|这是|这些|这就|我们|大家|各级|各地|各部门|"
    r"要|必须|一定要|坚持|让|并|还要|也要|切实|努力|确保|推动|推进|加快|持续|不断|着力|全力|"
    r"于是|甚至|其实|不过|可是|只要|然后|接着|结果|因为)[\u4e00-\u9fff])"
)
_PAIRED = re.compile(r"不仅|不但|不只|虽然|尽管|既")
_OPEN_AS = {"并": "同时，", "从而": "这样，", "进而": "接着，"}
_STARTS_SPOKEN = re.compile(
    r"^(?:同志们|朋友们|大家|各位|我再|我跟|说到底|说白了|你看|咱们|也就是说|换句话说|这里|最后|首先|其次|第[一二三四五六七八九十]|"
    r"[一二三四五六七八九十]是|所以|但是|同时|另外|当然)"
)
_DEMAND = re.compile(r"(?<![重主需必])要(?![求素点害])|必须|务必|一定|确保")
_HAS_FIGURE = re.compile(r"\d|[一二三四五六七八九十百千万亿]+(?:个|项|家|名|人|万|亿|倍|成)")


def split_long(sentence: str, limit: int) -> list[str]:
    """A sentence over `limit` 字 as two or more, split at "；" or before a clause that can open
    a sentence, as near the middle as possible; each part at least 10 字."""
    n = count_zi(sentence)
    if n <= limit:
        return [sentence]
    spans = protected_spans(sentence)
    cuts = [m.start() for m in re.finditer("；", sentence)] + [m.start() for m in _SPLIT_BEFORE.finditer(sentence)]
    cuts = [c for c in cuts if not any(a <= c < b for a, b in spans)]
    cuts = [c for c in cuts if count_zi(sentence[:c]) >= 10 and count_zi(sentence[c + 1:]) >= 10]
    # 不仅…，而且… / 虽然…，但… are one sentence: their halves cannot stand alone
    cuts = [c for c in cuts if not (re.match(r"，(?:而且|但|还|也)", sentence[c:]) and _PAIRED.search(sentence[:c]))]
    if not cuts:
        return [sentence]
    cut = min(cuts, key=lambda c: abs(count_zi(sentence[:c]) - n / 2))
    head, tail = sentence[:cut] + "。", sentence[cut + 1:]
    for word, opener in _OPEN_AS.items():
        if tail.startswith(word) and not tail.startswith(("并且", "并不", "并非")):
            tail = opener + tail[len(word):]
            break
    return split_long(head, limit) + split_long(tail, limit)


@dataclass
class Turns:
    """Spoken turns to the audience, dealt out every few sentences by kind of sentence."""

    style: Style
    salutation: str = ""
    since: int = 0
    used: dict[str, int] | None = None  # per kind, so each pool goes round before a turn repeats

    def apply(self, sentence: str) -> str:
        turns = self.style.turns
        if not turns:
            return sentence
        self.since += 1
        if self.since < self.style.turn_every or count_zi(sentence) < 10:
            return sentence
        if _STARTS_SPOKEN.match(sentence) or H1_RE.match(sentence) or H2_RE.match(sentence) or ENUM_RE.match(sentence):
            return sentence
        kind = "demand" if _DEMAND.search(sentence) else "figure" if _HAS_FIGURE.search(sentence) else "other"
        pool = [t for t in turns.get(kind, []) + turns.get("any", [])
                if "同志" not in t or "同志" in self.salutation or not self.salutation]
        if not pool:
            return sentence
        self.since = 0
        self.used = self.used or {}
        n = self.used.get(kind, 0)
        self.used[kind] = n + 1
        return pool[n % len(pool)] + sentence


def stylize(sentence: str, style: Style, turns: Turns | None = None) -> str:
    """One sentence in the style: table, splitting, turns. Headings keep their one line."""
    if H1_RE.match(sentence) and count_zi(sentence) <= 40 and not re.search(r"[。！？]$", sentence):
        return light_edit(sentence, style)
    text = light_edit(sentence, style)
    if not text:
        return text
    parts = split_long(text, style.split_long) if style.split_long else [text]
    if turns is not None:
        parts = [turns.apply(p) for p in parts]
    return "".join(parts)


def changed(source: str, output: str) -> bool:
    """A sentence counts as changed when its words changed or it became two sentences;
    punctuation alone (；→。) is no change."""
    if normalize(source) != normalize(output):
        return True
    return len(split_sentences(output)) > len(split_sentences(source))


def change_share(pairs: list[tuple[str, str]], min_zi: int = 8) -> tuple[int, int]:
    """(changed, counted) over source sentences of at least `min_zi` 字 (谢谢大家！ is no test)."""
    counted = [(s, o) for s, o in pairs if count_zi(s) >= min_zi]
    return sum(1 for s, o in counted if changed(s, o)), len(counted)
