"""The real `python -m llama_cpp.server` (llama-cpp-python's OpenAI-compatible server) on 127.0.0.1.

It serves the bundled Gemma 3 270M GGUF with the `gemma` chat format, as a user following the
llama-cpp-python docs would run it, so tests meet the server's real behaviour (HTTP 500 for
response_format json_schema, `json_object` + `schema` as a grammar, dropped system messages, its
context-overflow error), not our idea of it.

    with LlamaServer(n_ctx=2048) as server:      # or the `llama_server` fixture
        backend = OpenAIBackend(server.model, base_url=server.url)

The server runs in its own process group and is stopped (SIGTERM, then SIGKILL) on exit; its
stderr goes to a log file whose tail is shown when it fails to start.

`Tap` sits between a client and the server on another loopback port: it forwards every request
unchanged except that it caps `max_tokens` (a 270M model on a shared CPU writes ~20 tokens/s, and
the protocol, not prose, is under test), and records what was sent and what the server answered.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

START_TIMEOUT = 180.0  # seconds: a cold model load on a busy 2-core machine


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    def __init__(self, *, n_ctx: int = 2048, chat_format: str = "gemma", model_path: Path | None = None,
                 n_threads: int | None = None) -> None:
        if model_path is None:
            from pipeline.model.backends.local import default_model_path

            model_path = default_model_path()
        self.model_path = Path(model_path)
        self.model = "gemma3-270m"  # the alias the server answers to
        self.n_ctx = n_ctx
        self.chat_format = chat_format
        # Two threads on a quiet machine (CI); one when others already keep the cores busy, where
        # a second llama.cpp thread only waits for the first.
        cores = os.cpu_count() or 1
        self.n_threads = n_threads or (min(2, cores) if os.getloadavg()[0] < cores - 0.5 else 1)
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LlamaServer:
        self.port = free_port()
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path),
            "--model_alias", self.model, "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(self.n_ctx), "--chat_format", self.chat_format,
            "--n_threads", str(self.n_threads), "--n_threads_batch", str(self.n_threads),
        ]
        with self._log.open("wb") as log:
            self._proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self._proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                    if json.load(response).get("data"):
                        return self
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"llama_cpp.server did not answer within {START_TIMEOUT:g} s:\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self._log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Exchange:
    method: str
    path: str
    body: Any  # the request JSON as the client sent it (before the cap)
    status: int
    reply: Any  # the server's JSON answer (None when it was not JSON)
    seconds: float = 0.0  # from the request leaving the tap to the whole answer back


class Tap:
    """A recording, max_tokens-capping forwarder in front of a LlamaServer."""

    def __init__(self, server: LlamaServer, *, max_tokens: int = 48) -> None:
        self.server = server
        self.max_tokens = max_tokens
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def chats(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.path.endswith("/chat/completions")]

    def clear(self) -> None:
        with self._lock:
            self.exchanges.clear()

    def start(self) -> Tap:
        handler = type("TapHandler", (_TapHandler,), {"tap": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Tap:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _TapHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tap: Tap

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self._forward(None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._forward(self.rfile.read(length) if length else b"")

    def _forward(self, raw: bytes | None) -> None:
        tap = self.tap
        body: Any = None
        sent = raw
        if raw:
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("max_tokens"), int):
                capped = {**body, "max_tokens": min(body["max_tokens"], tap.max_tokens)}
                sent = json.dumps(capped).encode("utf-8")
        started = time.monotonic()
        upstream = http.client.HTTPConnection("127.0.0.1", tap.server.port, timeout=600)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        try:
            upstream.request(self.command, self.path, body=sent, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            status, kind = response.status, response.getheader("Content-Type", "application/json")
        except OSError as exc:  # the client gave up, or the server died
            status, kind, data = 502, "application/json", json.dumps({"error": {"message": str(exc)}}).encode()
        finally:
            upstream.close()
        try:
            reply = json.loads(data)
        except ValueError:
            reply = None
        with tap._lock:
            tap.exchanges.append(Exchange(self.command, self.path, body, status, reply, time.monotonic() - started))
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
