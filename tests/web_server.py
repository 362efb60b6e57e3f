"""`speechsmith serve` as the writers run it: a real process on a free 127.0.0.1 port.

    with ServeProcess(tmp_path, token="…") as server:      # or the `serve` fixtures in the tests
        httpx.get(server.url + "/api/health", headers=server.auth)

The process gets its own data dir and a copy of the shipped corpus (tests may add speeches).
Used by the HTTP tests, the browser tests and evals/bench/bench_serve.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess:
    def __init__(self, base: Path, *, token: str | None = None, preload: bool = True,
                 extra: list[str] | None = None, startup_s: float = 120.0) -> None:
        self.base = Path(base)
        self.token = token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.corpus = self.base / "corpus"
        self.data = self.base / "data"
        self.preload = preload
        self.extra = extra or []
        self.startup_s = startup_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.base / "serve.log"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "pipeline", "serve", "--port", str(self.port),
               "--corpus", str(self.corpus), "--data-dir", str(self.data)]
        if self.token:
            cmd += ["--token", self.token]
        if not self.preload:
            cmd.append("--no-preload")
        return cmd + self.extra

    def __enter__(self) -> ServeProcess:
        self.base.mkdir(parents=True, exist_ok=True)
        if not self.corpus.exists():
            shutil.copytree(ROOT / "corpus", self.corpus)
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env.pop("SPEECHSMITH_SERVE_TOKEN", None)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        deadline = time.monotonic() + self.startup_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"speechsmith serve exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/api/health", headers=self.auth, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"speechsmith serve did not answer within {self.startup_s:.0f} s")

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def wait_job(self, job_id: str, timeout: float = 600) -> dict[str, Any]:
        """Poll a job until it is done or failed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = httpx.get(f"{self.url}/api/jobs/{job_id}", headers=self.auth, timeout=10).json()
            if job["status"] in ("done", "failed"):
                return job
            time.sleep(0.5)
        raise TimeoutError(f"job {job_id} not finished in {timeout:.0f} s")
