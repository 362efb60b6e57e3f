"""The corpus from the page: list and search the speeches, read one, correct its labels, add
speeches by upload. Speech ids are checked against the corpus id pattern before any file is
touched, so no name reaches outside the corpus folder."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import SpeechsmithError
from pipeline.web.uploads import read_upload, safe_name

__all__ = ["LabelEdit", "material_available", "register", "register_material", "search"]

SNIPPET = 40


class LabelEdit(BaseModel):
    """The labels a writer may correct (the same ones `corpus add --update` keeps)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=1, max_length=200)
    genre: str | None = Field(default=None, min_length=1, max_length=50)
    occasion: str | None = Field(default=None, max_length=200)
    speaker: str | None = Field(default=None, max_length=100)
    audience: str | None = Field(default=None, max_length=200)


def _summary(record: Any) -> dict[str, Any]:
    return {k: getattr(record, k) for k in ("id", "title", "genre", "occasion", "speaker", "audience", "zishu", "date")}


def search(records: list[Any], query: str) -> list[dict[str, Any]]:
    """Speeches whose labels or text contain every term of the query (terms split on spaces;
    Chinese terms are matched as written, never split further)."""
    terms = [t for t in query.split() if t]
    out = []
    for record in records:
        labels = " ".join(str(getattr(record, k) or "") for k in ("id", "title", "genre", "occasion", "speaker", "audience"))
        if not all(t in labels or t in record.text for t in terms):
            continue
        row = _summary(record)
        if terms:
            at = record.text.find(terms[0])
            if at >= 0:
                row["snippet"] = record.text[max(0, at - SNIPPET // 2): at + len(terms[0]) + SNIPPET].replace("\n", " ")
        out.append(row)
    return out


def register(app: FastAPI, service: Any) -> None:
    """Add the corpus routes to `app`."""
    from pipeline.corpus.models import LABEL_FIELDS, valid_id
    from pipeline.corpus.store import get_record, load_corpus, save_record

    def _bad_id(speech_id: str) -> JSONResponse | None:
        if not valid_id(speech_id):
            return JSONResponse({"error": f"不是有效的范文编号：{speech_id[:80]!r}"}, status_code=400)
        return None

    @app.get("/api/corpus", tags=["corpus"], summary="范文列表与搜索")
    async def list_(q: str = "") -> JSONResponse:
        try:
            records = load_corpus(service.corpus)
        except SpeechsmithError as exc:
            return JSONResponse({"error": str(exc)}, status_code=500)
        return JSONResponse({"speeches": search(records, q[:200]), "total": len(records)})

    @app.get("/api/corpus/{speech_id}", tags=["corpus"], summary="一篇范文")
    async def show(speech_id: str) -> JSONResponse:
        bad = _bad_id(speech_id)
        if bad:
            return bad
        try:
            record = get_record(service.corpus, speech_id)
        except SpeechsmithError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        return JSONResponse(record.model_dump() | {"paragraphs": record.paragraphs()})

    @app.patch("/api/corpus/{speech_id}", tags=["corpus"], summary="修改范文的标签")
    async def edit(speech_id: str, labels: LabelEdit) -> JSONResponse:
        bad = _bad_id(speech_id)
        if bad:
            return bad
        try:
            record = get_record(service.corpus, speech_id)
            changes = {k: v for k, v in labels.model_dump(exclude_unset=True).items() if k in LABEL_FIELDS}
            changes = {k: (v or None) if k not in ("title", "genre") else v for k, v in changes.items()}
            updated = type(record).model_validate(record.model_dump() | changes)
            save_record(service.corpus, updated)
        except SpeechsmithError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except ValueError as exc:
            return JSONResponse({"error": f"标签不合格：{exc}"[:300]}, status_code=400)
        return JSONResponse(_summary(updated))

    @app.post("/api/corpus", tags=["corpus"], summary="上传范文加入语料库（.docx .txt .md .html）")
    async def add(file: UploadFile = File(...)) -> JSONResponse:  # noqa: B008
        data = await file.read(service.config.max_upload + 1)
        try:
            name = safe_name(file.filename or "")
            read_upload(name, data, service.config.max_upload)  # the same checks as every upload
        except SpeechsmithError as exc:
            return JSONResponse({"error": str(exc)}, status_code=int(getattr(exc, "http_status", 400)))
        from pipeline.corpus.ingest import ingest

        # The ingester reads files: the upload goes to a private folder under the data dir,
        # under its own (checked) name, which the new speech id is made from.
        service.data.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="upload-", dir=service.data))
        try:
            path = folder / name
            path.write_bytes(data)
            report = ingest([path], service.corpus)
            prefix = str(folder) + "/"
            for o in report.outcomes:
                if o.status == "added" and o.record is not None and o.record.source:
                    # The record names the file the writer uploaded, not the private folder.
                    save_record(service.corpus, o.record.model_copy(update={"source": o.record.source.replace(prefix, "")}))
        except SpeechsmithError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        outcomes = [{"status": o.status, "message": o.message.replace(str(folder) + "/", ""), "id": o.id}
                    for o in report.outcomes]
        if any(o["status"] == "added" for o in outcomes):
            return JSONResponse({"outcomes": outcomes})
        return JSONResponse({"outcomes": outcomes, "error": "；".join(o["message"] for o in outcomes) or "没有加入"},
                            status_code=400)


def material_available() -> bool:
    """Whether the material bank (素材库, pipeline.material) is part of this installation."""
    import importlib.util

    return importlib.util.find_spec("pipeline.material") is not None


def register_material(app: FastAPI, service: Any) -> None:
    """The material bank's search, when the bank exists: how edited texts already say a thing."""
    import threading

    from starlette.concurrency import run_in_threadpool

    lock = threading.Lock()
    opened: dict[str, Any] = {}

    def search_bank(q: str, function: str | None, n: int) -> list[dict[str, Any]]:
        from pipeline.material import open_library

        with lock:  # the index is built (or loaded from its cache) once per server
            if "library" not in opened:
                opened["library"] = open_library(service.corpus)
            library = opened["library"]
        return [h.to_dict() for h in library.search(q, function=function or None, n=n)]

    @app.get("/api/material", tags=["corpus"], summary="素材库：按意思查找已有的说法")
    async def material(q: str, function: str = "", n: int = 20) -> JSONResponse:
        if not q.strip():
            return JSONResponse({"error": "请输入要找的内容"}, status_code=400)
        try:
            hits = await run_in_threadpool(search_bank, q[:200], function[:20], max(1, min(n, 50)))
        except SpeechsmithError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"hits": hits})
