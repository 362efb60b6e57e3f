"""OUT.jsonl: one JSON line per finished job, appended so that a crash can never corrupt it.

Each record is written with ONE os.write of the whole line, newline last, on an O_APPEND
descriptor (and fsynced right after by a background thread). Lines never interleave, and a line
is complete exactly when its newline is there. What a crash can leave is a torn tail: Linux stops
copying a write that spans several memory pages when a kill -9 arrives (and a power cut can stop
one anywhere), leaving the start of the last line without its newline. Every reader ignores such
a tail and opening the file again truncates it, so no half line is ever read and nothing complete
is lost. The ids already in the file are "done" and a rerun skips them, so every id appears
exactly once.

    {"id": "j001", "task": "summarize", "status": "ok", "result": {…}, "errors": [],
     "usage": {"calls": 1, "prompt_tokens": 812, "completion_tokens": 140, "retries": 0}}

status: ok (schema-valid result), invalid (the model never produced valid output; "raw" holds its
last output), error (bad line, missing file, endpoint down after retries, …).
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.errors import InputError

STATUSES = ("ok", "invalid", "error")

try:  # POSIX only; elsewhere two runs on one file are simply not prevented
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


def make_record(
    job_id: str,
    task: str,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    usage: dict[str, Any] | None = None,
    raw: str | None = None,
    line: int | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": job_id,
        "task": task,
        "status": status,
        "result": result,
        "errors": errors or [],
        "usage": usage or {},
    }
    if raw is not None:
        record["raw"] = raw
    if line is not None:
        record["line"] = line
    return record


def read_results(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """The complete records of an OUT.jsonl and the byte length of its intact part.

    A last line without its newline is torn (a crash mid-write) and not counted; a complete line
    that is not a JSON object (edited by hand) is skipped.
    """
    try:
        blob = Path(path).read_bytes()
    except FileNotFoundError:
        return [], 0
    end = blob.rfind(b"\n") + 1  # everything after the last newline is a torn tail
    records = []
    for raw in blob[:end].splitlines():
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            records.append(record)
    return records, end


class ResultWriter:
    """Append-only writer shared by the worker threads; a context manager.

    `replace` names ids whose non-ok records are dropped when opening (the file is rewritten
    atomically first), so those jobs may run again and still appear once.
    """

    def __init__(self, path: str | Path, *, replace: set[str] | None = None, retry_failed: bool = False) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise InputError(f"cannot write results to {self.path}: {exc.strerror}") from None
        self._fd = fd
        self._lock = threading.Lock()  # guards appends and `done`
        self._sync_lock = threading.Lock()  # one fsync at a time; taken before _lock, never inside
        self._dirty = threading.Event()  # lines appended since the last fsync
        self._syncer: threading.Thread | None = None
        self.closed = False
        try:
            self._lock_file()
            records, intact = read_results(self.path)
            if intact < os.fstat(self._fd).st_size:
                self.torn_bytes = os.fstat(self._fd).st_size - intact
                os.truncate(self.path, intact)
            else:
                self.torn_bytes = 0
            drop = {
                r["id"] for r in records
                if r.get("status") != "ok" and (retry_failed or (replace and r["id"] in replace))
            }
            if drop:
                records = [r for r in records if r["id"] not in drop]
                self._rewrite(records)
            self.done: dict[str, str] = {r["id"]: r.get("status", "") for r in records}
            self.dropped = len(drop)
            self.written: Counter[str] = Counter()
        except BaseException:
            os.close(self._fd)
            raise

    def _lock_file(self) -> None:
        # Two runs appending to one OUT.jsonl would both run the pending jobs: refuse the second.
        if fcntl is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"{self.path} is being written by another batch run") from None

    def _rewrite(self, records: list[dict[str, Any]]) -> None:
        # The file is rewritten in place under our lock (a new inode would escape the flock).
        payload = b"".join(_encode(r) for r in records)
        os.ftruncate(self._fd, 0)
        _write_all(self._fd, payload)
        os.fsync(self._fd)

    def is_done(self, job_id: str) -> bool:
        return job_id in self.done

    def write(self, record: dict[str, Any]) -> bool:
        """Append one record; False (nothing written) if its id is already in the file.

        The line is in the file (page cache) when this returns, which is all a kill -9 needs; the
        fsync against power loss follows within milliseconds on the syncer thread, so a worker
        never waits for the disk before taking its next job.
        """
        line = _encode(record)
        with self._lock:
            if self.closed or record["id"] in self.done:
                return False
            _write_all(self._fd, line)
            self.done[record["id"]] = record["status"]
            self.written[record["status"]] += 1
            if self._syncer is None:
                self._syncer = threading.Thread(target=self._sync_loop, name="batch-fsync", daemon=True)
                self._syncer.start()
        self._dirty.set()
        return True

    def after_fork(self) -> None:
        """In a forked child: fresh locks and no syncer (threads do not survive a fork). The
        descriptor, its flock and the `done` ids are shared with the parent."""
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._dirty = threading.Event()
        self._syncer = None

    def _sync_loop(self) -> None:
        # Group commit: one fsync covers every line appended before it started.
        while True:
            self._dirty.wait()
            with self._sync_lock:
                if self.closed:
                    return
                self._dirty.clear()
                os.fsync(self._fd)

    def close(self) -> None:
        with self._sync_lock, self._lock:
            if not self.closed:
                self.closed = True
                os.fsync(self._fd)
                os.close(self._fd)  # closing also releases the flock
        self._dirty.set()  # let the syncer see `closed` and end

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _encode(record: dict[str, Any]) -> bytes:
    # ensure_ascii=False keeps Chinese readable; json escapes every newline inside strings, so a
    # record is always exactly one line.
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str) + "\n").encode("utf-8")


def _write_all(fd: int, data: bytes) -> None:
    # A regular file takes the whole buffer in one write; the loop only guards the rare short
    # write (e.g. a nearly full disk) so that what is written is at least contiguous.
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
