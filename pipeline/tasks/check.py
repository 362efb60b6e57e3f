"""check: lint a speech (no model needed). Used by the CLI, batch lines and eval cases.

inputs (CLI option names):
    text | file          the speech (file: .txt .md .docx .html path, or "-" for stdin)
    length, minutes      targets for L101 / L102; tolerance (default 0.15)
    source | source_file text the speech must not add figures or names to (F rules);
                         "source" may also be a path to a file, as on the command line
    audience             who is addressed (S102, S105)
    brief                a brief file (YAML/JSON, as adapt's --brief) or a brief as a dict:
                         its facts, occasion, speaker, audience and points bound the G rules
    facts, points        what the text may state / is about (a list or a 、/comma string)
    speaker, occasion    who speaks (V rules), the occasion (D102 for news and minutes)
    style                speech, plain, oral, remarks, news, minutes, summary (L103's range)
    examples             example texts the model was shown (paths or texts; D101)
    select, ignore       rule ids or prefixes, a list or a comma-separated string
    max_sentence         字 per sentence for R103 (default 120)
    fix                  apply the safe fixes; output["fixed_text"] holds the result

output: {"findings": [...], "counts": {...}, "zi": n, "minutes": m, "fixed_text"?: str}
checks: {"lint": {"passed": no error-level finding, "errors": n, "warnings": n}}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipeline.check import CheckConfig, fix_text, has_errors, lint, validate_codes
from pipeline.check.report import counts, render_table
from pipeline.check.substance import STYLE_RANGES, SubstanceContext
from pipeline.errors import InputError
from pipeline.tasks import TaskContext, TaskResult


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


def config_from_inputs(inputs: dict[str, Any]) -> CheckConfig:
    """A CheckConfig from task inputs, with one clear error for each bad value."""
    from pipeline.textio import read_text

    source = inputs.get("source")
    if inputs.get("source_file"):
        source = read_text(inputs["source_file"])
    elif isinstance(source, str) and _is_path(source):
        source = read_text(source)  # a batch line's "source" is the CLI's --source FILE
    cfg = CheckConfig(
        select=codes(inputs.get("select")),
        ignore=codes(inputs.get("ignore")),
        source=source,
        audience=inputs.get("audience") or None,
    )
    for key, kind in (("length", int), ("minutes", float), ("tolerance", float), ("max_sentence", int)):
        value = inputs.get(key)
        if value is None:
            continue
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise InputError(f"{key} must be a number, not {value!r}") from None
        if number <= 0 or (key == "tolerance" and number >= 1):
            raise InputError(f"{key} must be {'between 0 and 1' if key == 'tolerance' else 'positive'}, not {value!r}")
        setattr(cfg, key, number)
    cfg.context = substance_context(inputs, source, cfg.length)
    return cfg


_CONTEXT_KEYS = ("brief", "facts", "speaker", "occasion", "points", "style", "examples")


def _items(value: Any) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [p.strip() for item in items for p in re.split(r"[,，、;；\n]", str(item)) if p.strip()]


def substance_context(inputs: dict[str, Any], source: str | None, length: int | None = None) -> SubstanceContext | None:
    """The substance rules' context from check inputs; None when none of its keys is given
    (then --source, --audience and --length make one, see check.substance.context_of)."""
    if not any(inputs.get(k) for k in _CONTEXT_KEYS):
        return None
    from pipeline.textio import read_text

    brief = inputs.get("brief") or {}
    if isinstance(brief, str):
        from pipeline.brief import load_brief_file

        brief = load_brief_file(brief)
    if not isinstance(brief, dict):
        raise InputError("brief must be a YAML/JSON brief file or a mapping")
    style = inputs.get("style") or None
    if style is not None and style not in (*STYLE_RANGES, "speech"):
        raise InputError(f"style must be one of {', '.join(STYLE_RANGES)}, not {style!r}")
    examples = [read_text(e) if _is_path(e) else e for e in _items_raw(inputs.get("examples"))]
    length = length or brief.get("length")
    return SubstanceContext(
        brief="\n".join(str(brief.get(k) or "") for k in ("tone", "date", "place", "genre")).strip(),
        facts=_items(inputs.get("facts")) + _items(brief.get("facts")),
        source=source,
        speaker=inputs.get("speaker") or brief.get("speaker") or None,
        audience=inputs.get("audience") or brief.get("audience") or None,
        occasion=inputs.get("occasion") or brief.get("occasion") or None,
        points=_items(inputs.get("points")) + _items(brief.get("points")),
        examples=examples,
        style=style,
        length=length if isinstance(length, int) and length > 0 else None,
    )


def _items_raw(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in ([value] if isinstance(value, str) else value) if str(v).strip()]


def _is_path(value: str) -> bool:
    if not value or len(value) > 1024 or "\n" in value:
        return False
    try:
        return Path(value).is_file()
    except OSError:
        return False


def _text(inputs: dict[str, Any]) -> str:
    if inputs.get("text") is not None:
        text = str(inputs["text"])
    elif inputs.get("file"):
        from pipeline.textio import read_text

        text = read_text(inputs["file"])
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


def run(inputs: dict[str, Any], ctx: TaskContext) -> TaskResult:
    text = _text(inputs)
    cfg = config_from_inputs(inputs)
    # Front matter is blanked with spaces (same length), so spans stay offsets into the text and
    # paragraph numbers count the body only; the front matter is neither checked nor changed.
    front, body = split_front_matter(text)
    blank = re.sub(r"[^\n]", " ", front)
    output: dict[str, Any] = {}
    if inputs.get("fix"):
        fixed, findings = fix_text(blank + body, cfg)
        fixed = front + fixed[len(blank):]
        output["fixed_text"] = fixed
        zi_text = fixed[len(front):]
    else:
        findings = lint(blank + body, cfg)
        zi_text = body
    from pipeline.check.base import Doc

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
