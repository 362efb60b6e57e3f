"""check: lint a speech (no model needed). Used by the CLI, batch lines and eval cases.

input: CheckInput (pipeline.tasks.inputs): the speech as text or file, targets (length,
minutes, tolerance), a source for the F rules, the audience, select / ignore, max_sentence, fix;
and what the text may say for the substance rules (brief, facts, points, speaker, occasion,
style, examples: pipeline.check.substance).

output: {"findings": [...], "counts": {...}, "zi": n, "minutes": m, "fixed_text"?: str}
checks: {"lint": {"passed": no error-level finding, "errors": n, "warnings": n}}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipeline.check import CheckConfig, Doc, fix_text, has_errors, lint, validate_codes
from pipeline.check.substance import STYLE_RANGES, SubstanceContext
from pipeline.errors import InputError
from pipeline.render.findings import counts, render_table
from pipeline.tasks import TaskContext, TaskResult, TaskSpec
from pipeline.tasks.inputs import CheckInput
from pipeline.text.textio import read_text

__all__ = ["TASK", "CheckInput", "check_config", "codes", "run", "split_front_matter", "substance_context"]


def codes(value: Any) -> list[str]:
    """--select P,N1 / ["P", "N1"] / repeated options -> ["P", "N1"]."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    out = [c.strip() for item in items for c in str(item).replace("，", ",").split(",") if c.strip()]
    bad = validate_codes(out)
    if bad:
        raise InputError(f"unknown rule id or prefix: {', '.join(bad)} (see `speechsmith check --rules`)")
    return out


def check_config(inp: CheckInput) -> CheckConfig:
    """A CheckConfig from the task input, with one clear error for each bad value."""
    source = inp.source
    if inp.source_file:
        source = read_text(inp.source_file)
    elif isinstance(source, str) and _is_path(source):
        source = read_text(source)  # a batch line's "source" is the CLI's --source FILE
    cfg = CheckConfig(
        select=codes(inp.select),
        ignore=codes(inp.ignore),
        source=source,
        audience=inp.audience or None,
    )
    for key, kind in (("length", int), ("minutes", float), ("tolerance", float), ("max_sentence", int)):
        value = getattr(inp, key)
        if value is None:
            continue
        number = kind(value)
        if number <= 0 or (key == "tolerance" and number >= 1):
            raise InputError(f"{key} must be {'between 0 and 1' if key == 'tolerance' else 'positive'}, not {value!r}")
        setattr(cfg, key, number)
    cfg.context = substance_context(inp, source, cfg.length)
    return cfg


def _items(value: Any) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [p.strip() for item in items for p in re.split(r"[,，、;；\n]", str(item)) if p.strip()]


def _texts(value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else list(value or [])
    return [read_text(v) if _is_path(v) else v for v in (str(i) for i in items) if v.strip()]


def substance_context(inp: CheckInput, source: str | None, length: int | None = None) -> SubstanceContext | None:
    """The substance rules' context from the input; None when it names none of brief, facts,
    points, speaker, occasion, style or examples (then source, audience and length make one)."""
    if not any((inp.brief, inp.facts, inp.points, inp.speaker, inp.occasion, inp.style, inp.examples)):
        return None
    brief = inp.brief or {}
    if isinstance(brief, str):
        from pipeline.tasks.adapt.brief import load_brief_file

        brief = load_brief_file(brief)
    if inp.style is not None and inp.style not in STYLE_RANGES:
        raise InputError(f"style must be one of {', '.join(STYLE_RANGES)}, not {inp.style!r}")
    length = length or brief.get("length")
    return SubstanceContext(
        brief="\n".join(str(brief.get(k) or "") for k in ("tone", "date", "place", "genre")).strip(),
        facts=_items(inp.facts) + _items(brief.get("facts")),
        source=source,
        speaker=inp.speaker or brief.get("speaker") or None,
        audience=inp.audience or brief.get("audience") or None,
        occasion=inp.occasion or brief.get("occasion") or None,
        points=_items(inp.points) + _items(brief.get("points")),
        examples=_texts(inp.examples),
        style=inp.style,
        length=length if isinstance(length, int) and length > 0 else None,
    )


def _is_path(value: str) -> bool:
    if not value or len(value) > 1024 or "\n" in value:
        return False
    try:
        return Path(value).is_file()
    except OSError:
        return False


def _text(inp: CheckInput) -> str:
    if inp.text is not None:
        text = inp.text
    elif inp.file:
        text = read_text(inp.file)
    else:
        raise InputError("check needs a text or a file")
    if not text.strip():
        raise InputError("nothing to check: the text is empty")
    return text


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n---[ \t]*\n", re.S)


def split_front_matter(text: str) -> tuple[str, str]:
    """(YAML front matter of a Markdown file or "", the rest). Corpus records have one."""
    m = _FRONT_MATTER.match(text)
    if not m or m.end() > 20000:
        return "", text
    return m.group(0), text[m.end():]


def run(inp: CheckInput, ctx: TaskContext) -> TaskResult:
    text = _text(inp)
    cfg = check_config(inp)
    # Front matter is blanked with spaces (same length), so spans stay offsets into the text and
    # paragraph numbers count the body only; the front matter is neither checked nor changed.
    front, body = split_front_matter(text)
    blank = re.sub(r"[^\n]", " ", front)
    output: dict[str, Any] = {}
    if inp.fix:
        fixed, findings = fix_text(blank + body, cfg)
        fixed = front + fixed[len(blank):]
        output["fixed_text"] = fixed
        zi_text = fixed[len(front):]
    else:
        findings = lint(blank + body, cfg)
        zi_text = body
    zi = Doc(zi_text).zi
    c = counts(findings)
    output.update(
        findings=[f.to_dict() for f in findings],
        counts=c,
        zi=zi,
        minutes=round(zi / cfg.rate, 1),
    )
    passed = not has_errors(findings)
    return TaskResult(
        task="check",
        output=output,
        text=render_table(findings, zi=zi),
        metadata={"rules": sorted({f.rule for f in findings})},
        checks={"lint": {"passed": passed, "errors": c["error"], "warnings": c["warning"]}},
        ok=passed,
    )


TASK = TaskSpec("check", CheckInput, run)
