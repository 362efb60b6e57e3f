"""A Summary for people: plain text or Markdown with ¶ source references; JSON with its checks."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pipeline.summary import Summary

if TYPE_CHECKING:
    from pipeline.tasks import TaskResult

__all__ = ["render_markdown", "render_summary_result", "render_text"]


def render_summary_result(result: TaskResult, fmt: str, title: str = "") -> str:
    """summarize's result as text, Markdown (with ¶ references) or JSON (summary + metadata)."""
    summary = Summary.model_validate(result.output)
    if fmt == "json":
        payload = {
            "task": result.task, "summary": result.output, "metadata": result.metadata,
            "checks": result.checks, "ok": result.ok,
        }
        return json.dumps(payload, ensure_ascii=False, indent=2)
    if fmt == "md":
        meta = result.metadata
        notes = [f"方法：{meta.get('method')}（{meta.get('method_reason')}）；¶ 为原文段落编号（按非空行计）。"]
        dropped = result.checks.get("verbatim", {}).get("dropped", [])
        if dropped:
            notes.append(f"核对：{len(dropped)} 条含原文中找不到的数字或引语，已删除。")
        return render_markdown(summary, title, notes)
    return render_text(summary, title)


def _refs(source: list[int]) -> str:
    return "、".join(f"¶{n}" for n in source)


def render_text(summary: Summary, title: str = "") -> str:
    """Plain text: numbered sections, source paragraphs in brackets."""
    lines: list[str] = []
    if title:
        lines += [title, ""]
    lines.append(f"要旨：{summary.gist}" + (f"（{_refs(summary.gist_source)}）" if summary.gist_source else ""))
    if summary.key_points:
        lines += ["", "主要内容："]
        for i, p in enumerate(summary.key_points, 1):
            lines.append(f"{i}. {p.text}" + (f"（{_refs(p.source)}）" if p.source else ""))
    if summary.tasks:
        lines += ["", "部署要求："]
        for i, t in enumerate(summary.tasks, 1):
            who = f"【{t.who}】" if t.who else ""
            lines.append(f"{i}. {who}{t.what}" + (f"（{_refs(t.source)}）" if t.source else ""))
    if summary.figures:
        lines += ["", "主要数字："]
        for i, f in enumerate(summary.figures, 1):
            lines.append(f"{i}. {f.measures}：{f.value}" + (f"（{_refs(f.source)}）" if f.source else ""))
    return "\n".join(lines) + "\n"


def render_markdown(summary: Summary, title: str = "", notes: list[str] | None = None) -> str:
    """Markdown with ¶ source references after every item."""
    lines: list[str] = [f"# {title or '摘要'}", ""]
    lines.append(f"**要旨**：{summary.gist}" + (f" *（{_refs(summary.gist_source)}）*" if summary.gist_source else ""))
    if summary.key_points:
        lines += ["", "## 主要内容", ""]
        lines += [f"- {p.text}" + (f" *（{_refs(p.source)}）*" if p.source else "") for p in summary.key_points]
    if summary.tasks:
        lines += ["", "## 部署要求", ""]
        for t in summary.tasks:
            who = f"**{t.who}**：" if t.who else ""
            lines.append(f"- {who}{t.what}" + (f" *（{_refs(t.source)}）*" if t.source else ""))
    if summary.figures:
        lines += ["", "## 主要数字", "", "| 数字 | 所指 | 出处 |", "| --- | --- | --- |"]
        for f in summary.figures:
            lines.append(f"| {_md_cell(f.value)} | {_md_cell(f.measures)} | {_refs(f.source)} |")
    if notes:
        lines += ["", "---", ""] + [f"> {n}" for n in notes]
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
