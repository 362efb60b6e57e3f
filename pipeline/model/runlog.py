"""The run log: every model call and every attempt, in SQLite under the user data dir.

One row in `runs` per command run (created at its first model call) and one row in `calls` per
attempt: first tries, re-asks after invalid output, transport retries, cache hits, refusals.
Rows are redacted before they are written; the raw reply is kept only when it failed validation
(so `speechsmith log show` can say what the model actually said).

WAL with synchronous=NORMAL: a commit costs no fsync, so logging stays well under a millisecond
per call, and several processes (batch workers) can write to the same log.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.paths import data_dir
from pipeline.redact import redact

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    finished TEXT,
    command TEXT,
    backend TEXT,
    model TEXT,
    usage TEXT
);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    time TEXT NOT NULL,
    command TEXT,
    step TEXT,
    backend TEXT,
    model TEXT,
    prompt_id TEXT,
    prompt_version TEXT,
    prompt_hash TEXT,
    request_hash TEXT,
    attempt INTEGER,
    kind TEXT,
    tokens_in INTEGER,
    tokens_out INTEGER,
    duration_ms REAL,
    status TEXT,
    error TEXT,
    retries INTEGER,
    finish_reason TEXT,
    raw TEXT
);
CREATE INDEX IF NOT EXISTS calls_run ON calls(run_id);
"""

CALL_FIELDS = (
    "command", "step", "backend", "model", "prompt_id", "prompt_version", "prompt_hash",
    "request_hash", "attempt", "kind", "tokens_in", "tokens_out", "duration_ms", "status",
    "error", "retries", "finish_reason", "raw",
)
_TEXT_FIELDS = {"error", "raw", "step", "command", "model"}


def default_path() -> Path:
    return data_dir() / "runlog.sqlite3"


def open_runlog(enabled: bool = True) -> RunLog | None:
    """The user's run log, or None when logging is off or its folder cannot be made (a
    read-only home): the command then runs unlogged and says so on stderr."""
    if not enabled:
        return None
    try:
        return RunLog()
    except OSError as exc:
        print(f"speechsmith: warning: run log unavailable: {exc}", file=sys.stderr)
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RunLog:
    """Thread-safe writer and reader of one run-log database."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else default_path()
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.disabled = False  # set after a write failed: the command goes on without a log

    def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run one write; a log that cannot be written warns once and never stops the command."""
        if self.disabled:
            return 0
        with self._lock:
            try:
                cur = self._db().execute(sql, params)
            except (sqlite3.Error, OSError) as exc:
                self.disabled = True
                print(f"speechsmith: warning: run log disabled ({self.path}: {exc})", file=sys.stderr)
                return 0
            return int(cur.lastrowid or 0)

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    def start_run(self, command: str, backend: str, model: str) -> int:
        return self._write(
            "INSERT INTO runs (started, command, backend, model) VALUES (?, ?, ?, ?)",
            (_now(), command, backend, redact(model)),
        )

    def finish_run(self, run_id: int, usage: dict[str, Any]) -> None:
        self._write(
            "UPDATE runs SET finished = ?, usage = ? WHERE id = ?",
            (_now(), json.dumps(usage, ensure_ascii=False), run_id),
        )

    def record(self, run_id: int, **row: Any) -> int:
        """Append one attempt; unknown keys are an error (keeps the columns honest)."""
        unknown = set(row) - set(CALL_FIELDS)
        if unknown:
            raise ValueError(f"unknown run-log fields: {sorted(unknown)}")
        values = [redact(row.get(f)) if f in _TEXT_FIELDS and row.get(f) else row.get(f) for f in CALL_FIELDS]
        return self._write(
            f"INSERT INTO calls (run_id, time, {', '.join(CALL_FIELDS)}) "
            f"VALUES (?, ?, {', '.join('?' * len(CALL_FIELDS))})",
            (run_id, _now(), *values),
        )

    def update(self, row_id: int, **row: Any) -> None:
        """Amend one attempt (e.g. mark it invalid once its reply failed validation)."""
        unknown = set(row) - set(CALL_FIELDS)
        if unknown or not row:
            raise ValueError(f"unknown run-log fields: {sorted(unknown)}")
        names = sorted(row)
        values = [redact(row[f]) if f in _TEXT_FIELDS and row[f] else row[f] for f in names]
        self._write(f"UPDATE calls SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?", (*values, row_id))

    def runs(self, limit: int = 20, command: str | None = None) -> list[dict[str, Any]]:
        """Newest runs first, each with its number of attempts, failures and tokens."""
        if not self.path.is_file():
            return []
        where, params = ("WHERE r.command = ?", [command]) if command else ("", [])
        sql = f"""
            SELECT r.id, r.started, r.finished, r.command, r.backend, r.model, r.usage,
                   COUNT(c.id) AS attempts,
                   SUM(CASE WHEN c.status NOT IN ('ok', 'cached') THEN 1 ELSE 0 END) AS failures,
                   COALESCE(SUM(c.tokens_in), 0) AS tokens_in,
                   COALESCE(SUM(c.tokens_out), 0) AS tokens_out
            FROM runs r LEFT JOIN calls c ON c.run_id = r.id {where}
            GROUP BY r.id ORDER BY r.id DESC LIMIT ?"""
        with self._lock:
            try:
                rows = self._db().execute(sql, (*params, limit)).fetchall()
            except sqlite3.Error as exc:
                raise InputError(f"cannot read the run log {self.path}: {exc}") from None
        return [_run_dict(row) for row in rows]

    def run(self, run_id: int) -> dict[str, Any] | None:
        """One run with all its attempts, oldest first; None when there is no such run."""
        if not self.path.is_file():
            return None
        with self._lock:
            try:
                db = self._db()
                head = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
                if head is None:
                    return None
                calls = db.execute("SELECT * FROM calls WHERE run_id = ? ORDER BY id", (run_id,)).fetchall()
            except sqlite3.Error as exc:
                raise InputError(f"cannot read the run log {self.path}: {exc}") from None
        out = _run_dict(head)
        out["calls"] = [dict(c) for c in calls]
        return out

    def prune(self, older_than_days: float) -> int:
        """Delete runs started more than `older_than_days` ago (with their attempts); returns how many."""
        if not self.path.is_file():
            return 0
        cutoff = datetime.fromtimestamp(time.time() - older_than_days * 86400, UTC)
        stamp = cutoff.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        with self._lock:
            try:
                db = self._db()
                ids = [r[0] for r in db.execute("SELECT id FROM runs WHERE started < ?", (stamp,))]
                db.executemany("DELETE FROM calls WHERE run_id = ?", [(i,) for i in ids])
                db.executemany("DELETE FROM runs WHERE id = ?", [(i,) for i in ids])
                db.execute("VACUUM")
            except sqlite3.Error as exc:
                raise InputError(f"cannot prune the run log {self.path}: {exc}") from None
        return len(ids)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _run_dict(row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    d["usage"] = json.loads(d["usage"]) if d.get("usage") else None
    return d


def elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
