"""A backend wrapper for batch runs: paces every call and reports every response.

Facts (name, model, context_window, count_tokens, …) pass through unchanged. The backend's
`on_retry` hook (which the Client uses for its run log) is chained, so a 429 slows the whole
batch down the moment it happens, while the backend sleeps before its own retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pipeline.errors import SpeechsmithError
from pipeline.model.types import ChatRequest, ChatResponse

__all__ = ["CallStopped", "MeteredBackend", "Pacer"]


class CallStopped(BaseException):
    """Raised inside a call when the run stops; BaseException so that no task swallows it."""


class Pacer(Protocol):
    """What MeteredBackend needs of a rate limiter (pipeline.batch.limits.Pacer)."""

    counts_tokens: bool
    stop: Any
    limit: Any

    def call(self, fn: Callable[[], Any], *, estimate: int, spent: Callable[[Any], int]) -> Any: ...


class MeteredBackend:
    """Wraps a backend: every call goes through `pacer` (when set), its response to `on_response`,
    and a call that fails after the backend's own retries to `on_failure` (it was still made)."""

    def __init__(
        self, inner: Any, pacer: Pacer | None, on_response: Callable[[ChatResponse], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.inner = inner
        self.pacer = pacer
        self.on_response = on_response
        self.on_failure = on_failure
        self._downstream: Callable[[int, str, float], None] | None = None
        if hasattr(inner, "on_retry"):
            self._downstream = inner.on_retry
            inner.on_retry = self._on_retry

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def on_retry(self) -> Callable[[int, str, float], None] | None:
        return self._downstream

    @on_retry.setter
    def on_retry(self, hook: Callable[[int, str, float], None] | None) -> None:
        self._downstream = hook

    def _on_retry(self, attempt: int, error: str, wait: float) -> None:
        if self.pacer is not None and "429" in error[:40]:
            self.pacer.limit.rate_limited_now(wait, self.pacer.stop)
        if self._downstream is not None:
            self._downstream(attempt, error, wait)

    def complete(self, request: ChatRequest) -> ChatResponse:
        try:
            response = self._complete(request)
        except SpeechsmithError as exc:
            if self.on_failure is not None:
                self.on_failure(exc)
            raise
        if self.on_response is not None:
            self.on_response(response)
        return response

    def _complete(self, request: ChatRequest) -> ChatResponse:
        if self.pacer is None:
            response = self.inner.complete(request)
        else:
            estimate = 0
            if self.pacer.counts_tokens:
                count = getattr(self.inner, "count_request", None)
                estimate = request.max_tokens + (
                    count(request) if count is not None
                    else sum(self.inner.count_tokens(m.content) + 4 for m in request.messages)
                )
            try:
                response = self.pacer.call(
                    lambda: self.inner.complete(request),
                    estimate=estimate,
                    spent=lambda r: r.usage.prompt_tokens + r.usage.completion_tokens,
                )
            except InterruptedError:
                raise CallStopped() from None
        return response
