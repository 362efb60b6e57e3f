"""The thread count of the embedded model: chosen from the free cores, fixed by --threads."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.model.backends.cpu import (
    CpuWatch,
    ThreadChoice,
    threads_for,
    usable_cores,
    writing_threads,
)

CLI = [sys.executable, "-m", "pipeline"]
SPIN = "import time\nend = time.time() + 20\nwhile time.time() < end:\n    pass\n"
SPEECH = "同志们：\n\n今天召开全县安全生产工作会议，主要任务是部署今年的安全生产工作。各地区各部门要压实安全生产责任，确保不发生重大事故。\n"


def test_a_busy_core_is_not_a_free_core() -> None:
    assert threads_for(2, 0.0) == 2
    assert threads_for(2, 1.0) == 1  # the measured case: 24 s at 1 thread vs 56 s at 2
    assert threads_for(2, 0.2) == 2  # a browser tab's share does not cost a thread
    assert threads_for(2, 5.0) == 1  # never fewer than one
    assert threads_for(8, 3.0) == 5


@pytest.mark.skipif(not os.path.exists("/proc/stat") or len(usable_cores()) < 2, reason="needs Linux and 2 cores")
def test_a_competing_process_is_measured_and_costs_a_thread() -> None:
    spinner = subprocess.Popen([sys.executable, "-c", SPIN])
    try:
        time.sleep(0.3)
        watch = CpuWatch()
        choice = watch.choose(fresh=True)
        assert choice.busy is not None and choice.busy >= 0.5  # at least the spinner (others may add)
        assert choice.reading <= choice.cores - 1  # the busy core is not a free one
        assert choice.threads <= choice.reading
        assert "busy" in choice.describe() and choice.source == "auto"
    finally:
        spinner.kill()
        spinner.wait()


def test_fixed_choice_says_where_it_came_from() -> None:
    assert ThreadChoice(1, 2, None, "flag").describe().startswith("1 thread(s) of 2 core(s) (set by flag)")


def test_writing_leaves_a_core_to_other_programs_reading_takes_every_free_one() -> None:
    assert writing_threads(2) == 1 and writing_threads(1) == 1 and writing_threads(8) == 7
    choice = ThreadChoice(1, 2, 0.0, "auto", 2)
    assert choice.reading == 2 and "2 to read the prompt" in choice.describe()
    assert ThreadChoice(2, 2, None, "flag").reading == 2  # a fixed count is both


@pytest.mark.model
def test_threads_flag_env_and_verbose_line(tmp_path: Path) -> None:
    # a report: one of its chosen sentences is long enough to be sent to the model
    source = tmp_path / "s.txt"
    source.write_text((Path(__file__).parent / "fixtures" / "reports" / "gwr_2004.txt").read_text(encoding="utf-8"),
                      encoding="utf-8")
    env = {**os.environ, "SPEECHSMITH_LOG": "0"}
    args = [*CLI, "summarize", str(source), "--method", "hybrid", "--length", "short", "-v"]
    out = subprocess.run([*args, "--threads", "1"], capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr
    assert "threads: 1 thread(s)" in out.stderr and "set by flag" in out.stderr
    out = subprocess.run(args, capture_output=True, text=True, timeout=600, env={**env, "SPEECHSMITH_THREADS": "1"})
    assert out.returncode == 0 and "set by env SPEECHSMITH_THREADS" in out.stderr
    out = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0 and "(auto;" in out.stderr
    assert out.stderr.count("speechsmith: usage:") == 1
    bad = subprocess.run([*args, "--threads", "0"], capture_output=True, text=True, timeout=60, env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


@pytest.mark.model
def test_threads_change_between_calls_without_a_reload() -> None:
    from pipeline.model.backends.local import LocalBackend
    from pipeline.model.types import ChatRequest, Message

    # Its own model (another context size): the session's shared model keeps its state.
    backend = LocalBackend(n_ctx=1024)
    request = ChatRequest([Message("user", "同志们：今天召开")], max_tokens=4, temperature=0.0)
    backend.complete(request)
    llm = backend.llm
    for n in (1, 2, 1):
        backend.apply_threads(ThreadChoice(n, 2, None, "test"))
        assert backend.threads_in_use == (n, n)
        assert backend.complete(request).usage.completion_tokens > 0
    # the automatic choice on a quiet 2-core machine: read with both cores, write with one
    import llama_cpp

    backend.apply_threads(ThreadChoice(1, 2, 0.0, "auto", 2))
    assert backend.threads_in_use == (1, 2)
    assert (llama_cpp.llama_n_threads(llm.ctx), llama_cpp.llama_n_threads_batch(llm.ctx)) == (1, 2)
    assert backend.complete(request).usage.completion_tokens > 0
    assert backend.llm is llm  # the same loaded model: no reload
