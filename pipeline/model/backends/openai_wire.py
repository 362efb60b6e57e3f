"""What goes on the wire to an OpenAI-compatible server and what comes back, as plain functions:
schema cleaning, message folding, and reading a server's errors and Retry-After.

Split from openai_backend (the call and its retry policy) so that each stays readable.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any
from urllib.parse import urlparse

from pipeline.model.types import Message
from pipeline.redact import redact

__all__ = [
    "STRIP_KEYWORDS", "append_to_last_user", "clean_schema", "error_text", "fold_system", "host",
    "is_context_error", "retry_after", "schema_instruction",
]

# Keywords that some providers reject in response_format schemas (OpenAI strict mode, Gemini
# and several OpenAI-compatible servers): they carry no constraint the Client does not check.
STRIP_KEYWORDS = frozenset({"title", "default", "examples", "$comment", "$schema", "readOnly", "writeOnly", "deprecated"})
_NAMED_SCHEMAS = ("properties", "$defs", "definitions", "patternProperties", "dependentSchemas")


def clean_schema(schema: Any) -> Any:
    """A copy of a JSON schema without STRIP_KEYWORDS (property *names* are kept)."""
    if isinstance(schema, list):
        return [clean_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _NAMED_SCHEMAS and isinstance(value, dict):
            out[key] = {name: clean_schema(sub) for name, sub in value.items()}
        elif key in STRIP_KEYWORDS:
            continue
        elif key in ("enum", "const", "required"):
            out[key] = value
        else:
            out[key] = clean_schema(value)
    return out


def host(url: str) -> str:
    parsed = urlparse(url)
    # Never show userinfo (user:password@host) from a URL.
    return f"{parsed.scheme}://{parsed.hostname or ''}{f':{parsed.port}' if parsed.port else ''}{parsed.path.rstrip('/')}"


def error_text(exc: Any) -> str:
    # The SDK puts the provider's "error" object (or the whole body) in exc.body.
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, dict):
        inner = body.get("error")
        message = inner.get("message") if isinstance(inner, dict) else body.get("message")
    # One line: servers put tracebacks and pretty-printed validation errors in their messages.
    return redact(" ".join(str(message or getattr(exc, "message", exc)).split()))[:200]


def retry_after(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def is_context_error(message: str) -> bool:
    lowered = message.lower()
    return "context" in lowered and ("length" in lowered or "window" in lowered or "maximum" in lowered)


def schema_instruction(schema: dict[str, Any]) -> str:
    text = json.dumps(clean_schema(schema), ensure_ascii=False, separators=(",", ":"))
    return f"只输出一个符合下面 JSON Schema 的 JSON 对象，不要输出其他文字：\n{text}"


def append_to_last_user(messages: list[Message], text: str) -> list[Message]:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == "user":
            out = list(messages)
            out[i] = Message("user", f"{messages[i].content}\n\n{text}")
            return out
    return [*messages, Message("user", text)]


def fold_system(messages: list[Message]) -> list[Message]:
    """System messages put in front of the first user message, for servers that drop them."""
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    rest = [m for m in messages if m.role != "system"]
    if not system:
        return rest
    for i, m in enumerate(rest):
        if m.role == "user":
            rest[i] = Message("user", f"{system}\n\n{m.content}")
            return rest
    return [Message("user", system), *rest]
