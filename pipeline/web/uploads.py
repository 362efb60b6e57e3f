"""Uploaded files: checked for name, type and size, read in memory by the project's own readers
(pipeline.textio), never written anywhere but under the data dir."""

from __future__ import annotations

import re

from pipeline.errors import InputError
from pipeline.text.textio import Document, read_bytes
from pipeline.web.security import human_size

__all__ = ["ALLOWED", "UploadError", "read_upload", "safe_name"]

ALLOWED = (".docx", ".txt", ".md", ".html", ".htm")
_BAD_CHARS = re.compile(r"[\x00-\x1f/\\:*?\"<>|]")


class UploadError(InputError):
    """An upload the page refuses, with the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.http_status = status


def safe_name(name: str) -> str:
    """The file name as given, when it is a plain name; a path (../, /etc/…, C:\\) is refused."""
    name = name.strip()
    if not name:
        raise UploadError("上传的文件没有文件名")
    if ".." in name or _BAD_CHARS.search(name) or name.startswith("."):
        raise UploadError(f"文件名不能包含路径或特殊字符：{name[:80]!r}")
    if len(name) > 200:
        raise UploadError("文件名太长（最多 200 个字符）")
    return name


def read_upload(name: str, data: bytes, max_bytes: int) -> Document:
    """The text of an uploaded file, or one clear message: too large, wrong type, unreadable."""
    name = safe_name(name)
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if suffix not in ALLOWED:
        raise UploadError(f"不支持的文件类型 {suffix or '（无扩展名）'}：请上传 .docx、.txt、.md 或 .html 文件"
                          "（.doc 和 .pdf 请先在 Word 里另存为 .docx）", 415)
    if len(data) > max_bytes:
        raise UploadError(f"上传的文件太大（超过 {human_size(max_bytes)}）：上限是 {human_size(max_bytes)}", 413)
    return read_bytes(data, name, max_bytes=max_bytes)
