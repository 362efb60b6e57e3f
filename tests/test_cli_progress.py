"""Progress on stderr while the embedded model works: on a terminal only, never in a pipe or
when JSON goes to stdout."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.cli.progress import TerminalProgress, terminal_progress
from pipeline.events import ProgressEvent

CLI = [sys.executable, "-m", "pipeline"]
SPEECH = (
    "同志们：\n\n今天召开全县安全生产工作会议，主要任务是总结去年工作，部署今年的安全生产工作。\n\n"
    "各地区各部门要压实安全生产责任，深入开展隐患排查整治，确保全年不发生重大事故。\n\n谢谢大家！\n"
)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_line_shows_step_tokens_elapsed_and_time_left() -> None:
    stream = _Tty()
    progress = TerminalProgress(stream, interval=0)
    t0 = time.monotonic()
    progress(ProgressEvent("draft", label="第 1/4 段", done=0, total=4, at=t0 - 30))
    progress(ProgressEvent("setup", label="加载模型"))
    assert "加载模型" in progress.line()
    progress(ProgressEvent("setup", label="模型就绪", done=1, total=1))
    progress(ProgressEvent("draft", label="第 3/4 段", done=2, total=4, at=t0))
    progress(ProgressEvent("generate", done=40, total=300, tokens=123))
    line = progress.line(t0 + 0.0)
    assert line.startswith("speechsmith: 第 3/4 段") and "40/300 tokens" in line and "123 tokens in all" in line
    # two of four done in 30 s since the stage started: about 30 s left
    assert "about 0:30 left" in line
    progress.close()
    assert stream.getvalue().endswith("\r\x1b[K")


def test_only_on_a_terminal_and_not_for_json_on_stdout() -> None:
    assert terminal_progress(stream=io.StringIO()) is None
    assert terminal_progress(stream=_Tty(), json_to_stdout=True) is None
    assert isinstance(terminal_progress(stream=_Tty()), TerminalProgress)


def _run_in_pty(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal and stdout on a pipe; (exit code, stdout, stderr)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed its side
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    out = proc.stdout.read().decode("utf-8") if proc.stdout else ""
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, out, seen.decode("utf-8", "replace")


@pytest.mark.model
def test_hybrid_summary_shows_progress_on_a_terminal_and_stays_quiet_in_a_pipe(tmp_path: Path) -> None:
    # a report: its chosen sentences include one over 40 字, which the model is asked to shorten
    source = tmp_path / "s.txt"
    source.write_text((Path(__file__).parent / "fixtures" / "reports" / "gwr_2004.txt").read_text(encoding="utf-8"),
                      encoding="utf-8")
    env = {**os.environ, "SPEECHSMITH_LOG": "0"}
    args = [*CLI, "summarize", str(source), "--method", "hybrid", "--length", "short"]

    code, out, err = _run_in_pty(args, env)
    assert code == 0, err
    assert "\r" in err and "elapsed" in err
    assert "加载模型" in err and "压缩第 1/" in err  # model setup, then the task's steps
    assert err.rstrip("\n").endswith("\x1b[K")  # the line is erased at the end
    assert "elapsed" not in out and out.strip()  # the result on stdout is clean

    code, out, err = _run_in_pty([*args, "--format", "json"], env)  # a script reads stdout
    assert code == 0 and "elapsed" not in err and out.lstrip().startswith("{")

    piped = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)
    assert piped.returncode == 0 and "\r" not in piped.stderr and "elapsed" not in piped.stderr + piped.stdout
