"""The corpus folder: one Markdown file per speech, YAML front matter on top.

    ---
    id: seed-02
    title: 在“我为灾民献爱心”活动上的募捐动员讲话
    genre: 募捐动员讲话
    …
    ---
    父老乡亲们：
    大家上午好
    …

One paragraph per line (blank lines between paragraphs are fine). A user may edit any field or
the text; `zishu` is recounted from the text on load. Loading validates every file and names the
file and the field at fault.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pipeline.atomic import write_atomic
from pipeline.corpus.models import FIELD_ORDER, SpeechRecord, valid_id
from pipeline.errors import InputError
from pipeline.text.textio import read_text

SUFFIX = ".md"
_SKIP = {"readme.md", "index.md"}
_HEADER = "# speechsmith corpus record: edit any label; `speechsmith corpus add --update` keeps your edits\n"


def record_path(corpus: Path, speech_id: str) -> Path:
    return Path(corpus) / f"{speech_id}{SUFFIX}"


def corpus_files(corpus: Path) -> list[Path]:
    corpus = Path(corpus)
    if not corpus.exists():
        return []
    if not corpus.is_dir():
        raise InputError(f"{corpus}: the corpus must be a folder")
    return sorted(
        p for p in corpus.glob(f"*{SUFFIX}")
        if p.is_file() and not p.name.startswith((".", "_")) and p.name.lower() not in _SKIP
    )


def load_corpus(corpus: Path | str) -> list[SpeechRecord]:
    """Every speech in the folder, sorted by id. Raises InputError naming file and field."""
    records: list[SpeechRecord] = []
    seen: dict[str, Path] = {}
    for path in corpus_files(Path(corpus)):
        record = load_record(path)
        if record.id in seen:
            raise InputError(f"{path}: id {record.id!r} is already used by {seen[record.id]}")
        seen[record.id] = path
        records.append(record)
    return sorted(records, key=lambda r: r.id)


def load_record(path: Path) -> SpeechRecord:
    text = read_text(path)
    meta, body = _split_front_matter(text, path)
    if "text" in meta:
        raise InputError(f"{path}: field 'text': put the speech below the front matter, not in it")
    meta.setdefault("id", path.stem)
    try:
        record = SpeechRecord(**meta, text=body)
    except ValidationError as exc:
        raise InputError(f"{path}: {_first_error(exc)}") from None
    except TypeError as exc:  # keys that are not strings
        raise InputError(f"{path}: front matter: {exc}") from None
    if record.id != path.stem:
        raise InputError(
            f"{path}: field 'id': {record.id!r} does not match the file name; "
            f"rename the file to {record.id}{SUFFIX} or fix the id"
        )
    return record.with_counts()


def save_record(corpus: Path | str, record: SpeechRecord) -> Path:
    """Write corpus/<id>.md atomically (a crash never leaves half a file)."""
    path = record_path(Path(corpus), record.id)
    write_atomic(path, render_record(record.with_counts()))
    return path


def remove_record(corpus: Path | str, speech_id: str) -> Path:
    path = record_path(Path(corpus), speech_id)
    if not valid_id(speech_id) or not path.is_file():
        raise InputError(f"no speech {speech_id!r} in {corpus} (see `speechsmith corpus list`)")
    path.unlink()
    return path


def get_record(corpus: Path | str, speech_id: str) -> SpeechRecord:
    path = record_path(Path(corpus), speech_id)
    if not valid_id(speech_id) or not path.is_file():
        raise InputError(f"no speech {speech_id!r} in {corpus} (see `speechsmith corpus list`)")
    return load_record(path)


def render_record(record: SpeechRecord) -> str:
    data = record.model_dump()
    meta: dict[str, Any] = {k: data[k] for k in FIELD_ORDER}
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=False)
    body = "\n\n".join(record.paragraphs())
    return f"---\n{_HEADER}{front}---\n\n{body}\n"


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    lines = text.lstrip("\ufeff").split("\n")
    if not lines or lines[0].strip() != "---":
        raise InputError(f"{path}: no YAML front matter (the file must start with a '---' line)")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        raise InputError(f"{path}: front matter is not closed by a '---' line") from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        where = ""
        # The context mark is where the broken construct began ('genre: [欢迎' …); the problem
        # mark is where the parser gave up, often a line later.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 2}"  # +1 for 1-based, +1 for the opening '---'
            # Name the field on the offending line (or the one above, where a value began).
            for row in (mark.line, mark.line - 1):
                if 0 <= row < end - 1:
                    key = re.match(r"\s*([A-Za-z_][\w-]*)\s*:", lines[1 + row])
                    if key:
                        where += f" (field '{key.group(1)}')"
                        break
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        raise InputError(f"{path}: malformed YAML front matter{where}: {problem}") from None
    if not isinstance(meta, dict):
        raise InputError(f"{path}: front matter must be 'key: value' lines, got {type(meta).__name__}")
    return meta, "\n".join(lines[end + 1:])


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors()
    parts = []
    for err in errors[:3]:
        loc = ".".join(str(x) for x in err["loc"]) or "front matter"
        value = err.get("input")
        shown = f" (got {value!r})" if value is not None and not isinstance(value, dict) and len(repr(value)) < 60 else ""
        msg = "not a known field (typo?)" if err["type"] == "extra_forbidden" else err["msg"]
        parts.append(f"field '{loc}': {msg}{shown}")
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more
