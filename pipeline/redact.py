"""Keep API keys out of everything we print or store (errors, run log, cache, reports).

Every string that leaves the model layer for a human or for disk goes through `redact`. It masks
the keys we know about (registered at resolution time and read from the usual environment
variables) and anything shaped like a bearer token or an `sk-…` key, so that a provider echoing
the key in an error body cannot leak it either.
"""

from __future__ import annotations

import os
import re
import threading

_KEY_ENV_VARS = ("OPENAI_API_KEY", "SPEECHSMITH_API_KEY")
_MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()

# Shapes of secrets that may reach us from provider error bodies or URLs even if unregistered.
_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-\.=]{6,}"),
    re.compile(r"(?i)(api[_-]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"',&]{4,}"),
)


def register_secret(secret: str | None) -> None:
    """Remember a secret (e.g. a key from the config file) so that `redact` masks it."""
    if secret and len(secret) >= 4:
        with _lock:
            _secrets.add(secret)


def _known() -> list[str]:
    with _lock:
        found = set(_secrets)
    for var in _KEY_ENV_VARS:
        value = os.environ.get(var)
        if value and len(value) >= 4:
            found.add(value)
    # Longest first so a key that contains another is masked whole.
    return sorted(found, key=len, reverse=True)


def redact(text: str | None) -> str:
    """`text` with every known or key-shaped secret replaced by ***."""
    if not text:
        return text or ""
    for secret in _known():
        text = text.replace(secret, _MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + _MASK, text)
    return text


def mask(secret: str | None) -> str:
    """How a secret is shown in `config show`: whether it is set, never its value."""
    if not secret:
        return "(not set)"
    return f"{_MASK} (set, {len(secret)} chars)"
