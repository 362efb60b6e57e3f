"""The pages: 写讲话, 摘要, 改写, 检查, 范文与素材. Server-rendered shells; the page's script
calls the JSON API (the same routes an office system uses) and streams progress."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipeline.web.uploads import ALLOWED

__all__ = ["PAGES", "register"]

PAGES = (
    ("adapt", "写讲话"),
    ("summarize", "摘要"),
    ("restyle", "改写"),
    ("check", "检查"),
    ("corpus", "范文与素材"),
)
_HEADERS = {
    "Cache-Control": "no-store",
    # Everything the page needs comes from this server: no CDN, no inline script.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def register(app: FastAPI, service: Any) -> None:
    """Add the page routes, the static assets and the offline API docs to `app`."""
    from pipeline.web.app import PACKAGE

    env = Environment(loader=FileSystemLoader(str(PACKAGE / "templates")), autoescape=select_autoescape(["html"]))
    _docs(app)  # before /static: a mount catches everything under its path
    app.mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static")

    def page(name: str, **context: Any) -> HTMLResponse:
        html = env.get_template(f"{name}.html").render(
            page=name, pages=PAGES, csrf=service.csrf, server=service.describe(),
            accept=",".join(ALLOWED), max_upload_mb=service.config.max_upload // (1024 * 1024), **context,
        )
        return HTMLResponse(html, headers=_HEADERS)

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/adapt", status_code=303)

    @app.get("/adapt", include_in_schema=False)
    async def adapt() -> HTMLResponse:
        return page("adapt")

    @app.get("/summarize", include_in_schema=False)
    async def summarize() -> HTMLResponse:
        return page("summarize")

    @app.get("/restyle", include_in_schema=False)
    async def restyle() -> HTMLResponse:
        from pipeline.styles import load_styles

        errors: list[str] = []
        styles = load_styles(service.prompts, errors=errors)
        return page("restyle", styles=sorted(styles.values(), key=lambda s: s.name))

    @app.get("/check", include_in_schema=False)
    async def check() -> HTMLResponse:
        return page("check")

    @app.get("/corpus", include_in_schema=False)
    async def corpus() -> HTMLResponse:
        from pipeline.web.corpus_api import material_available

        functions: tuple[str, ...] = ()
        if material_available():
            from pipeline.material import FUNCTIONS as functions
        return page("corpus", material=material_available(), functions=functions)

    @app.get("/jobs/{job_id}", include_in_schema=False)
    async def job(job_id: str) -> Response:
        found = service.queue.get(job_id)
        if found is None:
            return HTMLResponse("<!doctype html><meta charset=utf-8><p>没有这个任务。</p>", status_code=404)
        return RedirectResponse(f"/{found.task}?job={found.id}", status_code=303)


def _docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the files fastapi-offline ships (FastAPI's default fetches them
    from a CDN, which an offline intranet cannot reach)."""
    from pathlib import Path

    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html

    static = Path(fastapi_offline.__file__).resolve().parent / "static"
    app.mount("/static/swagger", StaticFiles(directory=str(static)), name="swagger")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="speechsmith API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )
