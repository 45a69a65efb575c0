"""The oversight page in a real browser: a local authority's officer signs in with the
LA's client credentials, and the page of the demo area shows the figures the API gives.

The hub runs as `make run` runs it (migrate, demo, serve, on a database of its own on the
test server) and Debian's `chromium` is driven by Playwright through `executable_path`
(Playwright's own browser download is not needed). Without either, the test is skipped
and says how to install them.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import with_database

APHUB = Path(sys.executable).parent / "aphub"
DATABASE = "aphub_browser"
CHROMIUM = next(
    (p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None
)

try:
    from playwright.async_api import async_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    async_playwright = None  # type: ignore[assignment]

pytestmark = pytest.mark.skipif(
    async_playwright is None or CHROMIUM is None,
    reason=(
        "needs Playwright (pip install playwright, in the dev extra) and Debian's chromium "
        "(apt-get install chromium); make test installs chromium when it may"
    ),
)


@dataclass
class Hub:
    url: str
    data_dir: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _run(env: dict[str, str], *args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        str(APHUB), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode == 0, (args, out.decode()[-2000:], err.decode()[-2000:])


@pytest.fixture
async def hub(superuser_dsn: str, tmp_path: Path) -> AsyncIterator[Hub]:
    admin = await asyncpg.connect(with_database(superuser_dsn, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    port = _free_port()
    env = {
        **os.environ,
        "APHUB_DATABASE_URL": with_database(superuser_dsn, DATABASE),
        "APHUB_DATA_DIR": str(tmp_path),
        "APHUB_JOBS": "false",
    }
    await _run(env, "migrate")
    await _run(env, "demo")
    server = await asyncio.create_subprocess_exec(
        str(APHUB),
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            for _ in range(300):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the hub did not become ready")
        yield Hub(url, tmp_path)
    finally:
        server.terminate()
        await server.wait()


def _la_client(hub: Hub) -> dict[str, Any]:
    clients = json.loads((hub.data_dir / "demo-clients.json").read_text())
    return next(c for c in clients if c["type"] == "local_authority")


async def _api(hub: Hub, client: dict[str, Any], path: str) -> Any:
    async with httpx.AsyncClient(base_url=hub.url) as http:
        r = await http.post(
            "/v1/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client["client_id"], client["client_secret"]),
        )
        assert r.status_code == 200, r.text
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        items: list[Any] = []
        url: str | None = path
        while url:
            r = await http.get(url, headers=headers)
            assert r.status_code == 200, r.text
            body = r.json()
            if "items" not in body:
                return body
            items += body["items"]
            cursor = body.get("next_cursor")
            url = f"{path}&cursor={cursor}" if cursor else None
        return items


async def test_an_la_officer_signs_in_and_the_page_shows_the_apis_figures(hub: Hub) -> None:
    la = _la_client(hub)
    assert async_playwright is not None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page()
            blocked: list[str] = []
            page.on(
                "request",
                lambda request: (
                    None if request.url.startswith(hub.url) else blocked.append(request.url)
                ),
            )
            await page.goto(f"{hub.url}/oversight")
            assert page.url.endswith("/oversight/sign-in")
            await page.fill("input[name=client_id]", la["client_id"])
            await page.fill("input[name=client_secret]", la["client_secret"])
            async with page.expect_navigation():
                await page.click("button[type=submit]")
            assert page.url == f"{hub.url}/oversight", (page.url, await page.content())
            assert await page.locator("h1").count() == 1
            shown = {
                await cell.get_attribute("data-figure"): int(await cell.inner_text())
                for cell in await page.locator("[data-figure]").all()
            }
            cookies = await page.context.cookies()
            months = {
                (await cell.get_attribute("data-value") or "")[len("month:") :]: int(
                    await cell.inner_text()
                )
                for cell in await page.locator("[data-value^='month:']").all()
            }
            action_rows = await page.locator("#needing-action tbody tr").count()
            tables = await page.locator("table").count()
            captions = await page.locator("table > caption").count()
            unscoped = await page.locator("th:not([scope])").count()
            charts = await page.locator("svg").all()
            for chart in charts:
                assert await chart.get_attribute("role") == "img"
                assert await chart.locator("title").count() == 1
            lang = await page.locator("html").get_attribute("lang")
        finally:
            await browser.close()

    overview = await _api(hub, la, "/v1/oversight/overview")
    assert shown == overview["headline"]
    assert months == {m["month"]: m["children"] for m in overview["children_by_month"]}
    assert action_rows == len(overview["needing_action"])
    # and the same figures from the API's own lists, not only from the overview
    active = await _api(hub, la, "/v1/placements?status=active&limit=500")
    assert shown["active_placements"] == len(active)
    assert shown["children_in_ap"] == len({p["child_id"] for p in active})
    assert shown["children_in_ap"] > 0  # the demo area has children in AP
    flags = await _api(hub, la, "/v1/education/flags?limit=500")
    assert shown["open_flags"] == len(flags)
    # the session cookie cannot be read by script nor sent from another site
    session = [c for c in cookies if c["name"].startswith("aphub")]
    assert session
    assert all(c["httpOnly"] and c["sameSite"] == "Strict" for c in session)
    # accessible structure: language, tables with captions and scoped headers, charts
    # as images with titles (their tables are the text alternative)
    assert lang == "en-GB"
    assert tables >= 5
    assert captions == tables
    assert unscoped == 0
    assert len(charts) >= 5
    # every asset came from the hub itself
    assert blocked == []
