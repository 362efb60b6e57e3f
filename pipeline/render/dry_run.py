"""A dry run for people: the requests a task would send, message by message, with token counts."""

from __future__ import annotations

from typing import Any

__all__ = ["render_adapt_dry_run"]


def render_adapt_dry_run(meta: dict[str, Any]) -> str:
    lines = [
        f"strategy: {meta['strategy']}   backend: {meta['backend']}   prompt: "
        f"{meta['prompt']['id']} v{meta['prompt']['version']} ({meta['prompt']['hash']})" if meta["prompt"] else "",
        "examples: " + (", ".join(
            f"{e['id']} ({e['tokens']} tokens{', trimmed' if e['trimmed'] else ''})"
            for e in meta["selection"]["examples"]
        ) or "(none)"),
        f"outline: {meta['outline']['title']} / {meta['outline']['salutation']} / "
        + " / ".join(p["heading"] or p["key"] for p in meta["outline"]["parts"]),
        "",
    ]
    shown_prefix = False
    for req in meta["requests"]:
        lines.append(f"=== {req['step']}: {req['prompt_tokens']} prompt tokens, max {req['max_tokens']} output tokens"
                     + (f", target {req['target_zi']} 字" if "target_zi" in req else ""))
        for m in req["messages"]:
            if m["role"] == "user" and meta["strategy"] == "plan-draft" and shown_prefix:
                lines.append(f"--- user ({m['tokens']} tokens): the shared example prefix, as above")
                continue
            lines.append(f"--- {m['role']} ({m['tokens']} tokens)")
            lines.append(m["content"])
            if m["role"] == "user":
                shown_prefix = True
        lines.append("")
    return "\n".join(lines).strip() + "\n"

