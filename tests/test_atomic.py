"""Never lose the user's files: -o that is an input, read-only, or in a missing directory is
refused in one line with exit 2 and nothing written, for every command that writes one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.atomic import check_output, same_file
from pipeline.errors import InputError

CLI = [sys.executable, "-m", "pipeline"]
REPORT = Path(__file__).parent / "fixtures" / "reports" / "gwr_2025.txt"
SPEECH = "同志们：\n\n今天召开全县安全生产工作会议，主要任务是部署今年的安全生产工作。\n\n各地区各部门要压实安全生产责任，确保不发生重大事故。\n\n谢谢大家！\n"


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SPEECHSMITH_LOG": "0"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, input=stdin, env=env)


def _one_line_exit_2(out: subprocess.CompletedProcess, *needles: str) -> None:
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "s.txt"
    path.write_text(SPEECH, encoding="utf-8")
    return path


# --- the rule itself ----------------------------------------------------------------------------


def test_check_output_refuses_inputs_by_path_symlink_and_hard_link(source: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(source)
    hard = tmp_path / "hard.txt"
    os.link(source, hard)
    for out in (source, tmp_path / "." / "s.txt", link, hard):
        with pytest.raises(InputError, match="is also an input file"):
            check_output(out, (source,))
    assert same_file(hard, source) and not same_file(tmp_path / "other.txt", source)
    check_output(tmp_path / "other.txt", (source, "-", None))  # a new file next to it is fine


def test_check_output_refuses_read_only_missing_dir_and_directory(tmp_path: Path) -> None:
    ro = tmp_path / "ro.txt"
    ro.write_text("keep", encoding="utf-8")
    ro.chmod(0o444)
    with pytest.raises(InputError, match="read-only"):
        check_output(ro)
    with pytest.raises(InputError, match="does not exist"):
        check_output(tmp_path / "no" / "such" / "out.txt")
    with pytest.raises(InputError, match="is a directory"):
        check_output(tmp_path)
    with pytest.raises(InputError, match="not a regular file"):
        check_output(Path(os.devnull))
    assert not (tmp_path / "no").exists()


# --- every command that writes -o -----------------------------------------------------------------


def _cases(source: Path, tmp_path: Path) -> dict[str, list[str]]:
    return {
        "summarize": ["summarize", str(source), "--method", "extractive", "-o"],
        "restyle": ["restyle", str(source), "--style", "plain", "-o"],
        "check --fix": ["check", str(source), "--fix", "-o"],
        "check report": ["check", str(source), "-o"],
    }


@pytest.mark.parametrize("command", ["summarize", "restyle", "check --fix", "check report"])
def test_output_that_is_the_input_is_refused(command: str, source: Path, tmp_path: Path) -> None:
    link = tmp_path / "alias.txt"
    link.symlink_to(source)
    for target in (source, link):
        out = _run(*_cases(source, tmp_path)[command], str(target))
        _one_line_exit_2(out, "input file")
        assert source.read_text(encoding="utf-8") == SPEECH  # untouched


@pytest.mark.parametrize("command", ["summarize", "restyle", "check --fix", "check report"])
def test_read_only_output_is_refused_and_kept(command: str, source: Path, tmp_path: Path) -> None:
    ro = tmp_path / "done.txt"
    ro.write_text("定稿，勿动", encoding="utf-8")
    ro.chmod(0o444)
    out = _run(*_cases(source, tmp_path)[command], str(ro))
    _one_line_exit_2(out, "read-only")
    assert ro.read_text(encoding="utf-8") == "定稿，勿动"


@pytest.mark.parametrize("command", ["summarize", "restyle", "check --fix", "check report"])
def test_output_in_a_missing_directory_is_refused(command: str, source: Path, tmp_path: Path) -> None:
    out = _run(*_cases(source, tmp_path)[command], str(tmp_path / "typo" / "out.txt"))
    _one_line_exit_2(out, "does not exist")
    assert not (tmp_path / "typo").exists()


def test_adapt_refuses_its_brief_as_output_and_a_missing_directory(tmp_path: Path) -> None:
    brief = tmp_path / "brief.json"
    text = json.dumps({"occasion": "全县安全生产工作会议", "points": ["压实安全生产责任"]}, ensure_ascii=False)
    brief.write_text(text, encoding="utf-8")
    _one_line_exit_2(_run("adapt", "--brief", str(brief), "-o", str(brief)), "input file")
    assert brief.read_text(encoding="utf-8") == text
    _one_line_exit_2(_run("adapt", "--brief", str(brief), "-o", str(tmp_path / "x" / "讲话.txt")), "does not exist")


def test_check_fix_in_place_keeps_a_read_only_file(tmp_path: Path) -> None:
    path = tmp_path / "ro.txt"
    path.write_text("同志们:\n\n今天开会,部署工作。\n", encoding="utf-8")  # half-width punctuation: fixable
    path.chmod(0o444)
    _one_line_exit_2(_run("check", str(path), "--fix"), "read-only")
    assert path.read_text(encoding="utf-8") == "同志们:\n\n今天开会,部署工作。\n"


def test_batch_outputs_follow_the_same_rules(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(json.dumps({"id": "a", "task": "check", "text": SPEECH}, ensure_ascii=False) + "\n", encoding="utf-8")
    before = jobs.read_text(encoding="utf-8")
    _one_line_exit_2(_run("batch", "run", str(jobs), "-o", str(jobs)), "input file")
    ro = tmp_path / "out.jsonl"
    ro.write_text("", encoding="utf-8")
    ro.chmod(0o444)
    _one_line_exit_2(_run("batch", "run", str(jobs), "-o", str(ro)), "read-only")
    _one_line_exit_2(_run("batch", "run", str(jobs), "-o", str(tmp_path / "no" / "out.jsonl")), "does not exist")
    assert jobs.read_text(encoding="utf-8") == before and not (tmp_path / "no").exists()
    ok = _run("batch", "run", str(jobs), "-o", str(tmp_path / "out2.jsonl"), "--no-progress")
    assert ok.returncode == 0, ok.stderr


# --- stdin ------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("summarize", "-", "--method", "extractive"),
    ("check", "-"),
    ("restyle", "-"),
    ("batch", "run", "-", "-o", "OUT"),
])
def test_closed_stdin_is_one_line(args: tuple[str, ...], tmp_path: Path) -> None:
    args = tuple(str(tmp_path / "out.jsonl") if a == "OUT" else a for a in args)
    env = {**os.environ, "SPEECHSMITH_LOG": "0"}
    out = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL,
                         preexec_fn=lambda: os.close(0))
    _one_line_exit_2(out, "stdin")
