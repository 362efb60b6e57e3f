"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks, with faults on cue.

It speaks `POST /v1/chat/completions` and `GET /v1/models` over real sockets (stdlib
ThreadingHTTPServer, HTTP/1.1 keep-alive, one thread per connection, port chosen by the OS), so
the openai SDK, httpx and our retry code run exactly as against a provider.

    from tests.openai_server import OpenAIServer, Reply

    with OpenAIServer() as server:                 # or the `openai_server` pytest fixture
        server.script(
            Reply.rate_limited(retry_after=0.2),   # 429 + Retry-After
            Reply.error(503),
            Reply.ok('{"title": "x"}'),
        )
        client = openai.OpenAI(base_url=server.url, api_key="sk-test")
        ...
        assert len(server.requests) == 3
        assert server.requests[0].headers["authorization"] == "Bearer sk-test"

Replies come from, in order: the script (one Reply per request, FIFO), else `responder`
(callable(request_json) -> str | Reply), else an echo of the last message. `latency` delays every
reply (the batch benchmark uses 0.2 s with 32+ requests in flight). `reject_formats` makes the
server answer `reject_status` (400) to a response_format type it "does not support" (e.g.
{"json_schema"}), the way several providers do. `api_key` makes it answer 401 to any other key.

Servers as they really are (measured against llama-cpp-python 0.3's `llama_cpp.server`):
`OpenAIServer.llama_cpp()` refuses json_schema with HTTP 500 and pydantic's message naming
response_format, takes `{"type": "json_object", "schema": …}`, lists its model as owned_by "me"
without a window, drops system messages (they neither reach the responder nor count as prompt
tokens) and answers a request over `n_ctx` with its 400 "maximum context length" error.
`models_extra` adds fields to the /v1/models entry (vLLM: {"max_model_len": 8192}); `props` is
served at GET /props (llama-server: {"default_generation_settings": {"n_ctx": 4096}}).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer. Use the constructors; fields are the low-level knobs."""

    content: str | None = None  # the assistant message content (status 200)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # raw body instead of a chat completion (errors, garbage)
    delay: float = 0.0  # seconds before answering (beyond the client timeout = a timeout)
    drop: bool = False  # close the connection without answering
    finish_reason: str = "stop"
    usage: tuple[int, int] | None = None  # (prompt, completion) tokens; default: estimated

    @classmethod
    def ok(cls, content: str, *, finish_reason: str = "stop", delay: float = 0.0) -> Reply:
        return cls(content=content, finish_reason=finish_reason, delay=delay)

    @classmethod
    def length(cls, content: str) -> Reply:
        """A reply cut off at max_tokens (`finish_reason: length`)."""
        return cls(content=content, finish_reason="length")

    @classmethod
    def rate_limited(cls, retry_after: float | None = 1.0) -> Reply:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return cls.error(429, "Rate limit reached for requests", headers=headers, kind="rate_limit_exceeded")

    @classmethod
    def error(
        cls, status: int, message: str = "", *, headers: dict[str, str] | None = None, kind: str | None = None
    ) -> Reply:
        kind = kind or {400: "invalid_request_error", 401: "invalid_api_key", 404: "not_found"}.get(status, "server_error")
        body = json.dumps({"error": {"message": message or f"error {status}", "type": kind, "code": kind}})
        return cls(status=status, body=body, headers=dict(headers or {}))

    @classmethod
    def slow(cls, seconds: float, content: str = "slow") -> Reply:
        return cls(content=content, delay=seconds)

    @classmethod
    def dropped(cls) -> Reply:
        return cls(drop=True)

    @classmethod
    def garbage(cls, body: str = "<html>502 Bad Gateway</html>", status: int = 200) -> Reply:
        """A body that is not JSON at all (not the content: the HTTP body)."""
        return cls(status=status, body=body, headers={"Content-Type": "text/html"})


# What llama-cpp-python 0.3.36's server answers (HTTP 500, type internal_server_error) to
# response_format json_schema, copied from a real reply: its request model allows only the types
# text and json_object, and its error handler turns the validation error into a 500.
LLAMA_CPP_JSON_SCHEMA_ERROR = (
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', 'ctx': {'expected': "
    "\"'text' or 'json_object'\"}}\n\n  File \"llama_cpp/server/app.py\", line 376, in "
    "create_chat_completion\n    POST /v1/chat/completions"
)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    json: Any
    time: float


class OpenAIServer:
    def __init__(
        self,
        *,
        latency: float = 0.0,
        responder: Callable[[dict[str, Any]], str | Reply] | None = None,
        model: str = "test-model",
        api_key: str | None = None,
        reject_formats: set[str] | None = None,
        reject_status: int = 400,
        owned_by: str = "test",
        models_extra: dict[str, Any] | None = None,
        props: dict[str, Any] | None = None,
        drop_system: bool = False,
        n_ctx: int | None = None,
    ) -> None:
        self.latency = latency
        self.responder = responder
        self.model = model
        self.api_key = api_key
        self.reject_formats = set(reject_formats or ())
        self.reject_status = reject_status
        self.owned_by = owned_by
        self.models_extra = dict(models_extra or {})
        self.props = props
        self.drop_system = drop_system
        self.n_ctx = n_ctx
        self.requests: list[RecordedRequest] = []
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.max_in_flight = 0
        self._in_flight = 0

    @classmethod
    def llama_cpp(cls, *, n_ctx: int = 2048, **kw: Any) -> OpenAIServer:
        """Behaves as llama-cpp-python's `python -m llama_cpp.server --chat_format gemma` does."""
        return cls(
            reject_formats={"json_schema"}, reject_status=500, owned_by="me", drop_system=True,
            n_ctx=n_ctx, **kw,
        )

    # -- control ---------------------------------------------------------------------------

    def script(self, *replies: Reply | str) -> OpenAIServer:
        """Queue replies for the next requests (a str is Reply.ok(str))."""
        with self._lock:
            self._script.extend(Reply.ok(r) if isinstance(r, str) else r for r in replies)
        return self

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.responder = None
            self.latency = 0.0
            self.api_key = None
            self.reject_formats = set()
            self.reject_status = 400
            self.owned_by = "test"
            self.models_extra = {}
            self.props = None
            self.drop_system = False
            self.n_ctx = None
            self.max_in_flight = 0

    @property
    def url(self) -> str:
        """Base URL for the openai SDK (…/v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> OpenAIServer:
        handler = type("Handler", (_Handler,), {"server_ref": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler, bind_and_activate=False)
        httpd.daemon_threads = True
        httpd.request_queue_size = 256  # many concurrent connects (batch benchmark)
        httpd.allow_reuse_address = True
        httpd.server_bind()
        httpd.server_activate()
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour -------------------------------------------------------------------------

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        fmt = (body.get("response_format") or {}).get("type")
        if fmt in self.reject_formats:
            if self.reject_status == 500:  # llama_cpp.server: its validation error, as a 500
                return Reply.error(500, LLAMA_CPP_JSON_SCHEMA_ERROR, kind="internal_server_error")
            return Reply.error(self.reject_status, f"response_format type {fmt!r} is not supported by this model")
        if self.drop_system:
            body = {**body, "messages": [m for m in body.get("messages", []) if m.get("role") != "system"]}
        if self.n_ctx is not None:
            prompt = self._prompt_tokens(body)
            wanted = prompt + int(body.get("max_tokens") or 0)
            if wanted > self.n_ctx:
                return Reply.error(400, (
                    f"This model's maximum context length is {self.n_ctx} tokens. However, you requested "
                    f"{wanted} tokens ({prompt} in the messages, {body.get('max_tokens')} in the completion). "
                    "Please reduce the length of the messages or completion."
                ), kind="invalid_request_error")
        with self._lock:
            scripted = self._script.pop(0) if self._script else None
        if scripted is not None:
            return scripted
        if self.responder is not None:
            out = self.responder(body)
            return out if isinstance(out, Reply) else Reply.ok(out)
        messages = body.get("messages") or [{}]
        return Reply.ok(f"echo: {str(messages[-1].get('content', ''))[:200]}")

    def _prompt_tokens(self, body: dict[str, Any]) -> int:
        """One token per character of the messages the model sees (system ones only if kept)."""
        kept = [m for m in body.get("messages", []) if not (self.drop_system and m.get("role") == "system")]
        return max(1, sum(len(str(m.get("content", ""))) for m in kept))

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        usage = reply.usage or (self._prompt_tokens(body), max(1, len(reply.content or "")))
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content},
                    "finish_reason": reply.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one buffered write with Nagle off: otherwise the two segments
    # meet the client's delayed ACK and every reply costs ~40 ms, which would swamp benchmarks.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server_ref: OpenAIServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return None

    def _record(self, body: Any) -> None:
        srv = self.server_ref
        with srv._lock:
            srv.requests.append(
                RecordedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
            )

    def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8")
        try:
            self.send_response(status)
            sent = {k.lower() for k in (headers or {})}
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if "content-type" not in sent:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout): nothing to answer

    def do_GET(self) -> None:
        self._record(None)
        srv = self.server_ref
        if self.path.rstrip("/").endswith("/models"):
            entry = {"id": srv.model, "object": "model", "owned_by": srv.owned_by, **srv.models_extra}
            self._send(200, json.dumps({"object": "list", "data": [entry]}))
        elif self.path.rstrip("/") == "/props" and srv.props is not None:
            self._send(200, json.dumps(srv.props))
        else:
            self._send(404, json.dumps({"error": {"message": "not found", "type": "not_found"}}))

    def do_POST(self) -> None:
        srv = self.server_ref
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._record(None)
            self._send(400, json.dumps({"error": {"message": "body is not JSON", "type": "invalid_request_error"}}))
            return
        self._record(body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, json.dumps({"error": {"message": f"no route {self.path}", "type": "not_found"}}))
            return
        if srv.api_key is not None and self.headers.get("Authorization") != f"Bearer {srv.api_key}":
            self._send(401, json.dumps({"error": {"message": "Incorrect API key provided", "type": "invalid_api_key"}}))
            return
        with srv._lock:
            srv._in_flight += 1
            srv.max_in_flight = max(srv.max_in_flight, srv._in_flight)
        try:
            reply = srv._next_reply(body)
            wait = srv.latency + reply.delay
            if wait:
                time.sleep(wait)
            if reply.drop:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if reply.body is not None:
                self._send(reply.status, reply.body, reply.headers)
            else:
                self._send(reply.status, json.dumps(srv._completion(body, reply), ensure_ascii=False), reply.headers)
        finally:
            with srv._lock:
                srv._in_flight -= 1
