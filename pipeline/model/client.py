"""The only door to a model. Every task calls `Client.chat` or `Client.structured`.

Around a Backend the Client adds: the context-window check before sending, the --max-tokens and
--max-cost caps (checked before each call against the worst case, so a run stops *before* it
passes a cap), usage and cost totals, re-asks when a structured reply does not validate, the
optional response cache, and a run-log row for every attempt (first tries, re-asks, transport
retries reported by the backend, cache hits, refusals).

Two budgets, reported separately: transport retries (429, 5xx, timeouts, dropped connections) are
spent inside the backend, `max_retries` per call; re-asks (invalid output) are spent here,
`max_reasks` per structured call. Transport errors never reach the prompt.

To record/replay, wrap the backend: `Client(Cassette(inner))`; the Client only needs the
Backend protocol. The Client is thread-safe (batch runs calls in parallel).
"""

from __future__ import annotations

import atexit
import functools
import json
import re
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from pipeline.errors import BudgetExceeded, SpeechsmithError, ValidationFailed
from pipeline.model.types import Backend, ChatRequest, ChatResponse, Message, Usage
from pipeline.prompts import PromptRef
from pipeline.redact import redact

if TYPE_CHECKING:
    from pipeline.config import Settings
    from pipeline.model.cache import ResponseCache
    from pipeline.model.runlog import RunLog

T = TypeVar("T", bound=BaseModel)


@dataclass
class RunUsage:
    """What a command spent; printed with --verbose and included in every JSON output."""

    calls: int = 0  # model calls answered (by the backend or the cache)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0  # transport retries (429, 5xx, timeouts, dropped connections)
    reasks: int = 0  # schema re-asks
    cost: float = 0.0
    seconds: float = 0.0
    cached: int = 0  # calls answered from the response cache (no tokens, no cost)
    retry_budget: int = 0  # transport retries allowed per call
    reask_budget: int = 0  # re-asks allowed per structured call

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cost"] = round(self.cost, 6)
        d["seconds"] = round(self.seconds, 3)
        return d


@dataclass(frozen=True)
class Prices:
    """Per million tokens, in whatever currency the config uses."""

    input: float = 0.0
    output: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1_000_000


class Client:
    def __init__(
        self,
        backend: Backend,
        *,
        command: str = "",
        max_reasks: int = 2,
        runlog: RunLog | None = None,
        cache: ResponseCache | None = None,
        prices: Prices | None = None,
        max_cost: float | None = None,
        max_tokens: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.backend = backend
        self.command = command
        self.max_reasks = max_reasks
        self.runlog = runlog
        self.cache = cache
        self.prices = prices or Prices()
        self.max_cost = max_cost
        self.max_tokens = max_tokens
        self.verbose = verbose
        self.usage_reported = False  # set by connect.report_usage, so the exit hook does not repeat it
        self.usage = RunUsage(reask_budget=max_reasks, retry_budget=int(getattr(backend, "max_retries", 0)))
        self.run_id: int | None = None
        self._lock = threading.RLock()
        self._reserved_tokens = 0
        self._reserved_cost = 0.0
        self._local = threading.local()  # the attempt in flight on this thread, for retry rows
        if hasattr(backend, "on_retry"):
            backend.on_retry = self._log_retry  # type: ignore[attr-defined]

    @classmethod
    def from_settings(cls, backend: Backend, settings: Settings, *, command: str = "") -> Client:
        """A Client configured from resolved settings (run log, cache, prices, caps)."""
        from pipeline.model.cache import ResponseCache
        from pipeline.model.runlog import open_runlog

        info = settings.model_info(backend.model)
        runlog = open_runlog(settings.log)
        cache = None
        try:  # creating the user dirs can fail (read-only home): run without the cache, say so
            cache = ResponseCache() if settings.cache else None
        except OSError as exc:
            print(f"speechsmith: warning: response cache unavailable: {exc}", file=sys.stderr)
        return cls(
            backend,
            command=command,
            max_reasks=settings.max_reasks,
            runlog=runlog,
            cache=cache,
            prices=Prices(info.input_price, info.output_price),
            max_cost=settings.max_cost,
            max_tokens=settings.max_tokens,
            verbose=settings.verbose,
        )

    # -- facts -------------------------------------------------------------------------------

    @property
    def context_window(self) -> int:
        return self.backend.context_window

    def count_tokens(self, text: str) -> int:
        return self.backend.count_tokens(text)

    def warm(self) -> None:
        """Tell the backend calls are coming: the embedded model starts loading in the background
        (an endpoint needs nothing). For tasks that are sure to call the model."""
        preload = getattr(self.backend, "preload", None)
        if preload is not None:
            preload()

    def request_tokens(self, request: ChatRequest) -> int:
        """Prompt tokens of a request: exact when the backend can say, else per-message estimate."""
        exact = getattr(self.backend, "count_request", None)
        if exact is not None:
            return int(exact(request))
        return sum(self.count_tokens(m.content) + 4 for m in request.messages) + 3

    def _prompt_tokens(self, request: ChatRequest) -> int:
        """Exact prompt tokens, or a cheap upper bound when only the window needs checking.

        A BPE/SentencePiece token covers at least one byte, so UTF-8 bytes plus a per-message
        allowance bound the count from above; when that bound fits the window and no cap needs
        the real number, counting (0.1-1 ms per call) is skipped.
        """
        if self.max_tokens is None and self.max_cost is None:
            bound = sum(len(m.content.encode("utf-8")) + 8 for m in request.messages) + 16
            if bound + request.max_tokens <= self.context_window:
                return bound
        return self.request_tokens(request)

    # -- calls -------------------------------------------------------------------------------

    def chat(self, request: ChatRequest, *, prompt: PromptRef | None = None, step: str = "") -> ChatResponse:
        """One model call (cache, caps, log); raises BackendError / BudgetExceeded."""
        return self._call(request, prompt, step, attempt=1, kind="call", store=True).response

    def structured(
        self,
        request: ChatRequest,
        schema: type[T],
        *,
        prompt: PromptRef | None = None,
        step: str = "",
        max_reasks: int | None = None,
    ) -> T:
        """A reply validated into `schema`, re-asking with the errors when it does not validate."""
        if request.json_schema is None:
            request = replace(request, json_schema=json_schema_of(schema), schema_name=schema.__name__)
        budget = self.max_reasks if max_reasks is None else max_reasks
        raw = ""
        errors: list[str] = []
        first_key = ""
        for attempt in range(1, budget + 2):
            if attempt > 1:
                with self._lock:
                    self.usage.reasks += 1
            done = self._call(
                request, prompt, step, attempt=attempt, kind="call" if attempt == 1 else "reask", store=False
            )
            response = done.response
            first_key = first_key or done.key
            raw = response.text
            try:
                value = parse_json(raw, schema)
            except ValueError as exc:
                errors = [str(exc)]
                if response.finish_reason == "length":
                    errors.append(f"the reply was cut off at max_tokens={request.max_tokens}")
                self._mark_invalid(done.row_id, response.text, "; ".join(errors))
                request = _reask(request, raw, errors)
                continue
            if self.cache is not None and not done.hit:
                # Under the original request's key: the next run asks that, not the re-ask.
                self.cache.put(first_key, response)
            return value
        where = f"; the raw output is in `speechsmith log show {self.run_id}`" if self.run_id else ""
        snippet = " ".join(raw.split())[:80]
        raise ValidationFailed(
            redact(
                f"model output did not match {schema.__name__} after {budget + 1} attempt(s): "
                f"{'; '.join(errors)[:200]} (last output: {snippet!r}){where}"
            ),
            raw=redact(raw),
            errors=[redact(e) for e in errors],
        )

    # -- internals ---------------------------------------------------------------------------

    def _call(
        self, request: ChatRequest, prompt: PromptRef | None, step: str, *, attempt: int, kind: str, store: bool
    ) -> _Attempt:
        key = request.key(self.backend.name, self.backend.model)
        row = {
            "step": step, "request_hash": key, "attempt": attempt, "kind": kind,
            **({"prompt_id": prompt.id, "prompt_version": prompt.version, "prompt_hash": prompt.hash} if prompt else {}),
        }
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                with self._lock:
                    self.usage.calls += 1
                    self.usage.cached += 1
                row["kind"] = "cache"
                row_id = self._log(status="cached", finish_reason=hit.finish_reason, **row)
                # A cache hit spends nothing: no tokens, no cost, no retries.
                return _Attempt(replace(hit, usage=Usage(), retries=0), key, True, row_id)

        needed = self._prompt_tokens(request)
        if needed + request.max_tokens > self.context_window:
            source = getattr(self.backend, "context_source", "")
            message = (
                f"request needs {needed} prompt + {request.max_tokens} output tokens = "
                f"{needed + request.max_tokens}, over the {self.context_window}-token context of "
                f"{self.backend.model}{f' ({source})' if source else ''}; shorten the input or lower "
                "the output length, or pass --context N when the model's real window is larger"
            )
            self._log(status="refused", error=message, tokens_in=needed, **row)
            raise BudgetExceeded(message)
        reserve_tokens, reserve_cost = self._reserve(needed, request.max_tokens, row)

        start = time.perf_counter()
        self._local.row = row
        try:
            response = self.backend.complete(request)
        except BaseException as exc:
            self._release(reserve_tokens, reserve_cost)
            if not isinstance(exc, SpeechsmithError):
                raise
            retries = int(getattr(exc, "retries", 0))
            with self._lock:
                self.usage.retries += retries
                self.usage.seconds += time.perf_counter() - start
            self._log(status="error", error=str(exc), duration_ms=_ms(start), retries=retries, **row)
            raise
        finally:
            self._local.row = None
        elapsed = time.perf_counter() - start
        cost = self.prices.cost(response.usage.prompt_tokens, response.usage.completion_tokens)
        with self._lock:
            self._reserved_tokens -= reserve_tokens
            self._reserved_cost -= reserve_cost
            self.usage.calls += 1
            self.usage.seconds += elapsed
            self.usage.prompt_tokens += response.usage.prompt_tokens
            self.usage.completion_tokens += response.usage.completion_tokens
            self.usage.retries += response.retries
            self.usage.cost += cost
        row_id = self._log(
            status="truncated" if response.finish_reason == "length" else "ok",
            tokens_in=response.usage.prompt_tokens, tokens_out=response.usage.completion_tokens,
            duration_ms=round(elapsed * 1000, 2), retries=response.retries,
            finish_reason=response.finish_reason, **row,
        )
        if store and self.cache is not None:
            self.cache.put(key, response)
        return _Attempt(response, key, False, row_id)

    def _reserve(self, needed: int, max_out: int, row: dict[str, Any]) -> tuple[int, float]:
        # Worst case for this call: the whole prompt plus max_tokens of output. Reserved under
        # the lock so parallel calls cannot jointly pass a cap.
        worst_tokens = needed + max_out
        worst_cost = self.prices.cost(needed, max_out)
        with self._lock:
            spent = self.usage.total_tokens + self._reserved_tokens
            if self.max_tokens is not None and spent + worst_tokens > self.max_tokens:
                message = (
                    f"stopping: the next call could use up to {worst_tokens} tokens ({needed} prompt + "
                    f"{max_out} output), taking the run past --max-tokens {self.max_tokens} "
                    f"({self.usage.total_tokens} used in {self.usage.calls} call(s))"
                )
            elif self.max_cost is not None and self.usage.cost + self._reserved_cost + worst_cost > self.max_cost:
                message = (
                    f"stopping: the next call could cost up to {worst_cost:.4f}, taking the run past "
                    f"--max-cost {self.max_cost:g} ({self.usage.cost:.4f} spent in {self.usage.calls} call(s))"
                )
            else:
                self._reserved_tokens += worst_tokens
                self._reserved_cost += worst_cost
                return worst_tokens, worst_cost
        self._log(status="refused", error=message, tokens_in=needed, **row)
        raise BudgetExceeded(message)

    def _release(self, tokens: int, cost: float) -> None:
        with self._lock:
            self._reserved_tokens -= tokens
            self._reserved_cost -= cost

    def _log(self, **fields: Any) -> int | None:
        if self.runlog is None:
            return None
        with self._lock:
            if self.run_id is None:
                self.run_id = self.runlog.start_run(self.command, self.backend.name, self.backend.model)
                # Totals land in the run row even when a command forgets to call finish().
                atexit.register(self._finish_at_exit)
        return self.runlog.record(
            self.run_id, command=self.command, backend=self.backend.name, model=self.backend.model, **fields
        )

    def _mark_invalid(self, row_id: int | None, raw: str, error: str) -> None:
        # The attempt's own row keeps the raw reply: that is what `log show` needs to explain it.
        if self.runlog is not None and row_id is not None:
            self.runlog.update(row_id, status="invalid", error=error, raw=raw)

    def _log_retry(self, attempt: int, error: str, wait: float) -> None:
        """Called by the backend before it sleeps for a transport retry (same thread as the call)."""
        row = dict(getattr(self._local, "row", None) or {})
        row.update(kind="retry", attempt=attempt)
        self._log(status="retry", error=f"{error} (retrying in {wait:.2f} s)", **row)

    def _finish_at_exit(self) -> None:
        # Best effort only: a vanished or read-only data dir must not print a traceback at exit.
        try:
            self.finish()
        except Exception:  # noqa: BLE001
            pass

    def finish(self) -> None:
        """Write the usage totals to the run log (call once the command is done)."""
        if self.runlog is not None and self.run_id is not None:
            self.runlog.finish_run(self.run_id, self.usage.to_dict())


@dataclass(frozen=True)
class _Attempt:
    response: ChatResponse
    key: str  # request hash
    hit: bool  # answered from the cache
    row_id: int | None  # run-log row


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def json_schema_of(schema: type[BaseModel]) -> dict[str, Any]:
    """schema.model_json_schema(), generated once per class (~2 ms each; batch asks thousands of
    times). A fresh copy every time, so no caller can change another's schema."""
    return json.loads(_schema_json(schema))


@functools.lru_cache(maxsize=256)
def _schema_json(schema: type[BaseModel]) -> str:
    return json.dumps(schema.model_json_schema(), ensure_ascii=False)


def extract_json(text: str) -> Any:
    """The first JSON value in text (tolerates ```json fences and chatter around it)."""
    stripped = text.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", stripped, re.S)
    if fence:
        stripped = fence.group(1).strip()
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    start = min((i for i in (stripped.find("{"), stripped.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise ValueError("no JSON found in the reply")
    try:
        value, _ = json.JSONDecoder().raw_decode(stripped[start:])
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} at char {exc.pos}") from None
    return value


def parse_json(text: str, schema: type[T]) -> T:
    """Validate a reply into `schema`; ValueError lists the field errors."""
    value = extract_json(text)
    try:
        return schema.model_validate(value)
    except ValidationError as exc:
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()[:10]
        ]
        raise ValueError("; ".join(parts)) from None


def _reask(request: ChatRequest, raw: str, errors: list[str]) -> ChatRequest:
    # The re-ask shows the model its own reply and the validation errors, never transport errors.
    messages = [m for m in request.messages if m.role != "assistant" or m is not request.messages[-1]]
    messages += [
        Message("assistant", raw[:4000]),
        Message(
            "user",
            "上面的输出不符合要求的JSON格式：" + "；".join(errors)[:1000] + "。请只输出修正后的完整JSON。",
        ),
    ]
    return replace(request, messages=tuple(messages))
