"""Self-hosted API documentation pages: Swagger UI, ReDoc and GraphiQL.

Nothing on these pages is fetched from a CDN, so they work on a machine with no
internet access.  Third-party code is never copied into this repository; it is
installed by a package manager and served from where it was installed:

* Swagger UI and ReDoc come from the PyPI package ``fastapi-offline`` (its
  ``static/`` directory, located at runtime).  Only its files are used, not its
  app factory.
* GraphiQL, React and ReactDOM come from the npm registry, pinned in
  ``assets/package.json`` / ``assets/package-lock.json`` and installed into
  ``assets/node_modules`` (``make install``).  That directory is looked up in
  this order:

  1. ``$APHUB_ASSETS_DIR`` if set (the ``node_modules`` directory itself);
  2. ``<project root>/assets/node_modules``, the project root being the first
     parent of this file holding ``assets/package.json`` (editable installs);
  3. ``/app/assets/node_modules`` (the Docker image).

If the GraphiQL files are missing the hub still starts: ``/docs`` and
``/redoc`` work and the GraphiQL page explains how to install them.

GraphiQL is served by strawberry's ``GraphQLRouter`` on GET ``/graphql``;
override its ``render_graphql_ide`` to return :func:`graphiql_html`::

    class OfflineGraphQLRouter(GraphQLRouter[Any, Any]):
        async def render_graphql_ide(self, request: Request) -> HTMLResponse:
            return HTMLResponse(graphiql_html(request.url.path))
"""

from __future__ import annotations

import html
import importlib.resources
import json
import logging
import os
import stat
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = [
    "ASSETS_DIR_ENV",
    "DOCS_STATIC_URL",
    "GRAPHIQL_STATIC_URL",
    "graphiql_assets_dir",
    "graphiql_html",
    "mount_docs",
]

logger = logging.getLogger(__name__)

ASSETS_DIR_ENV = "APHUB_ASSETS_DIR"
DOCKER_ASSETS_DIR = Path("/app/assets/node_modules")

DOCS_STATIC_URL = "/static/docs"
GRAPHIQL_STATIC_URL = "/static/graphiql"

# URL name under /static/graphiql -> path inside node_modules.  Only these files
# are served; the rest of node_modules is not exposed.
_GRAPHIQL_FILES: dict[str, str] = {
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.css": "graphiql/graphiql.min.css",
}
# Source maps named by the bundles' sourceMappingURL comments (only fetched by
# browser dev tools); served when present, never required.
_GRAPHIQL_OPTIONAL_FILES: dict[str, str] = {
    "graphiql.min.js.map": "graphiql/graphiql.min.js.map",
    "graphiql.min.css.map": "graphiql/graphiql.min.css.map",
}

MISSING_ASSETS_MESSAGE = "GraphiQL assets not installed: run `make install`"

_warned_missing: set[tuple[str, ...]] = set()


# --------------------------------------------------------------------------- #
# Locating the installed third-party files
# --------------------------------------------------------------------------- #


def _fastapi_offline_static_dir() -> Path:
    """The ``static/`` directory of the installed ``fastapi-offline`` package."""
    static = importlib.resources.files("fastapi_offline").joinpath("static")
    if isinstance(static, Path):
        directory = static
    else:  # pragma: no cover - only for zipped or otherwise unusual installs
        import fastapi_offline

        directory = Path(fastapi_offline.__file__).resolve().parent / "static"
    if not directory.is_dir():  # pragma: no cover - broken installation
        raise RuntimeError(
            f"fastapi-offline static files not found at {directory}; "
            "reinstall the package (`make install`)"
        )
    return directory


def _project_assets_dir() -> Path | None:
    """``<project root>/assets/node_modules``, walking up from this file."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "assets" / "package.json").is_file():
            return parent / "assets" / "node_modules"
    return None


def _candidate_assets_dirs() -> list[Path]:
    configured = os.environ.get(ASSETS_DIR_ENV, "").strip()
    if configured:
        # An explicit setting is authoritative: no silent fallback elsewhere.
        return [Path(configured).expanduser()]
    candidates: list[Path] = []
    project = _project_assets_dir()
    if project is not None:
        candidates.append(project)
    if DOCKER_ASSETS_DIR not in candidates:
        candidates.append(DOCKER_ASSETS_DIR)
    return candidates


def _has_graphiql_files(directory: Path) -> bool:
    return all((directory / rel).is_file() for rel in _GRAPHIQL_FILES.values())


def graphiql_assets_dir() -> Path | None:
    """The ``node_modules`` directory holding the GraphiQL files, or None if missing."""
    candidates = _candidate_assets_dirs()
    for candidate in candidates:
        if _has_graphiql_files(candidate):
            return candidate
    key = tuple(str(c) for c in candidates)
    if key not in _warned_missing:
        _warned_missing.add(key)
        logger.warning(
            "%s (looked for %s in: %s; set %s to override)",
            MISSING_ASSETS_MESSAGE,
            ", ".join(_GRAPHIQL_FILES.values()),
            ", ".join(key),
            ASSETS_DIR_ENV,
        )
    return None


class _GraphiQLStaticFiles(StaticFiles):
    """Serve only the allow-listed GraphiQL files, under flat names.

    The node_modules directory is resolved on each lookup, so a hub started
    before ``make install`` picks the files up without a restart, and a missing
    directory gives 404s instead of a startup failure.
    """

    def __init__(self) -> None:
        super().__init__(directory=None, check_dir=False)

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        name = path.replace(os.sep, "/")
        rel = _GRAPHIQL_FILES.get(name) or _GRAPHIQL_OPTIONAL_FILES.get(name)
        if rel is None:
            return "", None
        directory = graphiql_assets_dir()
        if directory is None:
            return "", None
        full_path = directory / rel
        try:
            stat_result = full_path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return "", None
        if not stat.S_ISREG(stat_result.st_mode):
            return "", None
        return str(full_path), stat_result


# --------------------------------------------------------------------------- #
# Pages
# --------------------------------------------------------------------------- #


def _root_path(request: Request) -> str:
    root_path: str = request.scope.get("root_path", "")
    return root_path.rstrip("/")


def mount_docs(app: FastAPI, *, openapi_url: str = "/openapi.json", title: str) -> None:
    """Add ``/docs`` (Swagger UI), ``/redoc`` (ReDoc) and the static files they need.

    Mounts ``/static/docs`` (fastapi-offline's files) and ``/static/graphiql``
    (GraphiQL, React, ReactDOM from ``assets/node_modules``).  The app must be
    created with ``docs_url=None, redoc_url=None``.
    """
    docs_dir = _fastapi_offline_static_dir()
    app.mount(DOCS_STATIC_URL, StaticFiles(directory=docs_dir), name="docs-static")
    app.mount(GRAPHIQL_STATIC_URL, _GraphiQLStaticFiles(), name="graphiql-static")
    graphiql_assets_dir()  # log a warning at startup if GraphiQL is not installed

    page_title = html.escape(title)
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root_path(request)
        static = root + DOCS_STATIC_URL
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{page_title} - Swagger UI",
            swagger_js_url=f"{static}/swagger-ui-bundle.js",
            swagger_css_url=f"{static}/swagger-ui.css",
            swagger_favicon_url=f"{static}/favicon.png",
            oauth2_redirect_url=(root + oauth2_redirect_url) if oauth2_redirect_url else None,
            init_oauth=app.swagger_ui_init_oauth,
            # validatorUrl defaults to https://validator.swagger.io (an external
            # badge image); null turns it off.
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )

    async def redoc(request: Request) -> HTMLResponse:
        root = _root_path(request)
        static = root + DOCS_STATIC_URL
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{page_title} - ReDoc",
            redoc_js_url=f"{static}/redoc.standalone.js",
            redoc_favicon_url=f"{static}/favicon.png",
            with_google_fonts=False,
        )

    app.add_api_route("/docs", swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)

    if oauth2_redirect_url:

        async def swagger_ui_redirect() -> HTMLResponse:
            return get_swagger_ui_oauth2_redirect_html()

        app.add_api_route(
            oauth2_redirect_url, swagger_ui_redirect, methods=["GET"], include_in_schema=False
        )


def _js_string(value: str) -> str:
    """A JSON string literal that is safe inside an inline ``<script>``."""
    return (
        json.dumps(value)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


_PAGE_STYLE = """\
      html, body { height: 100%; margin: 0; width: 100%; overflow: hidden; }
      #graphiql { height: 100vh; display: flex; }
      .aphub-missing { font-family: system-ui, sans-serif; margin: 2rem; max-width: 40rem; }
      .aphub-missing code { background: #f2f2f2; padding: 0.1em 0.3em; }"""


def graphiql_html(
    graphql_url: str = "/graphql",
    *,
    static_url: str = GRAPHIQL_STATIC_URL,
    favicon_url: str = f"{DOCS_STATIC_URL}/favicon.png",
    title: str = "aphub GraphiQL",
) -> str:
    """The GraphiQL page, loading every file from the hub itself.

    ``static_url`` and ``favicon_url`` only need changing when the hub is served
    under a path prefix (prepend the request's ``root_path``).  If the GraphiQL
    files are not installed, the page says so instead of loading broken scripts.
    """
    page_title = html.escape(title)
    favicon = html.escape(favicon_url, quote=True)
    if graphiql_assets_dir() is None:
        return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>{page_title}</title>
    <link rel="icon" href="{favicon}" />
    <style>
{_PAGE_STYLE}
    </style>
  </head>
  <body>
    <div class="aphub-missing">
      <h1>GraphiQL unavailable</h1>
      <p>{html.escape(MISSING_ASSETS_MESSAGE)}</p>
      <p>The GraphiQL, React and ReactDOM files are installed from npm into
      <code>assets/node_modules</code> (or the directory named by
      <code>{ASSETS_DIR_ENV}</code>). The GraphQL endpoint itself still accepts
      POST requests.</p>
    </div>
  </body>
</html>
"""

    static = html.escape(static_url.rstrip("/"), quote=True)
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>{page_title}</title>
    <link rel="icon" href="{favicon}" />
    <link rel="stylesheet" href="{static}/graphiql.min.css" />
    <style>
{_PAGE_STYLE}
    </style>
    <script src="{static}/react.production.min.js"></script>
    <script src="{static}/react-dom.production.min.js"></script>
    <script src="{static}/graphiql.min.js"></script>
  </head>
  <body>
    <div id="graphiql">Loading&hellip;</div>
    <script>
      const fetcher = GraphiQL.createFetcher({{ url: {_js_string(graphql_url)} }});
      const root = ReactDOM.createRoot(document.getElementById("graphiql"));
      root.render(
        React.createElement(GraphiQL, {{
          fetcher: fetcher,
          defaultEditorToolsVisibility: true,
        }}),
      );
    </script>
  </body>
</html>
"""
