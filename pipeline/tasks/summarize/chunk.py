"""Chinese-aware segmentation and chunking: paragraphs, sentences, numbered headings.

A document is split into paragraphs (non-empty lines, numbered ¶1… as everywhere in the
project) and sentences (ending in 。！？；…, closing quotes kept). Numbered headings (一、 （一）
1. （1） 第一部分) are recognised so that a chunk never ends on a heading whose body is in the
next chunk, and every chunk knows the heading trail it sits under.

Chunks are packed greedily from whole paragraphs, then whole sentences, up to a token budget
counted with the backend's own tokenizer. A sentence is never cut, with one exception: a single
sentence longer than the whole budget (only possible with absurdly small budgets) is cut at
commas and the chunk is flagged `cut_sentence`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from pipeline.text.hanzi import split_paragraphs, split_sentences
from pipeline.text.injection import ASIDE, is_instruction
from pipeline.text.numbering import heading_level

_HEADING_ONLY_MAX = 40  # a numbered line this short without 。 inside is a heading on its own


@dataclass(frozen=True)
class Sentence:
    text: str
    para: int  # 1-based paragraph number (¶)
    index: int  # position in the document, 0-based
    heading_level: int = 0  # >0 when this sentence is a numbered heading


@dataclass(frozen=True)
class Paragraph:
    number: int  # 1-based (¶)
    text: str
    sentences: tuple[Sentence, ...]
    heading_level: int = 0  # the paragraph starts with a numbered heading of this level
    heading: str = ""  # that heading's text
    section: tuple[str, ...] = ()  # heading trail this paragraph sits under (incl. its own)


@dataclass(frozen=True)
class Document:
    paragraphs: tuple[Paragraph, ...]

    @property
    def sentences(self) -> list[Sentence]:
        return [s for p in self.paragraphs for s in p.sentences]

    @property
    def headings(self) -> list[tuple[int, int, str]]:
        """(paragraph number, level, text) of every numbered heading."""
        return [(p.number, p.heading_level, p.heading) for p in self.paragraphs if p.heading_level]

    def paragraph(self, number: int) -> Paragraph | None:
        return self.paragraphs[number - 1] if 1 <= number <= len(self.paragraphs) else None


def segment(text: str) -> Document:
    """Paragraphs, sentences and headings of a text."""
    paragraphs: list[Paragraph] = []
    trail: list[tuple[int, str]] = []
    index = 0
    for number, para in enumerate(split_paragraphs(text), 1):
        level = heading_level(para)
        pieces = _merge_open_quotes(split_sentences(para)) or [para]
        heading = ""
        if level:
            only = len(para) <= _HEADING_ONLY_MAX and not re.search(r"[。！？；][^”’」』）)]", para)
            heading = para if only else pieces[0]
            trail = [(lvl, h) for lvl, h in trail if lvl < level] + [(level, heading.rstrip("。；"))]
            if only:
                pieces = [para]
        sentences = tuple(
            Sentence(piece, number, index + i, level if (level and i == 0) else 0)
            for i, piece in enumerate(pieces)
        )
        index += len(sentences)
        paragraphs.append(
            Paragraph(number, para, sentences, level, heading, tuple(h for _, h in trail))
        )
    return Document(tuple(paragraphs))


def _merge_open_quotes(pieces: list[str]) -> list[str]:
    # "坚持“要搞马克思主义，不要搞修正主义；要搞团结……”" is one sentence: a ； or 。 inside an
    # open quotation does not end it (unless the quote never closes in the paragraph).
    out: list[str] = []
    buf = ""
    for piece in pieces:
        buf += piece
        if buf.count("“") <= buf.count("”") and buf.count("「") <= buf.count("」"):
            out.append(buf)
            buf = ""
    if buf:
        if out and buf.count("“") > buf.count("”"):
            out.extend(split_sentences(buf))  # a quote that never closes: keep the plain split
        else:
            out.append(buf)
    return out


@dataclass
class Chunk:
    index: int
    sentences: list[Sentence] = field(default_factory=list)
    section: tuple[str, ...] = ()  # heading trail in effect where the chunk starts
    headings: list[str] = field(default_factory=list)  # numbered headings inside the chunk
    tokens: int = 0
    cut_sentence: bool = False

    @property
    def paragraphs(self) -> list[int]:
        return sorted({s.para for s in self.sentences})

    def text(self, numbered: bool = True) -> str:
        """The chunk's text, one line per paragraph, each prefixed [¶] when numbered."""
        lines: list[str] = []
        current = -1
        for s in self.sentences:
            if s.para != current:
                lines.append(f"[{s.para}] " if numbered else "")
                current = s.para
            lines[-1] += s.text
        return "\n".join(lines)

    def metadata(self) -> dict:
        return {
            "index": self.index,
            "paragraphs": [self.paragraphs[0], self.paragraphs[-1]] if self.sentences else [],
            "tokens": self.tokens,
            "section": list(self.section),
            "headings": self.headings,
            "cut_sentence": self.cut_sentence,
        }


TokenCounter = Callable[[str], int]
_MARKER_TOKENS = 4  # the "[123] " prefix and the newline of a numbered paragraph


def chunk_document(doc: Document, max_tokens: int, count_tokens: TokenCounter) -> list[Chunk]:
    """Pack sentences into chunks of at most `max_tokens` tokens (as `count_tokens` counts)."""
    if max_tokens < 8:
        raise ValueError(f"chunk budget of {max_tokens} tokens is too small")
    chunks: list[Chunk] = []
    current = Chunk(0)

    def flush() -> None:
        nonlocal current
        if not current.sentences:
            return
        # A heading must stay with its body: carry trailing heading sentences to the next chunk.
        carry: list[tuple[Sentence, int]] = []
        while current.sentences and current.sentences[-1].heading_level and len(current.sentences) > 1:
            s = current.sentences.pop()
            carry.insert(0, (s, cost[s.index]))
            current.tokens -= cost[s.index]
        current.headings = [s.text for s in current.sentences if s.heading_level]
        chunks.append(current)
        nxt = Chunk(len(chunks), section=_section_at(doc, carry[0][0] if carry else None))
        for s, c in carry:
            nxt.sentences.append(s)
            nxt.tokens += c
        current = nxt

    cost: dict[int, int] = {}
    for para in doc.paragraphs:
        costs = [count_tokens(s.text) for s in para.sentences]
        costs[0] += _MARKER_TOKENS
        for s, c in zip(para.sentences, costs, strict=True):
            cost[s.index] = c
        total = sum(costs)
        # Start a new chunk at an outer heading when the current one is already well filled.
        if para.heading_level in (1, 2) and current.tokens > max_tokens // 2:
            flush()
        if not current.sentences:
            current.section = para.section[:-1] if para.heading_level else para.section
        if current.tokens + total <= max_tokens:
            current.sentences.extend(para.sentences)
            current.tokens += total
            continue
        if current.sentences and total <= max_tokens:
            flush()
            if not current.sentences:
                current.section = para.section[:-1] if para.heading_level else para.section
            if current.tokens + total <= max_tokens:
                current.sentences.extend(para.sentences)
                current.tokens += total
                continue
        for s, c in zip(para.sentences, costs, strict=True):
            if current.tokens + c > max_tokens and current.sentences:
                flush()
                if not current.sentences:
                    current.section = para.section
            if c <= max_tokens:
                current.sentences.append(s)
                current.tokens += c
                continue
            for piece in _cut_sentence(s, max_tokens, count_tokens):
                pc = count_tokens(piece.text) + _MARKER_TOKENS
                if current.tokens + pc > max_tokens and current.sentences:
                    flush()
                current.sentences.append(piece)
                current.tokens += pc
                current.cut_sentence = True
    if current.sentences:
        current.headings = [s.text for s in current.sentences if s.heading_level]
        chunks.append(current)
    return chunks


def _section_at(doc: Document, sentence: Sentence | None) -> tuple[str, ...]:
    if sentence is None:
        return ()
    para = doc.paragraph(sentence.para)
    if para is None:
        return ()
    return para.section[:-1] if para.heading_level and sentence.heading_level else para.section


def _cut_sentence(s: Sentence, max_tokens: int, count_tokens: TokenCounter) -> list[Sentence]:
    # Last resort for one sentence over the whole budget: cut after commas, then by characters.
    parts = re.findall(r"[^，,、：:]*[，,、：:]?", s.text)
    parts = [p for p in parts if p]
    pieces: list[str] = []
    buf = ""
    limit = max_tokens - _MARKER_TOKENS
    for part in parts:
        while count_tokens(part) > limit:
            cut = max(1, len(part) * limit // max(1, count_tokens(part)) - 1)
            if buf:
                pieces.append(buf)
                buf = ""
            pieces.append(part[:cut])
            part = part[cut:]
        if buf and count_tokens(buf + part) > limit:
            pieces.append(buf)
            buf = ""
        buf += part
    if buf:
        pieces.append(buf)
    return [Sentence(p, s.para, s.index, 0) for p in pieces]


def chunk_text(text: str, max_tokens: int, count_tokens: TokenCounter) -> list[Chunk]:
    return chunk_document(segment(text), max_tokens, count_tokens)


def without_instructions(doc: Document) -> tuple[Document, list[str]]:
    """`doc` (a segmented text) without instruction sentences, and those
    sentences. Paragraph numbers (¶) stay as they are, so references still point into the
    user's file; a paragraph that held nothing else is left empty."""
    dropped: list[str] = []
    paragraphs = []
    for para in doc.paragraphs:
        hits = [s for s in para.sentences if is_instruction(s.text)]
        if not hits:
            paragraphs.append(para)
            continue
        if para.text.lstrip().startswith(ASIDE):
            hits = list(para.sentences)
        dropped += [s.text for s in hits]
        keep = tuple(s for s in para.sentences if s not in hits)
        paragraphs.append(replace(para, text="".join(s.text for s in keep), sentences=keep))
    if not dropped:
        return doc, []
    return replace(doc, paragraphs=tuple(paragraphs)), dropped
