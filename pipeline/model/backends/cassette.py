"""Record/replay of model calls, so evals run offline, deterministically and in seconds.

One pretty-printed UTF-8 JSON file per call in a cassette folder (one folder per suite):

    <dir>/_meta.json         backend name, model, context window the cassettes were recorded with
    <dir>/_tokens.json       count_tokens results seen while recording (hash of text -> count)
    <dir>/<key[:24]>.json    one call: the request, the successful response, its latency

The key is `ChatRequest.key(backend, model)`: backend, model, rendered messages, parameters,
schema and sample index. Replay needs no model at all: the recorded meta stands in for the
backend's facts, and the recorded token counts for its tokenizer. Token counts matter because
few-shot selection and chunking pack text by token budget, so an approximate count could render a
different prompt; a count never seen while recording falls back to an approximation, which is
safe only because the rendered request must still match a cassette key exactly.

Modes: replay (a missing cassette raises CassetteMiss, exit code 2), record (always call the
model, overwrite), update (replay what is recorded, call the model and record only what is
missing: re-recording after a prompt change costs only the calls that changed; the model is not
even loaded when nothing changed), live (call the model, write nothing). Only successful responses are written;
request headers and keys never reach this layer, and known secret values are redacted anyway.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from pipeline.errors import SpeechsmithError
from pipeline.model.types import Backend, ChatRequest, ChatResponse, Usage

Mode = Literal["replay", "record", "update", "live"]
MODES: tuple[str, ...] = ("replay", "record", "update", "live")

META_FILE = "_meta.json"
TOKENS_FILE = "_tokens.json"
_KEY_CHARS = 24  # 96 bits of the sha256 key in a file name: collisions are not a concern
_SECRET_ENV = ("OPENAI_API_KEY", "SPEECHSMITH_API_KEY", "DEEPSEEK_API_KEY", "DASHSCOPE_API_KEY")


class CassetteMiss(SpeechsmithError):
    """Replay found no recording for a request (or no cassette folder at all)."""

    exit_code = 2

    def __init__(self, message: str, *, key: str = "") -> None:
        super().__init__(message)
        self.key = key


@dataclass
class CassetteStats:
    """Per case and sample: what the cassettes did. Shown in the progress bar and results."""

    calls: int = 0
    hits: int = 0
    recorded: int = 0
    misses: int = 0
    retries: int = 0
    model_seconds: float = 0.0  # recorded model latency (replay) or measured (record/live)
    token_counts: int = 0
    token_approx: int = 0  # counts replay had to approximate (never recorded)

    def add(self, other: CassetteStats) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["model_seconds"] = round(self.model_seconds, 3)
        return d


def approx_tokens(text: str) -> int:
    """A deterministic stand-in for a tokenizer: ~0.66 tokens per 汉字, ~0.3 per other char."""
    han = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")
    return max(1, math.ceil(han * 0.66 + (len(text) - han) * 0.3))


def _secrets(inner: Backend | None) -> list[str]:
    found = [os.environ.get(v, "") for v in _SECRET_ENV]
    for attr in ("api_key", "_api_key"):
        value = getattr(inner, attr, None)
        if isinstance(value, str):
            found.append(value)
    client = getattr(inner, "client", None) or getattr(inner, "_client", None)
    value = getattr(client, "api_key", None)
    if isinstance(value, str):
        found.append(value)
    return [s for s in found if s and len(s) >= 4]


class CassetteStore:
    """One cassette folder, shared by every case of a suite (thread-safe).

    `inner` is the real backend (record/live); in replay it is None and nothing real is built.
    `limit` bounds concurrent calls into `inner` (1 for the local model: one llama context).
    """

    def __init__(
        self,
        directory: str | Path,
        mode: Mode = "replay",
        inner: Backend | None = None,
        *,
        limit: int = 1,
    ) -> None:
        if mode not in MODES:
            raise SpeechsmithError(f"unknown cassette mode {mode!r}: use one of {', '.join(MODES)}")
        if mode != "replay" and inner is None:
            raise SpeechsmithError(f"cassette mode {mode} needs a real backend")
        self.directory = Path(directory)
        self.mode: Mode = mode
        self.inner = inner
        self._lock = threading.Lock()
        self._limiter = threading.BoundedSemaphore(max(1, limit))
        self._serial_tokens = limit <= 1  # a single llama context: tokenize under the same lock
        self._used: set[str] = set()
        self._used_tokens: set[str] = set()
        self._tokens: dict[str, int] = {}
        self._cache: dict[str, dict[str, Any] | None] = {}
        self._secrets = _secrets(inner)
        if inner is not None:
            self.meta = {
                "backend": inner.name,
                "model": inner.model,
                "context_window": int(inner.context_window),
                "count_request": callable(getattr(inner, "count_request", None)),
            }
        else:
            self.meta = self._read_meta()
        if mode in ("replay", "update"):
            self._tokens = self._read_json(self.directory / TOKENS_FILE) or {}

    # -- facts standing in for the backend -------------------------------------------------
    @property
    def backend_name(self) -> str:
        return str(self.meta.get("backend", "")) if self.meta else ""

    @property
    def model(self) -> str:
        return str(self.meta.get("model", "")) if self.meta else ""

    @property
    def context_window(self) -> int:
        return int(self.meta.get("context_window", 8192)) if self.meta else 8192

    def _read_meta(self) -> dict[str, Any] | None:
        return self._read_json(self.directory / META_FILE)

    @staticmethod
    def _read_json(path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise SpeechsmithError(f"{path}: unreadable cassette file ({exc})") from None

    # -- token counts ----------------------------------------------------------------------
    def _token_key(self, text: str) -> str:
        blob = f"{self.backend_name}\0{self.model}\0{text}".encode()
        return hashlib.sha256(blob).hexdigest()[:_KEY_CHARS]

    def _counted(self, key: str, stats: CassetteStats, approx, measure) -> int:
        """A recorded count (replay/update), else `approx()` in replay, else `measure()` recorded."""
        stats.token_counts += 1
        if self.mode in ("replay", "update"):
            count = self._tokens.get(key)
            if count is not None:
                with self._lock:
                    self._used_tokens.add(key)
                return count
            if self.mode == "replay":
                stats.token_approx += 1
                return approx()
        assert self.inner is not None
        count = measure()
        if self.mode != "live":
            with self._lock:
                self._tokens[key] = count
                self._used_tokens.add(key)
        return count

    def count_tokens(self, text: str, stats: CassetteStats) -> int:
        def measure() -> int:
            if self._serial_tokens:
                with self._limiter:
                    return self.inner.count_tokens(text)
            return self.inner.count_tokens(text)

        return self._counted(self._token_key(text), stats, lambda: approx_tokens(text), measure)

    def count_request(self, request: ChatRequest, stats: CassetteStats) -> int:
        """Prompt tokens of a whole request, as the real backend counts them (exact for local)."""
        if not (self.meta or {}).get("count_request"):
            return sum(self.count_tokens(m.content, stats) + 4 for m in request.messages) + 3
        blob = json.dumps([[m.role, m.content] for m in request.messages], ensure_ascii=False)
        def measure() -> int:
            with self._limiter:
                return int(self.inner.count_request(request))  # type: ignore[attr-defined]

        return self._counted(
            "request:" + self._token_key(blob), stats,
            lambda: sum(approx_tokens(m.content) + 4 for m in request.messages) + 3, measure,
        )

    # -- calls -----------------------------------------------------------------------------
    def path_for(self, key: str) -> Path:
        return self.directory / f"{key[:_KEY_CHARS]}.json"

    def lookup(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        data = self._read_json(self.path_for(key))
        if data is not None and data.get("key") != key:
            data = None  # a truncated-key collision: treat as absent
        with self._lock:
            self._cache[key] = data
        return data

    def complete(self, request: ChatRequest, stats: CassetteStats, *, label: str = "") -> ChatResponse:
        key = request.key(self.backend_name, self.model)
        stats.calls += 1
        if self.mode in ("replay", "update"):
            if self.meta is None:
                stats.misses += 1
                raise CassetteMiss(f"no cassettes recorded in {self.directory}", key=key)
            data = self.lookup(key)
            if data is None and self.mode == "update":
                return self._call_and_record(key, request, stats, label)
            if data is None:
                stats.misses += 1
                raise CassetteMiss(
                    f"no cassette for request {key[:12]} ({label or 'call'}) in {self.directory}"
                    + self.explain_miss(request, label),
                    key=key,
                )
            with self._lock:
                self._used.add(key)
            response = _response_from(data["response"])
            stats.hits += 1
            stats.retries += response.retries
            stats.model_seconds += float(data.get("seconds", 0.0))
            return response
        return self._call_and_record(key, request, stats, label)

    def explain_miss(self, request: ChatRequest, label: str) -> str:
        """Where the closest recording of the same case differs from this request (why it missed).

        A prompt engineer sees at once whether the system prompt, the user prompt or a parameter
        changed. Only runs on a miss, so scanning the folder costs nothing in a clean replay.
        """
        if not label:
            return ""
        case = label.split("/")[0]
        now = request.to_dict()
        best: tuple[int, dict[str, Any]] | None = None
        for path in self.directory.glob("*.json"):
            if path.name.startswith("_"):
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if str(data.get("label", "")).split("/")[0] != case:
                continue
            old = data.get("request") or {}
            score = _common_prefix(_flat(old), _flat(now))
            if best is None or score > best[0]:
                best = (score, old)
        if best is None:
            return "; nothing was recorded for this case"
        return "; " + _first_difference(best[1], now)

    def _call_and_record(self, key: str, request: ChatRequest, stats: CassetteStats, label: str) -> ChatResponse:
        assert self.inner is not None
        with self._limiter:
            start = time.perf_counter()
            response = self.inner.complete(request)  # errors propagate and are never recorded
            seconds = time.perf_counter() - start
        stats.retries += response.retries
        stats.model_seconds += seconds
        if self.mode != "live":
            self._write(key, request, response, seconds, label)
            stats.recorded += 1
        return response

    def _write(
        self, key: str, request: ChatRequest, response: ChatResponse, seconds: float, label: str
    ) -> None:
        payload = {
            "key": key,
            "backend": self.backend_name,
            "model": self.model,
            "label": label,
            "seconds": round(seconds, 3),
            "request": request.to_dict(),
            "response": {
                "text": response.text,
                "usage": asdict(response.usage),
                "model": response.model,
                "finish_reason": response.finish_reason,
                "retries": response.retries,
            },
        }
        with self._lock:
            self._used.add(key)
            self._cache[key] = payload
        self._dump(self.path_for(key), payload)

    def _dump(self, path: Path, data: Any) -> None:
        from pipeline.redact import redact

        text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = redact(text)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)

    # -- end of a run ----------------------------------------------------------------------
    def finish(self, *, prune: bool = False) -> int:
        """After recording: write meta and token counts; with `prune`, delete stale cassettes.

        Prune only after a full-suite recording: cassettes no case asked for belong to an older
        prompt and would otherwise pile up. Returns how many files were pruned.
        """
        if self.mode not in ("record", "update"):
            return 0
        self.directory.mkdir(parents=True, exist_ok=True)
        self._dump(self.directory / META_FILE, self.meta)
        old = {} if prune else (self._read_json(self.directory / TOKENS_FILE) or {})
        with self._lock:
            tokens = {**old, **self._tokens}
            if prune:
                tokens = {k: v for k, v in tokens.items() if k in self._used_tokens}
            used = {k[:_KEY_CHARS] for k in self._used}
        self._dump(self.directory / TOKENS_FILE, dict(sorted(tokens.items())))
        removed = 0
        if prune:
            for path in self.directory.glob("*.json"):
                if not path.name.startswith("_") and path.stem not in used:
                    path.unlink()
                    removed += 1
        return removed


def _flat(req: dict[str, Any]) -> str:
    return "\0".join(str(m.get("content", "")) for m in req.get("messages", []))


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _first_difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    """'the user message differs at char 120: recorded …, now …' or the parameter that changed."""
    om, nm = old.get("messages", []), new.get("messages", [])
    for i, (a, b) in enumerate(zip(om, nm, strict=False)):
        if a.get("content") != b.get("content") or a.get("role") != b.get("role"):
            x, y = str(a.get("content", "")), str(b.get("content", ""))
            at = _common_prefix(x, y)
            return (
                f"closest recording differs in message {i + 1} ({b.get('role')}) at char {at}: "
                f"recorded {x[max(0, at - 10):at + 30]!r}, now {y[max(0, at - 10):at + 30]!r}"
            )
    if len(om) != len(nm):
        return f"closest recording has {len(om)} message(s), this request {len(nm)}"
    changed = sorted(k for k in set(old) | set(new) if k != "messages" and old.get(k) != new.get(k))
    return f"closest recording differs in {', '.join(changed) or 'nothing visible (backend or model?)'}"


def _response_from(data: dict[str, Any]) -> ChatResponse:
    usage = data.get("usage") or {}
    return ChatResponse(
        text=data["text"],
        usage=Usage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))),
        model=data.get("model", ""),
        finish_reason=data.get("finish_reason", "stop"),
        retries=int(data.get("retries", 0)),
    )


class CassetteBackend:
    """A Backend for one case and sample: every call goes through the suite's CassetteStore.

    Sets the request's `sample_index` (so each of `repeat: k` samples has its own recording and
    its own seed) and applies the suite's parameter overrides before the key is computed.
    """

    def __init__(
        self,
        store: CassetteStore,
        *,
        sample_index: int = 0,
        overrides: dict[str, Any] | None = None,
        label: str = "",
    ) -> None:
        self.store = store
        self.sample_index = sample_index
        self.overrides = dict(overrides or {})
        self.label = label
        self.stats = CassetteStats()
        self.name = store.backend_name or "replay"
        self.model = store.model
        self.context_window = store.context_window

    def prepare(self, request: ChatRequest) -> ChatRequest:
        seed = self.overrides.get("seed", request.seed)
        if seed is not None and self.sample_index:
            seed = int(seed) + self.sample_index
        fields = {k: v for k, v in self.overrides.items() if k != "seed"}
        if "stop" in fields:
            fields["stop"] = tuple(fields["stop"])
        return replace(request, sample_index=self.sample_index, seed=seed, **fields)

    def complete(self, request: ChatRequest) -> ChatResponse:
        return self.store.complete(self.prepare(request), self.stats, label=self.label)

    def count_tokens(self, text: str) -> int:
        return self.store.count_tokens(text, self.stats)

    def count_request(self, request: ChatRequest) -> int:
        return self.store.count_request(request, self.stats)
