"""`speechsmith check`: lint a speech before it goes to the leader."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import (
    OutputOpt,
    TableFormat,
    check_output,
    check_outputs,
    emit,
    info,
    write_atomic,
)

_HELP = """Lint a Chinese speech: placeholders left in (xx, 20xx, 【单位名称】), numbering gaps
(一是, 二是, 四是), half-width or unbalanced punctuation, salutation and closing, repeated
sentences, over-long sentences, length and speaking time, figures not in the source, and
traditional characters in simplified text; and whether it is usable: content the brief or
source does not give (invented documents, meetings, figures, names: G), claims the speaker could
not make (V), another language or garbled words (Q), near-duplicate sentences (R105), an
example's topic or another occasion (D), a 称呼 unfit for the audience (S105), a broken length
(L103).

FILE is .txt, .md, .docx or .html, or - for stdin. Each finding shows the rule id, severity,
paragraph (¶, counting non-empty lines), an excerpt and what to do. Exit code 1 when any
error-level finding remains, 2 for unreadable input or bad options.

--fix applies the safe fixes (full-width punctuation, doubled marks, traditional to simplified
characters, -- to ——, removing a repeated paragraph): a .txt/.md file is rewritten in place
(or written to -o), a .docx is written next to it as NAME.fixed.docx (or to -o), stdin goes to
stdout (the findings then go to stderr).

Rules are chosen like ruff: --select P,N (families or ids), --ignore R103. --rules lists them.

Examples:

  speechsmith check 讲话.docx

  speechsmith check 讲话.txt --length 3000 --audience 各位代表 --format json

  speechsmith check 讲话.md --minutes 15 --source 素材.txt --ignore R103

  speechsmith check 初稿.txt --brief brief.yaml --speaker 县长 --ignore G105,G106

  speechsmith check 讲话.txt --fix -o 讲话.fixed.txt

  cat 讲话.txt | speechsmith check - --select P,N
"""

_TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text", ""}

Codes = Annotated[
    list[str] | None,
    typer.Option(help="Rule ids or prefixes, comma-separated or repeated (P, N101, U1)."),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("check", help=_HELP)(check)


def check(
    file: Annotated[str | None, typer.Argument(help="Speech file (.txt .md .docx .html), or - for stdin.", show_default=False, metavar="FILE")] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="table (default) or json.")] = TableFormat.table,
    output: OutputOpt = None,
    fix: Annotated[bool, typer.Option("--fix", help="Apply the safe fixes and write the fixed text (see above).")] = False,
    select: Annotated[list[str] | None, typer.Option("--select", help="Only these rules: ids or prefixes, e.g. P,N101.")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Skip these rules: ids or prefixes, e.g. R103.")] = None,
    length: Annotated[int | None, typer.Option("--length", help="Target length in 字 (L101), ±--tolerance.")] = None,
    minutes: Annotated[float | None, typer.Option("--minutes", help="Target speaking time in minutes at 220 字/分钟 (L102).")] = None,
    tolerance: Annotated[float | None, typer.Option("--tolerance", help="Allowed deviation for --length/--minutes (default 0.15).")] = None,
    source: Annotated[Path | None, typer.Option("--source", help="Source text: figures and names not in it are flagged (F rules).")] = None,
    max_sentence: Annotated[int, typer.Option("--max-sentence", help="Longest sentence in 字 before R103 warns.")] = 120,
    audience: Annotated[str | None, typer.Option("--audience", help="Who is addressed, e.g. 各位代表; the salutation must fit (S102).")] = None,
    brief: Annotated[Path | None, typer.Option("--brief", help="The brief (YAML/JSON, as adapt's): its facts, points, speaker and occasion bound the G rules.")] = None,
    facts: Annotated[list[str] | None, typer.Option("--facts", help="Facts the text may state (comma/、-separated or repeated); others are invented (G).")] = None,
    speaker: Annotated[str | None, typer.Option("--speaker", help="Who speaks, e.g. 县长 (V rules: claims the speaker could not make).")] = None,
    occasion: Annotated[str | None, typer.Option("--occasion", help="The occasion; a news release or minutes must name it (D102).")] = None,
    style: Annotated[str | None, typer.Option("--style", help="speech, plain, oral, remarks, news, minutes or summary: the length range of L103.")] = None,
    example: Annotated[list[str] | None, typer.Option("--example", help="An example text the model was shown (repeatable): its topics are drift (D101).")] = None,
    rules: Annotated[bool, typer.Option("--rules", help="List the rules and exit.")] = False,
) -> None:
    from pipeline.errors import InputError
    from pipeline.render.findings import counts, render_json, render_table, rules_table
    from pipeline.tasks import CheckInput, TaskContext
    from pipeline.tasks import check as task

    if rules:
        _print_rules(rules_table(), fmt)
        return
    if file is None:
        raise InputError("give a FILE to check, or - for stdin (see speechsmith check --help)")
    inp = CheckInput(
        select=select, ignore=ignore, length=length, minutes=minutes, tolerance=tolerance,
        source_file=str(source) if source else None, max_sentence=max_sentence, audience=audience,
        brief=str(brief) if brief else None, facts=facts, speaker=speaker, occasion=occasion, style=style,
        examples=example,
    )
    check_outputs(output, file, source)
    suffix = Path(file).suffix.lower() if file != "-" else ""
    if fix and output is None and file != "-" and suffix in _TEXT_SUFFIXES:
        check_output(Path(file))  # fixing in place: a read-only file stays as it is
    if fix and suffix == ".docx":
        findings, zi, wrote = _fix_docx(file, output, task.check_config(inp))
    else:
        from pipeline.text.textio import read_document

        doc = read_document(file)
        result = task.run(inp.model_copy(update={"text": doc.text, "fix": fix}), TaskContext())
        findings = result.output["findings"]
        zi = result.output["zi"]
        wrote = None
        if fix:
            wrote = _write_fixed(file, suffix, output, result.output["fixed_text"], doc.text, doc.encoding)
    name = None if file == "-" else file
    report = render_json(findings, zi=zi, name=name, fixed=bool(fix)) if fmt == TableFormat.json \
        else render_table(findings, zi=zi)
    # with the fixed text on stdout the report goes to stderr, so stdout stays the text
    to_stderr = fix and wrote == "-"
    if output is not None and not fix:
        emit(report, output)
    elif to_stderr:
        info(report)
    else:
        typer.echo(report)
    if fix and wrote not in (None, "-"):
        info(f"speechsmith: fixed text written to {wrote}")
    if counts(findings)["error"]:
        raise typer.Exit(1)


def _write_fixed(
    file: str, suffix: str, output: Path | None, fixed: str, original: str, encoding: str
) -> str | None:
    from pipeline.errors import InputError

    if output is not None:
        write_atomic(output, fixed if fixed.endswith("\n") else fixed + "\n")
        return str(output)
    if file == "-":
        emit(fixed, None)
        return "-"
    if suffix not in _TEXT_SUFFIXES:
        raise InputError(f"{file}: --fix cannot rewrite a {suffix} file in place; give -o FILE.txt")
    if fixed != original:
        # in place: keep the file's own encoding (a GBK file stays GBK for the office's tools)
        write_atomic(Path(file), fixed.encode(encoding if encoding != "docx" else "utf-8"))
        return file
    return None


def _fix_docx(file: str, output: Path | None, config):
    from pipeline.check.base import Doc
    from pipeline.check.docx_fix import fix_docx
    from pipeline.errors import InputError
    from pipeline.text.textio import read_document

    target = output or Path(file).with_name(Path(file).stem + ".fixed.docx")
    if target.suffix.lower() != ".docx":
        raise InputError(f"{target}: the fixed copy of a .docx must be a .docx file")
    check_output(target, (file,))
    read_document(file)  # the usual checks and messages (missing, empty, not a docx)
    fixed, findings, text = fix_docx(Path(file).read_bytes(), config)
    write_atomic(target, fixed)
    return findings, Doc(text).zi, str(target)


def _print_rules(rows: list[dict], fmt: TableFormat) -> None:
    if fmt == TableFormat.json:
        import json

        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from pipeline.render.findings import display_width

    width = max(display_width(r["name"]) for r in rows)
    for r in rows:
        fixable = "fix" if r["fixable"] else "   "
        typer.echo(f"{r['id']}  {r['severity']:<7}  {fixable}  {r['name']:<{width}}  {r['summary']}")
