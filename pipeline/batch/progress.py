"""The progress line on stderr: done/total, jobs per second, ETA, errors, tokens.

On a terminal it redraws one line in place a few times a second; in a log (not a TTY) it prints
a plain line every `log_every` seconds, so CI logs show progress without flooding.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    def __init__(
        self,
        total: int,
        *,
        already: int = 0,
        stream: TextIO | None = None,
        enabled: bool = True,
        log_every: float = 10.0,
    ) -> None:
        self.total = total
        self.already = already  # done in an earlier run: counted in done, not in the rate
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = 0.2 if self.tty else log_every
        self.counts = {"ok": 0, "invalid": 0, "error": 0}
        self.tokens = 0
        self.start = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()

    @property
    def done(self) -> int:
        return self.already + sum(self.counts.values())

    def add(self, status: str, tokens: int = 0) -> None:
        with self._lock:
            self.counts[status] = self.counts.get(status, 0) + 1
            self.tokens += tokens
        self.tick()

    def tick(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        line = self.line(now)
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def line(self, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        elapsed = max(now - self.start, 1e-9)
        new = sum(self.counts.values())
        rate = new / elapsed
        left = max(self.total - self.done, 0)
        eta = _clock(left / rate) if rate > 0 and left else ("0:00" if not left else "--:--")
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        bad = self.counts["error"] + self.counts["invalid"]
        return (
            f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{rate:.1f} jobs/s ETA {eta} errors {bad} tokens {_short(self.tokens)}"
        )

    def finish(self) -> None:
        if not self.enabled:
            return
        self.tick(force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def say(progress: Progress | None, message: str) -> None:
    """One notice line on the progress stream (stderr), starting a new line under a live bar."""
    stream = progress.stream if progress is not None else sys.stderr
    if progress is not None and progress.tty:
        stream.write("\n")
    stream.write(f"speechsmith: {message}\n")
    stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _short(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    if n >= 10_000:
        return f"{n / 1e3:.0f}k"
    return str(n)
