"""`speechsmith serve`: the web page and JSON API over the same tasks as the CLI.

    from pipeline.web import ServeConfig, create_app
    app = create_app(ServeConfig(port=8000))      # an ASGI app for uvicorn

Modules: app (service and app factory), jobs (the queue), tasks (the one door to the tasks),
views (what a page shows, downloads), routes_api / routes_pages / corpus_api (routes),
security (token, host, cross-site, size), uploads (file checks).
"""

from pipeline.web.app import ServeConfig, create_app

__all__ = ["ServeConfig", "create_app"]
