"""`speechsmith config`: the effective model configuration, with secrets masked."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from pipeline.cli.common import TableFormat, with_model_options
from pipeline.config import ModelOptions

config_app = typer.Typer(
    name="config",
    help=(
        "Show the effective model configuration and where each value comes from.\n\n"
        "Resolution order: command-line flags > environment (SPEECHSMITH_*, then OPENAI_*) > "
        "config file (TOML; `speechsmith config path`) > defaults. API keys are never printed.\n\n"
        "Examples:\n\n"
        "  speechsmith config show\n\n"
        "  OPENAI_BASE_URL=http://127.0.0.1:8000/v1 speechsmith config show --format json\n\n"
        "  speechsmith config path"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)


@config_app.command("show")
@with_model_options(full=False)
def show_cmd(
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="table or json.")] = TableFormat.table,
    *,
    model_opts: ModelOptions,
) -> None:
    """Print every setting with its value and source (flag, env VAR, config, default, auto).

    Flags given here are applied as a command would apply them, so you can check what
    `--backend openai --model deepseek-chat` resolves to.
    """
    from pipeline.config import resolve

    shown = resolve(model_opts).show()
    if fmt is TableFormat.json:
        typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    rows = [(k, _fmt(v["value"]), v["source"]) for k, v in shown.items() if isinstance(v, dict) and "source" in v]
    width = max(len(k) for k, _, _ in rows)
    vwidth = max(len(v) for _, v, _ in rows)
    for key, value, source in rows:
        typer.echo(f"{key:<{width}}  {value:<{vwidth}}  ({source})")
    typer.echo(f"{'config_file':<{width}}  {shown['config_file']}")
    for name, info in shown["models"].items():
        typer.echo(f"[models.{json.dumps(name, ensure_ascii=False)}] " + ", ".join(f"{k} = {v}" for k, v in info.items()))


@config_app.command("path")
def path_cmd() -> None:
    """Print the config file's path (it need not exist; create it to set defaults)."""
    from pipeline.paths import config_file

    typer.echo(str(config_file()))


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def register(app: typer.Typer) -> None:
    """Add `config` to the main app."""
    app.add_typer(config_app, name="config")
