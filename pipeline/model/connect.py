"""From command-line options to a ready Client: resolve settings, open the backend, wire the log.

    client = open_client(model_options(backend, model, base_url, ...), command="adapt")
    ...
    report_usage(client)   # totals on stderr when --verbose

`wrap` lets a caller put a Backend wrapper between the Client and the real backend (the eval
cassettes: `open_client(opts, "eval", wrap=lambda b: Cassette(b, path, mode="record"))`).
"""

from __future__ import annotations

import atexit
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from pipeline.config import ModelOptions, Settings, resolve

if TYPE_CHECKING:
    from pipeline.model.client import Client
    from pipeline.model.types import Backend


def open_backend(settings: Settings) -> Backend:
    """The backend the settings name (local model loads lazily, on the first call)."""
    if settings.backend == "local":
        from pipeline.model.backends.local import LocalBackend

        notify = (lambda line: print(f"speechsmith: {line}", file=sys.stderr)) if settings.verbose else None
        return LocalBackend(
            settings.model, n_ctx=settings.context, n_threads=settings.threads,
            threads_source=settings.sources.get("threads", "flag"), notify=notify,
        )
    from pipeline.model.backends.openai_backend import OpenAIBackend

    model = settings.model or ""
    return OpenAIBackend(
        model=model,
        base_url=settings.base_url,
        api_key=settings.api_key,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        context_window=settings.explicit_window(model),
        fallback_window=settings.context_window(model),
        prefill=settings.prefill,
        structured=settings.structured,
        system=settings.system,
    )


def open_client(
    options: ModelOptions | None = None,
    command: str = "",
    *,
    wrap: Callable[[Backend], Backend] | None = None,
    settings: Settings | None = None,
) -> Client:
    """A Client for `command` with the resolved backend, run log, cache and budgets."""
    from pipeline.model.client import Client

    settings = settings or resolve(options)
    backend = open_backend(settings)
    if settings.verbose and hasattr(backend, "on_notice"):
        backend.on_notice = _notice  # type: ignore[attr-defined]
    if wrap is not None:
        backend = wrap(backend)
    client = Client.from_settings(backend, settings, command=command)
    if settings.verbose:
        # A command that fails half-way has still spent something: say what, even then.
        atexit.register(_report_if_not_yet, client)
    return client


def _notice(message: str) -> None:
    print(f"speechsmith: {message}", file=sys.stderr)


def _report_if_not_yet(client: Client) -> None:
    if not getattr(client, "usage_reported", False) and client.usage.calls + client.usage.retries:
        try:
            report_usage(client)
        except Exception:  # noqa: BLE001 - never a traceback at exit
            pass


def report_usage(client: Client, *, force: bool = False) -> None:
    """With --verbose: one line of usage totals on stderr (stdout stays the result).

    Also writes the totals into the run log's row for this run (call it once, at the end).
    """
    finish = getattr(client, "finish", None)
    if finish is not None:
        finish()
    client.usage_reported = True
    if not (force or getattr(client, "verbose", False)):
        return
    u = client.usage
    cost = f", cost {u.cost:.4f}" if u.cost else ""
    cached = f", {u.cached} cached" if getattr(u, "cached", 0) else ""
    print(
        f"speechsmith: usage: {u.calls} call(s){cached}, {u.prompt_tokens} prompt + "
        f"{u.completion_tokens} completion tokens, {u.retries} transport retr{'y' if u.retries == 1 else 'ies'}, "
        f"{u.reasks} re-ask(s){cost}, {u.seconds:.1f} s [{client.backend.name} {client.backend.model}]",
        file=sys.stderr,
    )
