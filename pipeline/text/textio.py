"""Where text enters: files (.txt .md .docx .html) or stdin, in any encoding Chinese offices use.

Every reader returns clean Unicode text with '\n' line ends, or raises InputError with one line
that names the file. Nothing here knows about speeches.
"""

from __future__ import annotations

import codecs
import html.parser
import io
import re
import sys
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
        return _from_bytes(read_stdin(max_bytes + 1), "<stdin>", ".txt", max_bytes)
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


def read_stdin(limit: int = -1) -> bytes:
    """Standard input as bytes; a closed or unreadable stdin is one InputError, not a traceback."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # `cmd <&-`, or started without a stdin (a service, some IDEs)
        raise InputError("'-' reads stdin, but stdin is closed; give a file name or pipe the text in")
    try:
        return stream.read(limit)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read stdin ({getattr(exc, 'strerror', None) or exc})") from None


def read_text(source: str | Path, *, max_bytes: int = MAX_BYTES) -> str:
    """Read a file path, or '-' for stdin, into text."""
    return read_document(source, max_bytes=max_bytes).text


def read_bytes(data: bytes, name: str, *, max_bytes: int = MAX_BYTES) -> Document:
    """Bytes received some other way (a web upload) into a Document, as a file of that name."""
    return _from_bytes(data, name, Path(name).suffix.lower(), max_bytes)


def decode_bytes(data: bytes, name: str = "<bytes>") -> tuple[str, str]:
    """Decode bytes of unknown encoding; return (text, encoding name)."""
    if data.startswith(codecs.BOM_UTF8):
        return _finish(data[3:].decode("utf-8", errors="strict"), name), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_strict(data, "utf-16", name), "utf-16"
    if _looks_utf16(data):
        enc = _utf16_order(data)
        return _decode_strict(data, enc, name), enc
    if b"\x00" in data:
        raise InputError(f"{name}: looks like a binary file, not text")
    try:
        return _finish(data.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312, so one try covers all three.
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    # GB18030 maps almost any byte soup to *some* characters; real Chinese text is made of
    # common ones (汉字, ASCII, CJK punctuation), so mojibake from a binary file is refused.
    if text is None or _plausible_share(text) < 0.9:
        raise InputError(
            f"{name}: not valid UTF-8, UTF-16 or GB18030/GBK text (binary file?)"
        )
    return _finish(text, name), "gb18030"


_UNSUPPORTED = {
    ".doc": "old Word .doc files cannot be read; save it as .docx",
    ".wps": "WPS .wps files cannot be read; save it as .docx",
    ".pdf": "PDF files cannot be read; copy the text into a .txt file or save as .docx",
    ".rtf": "RTF files cannot be read; save it as .docx or .txt",
    ".xls": "spreadsheets are not speeches",
    ".xlsx": "spreadsheets are not speeches",
}
_SIGNATURES = {
    b"%PDF": "a PDF file cannot be read; copy the text into a .txt file or save as .docx",
    b"\xd0\xcf\x11\xe0": "an old Word/WPS file (.doc/.wps) cannot be read; save it as .docx",
    b"{\\rtf": "an RTF file cannot be read; save it as .docx or .txt",
}
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_-]+)", re.I)


def _from_bytes(data: bytes, name: str, suffix: str, max_bytes: int) -> Document:
    if len(data) > max_bytes:
        raise InputError(f"{name}: input is over the {max_bytes:,}-byte limit")
    if not data.strip():
        raise InputError(f"{name}: file is empty")
    for magic, why in _SIGNATURES.items():
        if data.startswith(magic):
            raise InputError(f"{name}: {why}")
    if suffix in _UNSUPPORTED and data[:4] != b"PK\x03\x04":
        raise InputError(f"{name}: {_UNSUPPORTED[suffix]}")
    if suffix == ".docx" or data[:4] == b"PK\x03\x04":
        return Document(_read_docx(data, name), name, "docx")
    declared = _declared_charset(data) if suffix in HTML_SUFFIXES or b"<html" in data[:2000].lower() else None
    if declared:
        text, enc = declared
    else:
        text, enc = decode_bytes(data, name)
    if suffix in HTML_SUFFIXES or _looks_html(text):
        text = html_to_text(text)
    text = normalize_newlines(text)
    if not text.strip():
        raise InputError(f"{name}: no text in file")
    return Document(text, name, enc)


def _declared_charset(data: bytes) -> tuple[str, str] | None:
    """An HTML page's <meta charset>, when it decodes the page cleanly (GB2312 pages are common)."""
    m = _META_CHARSET.search(data[:4096])
    if not m:
        return None
    enc = m.group(1).decode("ascii", "ignore").lower()
    if enc in ("gb2312", "gbk", "gb_2312-80", "x-gbk"):
        enc = "gb18030"  # a superset: pages labelled GB2312 often hold GBK characters
    try:
        return data.decode(enc).lstrip("\ufeff"), enc
    except (LookupError, UnicodeDecodeError):
        return None


def _decode_strict(data: bytes, enc: str, name: str) -> str:
    try:
        return _finish(data.decode(enc), name)
    except UnicodeDecodeError:
        raise InputError(f"{name}: broken {enc.upper()} text") from None


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")  # control characters text files never hold


def _finish(text: str, name: str) -> str:
    text = text.lstrip("\ufeff")
    bad = len(_CONTROL.findall(text, 0, 20000))
    if bad > max(8, len(text[:20000]) // 100):
        raise InputError(f"{name}: looks like a binary file, not text")
    return text


def _utf16_order(data: bytes) -> str:
    """Byte order of BOM-less UTF-16: the lane holding the high bytes has the zeros (ASCII) or
    the 0x4E-0x9F bytes (汉字); in little-endian that is the odd lane."""
    sample = data[:4000]
    even, odd = sample[0::2], sample[1::2]
    zero_even, zero_odd = even.count(0), odd.count(0)
    if zero_even != zero_odd:
        return "utf-16-le" if zero_odd > zero_even else "utf-16-be"
    han_even = sum(1 for b in even if 0x4E <= b <= 0x9F)
    han_odd = sum(1 for b in odd if 0x4E <= b <= 0x9F)
    return "utf-16-le" if han_odd >= han_even else "utf-16-be"


def _plausible_share(text: str) -> float:
    """Share of characters that ordinary Chinese or English text is made of."""
    sample = text[:20000]
    if not sample:
        return 1.0
    good = 0
    for ch in sample:
        o = ord(ch)
        if (
            32 <= o < 127 or ch in "\n\r\t"
            or 0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
            or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FFFF  # extensions A, B…
            or 0xF900 <= o <= 0xFAFF  # compatibility ideographs
            or 0x2100 <= o <= 0x22FF  # ℃ Ⅻ → ≥ (letterlike, number forms, arrows, math)
            or 0x20A0 <= o <= 0x20CF  # currency signs
            or 0xA1 <= o <= 0xFF  # Latin-1 (é, ±)
            or 0x3000 <= o <= 0x303F  # CJK punctuation
            or 0xFF00 <= o <= 0xFFEF  # full-width forms
            or 0x2000 <= o <= 0x206F  # general punctuation (“ ” — …)
            or 0x2460 <= o <= 0x24FF  # ① ⑴
            or 0x25A0 <= o <= 0x25FF  # □ ○
            or o == 0xA0  # no-break space
        ):
            good += 1
    return good / len(sample)


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
    except Exception as exc:  # python-docx raises many kinds (BadZipFile, KeyError, PackageNotFoundError…)
        if isinstance(exc, (MemoryError, KeyboardInterrupt)):
            raise
        detail = str(exc).strip().split("\n")[0][:120]
        raise InputError(f"{name}: not a readable .docx file ({detail or type(exc).__name__})") from None
    text = "\n\n".join(_docx_blocks(document))
    if not text.strip():
        raise InputError(f"{name}: the .docx has no text")
    return normalize_newlines(text)


def _docx_blocks(document: object) -> list[str]:
    """Paragraphs and table cells in document order (some offices lay speeches out in tables)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out: list[str] = []
    body = document.element.body  # type: ignore[attr-defined]
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            out.append(Paragraph(child, document).text)
        elif tag == "tbl":
            for row in Table(child, document).rows:
                seen: set[int] = set()
                for cell in row.cells:
                    if id(cell._tc) in seen:  # merged cells repeat
                        continue
                    seen.add(id(cell._tc))
                    out.extend(p.text for p in cell.paragraphs)
    return out
