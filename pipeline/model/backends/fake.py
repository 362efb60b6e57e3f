"""A backend for tests: replies from a script, records what it was asked.

The script is a list of replies or a function of the request returning the reply text, or
(text, finish_reason) for a reply that did not end by itself ("length")."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pipeline.model.types import ChatRequest, ChatResponse, Usage


class FakeBackend:
    name = "fake"

    def __init__(
        self,
        replies: Iterable[str] | Callable[[ChatRequest], str | tuple[str, str]] = (),
        *,
        model: str = "fake-1",
        context_window: int = 32768,
    ) -> None:
        self.model = model
        self.context_window = context_window
        self._script = replies if callable(replies) else list(replies)
        self.requests: list[ChatRequest] = []

    def count_tokens(self, text: str) -> int:
        return max(1, len(text))  # one token per character: pessimistic for Chinese

    def complete(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        if callable(self._script):
            text = self._script(request)
        elif self._script:
            text = self._script.pop(0)
        else:
            raise AssertionError("FakeBackend ran out of scripted replies")
        # A script may also say how the reply ended: (text, "length") is a cut-off reply.
        text, finish = text if isinstance(text, tuple) else (text, "stop")
        prompt = sum(self.count_tokens(m.content) for m in request.messages)
        return ChatResponse(text, Usage(prompt, self.count_tokens(text)), self.model, finish_reason=finish)
