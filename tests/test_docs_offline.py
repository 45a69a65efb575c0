"""The API docs pages (/docs, /redoc, GraphiQL) must load nothing from the internet.

Self-contained: builds its own minimal app and needs no database.  The GraphiQL
part needs the npm assets installed (`make install`, i.e. npm ci in assets/).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from aphub import docs
from aphub.docs import graphiql_html, mount_docs

HUB = "http://hub"
PAGES = ["/docs", "/redoc", "/graphql"]

# Absolute URLs allowed to appear in page text: XML namespaces are identifiers,
# never fetched.
_NAMESPACE_HOSTS = {"www.w3.org"}
_ABSOLUTE_URL = re.compile(r"(?:https?|wss?)://[\w.-]+")
_CSS_URL = re.compile(r"""url\(\s*(?P<q>["']?)(?P<url>.*?)(?P=q)\s*\)""", re.DOTALL)
_CSS_IMPORT = re.compile(r"""@import\s+(?P<q>["'])(?P<url>[^"']+)(?P=q)""")


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.urls.append(value)


def _html_urls(text: str) -> list[str]:
    parser = _LinkCollector()
    parser.feed(text)
    parser.close()
    return parser.urls


def _css_urls(text: str) -> Iterator[str]:
    for pattern in (_CSS_URL, _CSS_IMPORT):
        for match in pattern.finditer(text):
            url = match.group("url").strip()
            if url and not url.startswith(("data:", "#")):
                yield url


def _assert_local(url: str, base: str) -> str:
    absolute = urljoin(base, url)
    parts = urlsplit(absolute)
    assert parts.scheme in {"http", "https"}, f"{url!r} (in {base}) is not a hub URL"
    assert parts.netloc == "hub", f"{url!r} (in {base}) points outside the hub"
    return absolute


def _make_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, title="aphub test")

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    mount_docs(app, title="aphub test")

    @app.get("/graphql", response_class=HTMLResponse, include_in_schema=False)
    async def graphiql() -> HTMLResponse:
        return HTMLResponse(graphiql_html())

    return app


@pytest.fixture
def app() -> FastAPI:
    return _make_app()


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HUB)


@pytest.mark.asyncio
async def test_docs_pages_load_only_local_assets(app: FastAPI) -> None:
    assert docs.graphiql_assets_dir() is not None, (
        "GraphiQL npm assets are not installed: run `make install` "
        "(npm ci --prefix assets) or set APHUB_ASSETS_DIR"
    )
    async with _client(app) as client:
        for page in PAGES:
            resp = await client.get(page, headers={"Accept": "text/html"})
            assert resp.status_code == 200, page
            assert resp.headers["content-type"].startswith("text/html"), page
            text = resp.text
            assert "GraphiQL assets not installed" not in text

            # No absolute URL at all in the page, except XML namespaces.
            for match in _ABSOLUTE_URL.finditer(text):
                host = urlsplit(match.group(0)).netloc
                assert host in _NAMESPACE_HOSTS, f"{page} mentions {match.group(0)!r}"
            assert "fonts.googleapis" not in text

            urls = _html_urls(text)
            assert urls, f"{page} references no assets"
            pending = [_assert_local(url, HUB + page) for url in urls]
            seen: set[str] = set()
            while pending:
                url = pending.pop()
                if url in seen:
                    continue
                seen.add(url)
                asset = await client.get(url)
                assert asset.status_code == 200, f"{page}: {url} -> {asset.status_code}"
                assert asset.content, f"{page}: {url} is empty"
                if urlsplit(url).path.endswith(".css"):
                    pending.extend(_assert_local(u, url) for u in _css_urls(asset.text))

            if page == "/docs":
                assert f"{HUB}/static/docs/swagger-ui-bundle.js" in seen
                assert f"{HUB}/static/docs/swagger-ui.css" in seen
                assert '"validatorUrl": null' in text
            elif page == "/redoc":
                assert f"{HUB}/static/docs/redoc.standalone.js" in seen
            else:
                for name in (
                    "react.production.min.js",
                    "react-dom.production.min.js",
                    "graphiql.min.js",
                    "graphiql.min.css",
                ):
                    assert f"{HUB}/static/graphiql/{name}" in seen
                assert "GraphiQL.createFetcher" in text
                assert '"/graphql"' in text

        # The spec the pages point at is served, and the docs routes are not in it.
        spec = (await client.get("/openapi.json")).json()
        assert "/ping" in spec["paths"]
        assert not {"/docs", "/redoc"} & set(spec["paths"])


@pytest.mark.asyncio
async def test_only_allow_listed_graphiql_files_are_served(app: FastAPI) -> None:
    async with _client(app) as client:
        for path in (
            "/static/graphiql/graphiql/package.json",
            "/static/graphiql/react/package.json",
            "/static/graphiql/../package.json",
            "/static/graphiql/nope.js",
        ):
            resp = await client.get(path)
            assert resp.status_code == 404, path


@pytest.mark.asyncio
async def test_missing_graphiql_assets_degrade_gracefully(
    app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APHUB_ASSETS_DIR", str(tmp_path / "node_modules"))
    assert docs.graphiql_assets_dir() is None
    async with _client(app) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "GraphiQL assets not installed: run `make install`" in page.text
        assert "graphiql.min.js" not in page.text
        for url in _html_urls(page.text):
            _assert_local(url, HUB + "/graphql")
        missing = await client.get("/static/graphiql/graphiql.min.js")
        assert missing.status_code == 404
        # The OpenAPI pages do not depend on the npm assets.
        assert (await client.get("/docs")).status_code == 200
        assert (await client.get("/redoc")).status_code == 200
        assert (await client.get("/static/docs/swagger-ui-bundle.js")).status_code == 200


def test_graphiql_url_is_escaped_for_inline_script() -> None:
    if docs.graphiql_assets_dir() is None:
        pytest.skip("GraphiQL assets not installed")
    html = graphiql_html('/g</script><script>alert("x")</script>')
    assert "</script><script>alert" not in html
