"""The remote backend: the openai SDK against any OpenAI-compatible endpoint.

Works with OpenAI, DeepSeek, Qwen (DashScope compatible mode), vLLM, llama.cpp server, Ollama…:
only `/chat/completions` is used.

Structured output, most to least exact: `response_format` with a JSON schema; when the endpoint
rejects that (400/422), JSON mode (`{"type": "json_object"}`) with the schema in the prompt; when
that is rejected too, the schema in the prompt alone. The downgrade is remembered by this backend
instance, so a run pays for the probe once. Schema keywords some providers refuse (`title`,
`default`, …) are stripped before sending. Whatever comes back, the Client validates it.

Transport retries are ours (the SDK's own `max_retries` is 0, so the budget is exact): 429, 5xx,
timeouts, dropped connections and unparseable bodies are retried with exponential backoff and
jitter, waiting what `Retry-After` asks when the server says; 400/401/403/404/422 are never
retried. The count is returned in `ChatResponse.retries` (or on the raised BackendError).

A final assistant message (prefill) cannot be sent to a chat API portably. With prefill="fold"
(default) it is folded into the last user message as "continue from here", and a reply that
repeats it has it stripped; prefill="assistant" sends it as a trailing assistant message, which
llama.cpp server and vLLM (continue_final_message) continue verbatim.
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from pipeline.errors import BackendError
from pipeline.model import tokens
from pipeline.model.types import ChatRequest, ChatResponse, Message, Usage
from pipeline.redact import redact

# Keywords that some providers reject in response_format schemas (OpenAI strict mode, Gemini
# and several OpenAI-compatible servers): they carry no constraint the Client does not check.
STRIP_KEYWORDS = frozenset({"title", "default", "examples", "$comment", "$schema", "readOnly", "writeOnly", "deprecated"})
_NAMED_SCHEMAS = ("properties", "$defs", "definitions", "patternProperties", "dependentSchemas")
JSON_MODES = ("json_schema", "json_object", "prompt")
MAX_RETRY_AFTER = 120.0  # seconds; a longer Retry-After is still honoured up to this
_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
# Reasoning models served without a reasoning parser (Qwen3, DeepSeek-R1 on vLLM/llama.cpp) put
# their thinking in the content; it is not part of the answer.
_THINK = re.compile(r"^\s*<think>.*?</think>\s*", re.S)


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


class _BadResponse(Exception):
    """The endpoint answered 200 with something that is not a chat completion."""


class OpenAIBackend:
    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 180.0,
        max_retries: int = 4,
        context_window: int = 32_768,
        prefill: str = "fold",
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        json_mode: str = "json_schema",
    ) -> None:
        import openai

        self.model = model
        self.base_url = base_url
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.context_window = int(context_window)
        self.prefill = prefill
        self.backoff = backoff
        self.max_backoff = max_backoff
        if json_mode not in JSON_MODES:
            raise ValueError(f"json_mode must be one of {JSON_MODES}")
        self.json_mode = json_mode  # downgraded in place when the endpoint rejects a mode
        self.on_retry: Callable[[int, str, float], None] | None = None  # set by the Client
        self._lock = threading.Lock()
        # Local servers (vLLM, llama.cpp) need no key, but the SDK insists on one.
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "no-key", timeout=self.timeout, max_retries=0
        )
        self._where = _host(str(self._client.base_url))

    # -- facts -------------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return tokens.count_tokens(text, self.model)

    def count_request(self, request: ChatRequest) -> int:
        body = sum(self.count_tokens(m.content) + tokens.PER_MESSAGE for m in request.messages)
        if request.json_schema is not None and self.json_mode != "json_schema":
            body += self.count_tokens(_schema_instruction(request.json_schema))
        return body + tokens.PER_REPLY

    # -- the call ----------------------------------------------------------------------------

    def complete(self, request: ChatRequest) -> ChatResponse:
        retries = 0
        while True:
            mode = self.json_mode if request.json_schema is not None else None
            kwargs = self._kwargs(request, mode)
            try:
                completion, spent = self._send(kwargs)
            except BackendError as exc:
                status = getattr(exc, "status", None)
                retries += getattr(exc, "retries", 0)
                if mode is not None and status in (400, 422) and not _is_context_error(str(exc)):
                    with self._lock:
                        if self.json_mode == mode and mode != "prompt":
                            self.json_mode = JSON_MODES[JSON_MODES.index(mode) + 1]
                    if self.json_mode != mode:
                        continue  # the same request in the next, plainer structured mode
                exc.retries = retries  # type: ignore[attr-defined]
                raise
            retries += spent
            return self._response(request, completion, retries)

    def request_body(self, request: ChatRequest) -> dict[str, Any]:
        """The /v1/chat/completions arguments a live structured call sends (the Batch route's body)."""
        return self._kwargs(request, "json_schema")

    def _kwargs(self, request: ChatRequest, mode: str | None) -> dict[str, Any]:
        messages = list(request.messages)
        prefill = messages.pop().content if messages and messages[-1].role == "assistant" else None
        if mode in ("json_object", "prompt"):
            messages = _append_to_last_user(messages, _schema_instruction(request.json_schema or {}))
        extra: dict[str, Any] = {}
        if prefill:
            if self.prefill == "assistant":
                messages.append(Message("assistant", prefill))
                extra = {"continue_final_message": True, "add_generation_prompt": False}
            else:
                messages = _append_to_last_user(
                    messages, f"请直接接着下面的开头往下写，不要重复这个开头：\n{prefill}"
                )
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
        }
        if request.stop:
            kwargs["stop"] = list(request.stop)[:4]
        if request.seed is not None:
            kwargs["seed"] = request.seed + request.sample_index
        if mode == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": re.sub(r"[^A-Za-z0-9_-]", "_", request.schema_name)[:64] or "output",
                    "schema": clean_schema(request.json_schema),
                    "strict": False,
                },
            }
        elif mode == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        if extra:
            kwargs["extra_body"] = extra
        return kwargs

    def _retrying(self) -> Any:
        """The retry controller, built once per budget (tenacity keeps its statistics per thread,
        so one controller serves parallel calls)."""
        cached = getattr(self, "_retrying_cache", None)
        if cached is not None and cached[0] == self.max_retries:
            return cached[1]
        from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            after = _retry_after(exc)
            if after is not None:
                return min(after, MAX_RETRY_AFTER)
            # Exponential backoff with full jitter on top, so parallel workers spread out.
            base = min(self.max_backoff, self.backoff * 2 ** (state.attempt_number - 1))
            return base + random.uniform(0, base)

        def before_sleep(state: RetryCallState) -> None:
            if self.on_retry is not None and state.outcome is not None:
                delay = state.next_action.sleep if state.next_action else 0.0
                self.on_retry(state.attempt_number, self._describe(state.outcome.exception()), delay)

        retrying = Retrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(self.max_retries + 1),
            wait=wait,
            before_sleep=before_sleep,
            reraise=True,
        )
        self._retrying_cache = (self.max_retries, retrying)
        return retrying

    def _send(self, kwargs: dict[str, Any]) -> tuple[Any, int]:
        """One request with our retry policy; returns (completion, retries spent)."""
        retrying = self._retrying()
        try:
            for attempt in retrying:
                with attempt:
                    completion = self._client.chat.completions.create(**kwargs)
                    if not hasattr(completion, "choices") or not completion.choices:
                        raise _BadResponse(str(completion)[:200])
            spent = retrying.statistics.get("attempt_number", 1) - 1
            return completion, spent
        except Exception as exc:
            spent = retrying.statistics.get("attempt_number", 1) - 1
            error = BackendError(self._final_message(exc, spent + 1))
            error.retries = spent  # type: ignore[attr-defined]
            error.status = getattr(exc, "status_code", None)  # type: ignore[attr-defined]
            raise error from None

    def _response(self, request: ChatRequest, completion: Any, retries: int) -> ChatResponse:
        choice = completion.choices[0]
        text = _THINK.sub("", (choice.message.content if choice.message else None) or "", count=1)
        prefill = request.messages[-1].content if request.messages[-1].role == "assistant" else ""
        if prefill and self.prefill == "fold" and text.startswith(prefill):
            text = text[len(prefill):]
        usage = completion.usage
        if usage is not None and usage.prompt_tokens is not None:
            used = Usage(usage.prompt_tokens or 0, usage.completion_tokens or 0)
        else:  # some servers omit usage: count it ourselves rather than report zero
            used = Usage(self.count_request(request), self.count_tokens(text))
        return ChatResponse(
            text=text,
            usage=used,
            model=getattr(completion, "model", None) or self.model,
            finish_reason=choice.finish_reason or "stop",
            retries=retries,
        )

    # -- messages for humans -----------------------------------------------------------------

    def _describe(self, exc: BaseException | None) -> str:
        import openai

        if isinstance(exc, openai.APITimeoutError):
            return f"no reply within {self.timeout:g} s"
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            detail = f": {type(cause).__name__}" if cause else ""
            return f"connection failed{detail}"
        if isinstance(exc, openai.APIStatusError):
            return f"HTTP {exc.status_code}: {_error_text(exc)}"
        if isinstance(exc, _BadResponse):
            return f"the reply is not a chat completion: {str(exc)[:80]!r}"
        return f"{type(exc).__name__}: {exc}"

    def _final_message(self, exc: BaseException, attempts: int) -> str:
        import openai

        tries = f" after {attempts} attempt(s)" if attempts > 1 else ""
        where = self._where
        if isinstance(exc, openai.AuthenticationError):
            text = f"{where} rejected the API key (401): set OPENAI_API_KEY or SPEECHSMITH_API_KEY to a valid key"
        elif isinstance(exc, openai.PermissionDeniedError):
            text = f"{where} refused access (403): {_error_text(exc)}"
        elif isinstance(exc, openai.NotFoundError):
            text = f"{where}: model {self.model!r} or the chat endpoint was not found (404); check --model and --base-url"
        elif isinstance(exc, openai.RateLimitError):
            text = f"{where} is rate limiting (429){tries}: {_error_text(exc)}"
        elif isinstance(exc, openai.APITimeoutError):
            text = f"{where} sent no reply within {self.timeout:g} s{tries}; raise --timeout/SPEECHSMITH_TIMEOUT or try later"
        elif isinstance(exc, openai.APIConnectionError):
            text = f"cannot reach {where}{tries} ({self._describe(exc)}); is the server running and the URL right?"
        elif isinstance(exc, openai.APIStatusError):
            text = f"{where} answered HTTP {exc.status_code}{tries}: {_error_text(exc)}"
        elif isinstance(exc, _BadResponse):
            text = f"{where} did not answer with a chat completion{tries}: {str(exc)[:120]!r}"
        elif isinstance(exc, ValueError):  # json.JSONDecodeError: an HTML page, a proxy's login form…
            text = f"{where} did not answer with OpenAI-compatible JSON{tries}; is --base-url the API root (…/v1)?"
        else:
            text = f"{where}: {type(exc).__name__}: {exc}"
        return redact(text)


def _host(url: str) -> str:
    parsed = urlparse(url)
    # Never show userinfo (user:password@host) from a URL.
    return f"{parsed.scheme}://{parsed.hostname or ''}{f':{parsed.port}' if parsed.port else ''}{parsed.path.rstrip('/')}"


def _error_text(exc: Any) -> str:
    # The SDK puts the provider's "error" object (or the whole body) in exc.body.
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, dict):
        inner = body.get("error")
        message = inner.get("message") if isinstance(inner, dict) else body.get("message")
    return redact(str(message or getattr(exc, "message", exc)))[:200]


def _retryable(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, _BadResponse)):
        return True
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code == 429 and "insufficient_quota" in str(getattr(exc, "code", "") or ""):
            return False  # out of credit: waiting does not help
        return exc.status_code in _RETRY_STATUS or exc.status_code >= 500
    return False


def _retry_after(exc: BaseException | None) -> float | None:
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


def _is_context_error(message: str) -> bool:
    lowered = message.lower()
    return "context" in lowered and ("length" in lowered or "window" in lowered or "maximum" in lowered)


def _schema_instruction(schema: dict[str, Any]) -> str:
    text = json.dumps(clean_schema(schema), ensure_ascii=False, separators=(",", ":"))
    return f"只输出一个符合下面 JSON Schema 的 JSON 对象，不要输出其他文字：\n{text}"


def _append_to_last_user(messages: list[Message], text: str) -> list[Message]:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == "user":
            out = list(messages)
            out[i] = Message("user", f"{messages[i].content}\n\n{text}")
            return out
    return [*messages, Message("user", text)]
