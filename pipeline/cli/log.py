"""`speechsmith log`: what every command asked the model, what it cost, what went wrong."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from pipeline.cli.common import TableFormat

log_app = typer.Typer(
    name="log",
    help=(
        "Read the run log: every model call and every attempt (re-asks, transport retries, cache "
        "hits, refusals) with prompt id/version/hash, request hash, tokens, duration, status and "
        "error. Stored in SQLite under the user data dir ($SPEECHSMITH_DATA_DIR to move it); "
        "set log = false in the config (or SPEECHSMITH_LOG=0) to stop logging.\n\n"
        "Examples:\n\n"
        "  speechsmith log list\n\n"
        "  speechsmith log list --command adapt --limit 5 --format json\n\n"
        "  speechsmith log show 42\n\n"
        "  speechsmith log prune --older-than 30"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)


@log_app.command("list")
def list_cmd(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs, newest first.")] = 20,
    command: Annotated[str | None, typer.Option("--command", help="Only runs of this command (adapt, summarize, …).")] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="table or json.")] = TableFormat.table,
) -> None:
    """List recent runs: id, start time, command, backend/model, attempts, failures, tokens, cost."""
    from pipeline.model.runlog import RunLog

    runs = RunLog().runs(limit=limit, command=command)
    if fmt is TableFormat.json:
        typer.echo(json.dumps(runs, ensure_ascii=False, indent=2))
        return
    if not runs:
        typer.echo("no runs logged yet", err=True)
        return
    rows = [("id", "started", "command", "model", "attempts", "failed", "tokens", "cost")]
    for r in runs:
        cost = (r.get("usage") or {}).get("cost")
        rows.append((
            str(r["id"]), r["started"][:19].replace("T", " "), r["command"] or "-",
            f"{r['backend']}:{r['model']}", str(r["attempts"]), str(r["failures"] or 0),
            f"{r['tokens_in']}+{r['tokens_out']}", f"{cost:.4f}" if cost else "-",
        ))
    _table(rows)


@log_app.command("show")
def show_cmd(
    run_id: Annotated[int, typer.Argument(help="Run id from `speechsmith log list`.", metavar="ID", show_default=False)],
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="table or json.")] = TableFormat.table,
) -> None:
    """Show one run with every attempt; raw replies that failed validation are printed in full."""
    from pipeline.errors import InputError
    from pipeline.model.runlog import RunLog

    run = RunLog().run(run_id)
    if run is None:
        raise InputError(f"no run {run_id} in the log (see `speechsmith log list`)")
    if fmt is TableFormat.json:
        typer.echo(json.dumps(run, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"run {run['id']}: {run['command'] or '-'} on {run['backend']}:{run['model']}, "
        f"started {run['started']}, finished {run['finished'] or '-'}"
    )
    if run.get("usage"):
        typer.echo("usage: " + ", ".join(f"{k} {v}" for k, v in run["usage"].items()))
    rows = [("#", "time", "step", "kind", "try", "status", "tokens", "ms", "prompt", "error")]
    for c in run["calls"]:
        prompt = f"{c['prompt_id']}@{c['prompt_version']}" if c["prompt_id"] else "-"
        rows.append((
            str(c["id"]), c["time"][11:23], c["step"] or "-", c["kind"] or "-", str(c["attempt"] or "-"),
            c["status"], f"{c['tokens_in'] or 0}+{c['tokens_out'] or 0}", _num(c["duration_ms"]),
            prompt, (c["error"] or "")[:100],
        ))
    _table(rows)
    for c in run["calls"]:
        if c["raw"]:
            typer.echo(f"\n--- raw output of #{c['id']} ({c['status']}: {c['error'] or ''}) ---\n{c['raw']}")


@log_app.command("prune")
def prune_cmd(
    days: Annotated[float, typer.Option("--older-than", min=0, help="Delete runs started more than this many days ago.")] = 30,
) -> None:
    """Delete old runs and their attempts, then compact the log file.

    Example: speechsmith log prune --older-than 7
    """
    from pipeline.model.runlog import RunLog

    removed = RunLog().prune(days)
    typer.echo(f"removed {removed} run(s) older than {days:g} day(s)", err=True)


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.0f}"


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def register(app: typer.Typer) -> None:
    """Add `log` to the main app."""
    app.add_typer(log_app, name="log")
