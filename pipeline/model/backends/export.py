"""Building OpenAI Batch request files: a backend that counts tokens but never calls, and the
request body a live call would send.

Export must work offline and without a key (the calls happen later, elsewhere); it counts
tokens the way the openai backend does, so prompts are packed for the same window, and its
bodies come from the openai backend's own request code (schema cleaning, prefill, seed).
"""

from __future__ import annotations

import functools
from typing import Any

from pipeline.errors import BackendError
from pipeline.model import tokens
from pipeline.model.types import ChatRequest, ChatResponse

__all__ = ["ExportBackend", "request_body"]


class ExportBackend:
    """Stands in for the endpoint while requests are built: counts tokens, never calls."""

    name = "openai"

    def __init__(self, model: str, context_window: int = 128_000) -> None:
        self.model = model
        self.context_window = context_window

    def count_tokens(self, text: str) -> int:
        return tokens.count_tokens(text, self.model)

    def complete(self, request: ChatRequest) -> ChatResponse:
        raise BackendError(
            "this task makes more than one model call; the Batch route supports only one-call tasks"
        )


def request_body(request: ChatRequest, model: str, *, prefill: str = "fold") -> dict[str, Any]:
    """The /v1/chat/completions body of `request` (structured), as plain fields on the wire."""
    body = _builder(model, prefill).request_body(request)
    # The SDK's extra_body (vLLM's continue_final_message, …) is plain body fields on the wire.
    body.update(body.pop("extra_body", None) or {})
    return body


@functools.lru_cache(maxsize=4)
def _builder(model: str, prefill: str) -> Any:
    from pipeline.model.backends.openai_backend import OpenAIBackend

    return OpenAIBackend(model, api_key="export-builds-requests-only", prefill=prefill)
