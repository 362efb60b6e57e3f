"""What an OpenAI-compatible server really does, learned once per endpoint and model per process.

Servers differ from the spec in ways a user cannot be expected to know:

- Structured output. OpenAI, vLLM and llama-server take `response_format: json_schema`;
  llama-cpp-python's `llama_cpp.server` refuses it with HTTP **500** (a validation error that
  names `response_format`), and takes `{"type": "json_object", "schema": …}` instead (llama.cpp
  turns the schema into a grammar); some providers take only plain `json_object`. The `structured`
  setting picks: `auto` climbs down the ladder json_schema → json_object with the schema →
  json_object → the schema in the prompt on any refusal, whatever its HTTP status, and remembers
  the step for the process, so a run pays for a refusal once; `json_schema`, `json_object` (with
  and without the schema field) and `prompt` use only that form.
- The context window. vLLM says it in `GET /v1/models` (`max_model_len`), llama-server in
  `GET /props` (`n_ctx`), others as `context_length` / `context_window`; llama-cpp-python says it
  only when a request overflows ("maximum context length is N tokens"). A window the server states
  beats the built-in model table; `--context` (or the config) beats both.
- System messages. llama-cpp-python's `gemma` chat format (and others) silently drop them: the
  prompt the model sees has no system text at all (measured: the same request with and without a
  system message costs the same prompt tokens). `system = "auto"` measures this once on servers of
  the llama.cpp family (two 1-token requests) and then folds the system text into the first user
  message; `fold` and `keep` decide without measuring.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LADDERS", "STRUCTURED", "SYSTEM_MODES", "WIRE_MODES", "EndpointFacts", "context_limit",
    "facts_for", "forget", "learn", "names_format", "probe_system", "window_from_models",
]

STRUCTURED = ("auto", "json_schema", "json_object", "prompt")  # the user's setting
SYSTEM_MODES = ("auto", "keep", "fold")
# What goes on the wire, most to least exact. json_object_schema is llama.cpp's form.
WIRE_MODES = ("json_schema", "json_object_schema", "json_object", "prompt")
LADDERS: dict[str, tuple[str, ...]] = {
    "auto": WIRE_MODES,
    "json_schema": ("json_schema",),
    "json_object": ("json_object_schema", "json_object"),
    "prompt": ("prompt",),
}
# Servers whose chat formatting may drop system messages: the llama.cpp family (llama-cpp-python
# answers owned_by "me", llama-server "llamacpp"). Other servers are not probed under "auto".
PROBED_OWNERS = frozenset({"me", "llamacpp"})
_WINDOW_KEYS = ("max_model_len", "context_length", "context_window", "max_context_length", "n_ctx")
_FORMAT_WORDS = re.compile(r"response_format|json_schema|json_object|grammar", re.I)
_LIMIT = re.compile(
    r"(?:maximum context length is|context window of|context length of|context size(?: of| \()|n_ctx\D{0,4})"
    r"\s*(\d{3,7})",
    re.I,
)


@dataclass
class EndpointFacts:
    """What one endpoint + model turned out to do (shared by every backend on it, thread-safe)."""

    refused: dict[str, str] = field(default_factory=dict)  # wire mode -> the server's reason
    window: int | None = None  # tokens, as the server stated it
    window_source: str = ""  # "GET /v1/models max_model_len", "overflow error", …
    window_checked: bool = False
    owned_by: str | None = None
    system: str | None = None  # "keep" | "fold" once known
    notes: list[str] = field(default_factory=list)  # said once per process (-v)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def mode(self, ladder: tuple[str, ...]) -> str | None:
        """The first form of `ladder` the server has not refused (None: all were)."""
        return next((m for m in ladder if m not in self.refused), None)


_FACTS: dict[tuple[str, str], EndpointFacts] = {}
_FACTS_LOCK = threading.Lock()


def facts_for(base_url: str, model: str) -> EndpointFacts:
    key = (base_url.rstrip("/"), model)
    with _FACTS_LOCK:
        facts = _FACTS.get(key)
        if facts is None:
            facts = _FACTS[key] = EndpointFacts()
        return facts


def forget() -> None:
    """Drop everything learned (tests start each case from a clean process state)."""
    with _FACTS_LOCK:
        _FACTS.clear()


def names_format(message: str) -> bool:
    """Whether a server's error text is about the structured-output request."""
    return bool(_FORMAT_WORDS.search(message))


def context_limit(message: str) -> int | None:
    """The context size a server's overflow error states, if it states one."""
    lowered = message.lower()
    if "context" not in lowered and "n_ctx" not in lowered:
        return None
    match = _LIMIT.search(message)
    return int(match.group(1)) if match else None


def window_from_models(data: Any, model: str) -> tuple[int | None, str | None, str]:
    """(window, owned_by, which field said it) from a GET /v1/models body for `model`."""
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None, None, ""
    entries = [e for e in entries if isinstance(e, dict)]
    entry = next((e for e in entries if e.get("id") == model), None)
    if entry is None and len(entries) == 1:
        entry = entries[0]  # single-model servers answer to any model name
    if entry is None:
        return None, None, ""
    owner = entry.get("owned_by") if isinstance(entry.get("owned_by"), str) else None
    places = [entry, entry.get("meta") if isinstance(entry.get("meta"), dict) else {}]
    for place in places:
        for key in _WINDOW_KEYS:
            value = place.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 256:
                return value, owner, key
    return None, owner, ""


def learn(facts: EndpointFacts, client: Any, model: str, timeout: float) -> None:
    """Fill `facts` from GET /models (and llama-server's GET /props); never raises.

    `client` is the backend's openai.OpenAI. A server that does not answer, answers 401/404 or
    says nothing useful leaves the facts as they were: the chat call reports real trouble.
    """
    quick = client.with_options(timeout=min(10.0, timeout), max_retries=0)
    try:
        data = quick.get("/models", cast_to=object)
    except Exception:  # noqa: BLE001 - only a hint; the chat call will say what is wrong
        return
    window, owner, key = window_from_models(data, model)
    facts.owned_by = owner
    if window:
        facts.window, facts.window_source = window, f"GET /models {key}"
        return
    if owner == "llamacpp":
        root = str(client.base_url).rstrip("/")
        root = root[: -len("/v1")] if root.endswith("/v1") else root
        try:
            props = quick.get(f"{root}/props", cast_to=object)
        except Exception:  # noqa: BLE001
            return
        settings = props.get("default_generation_settings") if isinstance(props, dict) else None
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        if isinstance(n_ctx, int) and n_ctx >= 256:
            facts.window, facts.window_source = n_ctx, "GET /props n_ctx"


# The probe: the same one-token request with and without a system message. A server that keeps
# system text bills its tokens; one that drops it bills the same prompt either way.
_PROBE_SYSTEM = "以下对话请全部使用简体中文回答。请记住：本次会议的口令是青松。"
_PROBE_USER = "好"


def probe_system(client: Any, model: str, timeout: float) -> str:
    """"fold" when the server drops system messages, else "keep" (also when it cannot tell)."""
    quick = client.with_options(timeout=min(60.0, timeout), max_retries=0)
    counts = []
    for messages in (
        [{"role": "system", "content": _PROBE_SYSTEM}, {"role": "user", "content": _PROBE_USER}],
        [{"role": "user", "content": _PROBE_USER}],
    ):
        try:
            reply = quick.chat.completions.create(model=model, messages=messages, max_tokens=1, temperature=0.0)
        except Exception:  # noqa: BLE001 - the real call will report what is wrong
            return "keep"
        usage = getattr(reply, "usage", None)
        if usage is None or not usage.prompt_tokens:
            return "keep"
        counts.append(int(usage.prompt_tokens))
    return "fold" if counts[0] <= counts[1] else "keep"
