"""The web app: one Service (settings, the model backend opened once, the job queue) and the
FastAPI application built around it.

    app = create_app(ServeConfig(host="127.0.0.1", port=8000))
    uvicorn.run(app, host=..., port=...)
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import ModelOptions, Settings, resolve
from pipeline.errors import ConfigError
from pipeline.events import ProgressFn, emit
from pipeline.text.textio import MAX_BYTES
from pipeline.web import tasks, views
from pipeline.web.jobs import Job, JobQueue
from pipeline.web.security import Guard, csrf_token, human_size, is_loopback

__all__ = ["ServeConfig", "Service", "create_app", "check_exposure"]

PACKAGE = Path(__file__).resolve().parent
# A multipart body carries the file plus a little framing; the file itself is held to MAX_BYTES.
BODY_SLACK = 256 * 1024


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    corpus_dir: Path | None = None
    prompts_dir: Path | None = None
    data_dir: Path | None = None  # jobs and uploads live under <data dir>/web
    model_options: ModelOptions | None = None
    preload: bool = True  # load the embedded model at start, not on the first job
    max_upload: int = MAX_BYTES


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token (anyone on the network could write)."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"--host {host} is reachable from other machines: give --token (or set serve_token in "
            "the config file, or SPEECHSMITH_SERVE_TOKEN) so that only people with the link can use it"
        )
    if token is not None and (len(token) < 12 or not re.fullmatch(r"[A-Za-z0-9._~-]+", token)):
        raise ConfigError("--token: use at least 12 characters of A-Z a-z 0-9 . _ ~ - (it goes into a link "
                          "and a cookie), e.g. `python -c 'import secrets; print(secrets.token_urlsafe())'`")


class Service:
    """What the routes share: settings, the one model backend, the corpus, the job queue."""

    def __init__(self, config: ServeConfig) -> None:
        from pipeline.paths import corpus_dir, data_dir

        self.config = config
        self.settings: Settings = resolve(config.model_options)
        self.corpus = Path(corpus_dir(config.corpus_dir)).resolve()
        self.prompts = Path(config.prompts_dir).resolve() if config.prompts_dir else None
        self.data = (Path(config.data_dir) if config.data_dir else data_dir()).resolve() / "web"
        self.secret = secrets.token_bytes(32)
        self.csrf = csrf_token(self.secret)
        self._backend: Any = None
        self._backend_lock = threading.Lock()
        self.queue = JobQueue(self._run, self.data / "jobs")
        if config.preload and self.settings.backend == "local":
            self.queue.submit_warmup(self.warm_up)

    # ---- the model ------------------------------------------------------------------------------

    def backend(self) -> Any:
        with self._backend_lock:
            if self._backend is None:
                from pipeline.model.connect import open_backend

                self._backend = open_backend(self.settings)
            return self._backend

    def warm_up(self) -> None:
        backend = self.backend()
        if getattr(backend, "name", "") == "local":
            _ = backend.llm  # load the weights now: the first writer should not wait for them

    def client(self) -> Any:
        from pipeline.model.client import Client

        return Client.from_settings(self.backend(), self.settings, command="serve")

    def describe(self) -> dict[str, Any]:
        """Backend and model for the page footer; never a key or a URL's credentials."""
        from pipeline.redact import redact

        model = self.settings.model or "gemma-3-270m (内置)"
        return {"backend": self.settings.backend, "model": redact(str(model))}

    # ---- jobs -----------------------------------------------------------------------------------

    def submit(self, task: str, request: Any) -> Job:
        return self.queue.submit(task, request.model_dump(exclude_none=True), uses_model=tasks.uses_model(task, request))

    def _run(self, job: Job, progress: ProgressFn) -> dict[str, Any]:
        request = tasks.REQUESTS[job.task].model_validate(job.request)
        client = None
        if job.uses_model:
            emit(progress, "setup", label="准备模型")
            client = self.client()
        started = time.perf_counter()
        result = tasks.run(job.task, request, client=client, corpus_dir=self.corpus,
                           prompts_dir=self.prompts, progress=progress)
        task_s = time.perf_counter() - started
        if client is not None:
            finish = getattr(client, "finish", None)
            if finish is not None:
                try:
                    finish()
                except Exception:  # noqa: BLE001 - the run log is a record, not the result
                    pass
        out = views.view(job.task, request, result)
        # For the page ("took 42 s") and the benchmark (the server's share beside the task's).
        out["timing"] = {"task_s": round(task_s, 3),
                         "model_s": round(client.usage.seconds, 3) if client is not None else 0.0}
        return out


def create_app(config: ServeConfig | None = None) -> Any:
    """The ASGI app (FastAPI behind the Guard middleware)."""
    from fastapi import FastAPI

    from pipeline import __version__
    from pipeline.web import routes_api, routes_pages

    config = config or ServeConfig()
    check_exposure(config.host, config.token)
    service = Service(config)
    app = FastAPI(
        title="speechsmith", version=__version__,
        description="写讲话、摘要、改写、检查：与命令行相同的任务。请求体就是任务的输入模型。"
                    "提交后得到任务编号，用 /api/jobs/{id} 取结果（或加 ?wait=60 等它完成）。",
        docs_url=None, redoc_url=None,  # /docs is served offline, see routes_pages
    )
    app.state.service = service
    routes_api.register(app, service)
    routes_pages.register(app, service)
    guarded = Guard(
        app, token=config.token, loopback_only=is_loopback(config.host),
        max_body=config.max_upload + BODY_SLACK, secret=service.secret,
        limit_label=human_size(config.max_upload),
    )
    guarded.service = service  # type: ignore[attr-defined]  # for tests and the CLI
    return guarded
