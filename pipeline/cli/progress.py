"""The terminal side of pipeline.events: one stderr line, redrawn in place, while a model works.

    progress = terminal_progress(json_to_stdout=fmt is Format.json and output is None)
    ctx = TaskContext(client=client, progress=progress)
    listen(client, progress)          # the local backend's own events: model setup, tokens
    try: run_task(...) finally: close(progress)

Shown only when stderr is a terminal, and not when JSON goes to stdout (a script is reading);
in a pipe or a log the command stays quiet. The line says what is being done (model setup,
part / paragraph from the task's events), tokens generated, time so far and, once a stage with
a known total has advanced, the time left. It is erased before the result is printed.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import unicodedata
from typing import Any, TextIO

from pipeline.events import ProgressEvent

__all__ = ["TerminalProgress", "close", "listen", "terminal_progress"]


class TerminalProgress:
    """A ProgressFn that draws events as one line on a terminal stream."""

    def __init__(self, stream: TextIO | None = None, *, interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self.start = time.monotonic()
        self.tokens = 0
        self.label = ""  # the task's latest step ("第 3/12 段")
        self.label_stage = ""
        self.setup = ""  # model setup in progress, if any
        self.generating = ""  # "生成 40/300" of the call in flight
        self.stage_total: tuple[str, int, int, float] | None = None  # stage, done, total, stage start
        self._stage_started: dict[str, float] = {}
        self._drawn = False
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            if event.tokens:
                self.tokens = max(self.tokens, event.tokens)
            if event.stage == "generate":
                self.generating = f"{event.done}/{event.total} tokens" if event.total else f"{event.done} tokens"
            elif event.stage == "setup":
                # Model setup interrupts whatever the task said; the task's line comes back after.
                self.setup = "" if event.total and event.done >= event.total else event.label
                self.generating = ""
            else:
                self.generating = ""
                if event.label:
                    self.label = event.label
                    self.label_stage = event.stage
                started = self._stage_started.setdefault(event.stage, event.at)
                if event.total:
                    self.stage_total = (event.stage, event.done, event.total, started)
            self._draw(force=event.stage != "generate")

    def line(self, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        parts = [self.setup or self.label or ("生成中" if self.generating else "准备中")]
        counted = self.stage_total
        if not self.setup and counted is not None and counted[0] == self.label_stage and "/" not in self.label:
            parts[0] += f" ({counted[1]}/{counted[2]} done)"  # "第二部分 (1/5 done)"
        if self.generating:
            parts.append(self.generating)
        if self.tokens:
            parts.append(f"{self.tokens} tokens in all")
        parts.append(f"{_clock(now - self.start)} elapsed")
        eta = self.eta(now)
        if eta is not None:
            parts.append(f"about {_clock(eta)} left")
        return "speechsmith: " + " · ".join(parts)

    def eta(self, now: float) -> float | None:
        """Time left in the stage with a known total, from its pace so far."""
        if self.stage_total is None:
            return None
        stage, done, total, started = self.stage_total
        if stage == "setup" or done <= 0 or done >= total:
            return None
        return (now - started) / done * (total - done)

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        width = shutil.get_terminal_size((80, 20)).columns
        text = _fit(self.line(now), max(20, width - 1))
        try:
            self.stream.write("\r" + text + "\x1b[K")
            self.stream.flush()
        except (OSError, ValueError):
            return
        self._drawn = True

    def above(self, fn: Any, *args: Any) -> None:
        """Call `fn` (which prints a line of its own) with the progress line out of its way."""
        self.close()
        fn(*args)
        with self._lock:
            self._draw(force=True)

    def close(self) -> None:
        """Erase the line, so that what follows starts on a clean line."""
        with self._lock:
            if self._drawn:
                try:
                    self.stream.write("\r\x1b[K")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass
                self._drawn = False


def terminal_progress(*, json_to_stdout: bool = False, stream: TextIO | None = None) -> TerminalProgress | None:
    """A listener when stderr is a terminal and no script reads JSON from stdout; else None.

    SPEECHSMITH_PROGRESS=0 turns it off."""
    stream = stream or sys.stderr
    if json_to_stdout or os.environ.get("SPEECHSMITH_PROGRESS", "") in ("0", "false", "no", "off"):
        return None
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return TerminalProgress(stream)


def listen(client: Any, progress: TerminalProgress | None) -> None:
    """Let the client's backend (the embedded model) report setup and tokens to `progress`."""
    if progress is None or client is None:
        return
    backend = getattr(client, "backend", None)
    if backend is not None and hasattr(backend, "progress"):
        backend.progress = progress
        notify = getattr(backend, "notify", None)
        if notify is not None:
            backend.notify = lambda line: progress.above(notify, line)


def close(progress: TerminalProgress | None) -> None:
    if progress is not None:
        progress.close()


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _fit(text: str, columns: int) -> str:
    """Cut `text` to `columns` terminal columns (汉字 take two)."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used > columns:
            return text[:i]
    return text
