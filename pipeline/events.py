"""Progress events: what a running task tells whoever is watching (a terminal, a web page).

A task gets an optional `progress` callable in its context and calls it with a `ProgressEvent`
at each step a person would want to see: model setup, each part and paragraph of a draft, each
chunk of a summary. The CLI turns events into a stderr line on a terminal; the web page streams
them to the browser. Tasks never print: they only emit, so the same run is quiet in a pipe.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["ProgressEvent", "ProgressFn", "emit"]


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a task.

    stage: a short machine name ("setup", "select", "draft", "repair", "check", "chunk", "done").
    label: what a person reads ("第二部分", "模型加载", "第 3/12 段").
    done / total: counts within the stage when known (total 0 = unknown).
    text: new output text of this step, when there is some (a drafted paragraph), for live display.
    part: the key of the part of a draft the step belongs to, when there is one.
    tokens: tokens generated so far in the run, when known.
    """

    stage: str
    label: str = ""
    done: int = 0
    total: int = 0
    text: str = ""
    part: str = ""
    tokens: int = 0
    at: float = field(default_factory=time.monotonic)


ProgressFn = Callable[[ProgressEvent], None]


def emit(fn: ProgressFn | None, stage: str, **fields: object) -> None:
    """Send an event to `fn` when there is a listener; a listener's error never stops a task."""
    if fn is None:
        return
    try:
        fn(ProgressEvent(stage=stage, **fields))  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a broken display must not lose the user's draft
        pass
