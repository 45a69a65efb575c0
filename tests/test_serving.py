"""How every endpoint is served (`aphub.api.serve`), proved on the cases that went wrong
before it: a keyed POST counted once against the rate limit, the register honouring
Idempotency-Key, a refused transition naming its state apart from the HTTP status, an
unhandled error answered without reaching the server, an unreachable database answered
503 and recovered from, unknown query names refused, and a child read audited however
the rest of a GraphQL request fares."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.api import serve
from aphub.config import Settings
from aphub.db import Database
from aphub.main import create_app
from aphub.placements import endpoints as placement_endpoints
from tests.conftest import with_database
from tests.factories import auth, make_org, token_for
from tests.placement_factories import active, make_area, requested


def keyed(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": uuid.uuid4().hex}


@pytest.fixture
async def limited(
    settings: Settings, database: Database, clean_db: None
) -> AsyncIterator[httpx.AsyncClient]:
    """A hub allowing three requests a minute per client."""
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 3}), database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
        c.hub_app = app  # type: ignore[attr-defined]
        yield c


async def test_a_keyed_post_counts_once_against_the_rate_limit(
    limited: httpx.AsyncClient, db: Database
) -> None:
    app: FastAPI = limited.hub_app  # type: ignore[attr-defined]
    provider = await make_org(db, "provider")
    headers = auth(token_for(app, provider))
    url = f"/v1/placements/{uuid.uuid4()}/offer"
    statuses = [(await limited.post(url, json={}, headers=keyed(headers))).status_code]
    statuses += [(await limited.post(url, json={}, headers=keyed(headers))).status_code]
    statuses += [(await limited.post(url, json={}, headers=keyed(headers))).status_code]
    assert statuses == [404, 404, 404]  # three requests, three counts: none refused
    refused = await limited.post(url, json={}, headers=keyed(headers))
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers


async def test_registering_an_organisation_twice_with_one_key_registers_it_once(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    operator = auth(token_for(app, await make_org(db, "operator")))
    headers = {**operator, "Idempotency-Key": "register-once"}
    body = {"type": "trust", "name": "Thames Learning Trust"}
    first = await client.post("/v1/organisations", json=body, headers=headers)
    again = await client.post("/v1/organisations", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert await superuser.fetchval("SELECT count(*) FROM organisations WHERE type = 'trust'") == 1


async def test_a_refused_transition_names_the_state_apart_from_the_http_status(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db, registration="pru")
    placement = await active(client, area)
    r = await client.post(
        f"/v1/placements/{placement['id']}/offer", json={}, headers=area.provider_headers
    )
    assert r.status_code == 409
    problem = r.json()
    assert problem["status"] == 409
    assert problem["current_status"] == "active"


@pytest.mark.parametrize("hot", [True, False])
async def test_an_unhandled_error_is_a_500_problem_and_never_reaches_the_server(
    app: FastAPI,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    hot: bool,
) -> None:
    """The ASGI app answers and returns normally: an error raised out of it makes the
    server drop the connection, and a pipelined request with it. The endpoint's own
    serving answers it (the middleware's catch-all is the last resort, not the way)."""
    area = await make_area(app, db)

    async def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("a defect")

    if hot:  # the lean dispatch of a hot endpoint
        monkeypatch.setattr(placement_endpoints.repository, "read_json_versioned", broken)
        path = f"/v1/placements/{uuid.uuid4()}"
    else:  # FastAPI's route of another endpoint
        monkeypatch.setattr(placement_endpoints.history_service, "history", broken)
        path = f"/v1/placements/{uuid.uuid4()}/history"
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in area.la_headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("hub", 80),
        "state": {},
    }
    with caplog.at_level(logging.ERROR, logger="aphub.errors"):
        await app(scope, receive, send)  # returns: nothing raised to the server
    # logged once, where it was answered: nothing went on to the middleware's catch-all
    assert [r.getMessage() for r in caplog.records if r.name == "aphub.errors"] == [
        "unhandled error"
    ]
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 500
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"application/problem+json"
    assert b"x-request-id" in headers
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert b"a defect" not in body


async def test_an_error_in_a_route_outside_the_endpoint_table_is_a_problem_logged_once(
    settings: Settings, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """GraphQL, the docs and /metrics are served by FastAPI's own stack, inside the hub's
    middleware: FastAPI's outermost layer answers the error (as problem+json) and raises
    it on, and the hub's middleware logs it, once, without answering twice."""
    app = create_app(settings, database=database)

    async def broken() -> None:
        raise RuntimeError("a defect")

    app.add_api_route("/broken", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="aphub.errors"):
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
            r = await c.get("/broken")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 500
    assert "x-request-id" in r.headers
    assert "a defect" not in r.text
    assert [x.getMessage() for x in caplog.records if x.name == "aphub.errors"] == [
        "unhandled error"
    ]


async def test_an_unreachable_database_is_503_with_retry_after_and_the_hub_recovers(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    superuser_dsn: str,
) -> None:
    area = await make_area(app, db, registration="pru")
    placement = await requested(client, area)
    url = f"/v1/placements/{placement['id']}"
    assert (await client.get(url, headers=area.la_headers)).status_code == 200
    # the server ends every connection of the hub's pools and takes no new ones for a
    # while, as a restart would
    name = await superuser.fetchval("SELECT current_database()")
    admin = await asyncpg.connect(with_database(superuser_dsn, "postgres"))
    await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
    try:
        await superuser.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'aphub' AND pid <> pg_backend_pid()"
        )
        for _ in range(50):  # termination is a signal: wait until the backends are gone
            left = await superuser.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'aphub'"
            )
            if not left:
                break
            await asyncio.sleep(0.1)
        lost = await client.get(url, headers=area.la_headers)
        assert lost.status_code == 503, lost.text
        assert lost.headers["content-type"] == "application/problem+json"
        assert int(lost.headers["Retry-After"]) > 0
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        await admin.close()
    recovered = await client.get(url, headers=area.la_headers)
    assert recovered.status_code == 200, recovered.text


async def test_a_database_that_cannot_be_reached_at_all_is_503(
    settings: Settings, app: FastAPI, db: Database
) -> None:
    unreachable = Database(
        "postgresql+asyncpg://aphub@127.0.0.1:9/nowhere",
        settings.model_copy(update={"db_pool_size": 1}),
    )
    lost = create_app(settings, database=unreachable)
    lost.state.tokens = app.state.tokens
    la = await make_org(db, "local_authority")
    transport = httpx.ASGITransport(app=lost)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
        r = await c.get(f"/v1/placements/{uuid.uuid4()}", headers=auth(token_for(app, la)))
    assert r.status_code == 503, r.text
    assert "Retry-After" in r.headers
    await unreachable.dispose()


async def test_an_unknown_query_parameter_is_400_naming_it(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    la = auth(token_for(app, await make_org(db, "local_authority")))
    for path in ("/v1/children?changed_since=2026-01-01T00:00:00Z", "/v1/placements?uln=1"):
        r = await client.get(path, headers=la)
        assert r.status_code == 400, r.text
        name = path.split("?")[1].split("=")[0]
        assert r.json()["errors"] == [{"field": name, "message": "unknown query parameter"}]
        assert name in r.json()["detail"]


async def test_a_child_read_is_audited_whatever_a_later_graphql_field_does(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """An ORM-backed field first, then the child, then a field that fails: the child's
    read is audited as allowed all the same (a query's unit reads in autocommit)."""
    area = await make_area(app, db)
    query = (
        "query ($org: UUID!, $child: UUID!, $missing: UUID!) { organisation(id: $org) { id } "
        "child(id: $child) { id } placement(id: $missing) { id } }"
    )
    variables = {"org": str(area.la.id), "child": str(area.child.id), "missing": str(uuid.uuid4())}
    r = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=area.la_headers
    )
    result = r.json()
    assert result["data"] is None or result["data"]["child"] == {"id": str(area.child.id)}
    assert [e["extensions"]["code"] for e in result["errors"]] == ["NOT_FOUND"]
    audited = await superuser.fetch(
        "SELECT outcome, surface FROM access_log_entries WHERE child_id = $1", area.child.id
    )
    assert [(a["outcome"], a["surface"]) for a in audited] == [("allowed", "graphql")]


async def test_a_failed_mutation_keeps_the_audit_of_the_child_reads_it_made(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """A mutation is one write unit, rolled back when a field fails; the audit of the
    child it read before failing is written again after the rollback."""
    area = await make_area(app, db)
    mutation = """
    mutation ($child: UUID!) {
      updateChild(id: $child, input: {preferredName: "Jo"}) { id }
      updatePassportSection(childId: $child, section: "nope", changes: {}) { id }
    }
    """
    r = await client.post(
        "/graphql",
        json={"query": mutation, "variables": {"child": str(area.child.id)}},
        headers=area.la_headers,
    )
    assert r.json()["errors"], r.text
    assert (
        await superuser.fetchval("SELECT preferred_name FROM children WHERE id = $1", area.child.id)
        is None
    )  # rolled back
    audited = await superuser.fetch(
        "SELECT outcome FROM access_log_entries WHERE child_id = $1", area.child.id
    )
    assert [a["outcome"] for a in audited] == ["allowed"]


def test_serve_is_the_one_way_a_request_reaches_a_handler() -> None:
    """Both the FastAPI route and the lean dispatch call `serve` (no twin to drift)."""
    from aphub.api import routes

    assert routes.serve is serve.serve
