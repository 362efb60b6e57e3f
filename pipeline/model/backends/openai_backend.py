"""The remote backend: the openai SDK against any OpenAI-compatible endpoint.

Works with OpenAI, DeepSeek, Qwen (DashScope compatible mode), vLLM, llama.cpp server
(llama-server and llama-cpp-python's llama_cpp.server), Ollama…: `/chat/completions` does the
work; `/models` (and llama-server's `/props`) are read once for the context window.

Structured output follows the `structured` setting (see pipeline.model.backends.endpoint): `auto`
sends `response_format` with a JSON schema and, when the server refuses that (any status: a
llama_cpp.server answers 500 naming response_format), JSON mode with the schema attached
(llama.cpp's form), then plain JSON mode, then the schema in the prompt alone; what was refused is
remembered for the process, so a run pays for each refusal once. Schema keywords some providers
refuse (`title`, `default`, …) are stripped before sending. Whatever comes back, the Client
validates it.

Transport retries are ours (the SDK's own `max_retries` is 0, so the budget is exact): 429, 5xx,
dropped connections and connect timeouts are retried with exponential backoff and jitter, waiting
what `Retry-After` asks when the server says; 400/401/403/404/422 are never retried. A request
that timed out *after* it reached the server is not sent again: the server may still be
generating it, and a second copy would double its work; the error says to raise --timeout. A 200
whose body is not a chat completion (an HTML page from a proxy or a wrong URL) is one clear error,
not retried. The count is returned in `ChatResponse.retries` (or on the raised BackendError).

A final assistant message (prefill) cannot be sent to a chat API portably. With prefill="fold"
(default) it is folded into the last user message as "continue from here", and a reply that
repeats it has it stripped; prefill="assistant" sends it as a trailing assistant message, which
llama.cpp server and vLLM (continue_final_message) continue verbatim.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from pipeline.errors import BackendError
from pipeline.model import tokens
from pipeline.model.backends.endpoint import (
    LADDERS,
    PROBED_OWNERS,
    STRUCTURED,
    SYSTEM_MODES,
    context_limit,
    facts_for,
    learn,
    names_format,
    probe_system,
)
from pipeline.model.backends.openai_wire import (
    append_to_last_user,
    clean_schema,
    error_text,
    fold_system,
    host,
    is_context_error,
    retry_after,
    schema_instruction,
)
from pipeline.model.types import ChatRequest, ChatResponse, Message, Usage
from pipeline.redact import redact

MAX_RETRY_AFTER = 120.0  # seconds; a longer Retry-After is still honoured up to this
_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
# Reasoning models served without a reasoning parser (Qwen3, DeepSeek-R1 on vLLM/llama.cpp) put
# their thinking in the content; it is not part of the answer.
_THINK = re.compile(r"^\s*<think>.*?</think>\s*", re.S)
# "System role not supported" (Gemma 1/2 chat templates), "system messages are not allowed", …
_SYSTEM_REFUSED = re.compile(r"system role|system messages? (?:is |are )?not (?:supported|allowed)", re.I)


class _BadResponse(Exception):
    """The endpoint answered 200 with something that is not a chat completion."""


class _Refused(Exception):
    """The endpoint refused the structured-output form of the request (any HTTP status)."""

    def __init__(self, exc: Any) -> None:
        super().__init__(str(exc))
        self.exc = exc


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
        context_window: int | None = None,
        fallback_window: int = 32_768,
        prefill: str = "fold",
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        structured: str = "auto",
        system: str = "auto",
    ) -> None:
        import openai

        self.model = model
        self.base_url = base_url
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        # An explicit window (--context, the config) is believed; otherwise the server is asked,
        # and the built-in table (`fallback_window`) fills in when it does not say.
        self._explicit_window = int(context_window) if context_window else None
        self._fallback_window = int(fallback_window)
        self.prefill = prefill
        self.backoff = backoff
        self.max_backoff = max_backoff
        if structured not in LADDERS:
            raise ValueError(f"structured must be one of {STRUCTURED}")
        if system not in SYSTEM_MODES:
            raise ValueError(f"system must be one of {SYSTEM_MODES}")
        self.structured = structured
        self.system = system
        self.on_retry: Callable[[int, str, float], None] | None = None  # set by the Client
        self.on_notice: Callable[[str], None] | None = None  # what was learned about the server (-v)
        # Local servers (vLLM, llama.cpp) need no key, but the SDK insists on one.
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "no-key", timeout=self.timeout, max_retries=0
        )
        self._where = host(str(self._client.base_url))
        self.facts = facts_for(str(self._client.base_url), model)

    # -- facts -------------------------------------------------------------------------------

    @property
    def context_window(self) -> int:
        if self._explicit_window:
            return self._explicit_window
        self._learn()
        return self.facts.window or self._fallback_window

    @property
    def context_source(self) -> str:
        """Where context_window comes from, for error messages."""
        if self._explicit_window:
            return "set by --context or the config"
        if self.facts.window:
            return f"stated by the server ({self.facts.window_source})"
        return "assumed: the server does not say; pass --context with the real window"

    @property
    def json_mode(self) -> str:
        """The structured-output form the next call sends (after any refusals)."""
        return self.facts.mode(LADDERS[self.structured]) or LADDERS[self.structured][-1]

    def count_tokens(self, text: str) -> int:
        return tokens.count_tokens(text, self.model)

    def count_request(self, request: ChatRequest) -> int:
        body = sum(self.count_tokens(m.content) + tokens.PER_MESSAGE for m in request.messages)
        if request.json_schema is not None and self.json_mode != "json_schema":
            body += self.count_tokens(schema_instruction(request.json_schema))
        return body + tokens.PER_REPLY

    def _learn(self) -> None:
        """Ask the server once per process what it says about itself (window, kind)."""
        facts = self.facts
        if facts.window_checked:
            return
        with facts.lock:
            if not facts.window_checked:
                learn(facts, self._client, self.model, self.timeout)
                facts.window_checked = True
        if facts.window:
            self._note(f"context window {facts.window} tokens ({facts.window_source})")

    def _should_fold(self, request: ChatRequest) -> bool:
        if self.system != "auto" or not any(m.role == "system" for m in request.messages):
            return self.system == "fold"
        facts = self.facts
        if facts.system is None:
            self._learn()
            with facts.lock:
                if facts.system is None:
                    probed = facts.owned_by in PROBED_OWNERS
                    facts.system = probe_system(self._client, self.model, self.timeout) if probed else "keep"
            if facts.system == "fold":
                self._note("the server drops system messages (measured: they cost no prompt tokens); "
                           "folding them into the first user message")
        return facts.system == "fold"

    def _note(self, text: str) -> None:
        message = f"{self._where} {self.model}: {text}"
        with self.facts.lock:
            if message in self.facts.notes:
                return
            self.facts.notes.append(message)
        if self.on_notice is not None:
            self.on_notice(message)

    # -- the call ----------------------------------------------------------------------------

    def complete(self, request: ChatRequest) -> ChatResponse:
        retries = 0
        fold = self._should_fold(request)
        while True:
            mode = self.facts.mode(LADDERS[self.structured]) if request.json_schema is not None else None
            if request.json_schema is not None and mode is None:
                raise BackendError(self._all_refused())
            kwargs = self._kwargs(request, mode, fold=fold)
            try:
                completion, spent = self._send(kwargs)
            except BackendError as exc:
                retries += getattr(exc, "retries", 0)
                has_system = any(m.role == "system" for m in request.messages)
                if has_system and not fold and getattr(exc, "status", None) == 400 and _SYSTEM_REFUSED.search(str(exc)):
                    # Gemma 1/2 templates on vLLM and others refuse the role outright: fold it.
                    with self.facts.lock:
                        self.facts.system = "fold"
                    self._note("the server refuses system messages; folding them into the first user message")
                    fold = True
                    continue
                refusal = getattr(exc, "refusal", None)
                if mode is not None and refusal is not None:
                    with self.facts.lock:
                        self.facts.refused.setdefault(mode, refusal)
                    after = self.facts.mode(LADDERS[self.structured])
                    if after is not None:
                        self._note(f"refused response_format {_WIRE_NAMES[mode]} ({refusal}); "
                                   f"using {_WIRE_NAMES[after]} from now on")
                        continue  # the same request in the next, plainer structured form
                    error = BackendError(self._all_refused())
                    error.retries = retries  # type: ignore[attr-defined]
                    error.status = getattr(exc, "status", None)  # type: ignore[attr-defined]
                    raise error from None
                exc.retries = retries  # type: ignore[attr-defined]
                raise
            retries += spent
            return self._response(request, completion, retries)

    def _all_refused(self) -> str:
        tried = "; ".join(f"{_WIRE_NAMES[m]}: {why}" for m, why in self.facts.refused.items())
        hint = "prompt" if self.structured != "prompt" else "auto"
        return redact(
            f"{self._where} refused every structured-output form allowed by structured = "
            f"{self.structured} ({tried}); use --structured {hint} (or SPEECHSMITH_STRUCTURED)"
        )

    def request_body(self, request: ChatRequest) -> dict[str, Any]:
        """The /v1/chat/completions arguments a live structured call sends (the Batch route's body)."""
        return self._kwargs(request, "json_schema")

    def _kwargs(self, request: ChatRequest, mode: str | None, *, fold: bool = False) -> dict[str, Any]:
        messages = list(request.messages)
        prefill = messages.pop().content if messages and messages[-1].role == "assistant" else None
        if fold:
            messages = fold_system(messages)
        if mode in ("json_object_schema", "json_object", "prompt"):
            messages = append_to_last_user(messages, schema_instruction(request.json_schema or {}))
        extra: dict[str, Any] = {}
        if prefill:
            if self.prefill == "assistant":
                messages.append(Message("assistant", prefill))
                extra = {"continue_final_message": True, "add_generation_prompt": False}
            else:
                messages = append_to_last_user(
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
        elif mode == "json_object_schema":
            kwargs["response_format"] = {"type": "json_object", "schema": clean_schema(request.json_schema)}
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
            after = retry_after(exc)
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

    def _create(self, kwargs: dict[str, Any]) -> Any:
        import openai

        try:
            completion = self._client.chat.completions.create(**kwargs)
        except openai.APIStatusError as exc:
            if "response_format" in kwargs and _is_refusal(exc):
                raise _Refused(exc) from None
            raise
        if not hasattr(completion, "choices") or not completion.choices:
            raise _BadResponse(str(completion)[:200])
        return completion

    def _send(self, kwargs: dict[str, Any]) -> tuple[Any, int]:
        """One request with our retry policy; returns (completion, retries spent)."""
        retrying = self._retrying()
        try:
            for attempt in retrying:
                with attempt:
                    completion = self._create(kwargs)
            spent = retrying.statistics.get("attempt_number", 1) - 1
            return completion, spent
        except Exception as exc:
            spent = retrying.statistics.get("attempt_number", 1) - 1
            cause = exc.exc if isinstance(exc, _Refused) else exc
            error = BackendError(self._final_message(cause, spent + 1))
            error.retries = spent  # type: ignore[attr-defined]
            error.status = getattr(cause, "status_code", None)  # type: ignore[attr-defined]
            if isinstance(exc, _Refused):
                error.refusal = f"HTTP {error.status}: {error_text(cause)[:120]}"  # type: ignore[attr-defined]
            limit = context_limit(error_text(cause)) if error.status is not None else None
            if limit:
                with self.facts.lock:
                    self.facts.window, self.facts.window_source = limit, "its overflow error"
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
            return f"no connection within {self.timeout:g} s"
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            detail = f": {type(cause).__name__}" if cause else ""
            return f"connection failed{detail}"
        if isinstance(exc, openai.APIStatusError):
            return f"HTTP {exc.status_code}: {error_text(exc)}"
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
            text = f"{where} refused access (403): {error_text(exc)}"
        elif isinstance(exc, openai.NotFoundError):
            text = f"{where}: model {self.model!r} or the chat endpoint was not found (404); check --model and --base-url"
        elif isinstance(exc, openai.RateLimitError):
            text = f"{where} is rate limiting (429){tries}: {error_text(exc)}"
        elif isinstance(exc, openai.APITimeoutError) and _connect_timeout(exc):
            text = f"cannot connect to {where} within {self.timeout:g} s{tries}; is the server running and the URL right?"
        elif isinstance(exc, openai.APITimeoutError):
            text = (
                f"{where} sent no reply within {self.timeout:g} s{tries}; not sent again, since the server "
                f"may still be generating it: raise --timeout (or SPEECHSMITH_TIMEOUT, or timeout in the "
                f"config), e.g. --timeout {max(600, round(self.timeout * 3)):d}"
            )
        elif isinstance(exc, openai.APIConnectionError):
            text = f"cannot reach {where}{tries} ({self._describe(exc)}); is the server running and the URL right?"
        elif isinstance(exc, openai.APIStatusError) and context_limit(error_text(exc)):
            limit = context_limit(error_text(exc))
            text = (
                f"{where}: the request does not fit the server's {limit}-token context "
                f"({error_text(exc)[:160]}); pass --context {limit} (or set context = {limit}) "
                "so that speechsmith fits its prompts to it, or shorten the input"
            )
        elif isinstance(exc, openai.APIStatusError):
            text = f"{where} answered HTTP {exc.status_code}{tries}: {error_text(exc)}"
        elif isinstance(exc, _BadResponse):
            page = str(exc).lstrip()[:1] == "<"
            text = (
                f"{where} answered with {'an HTML page' if page else 'something'} that is not a chat completion"
                f"{tries} ({' '.join(str(exc).split())[:100]!r}); is --base-url the API root (…/v1)?"
            )
        elif isinstance(exc, ValueError):  # json.JSONDecodeError: an HTML page, a proxy's login form…
            text = f"{where} answered with a page that is not OpenAI-compatible JSON{tries}; is --base-url the API root (…/v1)?"
        else:
            text = f"{where}: {type(exc).__name__}: {exc}"
        return redact(text)


_WIRE_NAMES = {
    "json_schema": "json_schema",
    "json_object_schema": "json_object with the schema",
    "json_object": "json_object",
    "prompt": "the schema in the prompt",
}


def _retryable(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        # Only when the request never reached the server; a read timeout means it may still be
        # generating, and sending it again would double the work.
        return _connect_timeout(exc)
    if isinstance(exc, openai.APIConnectionError):
        return True
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code == 429 and "insufficient_quota" in str(getattr(exc, "code", "") or ""):
            return False  # out of credit: waiting does not help
        return exc.status_code in _RETRY_STATUS or exc.status_code >= 500
    return False  # _BadResponse, an HTML page: the same URL will answer the same


def _connect_timeout(exc: BaseException) -> bool:
    # By name: the SDK's HTTP library (httpx, or httpx2 in newer SDKs) names them alike.
    cause = exc.__cause__ or exc.__context__
    return type(cause).__name__ in ("ConnectTimeout", "PoolTimeout")


def _is_refusal(exc: Any) -> bool:
    """A refusal of the structured-output form, whatever the status (llama_cpp.server: 500)."""
    status = getattr(exc, "status_code", None)
    if status in (401, 403, 404, 429) or status is None:
        return False
    text = error_text(exc)
    if context_limit(text) or is_context_error(text) or _SYSTEM_REFUSED.search(text):
        return False
    return names_format(text) or status in (400, 422)
