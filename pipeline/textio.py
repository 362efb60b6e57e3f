"""Where text enters: files (.txt .md .docx .html) or stdin, in any encoding Chinese offices use.

Every reader returns clean Unicode text with '\n' line ends, or raises InputError with one line
that names the file. Nothing here knows about speeches.
"""

from __future__ import annotations

import codecs
import html.parser
import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError

MAX_BYTES = 50 * 1024 * 1024  # a 57k-字 report is ~170 KB; 50 MB is surely not a speech
TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text", ""}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


@dataclass(frozen=True)
class Document:
    """Text read from one source, with what we learned while reading it."""

    text: str
    source: str
    encoding: str


def read_document(source: str | Path, *, max_bytes: int = MAX_BYTES) -> Document:
    """Read a file path, or '-' for stdin, into a Document."""
    name = str(source)
    if name == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        return _from_bytes(data, "<stdin>", ".txt", max_bytes)
    path = Path(source)
    if not path.exists():
        raise InputError(f"{name}: no such file")
    if path.is_dir():
        raise InputError(f"{name}: is a directory, not a file")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{name}: file is {size:,} bytes, over the {max_bytes:,}-byte limit")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    return _from_bytes(data, name, path.suffix.lower(), max_bytes)


def read_text(source: str | Path, *, max_bytes: int = MAX_BYTES) -> str:
    """Read a file path, or '-' for stdin, into text."""
    return read_document(source, max_bytes=max_bytes).text


def decode_bytes(data: bytes, name: str = "<bytes>") -> tuple[str, str]:
    """Decode bytes of unknown encoding; return (text, encoding name)."""
    if data.startswith(codecs.BOM_UTF8):
        return _finish(data[3:].decode("utf-8", errors="strict"), name), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_strict(data, "utf-16", name), "utf-16"
    if _looks_utf16(data):
        enc = "utf-16-le" if data[1::2].count(0) > data[0::2].count(0) else "utf-16-be"
        return _decode_strict(data, enc, name), enc
    if b"\x00" in data:
        raise InputError(f"{name}: looks like a binary file, not text")
    try:
        return _finish(data.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312, so one try covers all three.
        return _finish(data.decode("gb18030"), name), "gb18030"
    except UnicodeDecodeError:
        raise InputError(
            f"{name}: not valid UTF-8, UTF-16 or GB18030/GBK text (binary file?)"
        ) from None


def _from_bytes(data: bytes, name: str, suffix: str, max_bytes: int) -> Document:
    if len(data) > max_bytes:
        raise InputError(f"{name}: input is over the {max_bytes:,}-byte limit")
    if not data.strip():
        raise InputError(f"{name}: file is empty")
    if suffix == ".docx" or data[:4] == b"PK\x03\x04":
        return Document(_read_docx(data, name), name, "docx")
    text, enc = decode_bytes(data, name)
    if suffix in HTML_SUFFIXES or _looks_html(text):
        text = html_to_text(text)
    text = normalize_newlines(text)
    if not text.strip():
        raise InputError(f"{name}: no text in file")
    return Document(text, name, enc)


def _decode_strict(data: bytes, enc: str, name: str) -> str:
    try:
        return _finish(data.decode(enc), name)
    except UnicodeDecodeError:
        raise InputError(f"{name}: broken {enc.upper()} text") from None


def _finish(text: str, name: str) -> str:
    text = text.lstrip("\ufeff")
    bad = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\n\r\t\f\v")
    if bad > max(8, len(text[:20000]) // 100):
        raise InputError(f"{name}: looks like a binary file, not text")
    return text


def _looks_utf16(data: bytes) -> bool:
    sample = data[:4000]
    if len(sample) < 4:
        return False
    zeros_even = sample[0::2].count(0)
    zeros_odd = sample[1::2].count(0)
    half = len(sample) / 2
    # ASCII-heavy UTF-16 has zeros in one lane; CJK-heavy UTF-16 has none, but then decoding as
    # UTF-8 fails and GB18030 produces mojibake, so also accept a lane of mostly 0x4E-0x9F bytes.
    if max(zeros_even, zeros_odd) > 0.3 * half and min(zeros_even, zeros_odd) < 0.05 * half:
        return True
    hi_odd = sum(1 for b in sample[1::2] if 0x4E <= b <= 0x9F)
    hi_even = sum(1 for b in sample[0::2] if 0x4E <= b <= 0x9F)
    return (hi_odd > 0.6 * half or hi_even > 0.6 * half) and not _valid_utf8(sample)


def _valid_utf8(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start > len(sample) - 4  # cut in the middle of a character at the end


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")


def _looks_html(text: str) -> bool:
    head = text[:2000].lower()
    return "<html" in head or "<!doctype html" in head or ("<body" in head and "</" in text)


class _HTMLText(html.parser.HTMLParser):
    _BLOCK = {
        "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
        "article", "blockquote", "pre", "title", "header", "footer", "table",
    }
    _SKIP = {"script", "style", "noscript", "nav", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data.replace("\n", " ") if data.strip() else "")


def html_to_text(markup: str) -> str:
    """Visible text of an HTML page, one block element per paragraph."""
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"


def _read_docx(data: bytes, name: str) -> str:
    try:
        import docx  # python-docx; imported here to keep CLI start-up fast
    except ImportError:  # pragma: no cover - it is a hard dependency
        raise InputError("reading .docx needs python-docx (pip install python-docx)") from None
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"{name}: not a readable .docx file ({exc})") from None
    text = "\n\n".join(p.text for p in document.paragraphs)
    if not text.strip():
        raise InputError(f"{name}: the .docx has no text")
    return normalize_newlines(text)
