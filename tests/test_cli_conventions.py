"""Conventions every command shares: fast help, one-line errors, exit codes."""

import os
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "pipeline"]


def _run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, **kw)


def test_help_lists_every_command() -> None:
    out = _run("--help")
    assert out.returncode == 0
    for command in ("corpus", "check", "adapt", "summarize", "restyle", "eval", "batch", "log", "config"):
        assert command in out.stdout


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys, pipeline.cli;"
        "heavy = [m for m in ('openai', 'llama_cpp', 'jieba', 'docx', 'tiktoken', 'opencc') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == ""


def test_version() -> None:
    out = _run("--version")
    assert out.returncode == 0 and out.stdout.startswith("speechsmith ")


def test_unknown_command_is_usage_error() -> None:
    out = _run("no-such-command")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02\x03binary\x00"])
def test_bad_input_is_one_line_exit_2(tmp_path, content: bytes) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    out = _run("check", str(bad), env={**os.environ, "SPEECHSMITH_DATA_DIR": str(tmp_path)})
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_write_atomic_keeps_mode_and_gives_clear_errors(tmp_path) -> None:
    from pipeline.atomic import write_atomic
    from pipeline.errors import InputError

    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o644)
    write_atomic(target, "新内容")
    assert target.read_text(encoding="utf-8") == "新内容"
    assert target.stat().st_mode & 0o777 == 0o644
    new = tmp_path / "sub" / "new.txt"
    write_atomic(new, "x")
    assert new.stat().st_mode & 0o077 != 0  # not a private 0600 file
    with pytest.raises(InputError, match="is a directory"):
        write_atomic(tmp_path, "x")
    with pytest.raises(InputError, match="cannot write"):
        write_atomic(target / "below-a-file.txt", "x")
    assert target.read_text(encoding="utf-8") == "新内容"  # nothing lost


def test_debug_keeps_exit_code(tmp_path) -> None:
    missing = tmp_path / "missing.txt"
    out = _run("--debug", "check", str(missing), env={**os.environ, "SPEECHSMITH_DATA_DIR": str(tmp_path)})
    assert out.returncode == 2


def test_dry_run_never_overwrites_the_output_file(tmp_path) -> None:
    speech = tmp_path / "s.txt"
    speech.write_text("同志们：\n\n今天我们召开会议，研究安全生产工作。\n\n谢谢大家！\n", encoding="utf-8")
    keep = tmp_path / "keep.docx"
    keep.write_bytes(b"PK-not-touched")
    env = {**os.environ, "SPEECHSMITH_DATA_DIR": str(tmp_path)}
    out = _run("restyle", str(speech), "--style", "plain", "--backend", "local", "--dry-run",
               "-o", str(keep), env=env)
    assert out.returncode == 0, out.stderr
    assert keep.read_bytes() == b"PK-not-touched"
    assert "was not written" in out.stderr and out.stdout.strip()


def test_malformed_base_url_is_refused_at_once(tmp_path) -> None:
    speech = tmp_path / "s.txt"
    speech.write_text("同志们：\n\n今天我们召开会议。\n", encoding="utf-8")
    env = {**os.environ, "SPEECHSMITH_DATA_DIR": str(tmp_path)}
    out = _run("summarize", str(speech), "--method", "llm", "--base-url", "notaurl", env=env)
    assert out.returncode == 2 and "not an http(s) URL" in out.stderr


def test_html_endpoint_gets_a_clear_error(tmp_path, openai_server) -> None:
    from tests.openai_server import Reply

    openai_server.script(*[Reply.garbage("<html><body>请登录</body></html>") for _ in range(10)])
    speech = tmp_path / "s.txt"
    speech.write_text("同志们：\n\n今天我们召开会议。\n", encoding="utf-8")
    env = {**os.environ, "SPEECHSMITH_DATA_DIR": str(tmp_path), "OPENAI_API_KEY": "sk-test-SECRET-123"}
    out = _run("summarize", str(speech), "--method", "llm", "--base-url", openai_server.url, env=env)
    assert out.returncode == 2
    assert "OpenAI-compatible" in out.stderr or "chat completion" in out.stderr
    assert "Traceback" not in out.stderr and "SECRET" not in out.stderr
