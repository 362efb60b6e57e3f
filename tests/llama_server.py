"""The real `python -m llama_cpp.server` (llama-cpp-python's OpenAI-compatible server) on 127.0.0.1.

It serves the bundled Gemma 3 270M GGUF with the `gemma` chat format, as a user following the
llama-cpp-python docs would run it, so tests meet the server's real behaviour (HTTP 500 for
response_format json_schema, `json_object` + `schema` as a grammar, dropped system messages, its
context-overflow error), not our idea of it.

    with LlamaServer(n_ctx=2048) as server:      # or the `llama_server` fixture
        backend = OpenAIBackend(server.model, base_url=server.url)

The server runs in its own process group and is stopped (SIGTERM, then SIGKILL) on exit; its
stderr goes to a log file whose tail is shown when it fails to start.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

START_TIMEOUT = 180.0  # seconds: a cold model load on a busy 2-core machine


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    def __init__(self, *, n_ctx: int = 2048, chat_format: str = "gemma", model_path: Path | None = None,
                 n_threads: int = 1) -> None:
        if model_path is None:
            from pipeline.backends.local import default_model_path

            model_path = default_model_path()
        self.model_path = Path(model_path)
        self.model = "gemma3-270m"  # the alias the server answers to
        self.n_ctx = n_ctx
        self.chat_format = chat_format
        self.n_threads = n_threads
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
