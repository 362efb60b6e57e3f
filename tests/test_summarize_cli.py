"""`speechsmith summarize` as a user runs it: real process, real files, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPORT = Path(__file__).parent / "fixtures" / "reports" / "gwr_2025.txt"


def _run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "summarize", *args],
        input=stdin, capture_output=True, timeout=120, env={**os.environ, **(env or {})},
    )


def test_markdown_with_source_references() -> None:
    proc = _run(str(REPORT), "--method", "extractive", "--length", "short", "--format", "md")
    assert proc.returncode == 0, proc.stderr.decode()
    md = proc.stdout.decode()
    assert md.startswith("# gwr_2025\n")
    assert "## 主要内容" in md and "## 部署要求" in md and "| 5%左右 | 国内生产总值增长 | ¶21 |" in md
    assert md.count("（¶") >= 7  # gist, 3 points, 3 tasks all cite paragraphs


def test_json_from_stdin_to_file(tmp_path: Path) -> None:
    out = tmp_path / "摘要.json"
    proc = _run("-", "--method", "extractive", "-o", str(out), stdin=REPORT.read_bytes())
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["task"] == "summarize" and data["ok"] is True
    assert data["metadata"]["method"] == "extractive" and data["metadata"]["length"] == "medium"
    assert len(data["summary"]["key_points"]) == 6
    assert data["checks"]["verbatim"]["dropped"] == []


def test_gbk_file_is_read(tmp_path: Path) -> None:
    gbk = tmp_path / "讲话.txt"
    gbk.write_bytes("同志们：\n各地区各部门要压实安全生产责任，确保全年事故起数下降10%以上。\n".encode("gbk"))
    proc = _run(str(gbk), "--method", "extractive", "--format", "text")
    assert proc.returncode == 0, proc.stderr.decode()
    assert "10%以上" in proc.stdout.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "file is empty"), (b"\x00\x01\x02binary\x00" * 50, "binary")],
)
def test_bad_input_is_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    proc = _run(str(path), "--method", "extractive")
    err = proc.stderr.decode()
    assert proc.returncode == 2 and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_file_and_bad_option() -> None:
    proc = _run("/nonexistent/报告.txt", "--method", "extractive")
    assert proc.returncode == 2 and "no such file" in proc.stderr.decode()
    proc = _run(str(REPORT), "--method", "magic")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr.decode()


def test_dead_endpoint_is_one_line() -> None:
    proc = _run(str(REPORT), "--method", "llm", "--backend", "openai", "--base-url",
                "http://127.0.0.1:9/v1", "--model", "m", env={"SPEECHSMITH_MAX_RETRIES": "0"})
    err = proc.stderr.decode()
    assert proc.returncode == 2 and err.startswith("speechsmith: error:") and "Traceback" not in err
