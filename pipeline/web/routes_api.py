"""The JSON API: one route per task (the request body is the task's input), jobs, progress as
Server-Sent Events, downloads, uploads and the corpus. The pages use exactly these routes.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse

from pipeline.errors import SpeechsmithError
from pipeline.web import corpus_api, tasks, views
from pipeline.web.jobs import Job
from pipeline.web.uploads import read_upload

__all__ = ["register"]

POLL_S = 0.1  # how often a progress stream looks for new events
KEEPALIVE_S = 15.0


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def register(app: FastAPI, service: Any) -> None:
    """Add the API routes to `app`."""

    async def _submit(task: str, request: Any, wait: float) -> JSONResponse:
        try:
            tasks.precheck(task, request)
        except SpeechsmithError as exc:
            return _error(400, tasks.error_message(exc))
        job = service.submit(task, request)
        if wait > 0:
            deadline = time.monotonic() + min(wait, 3600)
            while job.status in ("queued", "running") and time.monotonic() < deadline:
                await asyncio.sleep(POLL_S)
        status = 200 if job.status in ("done", "failed") else 202
        return JSONResponse(_job_view(job), status_code=status)

    def _job_view(job: Job) -> dict[str, Any]:
        data = job.public(service.queue.position(job))
        data["links"] = {
            "self": f"/api/jobs/{job.id}", "events": f"/api/jobs/{job.id}/events",
            "page": f"/{job.task}?job={job.id}",
        }
        return data

    @app.post("/api/adapt", tags=["tasks"], summary="写讲话：按提纲写一篇讲话稿")
    async def adapt(request: tasks.AdaptRequest, wait: float = 0) -> JSONResponse:
        return await _submit("adapt", request, wait)

    @app.post("/api/adapt/preview", tags=["tasks"], summary="写讲话的准备：会选哪些范文、提纲（不调用模型）")
    async def adapt_preview(request: tasks.AdaptRequest) -> JSONResponse:
        from starlette.concurrency import run_in_threadpool

        try:
            data = await run_in_threadpool(tasks.preview, request, corpus_dir=service.corpus,
                                           prompts_dir=service.prompts)
        except SpeechsmithError as exc:
            return _error(400, tasks.error_message(exc))
        return JSONResponse(data)

    @app.post("/api/summarize", tags=["tasks"], summary="摘要：要旨、要点、任务、数字，各带出处段落")
    async def summarize(request: tasks.SummarizeRequest, wait: float = 0) -> JSONResponse:
        return await _submit("summarize", request, wait)

    @app.post("/api/restyle", tags=["tasks"], summary="改写：换一种文体")
    async def restyle(request: tasks.RestyleRequest, wait: float = 0) -> JSONResponse:
        return await _submit("restyle", request, wait)

    @app.post("/api/check", tags=["tasks"], summary="检查：规范问题，可自动修正")
    async def check(request: tasks.CheckRequest, wait: float = 10) -> JSONResponse:
        return await _submit("check", request, wait)

    @app.get("/api/jobs/{job_id}", tags=["jobs"], summary="任务状态与结果")
    async def job(job_id: str) -> JSONResponse:
        found = service.queue.get(job_id)
        if found is None:
            return _error(404, "没有这个任务（编号不对，或服务器上已删除）")
        return JSONResponse(_job_view(found))

    @app.get("/api/jobs/{job_id}/events", tags=["jobs"], summary="进度（Server-Sent Events）")
    async def events(job_id: str, request: Request) -> Response:
        found = service.queue.get(job_id)
        if found is None:
            return _error(404, "没有这个任务")
        last = request.headers.get("last-event-id", "")
        start = int(last) + 1 if last.isdigit() else 0
        return StreamingResponse(
            _stream(found, start, request), media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _stream(job: Job, start: int, request: Request):
        i, position, quiet = start, None, time.monotonic()
        yield "retry: 1000\n\n"
        while True:
            while i < len(job.events):
                yield f"id: {i}\nevent: progress\ndata: {json.dumps(job.events[i], ensure_ascii=False)}\n\n"
                i += 1
                quiet = time.monotonic()
            if job.status in ("done", "failed"):
                yield f"event: end\ndata: {json.dumps(_job_view(job), ensure_ascii=False)}\n\n"
                return
            now = service.queue.position(job) if job.status == "queued" else None
            if now != position:
                position = now
                yield f"event: queue\ndata: {json.dumps({'position': now})}\n\n"
            if time.monotonic() - quiet > KEEPALIVE_S:
                quiet = time.monotonic()
                yield ": keep-alive\n\n"
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_S)

    @app.get("/api/jobs/{job_id}/download", tags=["jobs"], summary="下载结果：docx、md 或 txt")
    async def download(job_id: str, format: str = "docx") -> Response:
        found = service.queue.get(job_id)
        if found is None or found.result is None:
            return _error(404, "没有这个任务的结果")
        if format not in ("docx", "md", "txt"):
            return _error(400, "格式只能是 docx、md 或 txt")
        return views.download(found, format)

    @app.put("/api/jobs/{job_id}/speech", tags=["jobs"], summary="保存修改后的讲话稿（下载用修改后的）")
    async def save_speech(job_id: str, speech: dict[str, Any]) -> JSONResponse:
        found = service.queue.get(job_id)
        if found is None or found.result is None or "blocks" not in found.result:
            return _error(404, "没有这个任务的讲话稿")
        try:
            found.result = views.with_speech(found.result, speech)
        except SpeechsmithError as exc:
            return _error(400, str(exc))
        service.queue.save(found)
        return JSONResponse(_job_view(found))

    @app.post("/api/upload", tags=["files"], summary="上传 .docx/.txt/.md/.html，取出文本")
    async def upload(file: UploadFile = File(...)) -> JSONResponse:  # noqa: B008
        data = await file.read(service.config.max_upload + 1)
        try:
            doc = read_upload(file.filename or "", data, service.config.max_upload)
        except SpeechsmithError as exc:
            return _error(_status(exc), str(exc))
        from pipeline.text.hanzi import count_zi

        return JSONResponse({"name": doc.source, "text": doc.text, "zi": count_zi(doc.text)})

    @app.get("/api/csrf", tags=["server"], summary="防跨站令牌：文件上传（multipart）请求需在 X-CSRF-Token 头中带上")
    async def csrf() -> JSONResponse:
        # Readable only by this origin (no CORS): a foreign page cannot learn it.
        return JSONResponse({"csrf": service.csrf}, headers={"Cache-Control": "no-store"})

    @app.get("/api/health", tags=["server"], summary="服务状态")
    async def health() -> JSONResponse:
        return JSONResponse({"ok": True, **service.describe(), "waiting": len(service.queue.waiting)})

    corpus_api.register(app, service)
    if corpus_api.material_available():
        corpus_api.register_material(app, service)


def _status(exc: SpeechsmithError) -> int:
    return int(getattr(exc, "http_status", 400))
