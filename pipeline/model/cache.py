"""Optional response cache (--cache): identical request, same backend and model -> same reply.

Keyed by `ChatRequest.key(backend, model)`, which hashes everything that determines the reply
(messages, sampling parameters, seed, sample index, schema) and never a secret. Only replies the
Client accepted are stored (a structured reply only once it validated), so a cached answer is
never a known-bad one. Lives in the user cache dir: deleting it loses nothing but time.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from pathlib import Path

from pipeline.model.types import ChatResponse, Usage
from pipeline.paths import cache_dir
from pipeline.redact import redact


class ResponseCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else cache_dir() / "responses.sqlite3"
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.disabled = False  # after an error: carry on uncached rather than fail the command

    def _disable(self, exc: Exception) -> None:
        if not self.disabled:
            self.disabled = True
            print(f"speechsmith: warning: response cache disabled ({self.path}: {exc})", file=sys.stderr)

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, text TEXT NOT NULL, "
                "prompt_tokens INTEGER, completion_tokens INTEGER, model TEXT, finish_reason TEXT, "
                "created REAL)"
            )
            self._conn = conn
        return self._conn

    def get(self, key: str) -> ChatResponse | None:
        if self.disabled:
            return None
        with self._lock:
            try:
                row = self._db().execute(
                    "SELECT text, prompt_tokens, completion_tokens, model, finish_reason FROM responses WHERE key = ?",
                    (key,),
                ).fetchone()
            except (sqlite3.Error, OSError) as exc:
                self._disable(exc)
                return None
        if row is None:
            return None
        return ChatResponse(row[0], Usage(row[1] or 0, row[2] or 0), row[3] or "", row[4] or "stop")

    def put(self, key: str, response: ChatResponse) -> None:
        if self.disabled:
            return
        with self._lock:
            try:
                self._db().execute(
                    "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        key, redact(response.text), response.usage.prompt_tokens,
                        response.usage.completion_tokens, response.model, response.finish_reason, time.time(),
                    ),
                )
            except (sqlite3.Error, OSError) as exc:
                self._disable(exc)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
