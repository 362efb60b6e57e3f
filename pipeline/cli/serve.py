"""`speechsmith serve`: the web page for the people who write the speeches."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import CorpusOpt, PromptsOpt, info, with_model_options
from pipeline.config import ModelOptions

HELP = """Start the web page (写讲话、摘要、改写、检查、范文与素材) for writers who work in a browser.

It uses the same configuration as the other commands (the embedded model by default, or the
configured endpoint) and runs the same tasks. The embedded model serves one job at a time; the
others wait in a queue and see their position. Every result has a link that fetches it again.

Safe by default: it listens on 127.0.0.1 only. To share it on an office network, give a
--host that others can reach AND a --token (or `serve_token` in the config file, or
SPEECHSMITH_SERVE_TOKEN); then hand out the link it prints, which carries the token once and
sets a cookie. Requests without the token get 401.

Examples:

\b
  speechsmith serve                                  # http://127.0.0.1:8000
  speechsmith serve --port 8080
  speechsmith serve --host 0.0.0.0 --token "$(python -c 'import secrets; print(secrets.token_urlsafe())')"
"""


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("serve", help=HELP)(serve)


@with_model_options(full=False)
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    token: Annotated[str | None, typer.Option("--token", help="Access token every request must carry (required off the loopback).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where job results are kept (default: the user data dir).")] = None,
    no_preload: Annotated[bool, typer.Option("--no-preload", help="Load the embedded model on the first job, not at start.")] = False,
    corpus: CorpusOpt = None,
    prompts: PromptsOpt = None,
    *,
    model_opts: ModelOptions,
) -> None:
    import uvicorn

    from pipeline.config import serve_token
    from pipeline.web import ServeConfig, create_app
    from pipeline.web.security import is_loopback

    if not 0 < port < 65536:
        raise typer.BadParameter("a port is 1-65535", param_hint="--port")
    token = token or serve_token()
    config = ServeConfig(
        host=host, port=port, token=token, corpus_dir=corpus, prompts_dir=prompts, data_dir=data_dir,
        model_options=model_opts, preload=not no_preload,
    )
    app = create_app(config)  # refuses a reachable host without a token, before listening
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    link = f"http://{shown}:{port}/"
    if token:
        where = "this machine only" if is_loopback(host) else "the network: share this link only with your colleagues"
        info(f"speechsmith: serving on {link} ({where})")
        info(f"speechsmith: open {link}?token=…  (the token you gave; the page then remembers it)")
    else:
        info(f"speechsmith: serving on {link} (this machine only); Ctrl-C to stop")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
