"""A backend for tests: replies from a script, records what it was asked."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pipeline.backends.base import ChatRequest, ChatResponse, Usage


class FakeBackend:
    name = "fake"

    def __init__(
        self,
        replies: Iterable[str] | Callable[[ChatRequest], str] = (),
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
        prompt = sum(self.count_tokens(m.content) for m in request.messages)
        return ChatResponse(text, Usage(prompt, self.count_tokens(text)), self.model)
