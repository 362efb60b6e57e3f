"""What the page shows of a task's result, and the files it downloads: layout only, no task logic."""

from __future__ import annotations

import difflib
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from pipeline.errors import InputError
from pipeline.tasks import TaskResult

__all__ = ["download", "paragraph_diff", "view", "with_speech"]

_MEDIA = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}
_NAMES = {"adapt": "讲话稿", "summarize": "摘要", "restyle": "改写", "check": "检查后"}


def view(task: str, request: BaseModel, result: TaskResult) -> dict[str, Any]:
    """The result as the page lays it out (plain data, also the API's answer)."""
    out: dict[str, Any] = {
        "task": task, "output": result.output, "text": result.text, "checks": result.checks,
        "ok": result.ok, "metadata": _public_metadata(result.metadata),
    }
    speech = result.output.get("speech") if task == "restyle" else result.output
    if task in ("adapt", "restyle") and isinstance(speech, dict) and speech.get("sections") is not None:
        from pipeline.speech import Speech

        out["blocks"] = [list(b) for b in Speech.model_validate(speech).blocks()]
    if task == "summarize":
        from pipeline.text.hanzi import split_paragraphs

        out["source_paragraphs"] = split_paragraphs(getattr(request, "text", ""))
    if task == "restyle":
        out["diff"] = paragraph_diff(getattr(request, "text", ""), result.text)
    return out


def _public_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    keep = ("backend", "model", "method", "strategy", "examples", "duration_s", "usage", "style", "length")
    return {k: meta[k] for k in keep if k in meta}


def with_speech(result: dict[str, Any], speech: dict[str, Any]) -> dict[str, Any]:
    """The result with the writer's edited speech (blocks and text follow)."""
    from pipeline.speech import Speech

    try:
        edited = Speech.model_validate(speech)
    except ValidationError as exc:
        raise InputError(f"讲话稿格式不对：{exc.errors()[0].get('msg', '')}") from None
    return result | {"output": edited.model_dump(), "text": edited.text(),
                     "blocks": [list(b) for b in edited.blocks()], "edited": True}


def download(job: Any, fmt: str) -> Response:
    """The job's result as a .docx (GB/T 9704 layout), Markdown or plain text file."""
    from pipeline.render.speech import docx_bytes, render_blocks

    result = job.result
    blocks = [tuple(b) for b in result.get("blocks") or []]
    title = next((text for kind, text in blocks if kind == "title"), "")
    if not blocks:
        text = result["output"].get("fixed_text") if job.task == "check" else None
        text = text or (job.request.get("text", "") if job.task == "check" else result.get("text", ""))
        from pipeline.text.hanzi import split_paragraphs

        blocks = [("para", p) for p in split_paragraphs(text)]
    if fmt == "docx":
        body: bytes | str = docx_bytes(blocks, title=title)  # type: ignore[arg-type]
    elif fmt == "md":
        body = render_blocks(blocks, "md")  # type: ignore[arg-type]
    else:
        body = render_blocks(blocks, "text")  # type: ignore[arg-type]
    name = f"{(title or _NAMES.get(job.task, job.task))[:60]}.{fmt}"
    return Response(body, media_type=_MEDIA[fmt], headers={
        "Content-Disposition": f"attachment; filename=\"speechsmith.{fmt}\"; filename*=UTF-8''{quote(name)}",
    })


def paragraph_diff(source: str, output: str) -> list[dict[str, Any]]:
    """Source and result side by side: paired paragraphs, each as runs of same/del/ins text."""
    from pipeline.text.hanzi import split_paragraphs

    olds, news = split_paragraphs(source), split_paragraphs(output)
    rows: list[dict[str, Any]] = []
    matcher = difflib.SequenceMatcher(None, olds, news, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            rows += [{"old": [["same", p]], "new": [["same", p]]} for p in olds[a0:a1]]
            continue
        left, right = olds[a0:a1], news[b0:b1]
        for i in range(max(len(left), len(right))):
            rows.append(_inline(left[i] if i < len(left) else "", right[i] if i < len(right) else ""))
    return rows


def _inline(old: str, new: str) -> dict[str, Any]:
    runs_old: list[list[str]] = []
    runs_new: list[list[str]] = []
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            runs_old.append(["same", old[a0:a1]])
            runs_new.append(["same", new[b0:b1]])
            continue
        if a1 > a0:
            runs_old.append(["del", old[a0:a1]])
        if b1 > b0:
            runs_new.append(["ins", new[b0:b1]])
    return {"old": runs_old, "new": runs_new}
