"""Pacing for remote endpoints: requests and tokens per minute, and concurrency that backs off on 429.

Every model call of every job passes `Pacer.call`, so re-asks and map-reduce steps are paced
too, not only the first call of a job.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

R = TypeVar("R")


class TokenBucket:
    """`rate_per_minute` units refilled continuously; bursts up to one second's worth (≥ 1).

    A take larger than the bucket waits for a full bucket and then goes into debt, so one
    oversized request is slowed, never blocked forever.
    """

    def __init__(self, rate_per_minute: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate_per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self._clock = clock
        self._tokens = self.capacity
        self._stamp = clock()
        self._cond = threading.Condition()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def take(self, amount: float = 1.0, stop: threading.Event | None = None) -> None:
        need = min(amount, self.capacity)
        with self._cond:
            while True:
                self._refill()
                if self._tokens >= need:
                    self._tokens -= amount
                    return
                if stop is not None and stop.is_set():
                    raise InterruptedError("stopping")
                self._cond.wait(min(1.0, (need - self._tokens) / self.rate))

    def give_back(self, amount: float) -> None:
        """Return an over-estimate (or charge an under-estimate, when negative)."""
        with self._cond:
            self._refill()
            self._tokens = min(self.capacity, self._tokens + amount)
            self._cond.notify_all()


class AdaptiveLimit:
    """How many calls may be in flight: halves on a 429, pauses for Retry-After, and grows back by
    one after `limit` clean calls in a row (additive increase, multiplicative decrease).

    Like TCP, it halves once per round: a 429 counts only for a call sent since the last cut.
    The 429s of calls that were already in flight answer for the old limit, so a burst of them
    halves once, not down to 1.
    """

    def __init__(self, maximum: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.maximum = max(1, maximum)
        self.limit = float(self.maximum)
        self.in_flight = 0
        self.rate_limited = 0
        self._clock = clock
        self._paused_until = 0.0
        self._round = 0  # bumped by each cut
        self._clean = 0
        self._cond = threading.Condition()
        self._calls = threading.local()  # .round: the round the current thread's call was sent in

    def acquire(self, stop: threading.Event | None = None) -> None:
        with self._cond:
            while True:
                wait = self._paused_until - self._clock()
                if wait <= 0 and self.in_flight < int(self.limit):
                    self.in_flight += 1
                    self._calls.round = self._round
                    return
                if stop is not None and stop.is_set():
                    raise InterruptedError("stopping")
                self._cond.wait(min(1.0, wait) if wait > 0 else 1.0)

    def release(self, *, rate_limited: bool = False, retry_after: float | None = None) -> None:
        with self._cond:
            self.in_flight -= 1
            if rate_limited:
                self._cut(retry_after)
            else:
                self._clean += 1
                if self.limit < self.maximum and self._clean >= int(self.limit):
                    self.limit = min(float(self.maximum), self.limit + 1)
                    self._clean = 0
            self._cond.notify_all()

    def rate_limited_now(self, retry_after: float | None = None, stop: threading.Event | None = None) -> None:
        """This thread's call was just answered 429 and its backend will retry it: give up the
        slot and wait for one under the new limit, so that retries obey the limit too (the
        backend then sleeps retry_after itself, so the pause is for the other calls)."""
        with self._cond:
            self._cut(retry_after)
            self.in_flight -= 1  # give the slot up while waiting, or waiters would block each other
            self._cond.notify_all()
            while self.in_flight >= int(self.limit):
                if stop is not None and stop.is_set():
                    self.in_flight += 1  # the caller's release() still balances
                    raise InterruptedError("stopping")
                self._cond.wait(1.0)
            self.in_flight += 1
            self._calls.round = self._round  # the retry goes out under the new limit

    def _cut(self, retry_after: float | None) -> None:
        now = self._clock()
        self.rate_limited += 1
        self._clean = 0
        if getattr(self._calls, "round", self._round) == self._round:
            self.limit = max(1.0, self.limit / 2)
            self._round += 1
        if retry_after:
            self._paused_until = max(self._paused_until, now + min(retry_after, 60.0))


class Pacer:
    """Applies the per-minute budgets and the adaptive limit around one model call."""

    def __init__(
        self,
        concurrency: int,
        *,
        rpm: float | None = None,
        tpm: float | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.limit = AdaptiveLimit(concurrency)
        self.requests = TokenBucket(rpm) if rpm else None
        self.tokens = TokenBucket(tpm) if tpm else None
        self.stop = stop

    @property
    def counts_tokens(self) -> bool:
        return self.tokens is not None

    def call(self, fn: Callable[[], R], *, estimate: int = 0, spent: Callable[[R], int] | None = None) -> R:
        if self.requests is not None:
            self.requests.take(1, self.stop)
        if self.tokens is not None:
            self.tokens.take(estimate, self.stop)
        self.limit.acquire(self.stop)
        limited = False
        try:
            result = fn()
            if self.tokens is not None and spent is not None:
                self.tokens.give_back(estimate - spent(result))
            return result
        except BaseException as exc:
            # Still 429 after the backend's own retries: slow down further.
            limited = 429 in (getattr(exc, "status_code", None), getattr(exc, "status", None))
            raise
        finally:
            self.limit.release(rate_limited=limited)
