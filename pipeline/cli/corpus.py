"""`speechsmith corpus`: the example speeches every other command learns the house style from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import CorpusOpt, TableFormat, info

_HELP = """Manage the corpus of example speeches (one Markdown file per speech in corpus/).

Collection pages (范文大全) are split into single speeches, site boilerplate and licence
footers are stripped, paragraphs broken by page layout are joined, placeholders (xx, □, 20xx …)
are recorded, and each speech is labelled from its content (genre, occasion, speaker,
audience). Correct a label by editing the file; `corpus add --update` keeps your edits.

Examples:

  speechsmith corpus add 范文大全.txt 讲话.docx 报告.html

  speechsmith corpus list --format json

  speechsmith corpus show seed-02

  speechsmith corpus remove seed-02

  speechsmith corpus search "压实安全生产责任" --function 要求
"""

_FORMAT_HELP = "table (default) or json."
FormatTableOpt = Annotated[TableFormat, typer.Option("--format", "-f", help=_FORMAT_HELP)]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    corpus = typer.Typer(help=_HELP, no_args_is_help=True, rich_markup_mode=None)
    corpus.command("add")(add)
    corpus.command("list")(list_)
    corpus.command("show")(show)
    corpus.command("stats")(stats)
    corpus.command("remove")(remove)
    corpus.command("search")(search)
    app.add_typer(corpus, name="corpus")


def _dir(corpus: Path | None) -> Path:
    from pipeline.paths import corpus_dir

    return corpus_dir(corpus)


def _existing_dir(corpus: Path | None) -> Path:
    """The corpus folder to read; a folder the user named must exist (a typo is not 'empty')."""
    import os

    from pipeline.errors import InputError

    path = _dir(corpus)
    named = corpus is not None or os.environ.get("SPEECHSMITH_CORPUS")
    if named and not path.exists():
        raise InputError(f"{path}: no such corpus folder")
    return path


def add(
    paths: Annotated[list[str], typer.Argument(metavar="PATH", help="Files to ingest (.txt .md .docx .html), folders of them, or - for stdin.", show_default=False)],
    corpus: CorpusOpt = None,
    update: Annotated[bool, typer.Option("--update", help="Re-parse speeches already in the corpus; labels you edited are kept.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be added; write nothing.")] = False,
    id_prefix: Annotated[str | None, typer.Option("--id-prefix", help="Id stem for new speeches (default: from the file name), e.g. seed -> seed-01.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also show what was stripped and which broken paragraphs were joined.")] = False,
) -> None:
    """Ingest files: split collections, clean, repair, label, refuse duplicates.

    Encodings: UTF-8 (with or without BOM), GB18030/GBK, UTF-16. A file that cannot be read gets
    one error line; the other files are still ingested, and the exit code is 2 at the end.

    Examples:

      speechsmith corpus add 范文大全.txt

      speechsmith corpus add --corpus ./my-corpus *.docx

      speechsmith corpus add --update 范文大全.txt    # re-parse, keep hand-edited labels
    """
    from pipeline.corpus.ingest import ingest

    folder = _dir(corpus)
    report = ingest(paths, folder, update=update, dry_run=dry_run, id_prefix=id_prefix)
    for o in report.outcomes:
        if o.status == "failed":
            typer.echo(f"speechsmith: error: {o.message}", err=True)
            continue
        if o.status in ("added", "updated") and o.record is not None:
            r = o.record
            verb = "would add" if dry_run and o.status == "added" else ("would update" if dry_run else o.status)
            typer.echo(f"{verb} {r.id}: {r.genre} · {r.zishu}字 · {r.title}  ({o.source})")
            if r.placeholders:
                typer.echo(f"    placeholders: {' '.join(r.placeholders)}")
        else:
            typer.echo(o.message)
        if verbose:
            for d in o.dropped:
                typer.echo(f"    stripped: {_short(d)}")
            for a, b in o.joins:
                typer.echo(f"    joined: …{a} | {b}…")
    added, dup = report.count("added"), report.count("duplicate")
    info(
        f"{'dry run: ' if dry_run else ''}{added} added, {report.count('updated')} updated, "
        f"{dup} duplicate, {len(report.failed)} failed ({folder})"
    )
    if report.failed:
        raise typer.Exit(2)


def list_(corpus: CorpusOpt = None, fmt: FormatTableOpt = TableFormat.table) -> None:
    """List the speeches: id, genre, 字数, title.

    Examples:

      speechsmith corpus list

      speechsmith corpus list --format json | jq '.[].genre'
    """
    from pipeline.corpus.store import load_corpus

    records = load_corpus(_existing_dir(corpus))
    if fmt == TableFormat.json:
        rows = [r.model_dump(exclude={"text"}) for r in records]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not records:
        info(f"the corpus {_dir(corpus)} is empty; add speeches with `speechsmith corpus add FILE`")
        return
    table = [("id", "genre", "字数", "speaker", "title")]
    table += [(r.id, r.genre, str(r.zishu), r.speaker or "-", r.title) for r in records]
    typer.echo(_table(table))


def show(
    speech_id: Annotated[str, typer.Argument(metavar="ID", help="Speech id (see `corpus list`).")],
    corpus: CorpusOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md (the file as stored, default), text or json (full text and metadata).")] = "md",
) -> None:
    """Show one speech.

    Examples:

      speechsmith corpus show seed-03

      speechsmith corpus show seed-03 --format json
    """
    from pipeline.corpus.store import get_record, record_path

    record = get_record(_dir(corpus), speech_id)  # validates the file first
    if fmt == "json":
        typer.echo(json.dumps(record.model_dump(), ensure_ascii=False, indent=2))
    elif fmt == "text":
        typer.echo(record.text)
    elif fmt == "md":
        typer.echo(record_path(_dir(corpus), speech_id).read_text(encoding="utf-8-sig"), nl=False)
    else:
        raise typer.BadParameter("use md, text or json", param_hint="--format")


def stats(corpus: CorpusOpt = None, fmt: FormatTableOpt = TableFormat.table) -> None:
    """Counts by genre, 字数 totals and placeholders.

    Example:

      speechsmith corpus stats --format json
    """
    from pipeline.corpus.store import load_corpus
    from pipeline.text.hanzi import speaking_minutes

    records = load_corpus(_existing_dir(corpus))
    by_genre: dict[str, list[int]] = {}
    for r in records:
        by_genre.setdefault(r.genre, []).append(r.zishu)
    zi = [r.zishu for r in records]
    data = {
        "corpus": str(_dir(corpus)),
        "speeches": len(records),
        "zishu_total": sum(zi),
        "zishu_median": sorted(zi)[len(zi) // 2] if zi else 0,
        "zishu_min": min(zi, default=0),
        "zishu_max": max(zi, default=0),
        "with_placeholders": sum(1 for r in records if r.placeholders),
        "genres": {g: {"speeches": len(v), "zishu": sum(v)} for g, v in sorted(by_genre.items(), key=lambda kv: -len(kv[1]))},
    }
    if fmt == TableFormat.json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"{data['speeches']} speeches, {data['zishu_total']}字 "
        f"(median {data['zishu_median']}, {data['zishu_min']}–{data['zishu_max']}; "
        f"≈{speaking_minutes(data['zishu_median'])} min each); "
        f"{data['with_placeholders']} with placeholders — {data['corpus']}"
    )
    rows = [("genre", "speeches", "字数")]
    rows += [(g, str(v["speeches"]), str(v["zishu"])) for g, v in data["genres"].items()]
    typer.echo(_table(rows))


def remove(
    speech_ids: Annotated[list[str], typer.Argument(metavar="ID", help="Speech ids to delete.")],
    corpus: CorpusOpt = None,
) -> None:
    """Delete speeches from the corpus (their files; git keeps the history).

    Example:

      speechsmith corpus remove seed-05
    """
    from pipeline.corpus.store import remove_record

    folder = _dir(corpus)
    for speech_id in speech_ids:
        path = remove_record(folder, speech_id)
        typer.echo(f"removed {speech_id} ({path})")


def search(
    query: Annotated[str, typer.Argument(metavar="QUERY", help="What to say, e.g. 压实安全生产责任.")],
    function: Annotated[str | None, typer.Option("--function", help="Only units of this function: 开场, 意义, 回顾, 问题, 要求, 措施, 号召 (结尾).")] = None,
    origin: Annotated[str, typer.Option("--from", help="all (default), corpus (your speeches) or bank (the 52 government work reports).")] = "all",
    kind: Annotated[str | None, typer.Option("--kind", help="sentence or paragraph (default: both).")] = None,
    n: Annotated[int, typer.Option("-n", help="How many units to show.")] = 20,
    corpus: CorpusOpt = None,
    fmt: FormatTableOpt = TableFormat.table,
) -> None:
    """Look up how edited texts already say a thing (the 素材库): ranked units with source and year.

    The bank holds the 52 government work reports (1954–2025, public domain); your own
    speeches come in with `corpus add` and are searchable right after.

    Examples:

      speechsmith corpus search "压实安全生产责任"

      speechsmith corpus search "隐患排查整治" --function 措施 --from bank -n 5

      speechsmith corpus search "优化营商环境" --format json
    """
    from pipeline.errors import InputError
    from pipeline.material import normalize_function, open_library

    # Every option is checked before the library opens (building an index takes seconds).
    function = normalize_function(function)
    if origin not in ("all", "corpus", "bank"):
        raise InputError(f"--from: use all, corpus or bank, not {origin!r}")
    if kind not in (None, "sentence", "paragraph"):
        raise InputError(f"--kind: use sentence or paragraph, not {kind!r}")
    if n < 1:
        raise InputError("-n: must be at least 1")
    if not query.strip():
        raise InputError("QUERY: empty; say what to look up, e.g. 压实安全生产责任")
    folder = _existing_dir(corpus) if origin != "bank" else None
    lib = open_library(folder, bank=origin != "corpus", corpus=origin != "bank")
    hits = lib.search(query, function=function, origin=origin, kind=kind, n=n)
    if fmt == TableFormat.json:
        typer.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        info(f"nothing found for {query!r} in {lib.size} units")
        return
    rows = [("#", "score", "function", "year", "source", "text")]
    rows += [
        (str(i), f"{h.score:.1f}", h.unit.function, str(h.unit.year or "-"), _short(h.unit.source, 24),
         _short(h.unit.text, 90))
        for i, h in enumerate(hits, 1)
    ]
    typer.echo(_table(rows))


def _short(text: str, n: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def _width(s: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for r in rows:
        cells = [c + " " * (w - _width(c)) for c, w in zip(r[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, r[-1]]).rstrip())
    return "\n".join(lines)
