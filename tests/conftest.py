"""Shared fixtures for the whole suite.

- Every test session runs with its own data, cache and config dirs and without model-endpoint
  variables from the developer's shell, so tests never read or write the user's run log, cache or
  config, and never talk to a real provider.
- `local_backend` / `local_client`: the embedded Gemma 3 270M, loaded once per session (keep
  generations short: max_tokens <= 64).
- `openai_server`: a real OpenAI-compatible HTTP server on 127.0.0.1 with scriptable faults
  (see tests/openai_server.py); `openai_server_session` is the same, shared by the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.openai_server import OpenAIServer

_ISOLATED_VARS = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
    "SPEECHSMITH_API_KEY", "SPEECHSMITH_BASE_URL", "SPEECHSMITH_BACKEND", "SPEECHSMITH_MODEL",
    "SPEECHSMITH_TIMEOUT", "SPEECHSMITH_MAX_RETRIES", "SPEECHSMITH_MAX_REASKS", "SPEECHSMITH_CONTEXT",
    "SPEECHSMITH_THREADS", "SPEECHSMITH_CACHE", "SPEECHSMITH_MAX_COST", "SPEECHSMITH_MAX_TOKENS",
    "SPEECHSMITH_PREFILL", "SPEECHSMITH_LOG", "SPEECHSMITH_STRUCTURED", "SPEECHSMITH_SYSTEM",
    "SPEECHSMITH_SERVE_TOKEN",
)


@pytest.fixture(scope="session", autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    base = tmp_path_factory.mktemp("speechsmith-user")
    saved = {k: os.environ.get(k) for k in (*_ISOLATED_VARS, "SPEECHSMITH_DATA_DIR", "SPEECHSMITH_CACHE_DIR", "SPEECHSMITH_CONFIG")}
    for var in _ISOLATED_VARS:
        os.environ.pop(var, None)
    os.environ["SPEECHSMITH_DATA_DIR"] = str(base / "data")
    os.environ["SPEECHSMITH_CACHE_DIR"] = str(base / "cache")
    os.environ["SPEECHSMITH_CONFIG"] = str(base / "config.toml")
    yield
    for var, value in saved.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value


@pytest.fixture(autouse=True)
def _fresh_endpoint_facts() -> Iterator[None]:
    """Each test starts as a new process would: nothing learned about any endpoint yet (what a
    server refused or states is remembered per process, keyed by URL and model)."""
    from pipeline.model.backends.endpoint import forget

    forget()
    yield


@pytest.fixture(scope="session")
def local_backend():
    """The embedded local model (LocalBackend), loaded once for the session."""
    from pipeline.model.backends.cpu import usable_cores
    from pipeline.model.backends.local import LocalBackend

    # Every core, as before the thread count followed the load: greedy output can differ with
    # the thread count (float sums in another order), and the tests must not depend on the load.
    backend = LocalBackend(n_threads=len(usable_cores()))
    _ = backend.llm  # load now, so the first test using it does not pay for loading
    return backend


@pytest.fixture(scope="session")
def local_client(local_backend):
    """A Client over the session's local model (no run log, no cache)."""
    from pipeline.model.client import Client

    return Client(local_backend, command="test")


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A fresh loopback OpenAI-compatible server per test (empty script = echo replies)."""
    with OpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def openai_server_session() -> Iterator[OpenAIServer]:
    """One loopback server for the session; call `.reset()` before scripting it."""
    with OpenAIServer() as server:
        yield server
