"""Material units: paragraphs and sentences of edited texts, each with its source and labels.

    units_from_text(text, source=…, origin=…, year=…, prefix=…) -> list[Unit]
    units_from_record(record) -> list[Unit]       # a corpus speech (placeholders masked)

A paragraph is a unit, and so is each of its sentences: a writer looks up a phrasing (a
sentence) as often as a passage to adapt (a paragraph). Headings, salutations and fragments are
not units: they carry no phrasing to reuse.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, fields
from typing import Any

from pipeline.material.label import label_paragraph, label_sentence
from pipeline.text.hanzi import count_zi, split_paragraphs, split_sentences

MIN_SENTENCE_ZI = 12
MAX_SENTENCE_ZI = 240
MIN_PARAGRAPH_ZI = 30

_HEADING_MARK = re.compile(r"^\s*(?:[（(][一二三四五六七八九十\d]+[）)]|[一二三四五六七八九十]+、|\d+[、.．])\s*")
_HAN_WORD = re.compile(r"[\u4e00-\u9fff]+")
_WIDE = re.compile(r"[０-９Ａ-Ｚａ-ｚ．％]")


@dataclass
class Unit:
    """One unit of the material bank."""

    id: str
    kind: str  # "paragraph" or "sentence"
    text: str
    origin: str  # "bank" (shipped public-domain texts) or "corpus" (the user's speeches)
    source: str  # the document it comes from (2025年政府工作报告, seed-03 在…上的讲话)
    year: int | None
    function: str
    topics: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    scope: list[str] = field(default_factory=list)
    parent: str = ""  # a sentence's paragraph

    @property
    def zishu(self) -> int:
        return count_zi(self.text)

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copies cost seconds over the ~30,000 bank units.
        return {f: getattr(self, f) for f in _FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Unit:
        return cls(**{"year": None, **data})


def tidy(text: str) -> str:
    """Full-width digits and Latin letters of older reports as ordinary ones (１９８４ → 1984);
    layout spaces out. Chinese punctuation stays full-width."""
    text = _WIDE.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    return "".join(text.split())


def _is_heading(para: str) -> bool:
    return count_zi(para) < MIN_PARAGRAPH_ZI and para[-1:] not in "。！？；"


# Words of every official text that say nothing about its topic.
_TOPIC_STOP = frozenset(
    "进一步 加强 推进 推动 加快 坚持 全面 深入 积极 切实 不断 提高 完善 实施 开展 促进 支持 发展 建设 "
    "工作 我们 要求 问题 方面 重要 主要 实现 继续 努力 大力 着力 扎实 有效 各项 一批 以上 同比 增长 "
    "提升 强化 健全 深化 保持 持续 更加 作用 水平 能力 体系 机制 政策 重点 进行 今年 去年 一年 "
    "必须 确保 各级 政府 全国 我国 国家".split()
)


def topics_of(text: str, k: int) -> list[str]:
    """The words a unit is about (TF-IDF keywords of jieba words; no part-of-speech pass,
    which would cost minutes over the 52 reports)."""
    import jieba.analyse

    tags = jieba.analyse.extract_tags(text, topK=k + 8)
    return [t for t in tags if len(t) >= 2 and t not in _TOPIC_STOP and _HAN_WORD.fullmatch(t)][:k]


def units_from_text(
    text: str, *, source: str, origin: str, year: int | None, prefix: str, topics: bool = True,
) -> list[Unit]:
    """Paragraph and sentence units of one document."""
    from pipeline.material.label import function_of

    units: list[Unit] = []
    for p_no, para in enumerate(split_paragraphs(text)):
        para = tidy(_HEADING_MARK.sub("", para))
        if not para or _is_heading(para):
            continue
        sentences = [s for s in split_sentences(para) if MIN_SENTENCE_ZI <= count_zi(s) <= MAX_SENTENCE_ZI]
        pid = f"{prefix}-p{p_no:03d}"
        # One keyword pass per paragraph; a sentence's topics are those of its paragraph it
        # says itself (half the cost of a pass per sentence, the bank builds in seconds).
        para_topics = topics_of(para, 16) if topics else []
        if count_zi(para) >= MIN_PARAGRAPH_ZI:
            lab = label_paragraph(para, split_sentences(para))
            lead = split_sentences(para)[0] if split_sentences(para) else para
            # A paragraph opened by a short topic sentence (加强污染防治和生态建设。) does what
            # its next sentences do.
            if lab.function == "其他" and count_zi(lead) < MIN_SENTENCE_ZI and len(split_sentences(para)) > 1:
                lab.function = function_of(split_sentences(para)[1])
            units.append(Unit(
                id=pid, kind="paragraph", text=para, origin=origin, source=source, year=year,
                topics=para_topics[:6], **lab.to_dict(),
            ))
        for s_no, sentence in enumerate(sentences):
            lab = label_sentence(sentence)
            units.append(Unit(
                id=f"{pid}-s{s_no:02d}", kind="sentence", text=sentence, origin=origin, source=source,
                year=year, topics=[t for t in para_topics if t in sentence][:3], parent=pid, **lab.to_dict(),
            ))
    return units


_FIELDS = tuple(f.name for f in fields(Unit))
_YEAR = re.compile(r"(19|20)\d\d")


def units_from_record(record: Any, *, topics: bool = True) -> list[Unit]:
    """Units of a corpus speech; a unit holding a placeholder (xx, □, aa …) is left out, so a
    blank is never offered as a real name."""
    from pipeline.text.placeholders import has_placeholder

    text = record.text
    extra = [p for p in (getattr(record, "placeholders", []) or []) if p and p.strip()]
    m = _YEAR.search(str(getattr(record, "date", "") or ""))
    title = getattr(record, "title", "") or ""
    units = units_from_text(
        text, source=f"{record.id} {title}".strip(), origin="corpus",
        year=int(m.group(0)) if m else None, prefix=f"corpus-{record.id}", topics=topics,
    )
    return [u for u in units if not has_placeholder(u.text) and not any(p in u.text for p in extra)]
