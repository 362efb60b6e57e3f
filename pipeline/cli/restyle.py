"""`speechsmith restyle`: rewrite a speech for another register, length, audience or genre."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import Format, TaskCommand, info, task_command


class Strategy(StrEnum):
    sectioned = "sectioned"
    one_call = "one-call"


HELP = """Rewrite a speech for another register, length, audience or genre without losing its facts.

Styles: plain (通俗易懂, for the public), oral (口语化, for delivery), news (a third-person
新闻通稿 about the speech), minutes (会议纪要), remarks (a 3-minute 表态发言), and any style you
add as a YAML file (see --list-styles and the README). --length and --audience combine with any
style.

Every number, date, name and quoted phrase the result keeps is checked against the source by the
pipeline: the JSON output reports kept / dropped / added facts; a passage whose rewrite loses or
invents a fact falls back to the lightly edited source passage. --strict-facts exits 1 when the
result still states a fact the source does not (e.g. a one-call model's invention).

On the embedded model every style is applied sentence by sentence: the style's deterministic
edits first (plain words for officialese, long sentences split, spoken turns, reported speech),
then the model rewrites the sentences those left unchanged, under the same fact gates (sectioned);
on an OpenAI-compatible endpoint in one call returning the whole result as JSON (one-call). Either
way the share of sentences changed is checked: a result that changed too little to be the style
is a failed check. Text copied from a news site (dateline, 全文如下, photo credits, editor lines,
one block without paragraph breaks) is cleaned and split first; news and minutes name the text's
own speaker, occasion and genre, and minutes are only for meetings.

Examples:

  speechsmith restyle 讲话.txt --style plain

  speechsmith restyle 讲话.docx --style news --speaker 县长 --date 3月5日 -o 通稿.docx

  speechsmith restyle 讲话.txt --style oral --length 800 --audience 青年干部 --diff

  speechsmith restyle 讲话.txt --style minutes --format json --strict-facts

  speechsmith restyle --list-styles
"""


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("restyle", help=HELP, no_args_is_help=True)(restyle)


@task_command()
def restyle(
    file: Annotated[
        str | None,
        typer.Argument(help="Text, Markdown, .docx or .html speech; '-' reads stdin.", show_default=False),
    ] = None,
    style: Annotated[
        str,
        typer.Option("--style", "-s", help="plain, oral, news, minutes, remarks, a style of yours, or a .yaml style file."),
    ] = "plain",
    length: Annotated[
        int | None,
        typer.Option("--length", "-l", help="Target length in 字 (met within ±20%). Default: the style's own, else the source's.", show_default=False),
    ] = None,
    audience: Annotated[
        str | None, typer.Option("--audience", "-a", help="Who listens or reads, e.g. 青年干部.", show_default=False)
    ] = None,
    speaker: Annotated[
        str | None, typer.Option("--speaker", help="Who gave the speech (news, minutes, remarks frames).", show_default=False)
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="When, e.g. 3月5日 (news, minutes). Default: 近日.", show_default=False)
    ] = None,
    occasion: Annotated[
        str | None,
        typer.Option("--occasion", help="The meeting, e.g. 全县安全生产工作会议. Default: found in the text.", show_default=False),
    ] = None,
    strict_facts: Annotated[
        bool, typer.Option("--strict-facts", help="Exit 1 when the result states a fact the source does not.")
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Show what changed, paragraph by paragraph (on stdout; the result goes to -o).")
    ] = False,
    list_styles: Annotated[
        bool, typer.Option("--list-styles", help="List the available styles and exit.")
    ] = False,
    strategy: Annotated[
        Strategy | None,
        typer.Option("--strategy", help="sectioned (default on the local model) or one-call (default on endpoints).", show_default=False),
    ] = None,
    *,
    cmd: TaskCommand,
) -> None:
    from pipeline.errors import CheckFailed

    if list_styles:
        cmd.emit(_styles_listing(cmd.prompts, cmd.fmt))
        return
    if file is None:
        raise typer.BadParameter("give a speech file, or '-' for stdin", param_hint="FILE")
    if length is not None and not 50 <= length <= 100_000:
        raise typer.BadParameter(f"{length} is out of range (50–100000 字)", param_hint="--length")
    out_format = cmd.choose_format((Format.text, Format.md, Format.json, Format.docx), file)

    from pipeline.styles import get_style
    from pipeline.tasks.restyle import TASK as RESTYLE
    from pipeline.text.textio import read_text

    chosen = get_style(style, cmd.prompts)  # a bad style fails before the model loads
    text = read_text(file)
    inp = RESTYLE.input(
        text=text, style=chosen.path or chosen.name, length=length, audience=audience,
        speaker=speaker, date=date, occasion=occasion, strategy=strategy.value if strategy else None,
    )
    result = cmd.run(RESTYLE.run, inp, "restyle")
    if cmd.dry_run:
        cmd.emit_dry_run(result, {"messages": result.output.get("messages"), **result.metadata})
        return
    rendered = render(result, out_format)
    if diff:
        from pipeline.tasks.restyle import paragraph_diff

        color = sys.stdout.isatty()
        sys.stdout.write(paragraph_diff(text, result.text, color=color))
        sys.stdout.flush()
        if cmd.output is not None:
            cmd.emit(rendered)
    else:
        cmd.emit(rendered)
    info(_summary_line(result))
    facts = result.output["facts"]
    if strict_facts and facts["added"]:
        shown = "、".join(f["text"] for f in facts["added"][:5])
        raise CheckFailed(f"the result states {len(facts['added'])} fact(s) not in the source: {shown}")
    if cmd.strict and not result.ok:
        failed = [name for name, check in result.checks.items() if not check.get("passed", True)]
        raise CheckFailed(f"check(s) failed: {', '.join(failed)}")


def render(result, out_format: Format) -> str | bytes:
    """The restyled speech as text, Markdown, docx bytes, or JSON (speech, facts, length, metadata)."""
    from pipeline.render.speech import render_speech, speech_payload
    from pipeline.speech import Speech

    speech = Speech.model_validate(result.output["speech"])
    payload = None
    if out_format is Format.json:
        payload = {
            "task": result.task,
            **speech_payload(speech, result.metadata, result.checks, result.ok),
            **{k: v for k, v in result.output.items() if k != "speech"},
        }
    return render_speech(speech, out_format.value, payload=payload)


def _summary_line(result) -> str:
    out, meta = result.output, result.metadata
    length = out["length"]
    facts = out["facts"]
    target = f", target {length['target']} → ratio {length['ratio']:.2f}" if length.get("target") else ""
    check = out.get("style_check") or {}
    style_part = f"; style {check['summary']}" if check else ""
    calls = meta.get("model_calls") or 0
    model_part = f"; {meta.get('model_sentences_kept', 0)}/{calls} model rewrite(s) kept" if calls else ""
    caught = f", {len(facts.get('caught', []))} caught and repaired" if facts.get("caught") else ""
    return (
        f"speechsmith: restyle {out['style']}: {length['zishu']}字{target}{style_part}; facts kept "
        f"{len(facts['kept'])}, dropped {len(facts['dropped'])}, added {len(facts['added'])}{caught}{model_part}"
    )


def _styles_listing(prompts: Path | None, fmt: Format | None) -> str:
    from pipeline.styles import load_styles, style_dirs

    broken: list[str] = []
    styles = load_styles(prompts, errors=broken)
    for problem in broken:
        info(f"speechsmith: skipped a broken style: {problem}")
    if fmt is Format.json:
        rows = [
            {"name": s.name, "output": s.output, "keep_structure": s.keep_structure,
             "length": s.summary(), "description": s.description, "file": s.path}
            for s in styles.values()
        ]
        return json.dumps(rows, ensure_ascii=False, indent=2)
    lines = [f"{'style':<10} {_pad('kind', 30)} description"]
    for s in styles.values():
        lines.append(f"{s.name:<10} {_pad(s.summary(), 30)} {s.description}")
    lines.append("")
    lines.append("Add a style: a YAML file in " + " or ".join(str(d) for d in style_dirs(prompts)))
    lines.append("(fields: name, description, instructions, output, keep_structure, cue, examples, length|minutes|ratio, replacements, remove, openers, frame).")
    return "\n".join(lines)


def _pad(text: str, width: int) -> str:
    # Chinese characters take two terminal columns
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - used)
