"""How many threads the embedded model should use: the cores that are free now, not all of them.

llama.cpp splits every token's work evenly over its threads and waits for the slowest, so one
thread on a core that another program keeps busy holds all of them back: on 2 cores beside one
busy process, a draft took 56 s with 2 threads and 24 s with 1 (quiet: 19.5 s and 27 s). A
writer's laptop always runs something else, so the count is chosen from what is free.

Two counts, because the two phases of a call behave differently. Reading the prompt is a few
large matrix products per layer: it scales with threads and lasts a second or two, so it takes
every free core. Writing is one token at a time: each of ~18 layers is a few tiny operations
with a barrier after each, two threads give only ~1.5x one thread here, and that phase holds
the cores for the whole call. So writing leaves one free core to the writer's other programs
(RESERVE): Word and the browser stay responsive, and when such a program wakes up and takes a
core the draft is not held back by a thread that lost its core. Measured on 2 cores
(evals/bench/bench_busy.py, the README's table): the Quick start draft takes 16.4 s quiet and
17.5 s beside a busy process (1.06x); writing on both cores it took 11.9 s quiet and 30.8 s busy.

Free cores are measured from /proc/stat: the busy time of the cores this process may run on,
minus this process's own CPU time, over a window. When a command starts, the window is a
100 ms sample. Between model calls (a batch's jobs, a draft's paragraphs) the window is the time
since the last look, so re-checking costs nothing and never sleeps; our own work in that window
is subtracted, so the model does not mistake itself for a competitor. Without /proc/stat (not
Linux) the 1-minute load average stands in.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

__all__ = ["CpuWatch", "ThreadChoice", "threads_for", "usable_cores", "writing_threads"]

SAMPLE_SECONDS = 0.1
MIN_WINDOW = 0.25  # shorter windows (a few 10 ms ticks) are noise: keep the last choice
# A core counts as free when at most this share of it is used by other programs: a browser
# tab's 20 % does not cost a thread, a compiler's 70 % does.
SPARE = 0.3
# Free cores the writing phase leaves to other programs (see the module docstring).
RESERVE = 1


def usable_cores() -> list[int]:
    """The CPUs this process may run on (containers and taskset limit them), not the host's."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


@dataclass(frozen=True)
class ThreadChoice:
    threads: int  # writing, one token at a time
    cores: int
    busy: float | None  # cores' worth of time used by other programs, when measured
    source: str  # "flag", "env SPEECHSMITH_THREADS", "config", or "auto"
    prompt_threads: int = 0  # reading the prompt; 0: the same as `threads` (a fixed choice)

    @property
    def reading(self) -> int:
        return self.prompt_threads or self.threads

    @property
    def counts(self) -> tuple[int, int]:
        """(writing, reading the prompt): what llama_set_n_threads takes."""
        return self.threads, self.reading

    def describe(self) -> str:
        """One line for -v: the choice and why."""
        if self.source != "auto":
            return f"{self.threads} thread(s) of {self.cores} core(s) (set by {self.source})"
        counts = f"{self.threads} thread(s) of {self.cores} core(s)"
        if self.reading != self.threads:
            counts += f" ({self.reading} to read the prompt; writing leaves a core to other programs)"
        if self.busy is None:
            return f"{counts} (load unknown)"
        return (
            f"{counts}: other programs keep {self.busy:.1f} "
            f"core(s) busy (auto; --threads N or SPEECHSMITH_THREADS to fix it)"
        )


def threads_for(cores: int, busy: float) -> int:
    """Threads for `cores` usable cores of which `busy` cores' worth are taken by others."""
    free = cores - busy
    return max(1, min(cores, int(free + SPARE)))


def writing_threads(free: int) -> int:
    """Threads that write tokens when `free` cores are free: one core is left to other programs."""
    return max(1, free - RESERVE)


def _read_stat(cpus: list[int]) -> tuple[float, float] | None:
    """(busy, total) seconds of `cpus` since boot, from /proc/stat; None where unavailable."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    wanted = {f"cpu{c}" for c in cpus}
    busy = total = 0
    for line in lines:
        name, _, rest = line.partition(" ")
        if name not in wanted:
            continue
        # user nice system idle iowait irq softirq steal (guest time is inside user already)
        values = [int(v) for v in rest.split()[:8]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        busy += sum(values) - idle
        total += sum(values)
    if total == 0:
        return None
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    return busy / hz, total / hz


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


class CpuWatch:
    """Measures the cores other programs keep busy; `choose()` re-measures without sleeping."""

    def __init__(self) -> None:
        self.cpus = usable_cores()
        self._last: tuple[float, float, float, float] | None = None  # wall, busy, total, own
        self.busy: float | None = None

    def _now(self) -> tuple[float, float, float, float] | None:
        stat = _read_stat(self.cpus)
        if stat is None:
            return None
        return time.monotonic(), stat[0], stat[1], _own_cpu()

    def sample(self, seconds: float = SAMPLE_SECONDS) -> float | None:
        """Busy cores (others') over a fresh window of `seconds` (sleeps that long)."""
        first = self._now()
        if first is None:
            return self._loadavg()
        time.sleep(seconds)
        self._last = first
        return self.update(force=True)

    def update(self, *, force: bool = False) -> float | None:
        """Busy cores (others') since the last look; the previous value for too short a window."""
        now = self._now()
        if now is None:
            return self._loadavg()
        last = self._last
        if last is None:
            self._last = now
            return self.busy
        if not force and now[0] - last[0] < MIN_WINDOW:
            return self.busy
        wall_busy = now[1] - last[1]
        wall_total = now[2] - last[2]
        own = now[3] - last[3]
        self._last = now
        if wall_total <= 0:
            return self.busy
        # /proc/stat counts in ticks of every CPU; express it in cores over the window.
        cores_busy = len(self.cpus) * wall_busy / wall_total
        window = max(now[0] - last[0], 1e-6)
        others = max(0.0, cores_busy - own / window)
        self.busy = others if self.busy is None else 0.5 * self.busy + 0.5 * others
        return self.busy

    def _loadavg(self) -> float | None:
        try:
            self.busy = float(os.getloadavg()[0])
        except (AttributeError, OSError):
            self.busy = None
        return self.busy

    def choose(self, *, fresh: bool = False) -> ThreadChoice:
        """The thread count for now: a fresh 100 ms sample when asked (a command's start)."""
        busy = self.sample() if fresh or self._last is None else self.update()
        cores = len(self.cpus)
        free = cores if busy is None else threads_for(cores, busy)
        return ThreadChoice(writing_threads(free), cores, busy, "auto", free)
