"""Ingest files into the corpus: read → split → clean → repair → structure → placeholders →
labels → dedup → store. Each file succeeds or fails on its own; one bad file never stops the rest.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.corpus import classify as classify_mod
from pipeline.corpus.clean import clean_page, strip_markdown
from pipeline.corpus.dedup import DedupIndex
from pipeline.corpus.models import LABEL_FIELDS, SpeechRecord
from pipeline.corpus.repair import repair_text
from pipeline.corpus.split import split_collection
from pipeline.corpus.store import load_corpus, save_record
from pipeline.corpus.structure import find_structure, split_front
from pipeline.errors import InputError, SpeechsmithError
from pipeline.text.hanzi import count_han, count_zi
from pipeline.text.placeholders import placeholder_tokens
from pipeline.text.textio import read_document

_MIN_ZI = 30  # shorter than this is not a speech (a stray heading, a footer line)
_MIN_HAN_SHARE = 0.3  # an English README or a CSV dump is not a 讲话稿


@dataclass
class Parsed:
    """One speech cut from a document, before it gets an id."""

    record: SpeechRecord  # id is a placeholder until assign_ids
    label: str | None  # the page's own heading for it
    index: int
    dropped: list[str] = field(default_factory=list)
    joins: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Outcome:
    source: str
    status: str  # added | updated | unchanged | duplicate | failed | skipped
    message: str
    id: str | None = None
    record: SpeechRecord | None = None
    dropped: list[str] = field(default_factory=list)
    joins: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class IngestReport:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def parse_document(text: str, source_name: str) -> list[Parsed]:
    """Every speech in one document's text (already decoded)."""
    cleaned = clean_page(text)
    split = split_collection(cleaned.text)
    stem = Path(source_name.split("#")[0]).stem
    fallback_title = stem if len(split.sections) == 1 and count_han(stem) >= 4 else None
    out: list[Parsed] = []
    for section in split.sections:
        repaired = repair_text(section.text)
        front, paragraphs = split_front(repaired.paragraphs)
        body = "\n".join(paragraphs)
        zi = count_zi(body)
        if zi < _MIN_ZI:
            continue
        if count_han(body) < _MIN_HAN_SHARE * zi:
            raise InputError(
                f"{source_name}: does not look like a Chinese speech "
                f"({count_han(body)} of {zi} characters are 汉字)"
            )
        structure = find_structure(paragraphs)
        labels = classify_mod.classify(
            body, salutation=structure.salutation, front=front, fallback_title=fallback_title
        )
        source = f"{Path(source_name).name}#{section.label}" if section.label else Path(source_name).name
        record = SpeechRecord(
            id="pending",
            title=labels.title,
            genre=labels.genre,
            occasion=labels.occasion,
            speaker=labels.speaker,
            audience=labels.audience,
            date=front.date,
            source=source,
            placeholders=placeholder_tokens(body),
            zishu=count_zi(body),
            salutation=structure.salutation,
            closing=structure.closing,
            headings=structure.headings,
            text=body,
        )
        # Page matter before the first collection heading is not a speech; show it in -v.
        page_matter = [split.preamble.strip()] if split.preamble.strip() else []
        dropped = list(cleaned.dropped) + page_matter if not out else []
        out.append(Parsed(record, section.label, section.index, dropped + front.lines, repaired.joins))
    return out


def auto_labels(record: SpeechRecord) -> dict[str, str | None]:
    """The labels the rules give this record's text: what a user's edits are compared with."""
    paragraphs = record.paragraphs()
    structure = find_structure(paragraphs)
    labels = classify_mod.classify(record.text, salutation=structure.salutation)
    return {name: getattr(labels, name) for name in LABEL_FIELDS}


def slug(stem: str) -> str:
    """An id stem from a file name: 'anquan_jianghua' -> 'anquan-jianghua', '2024年政府工作报告'
    -> 'speech-2024'. Hashes and serial numbers ('000_4c88201f79132202') say nothing: 'speech'."""
    tokens = [t for t in re.split(r"[^a-z0-9]+", stem.lower()) if t]
    tokens = [
        t for t in tokens
        if not (len(t) >= 8 and re.fullmatch(r"[0-9a-f]+", t) and re.search(r"\d", t))
        and not (t.isdigit() and len(t) != 4)
    ]
    s = "-".join(tokens)[:40].strip("-")
    if len(s) < 3 or s.isdigit():
        s = f"speech-{s}" if s else "speech"
    return s


class Ingester:
    """Adds documents to one corpus folder, refusing duplicates of what is there or was added."""

    def __init__(self, corpus: Path, *, update: bool = False, dry_run: bool = False) -> None:
        self.corpus = Path(corpus)
        self.update = update
        self.dry_run = dry_run
        self.records = {r.id: r for r in load_corpus(self.corpus)}
        self.index = DedupIndex()
        for r in self.records.values():
            self.index.add(r.id, r.text)

    def add_path(self, path: str | Path, *, id_prefix: str | None = None) -> list[Outcome]:
        name = str(path)
        try:
            doc = read_document(path)
            text = doc.text
            if Path(name).suffix.lower() in (".md", ".markdown"):
                text = strip_markdown(text)
            parsed = parse_document(text, name if name != "-" else "stdin.txt")
        except SpeechsmithError as exc:
            return [Outcome(name, "failed", str(exc))]
        except Exception as exc:  # a parser bug must not cost the other files of the call
            if os.environ.get("SPEECHSMITH_DEBUG"):
                raise
            return [Outcome(name, "failed", f"{name}: could not be parsed (internal error: "
                                            f"{type(exc).__name__}: {exc}; run with --debug)")]
        if not parsed:
            return [Outcome(name, "failed", f"{name}: no speech found (nothing left after cleaning)")]
        prefix = id_prefix or slug(Path(name).stem if name != "-" else "stdin")
        return [self._add_one(p, prefix, many=len(parsed) > 1) for p in parsed]

    def _add_one(self, parsed: Parsed, prefix: str, *, many: bool) -> Outcome:
        record = parsed.record
        where = record.source or ""
        match = self.index.check(record.text)
        if match is not None:
            if self.update and match.id in self.records:
                return self._update(match.id, parsed)
            return Outcome(where, "duplicate", f"{where}: not added: {match.describe()}", id=match.id,
                           dropped=parsed.dropped, joins=parsed.joins)
        speech_id = self._free_id(f"{prefix}-{parsed.index:02d}" if many else prefix)
        record = record.model_copy(update={"id": speech_id})
        record = SpeechRecord.model_validate(record.model_dump())
        if not self.dry_run:
            save_record(self.corpus, record)
        self.records[speech_id] = record
        self.index.add(speech_id, record.text)
        return Outcome(where, "added", f"added {speech_id}", id=speech_id, record=record,
                       dropped=parsed.dropped, joins=parsed.joins)

    def _update(self, speech_id: str, parsed: Parsed) -> Outcome:
        old = self.records[speech_id]  # as loaded (or added earlier in this run)
        auto_old = auto_labels(old)
        fresh = parsed.record.model_copy(update={"id": speech_id})
        kept = {}
        for name in LABEL_FIELDS:
            # A label that differs from what the rules say about the old text was set by hand.
            if getattr(old, name) != auto_old[name]:
                kept[name] = getattr(old, name)
        if old.date and not fresh.date:
            kept["date"] = old.date
        if old.source:
            kept_source = old.source  # where the speech first came from stays its provenance
            fresh = fresh.model_copy(update={"source": kept_source})
        fresh = fresh.model_copy(update=kept)
        where = fresh.source or ""
        if fresh.with_counts() == old.with_counts():
            return Outcome(where, "unchanged", f"{where}: {speech_id} is up to date", id=speech_id, record=old)
        if not self.dry_run:
            save_record(self.corpus, fresh)
        self.records[speech_id] = fresh
        self.index.remove(speech_id)
        self.index.add(speech_id, fresh.text)
        note = f" (kept your {', '.join(kept)})" if kept else ""
        return Outcome(where, "updated", f"updated {speech_id}{note}", id=speech_id, record=fresh,
                       dropped=parsed.dropped, joins=parsed.joins)

    def _free_id(self, base: str) -> str:
        candidate, n = base, 2
        while candidate in self.records or (self.corpus / f"{candidate}.md").exists():
            candidate, n = f"{base}-{n}", n + 1
        return candidate


def ingest(paths: list[str | Path], corpus: Path, *, update: bool = False, dry_run: bool = False,
           id_prefix: str | None = None) -> IngestReport:
    """Ingest every path; failures are recorded per file, never raised (except a bad corpus)."""
    if id_prefix is not None and not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,40}", id_prefix):
        raise InputError(f"--id-prefix {id_prefix!r}: use lower-case letters, digits and '-'")
    ingester = Ingester(corpus, update=update, dry_run=dry_run)
    report = IngestReport()
    for path in expand_paths(paths):
        report.outcomes.extend(ingester.add_path(path, id_prefix=id_prefix))
    return report


INGESTIBLE = (".txt", ".md", ".markdown", ".docx", ".html", ".htm")


def expand_paths(paths: list[str | Path]) -> list[str | Path]:
    """A folder stands for the speech files directly inside it (sorted); other paths as given."""
    out: list[str | Path] = []
    for path in paths:
        p = Path(path)
        if str(path) != "-" and p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in INGESTIBLE))
        else:
            out.append(path)
    return out
