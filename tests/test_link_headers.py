"""Every paged list answers an RFC 8288 `Link: <...>; rel="next"` beside `next_cursor`,
whether the page was built in Python or as JSON by PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from fastapi import FastAPI

from aphub.api.table import ENDPOINTS
from aphub.db import Database
from tests import child_factories as records
from tests.factories import auth, make_org, token_for

LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')
CONTRACT = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


async def _walk(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[str]:
    """Follow the Link headers from `url` to the last page; each page's ids."""
    seen: list[str] = []
    while True:
        r = await client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [item["id"] for item in page["items"]]
        link = r.headers.get("link")
        if page["next_cursor"] is None:
            assert link is None, link
            return seen
        match = LINK.match(link or "")
        assert match, link
        assert f"cursor={page['next_cursor']}" in match["url"]
        assert "limit=2" in match["url"]  # the other parameters are kept
        url = match["url"]


async def test_the_next_link_walks_a_list_built_in_python(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    for kind in ("trust", "trust", "trust", "trust", "trust"):
        await make_org(db, kind)
    headers = auth(token_for(app, operator))

    seen = await _walk(client, "/v1/organisations?type=trust&limit=2", headers)

    assert len(seen) == len(set(seen)) == 5


async def test_the_next_link_walks_a_list_built_by_postgresql(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await records.make_area(app, db)
    for n in range(3):
        await records.make_child(
            client, area, legal_first_name=f"Child{n}", date_of_birth=f"2012-03-0{n + 1}"
        )

    seen = await _walk(client, "/v1/children?limit=2", area.headers(area.la))

    assert len(seen) == len(set(seen)) == 3


def test_every_paged_list_documents_its_link_header() -> None:
    spec = json.loads(CONTRACT.read_text())
    paged = [e for e in ENDPOINTS if e.cursor_parameter is not None]
    undocumented = [
        f"{e.method} {e.path}"
        for e in paged
        if "Link"
        not in spec["paths"][e.path][e.method.lower()]["responses"]["200"].get("headers", {})
    ]

    assert len(paged) >= 20
    assert not undocumented, undocumented
