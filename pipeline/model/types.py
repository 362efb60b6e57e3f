"""The backend contract: one required method, `complete`.

A backend turns one ChatRequest into one ChatResponse and knows nothing of prompts, schemas'
meaning, logging, caching or budgets: those live in `pipeline.model.client.Client`, the only caller.
Transport retries belong to the backend (they depend on the transport); re-asks on invalid
output belong to the Client (they depend on the schema).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class ChatRequest:
    """One model call.

    `json_schema`: when set, the reply must be one JSON value matching it (the backend uses
    response_format or a grammar; callers still validate). A final `assistant` message is a
    prefill the model continues from: this is how completion-style prompts reach a base model.
    `min_tokens`: the reply may not end (end of text, or a line break when a stop sequence is
    one) before this many tokens; a hint that backends without such a control ignore.
    """

    messages: tuple[Message, ...]
    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.95
    json_schema: dict[str, Any] | None = None
    schema_name: str = "output"
    stop: tuple[str, ...] = ()
    seed: int | None = 0
    repeat_penalty: float = 1.1
    sample_index: int = 0  # which of `repeat: k` samples; part of the cache / cassette key
    min_tokens: int = 0

    def key(self, backend: str, model: str) -> str:
        """Stable hash of everything that determines the reply (never secrets)."""
        payload = {"backend": backend, "model": model, **self.to_dict()}
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        # What dataclasses.asdict gives, without its deep copy of the JSON schema: this runs for
        # every call (the cache and cassette key), and the copy was a few % of a batch's CPU.
        # The schema is shared, not copied: nothing may mutate it.
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["messages"] = tuple({"role": m.role, "content": m.content} for m in self.messages)
        if not self.min_tokens:
            # Added later: left out at its default so that recorded keys stay what they were.
            del out["min_tokens"]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatRequest:
        data = dict(data)
        data["messages"] = tuple(Message(**m) for m in data["messages"])
        data["stop"] = tuple(data.get("stop", ()))
        return cls(**data)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ChatResponse:
    text: str
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    finish_reason: str = "stop"  # "stop" | "length"
    retries: int = 0  # transport retries the backend spent on this call


@runtime_checkable
class Backend(Protocol):
    """What every backend provides. Only `complete` does work; the rest are facts."""

    name: str  # "local", "openai", "fake", …
    model: str  # the model id as reported in logs and outputs
    context_window: int  # tokens

    def complete(self, request: ChatRequest) -> ChatResponse: ...

    def count_tokens(self, text: str) -> int: ...
