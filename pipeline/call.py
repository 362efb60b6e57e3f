"""The only door to a model. Every task calls `Client.chat` or `Client.structured`.

The Client adds, around a Backend: context-window checks before sending, usage and cost totals,
re-asks when the reply does not validate, and (see runlog) a record of every attempt.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pipeline.backends.base import Backend, ChatRequest, ChatResponse, Message
from pipeline.errors import BudgetExceeded, ValidationFailed
from pipeline.prompts import PromptRef

T = TypeVar("T", bound=BaseModel)


@dataclass
class RunUsage:
    """What a command spent; printed with --verbose and included in every JSON output."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0  # transport retries (429, 5xx, timeouts)
    reasks: int = 0  # schema re-asks
    cost: float = 0.0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cost"] = round(self.cost, 6)
        d["seconds"] = round(self.seconds, 3)
        return d


class Client:
    def __init__(self, backend: Backend, *, command: str = "", max_reasks: int = 2) -> None:
        self.backend = backend
        self.command = command
        self.max_reasks = max_reasks
        self.usage = RunUsage()

    @property
    def context_window(self) -> int:
        return self.backend.context_window

    def count_tokens(self, text: str) -> int:
        return self.backend.count_tokens(text)

    def request_tokens(self, request: ChatRequest) -> int:
        return sum(self.count_tokens(m.content) + 4 for m in request.messages)

    def chat(self, request: ChatRequest, *, prompt: PromptRef | None = None, step: str = "") -> ChatResponse:
        needed = self.request_tokens(request)
        if needed + request.max_tokens > self.context_window:
            raise BudgetExceeded(
                f"request needs {needed} prompt + {request.max_tokens} output tokens, "
                f"over the {self.context_window}-token context of {self.backend.model}"
            )
        start = time.perf_counter()
        response = self.backend.complete(request)
        self.usage.calls += 1
        self.usage.seconds += time.perf_counter() - start
        self.usage.prompt_tokens += response.usage.prompt_tokens
        self.usage.completion_tokens += response.usage.completion_tokens
        self.usage.retries += response.retries
        return response

    def structured(
        self,
        request: ChatRequest,
        schema: type[T],
        *,
        prompt: PromptRef | None = None,
        step: str = "",
        max_reasks: int | None = None,
    ) -> T:
        if request.json_schema is None:
            request = replace(request, json_schema=schema.model_json_schema(), schema_name=schema.__name__)
        budget = self.max_reasks if max_reasks is None else max_reasks
        raw = ""
        errors: list[str] = []
        for attempt in range(budget + 1):
            if attempt:
                self.usage.reasks += 1
            response = self.chat(request, prompt=prompt, step=step)
            raw = response.text
            try:
                return parse_json(raw, schema)
            except ValueError as exc:
                errors = [str(exc)]
            request = _reask(request, raw, errors)
        raise ValidationFailed(
            f"model output did not match {schema.__name__} after {budget + 1} attempt(s): {errors[0][:200]}",
            raw=raw,
            errors=errors,
        )


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
