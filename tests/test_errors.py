"""Every error from every layer is an RFC 9457 problem document; nothing sensitive leaks."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from aphub.auth.service import create_client
from aphub.config import Settings
from aphub.db import Database
from aphub.events.log import Actor
from aphub.logs import JsonFormatter
from aphub.main import create_app
from tests.factories import auth, make_org, token_for
from tests.placement_factories import make_area

PROBLEM_JSON = "application/problem+json"
MiB = 1024 * 1024
UNKNOWN_ID = "01890000-0000-7000-8000-000000000000"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str), member
        assert body[member], member
    assert body["type"].startswith("/problems/")
    return body


@pytest.fixture
async def operator_headers(client: httpx.AsyncClient, app: FastAPI, db: Database) -> dict[str, str]:
    return auth(token_for(app, await make_org(db, "operator")))


@pytest.fixture
def fresh_client() -> Callable[[FastAPI], httpx.AsyncClient]:
    """A client for an app built by the test itself (errors raised by the app are rendered,
    not re-raised into the test)."""

    def make(app: FastAPI) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url="http://hub")

    return make


class _JsonLines(logging.Handler):
    """Formats at emit time, as the hub's own handler does, so the request id is present."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def json_logs() -> Iterator[list[str]]:
    """Every log line written while the test runs, in the hub's JSON format, at DEBUG, SQL
    statements and their parameters included (as if someone turned SQL logging on)."""
    handler = _JsonLines()
    root, sql = logging.getLogger(), logging.getLogger("sqlalchemy.engine")
    levels = root.level, sql.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    sql.setLevel(logging.INFO)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        sql.setLevel(levels[1])


async def _big_chunks(count: int, size: int, sent: list[int]) -> AsyncIterator[bytes]:
    for _ in range(count):
        sent.append(size)
        yield b"x" * size


# --- the catalogue ----------------------------------------------------------------------


async def test_every_error_status_is_a_problem_document(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    database: Database,
    operator_headers: dict[str, str],
    fresh_client: Callable[[FastAPI], httpx.AsyncClient],
) -> None:
    la = await client.post(
        "/v1/organisations",
        json={"type": "local_authority", "name": "Camden", "la_code": "202"},
        headers=operator_headers,
    )
    assert la.status_code == 201
    la_id = la.json()["id"]
    school = await make_org(db, "school", local_authority_id=uuid.UUID(la_id))
    reader = auth(token_for(app, school))

    responses: dict[str, httpx.Response] = {
        "401": await client.get("/v1/organisations"),
        "403": await client.post(
            "/v1/organisations", json={"type": "trust", "name": "T"}, headers=reader
        ),
        "404 route": await client.get("/v1/no-such-thing", headers=operator_headers),
        "404 id": await client.get(f"/v1/organisations/{UNKNOWN_ID}", headers=operator_headers),
        "405": await client.delete("/v1/organisations", headers=operator_headers),
        "409": await client.post(
            "/v1/organisations",
            json={"type": "local_authority", "name": "Camden again", "la_code": "202"},
            headers=operator_headers,
        ),
        "412": await client.patch(
            f"/v1/organisations/{la_id}",
            json={"name": "Camden"},
            headers={**operator_headers, "If-Match": '"41"'},
        ),
        "413": await client.post(
            "/v1/organisations",
            content=b"{" + b" " * MiB + b"}",
            headers={**operator_headers, "Content-Type": "application/json"},
        ),
        "415": await client.post(
            "/v1/organisations",
            content=b"type=trust",
            headers={**operator_headers, "Content-Type": "text/plain"},
        ),
        "422": await client.post(
            "/v1/organisations", json={"type": "school", "urn": "12345"}, headers=operator_headers
        ),
    }
    limited_app = create_app(
        settings.model_copy(update={"rate_limit_per_minute": 2}), database=database
    )
    async with fresh_client(limited_app) as limited:
        for _ in range(3):
            last = await limited.get("/v1/organisations", headers=operator_headers)
        responses["429"] = last
    async with fresh_client(_app_with_failing_route(settings, database)) as failing:
        responses["500"] = await failing.get("/boom")

    for label, response in responses.items():
        status = int(label.split()[0])
        body = assert_problem(response, status)
        assert "Traceback" not in response.text, label
        if status == 422:
            assert body["errors"]
            for error in body["errors"]:
                assert set(error) == {"field", "message"}


# --- each layer in detail ---------------------------------------------------------------


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/nowhere"), 404)
    assert body["instance"] == "/nowhere"


async def test_wrong_method_is_405_problem_with_allow(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    r = await client.put("/v1/organisations", json={}, headers=operator_headers)

    assert_problem(r, 405)
    # every method of the path, though FastAPI registers each as a route of its own
    assert r.headers["allow"] == "GET, POST"


async def test_validation_problem_lists_each_field_with_a_message(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    r = await client.post(
        "/v1/organisations",
        json={"type": "galaxy", "name": "", "postcode": "nope"},
        headers=operator_headers,
    )

    body = assert_problem(r, 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"type", "name", "postcode"} <= fields
    assert all(e["message"] for e in body["errors"])


async def test_unparseable_json_is_422_problem(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    r = await client.post(
        "/v1/organisations",
        content=b'{"type": ',
        headers={**operator_headers, "Content-Type": "application/json"},
    )

    body = assert_problem(r, 422)
    assert body["errors"][0]["field"] == "body"


async def test_query_parameter_validation_is_422_problem(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    r = await client.get("/v1/organisations", params={"limit": 501}, headers=operator_headers)

    body = assert_problem(r, 422)
    assert body["errors"][0]["field"] == "limit"


async def test_text_containing_nul_is_422_not_500(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    """PostgreSQL text cannot hold NUL; the hub says so instead of failing."""
    r = await client.get("/v1/organisations", params={"name": "a\x00b"}, headers=operator_headers)
    assert_problem(r, 422)

    r = await client.post(
        "/v1/organisations", json={"type": "trust", "name": "a\x00b"}, headers=operator_headers
    )
    assert_problem(r, 422)

    query = "query($name: String) { organisations(name: $name) { nextCursor } }"
    r = await client.post(
        "/graphql",
        json={"query": query, "variables": {"name": "a\x00b"}},
        headers=operator_headers,
    )
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_body_over_one_mib_with_content_length_is_413_before_parsing(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    # not even JSON: the size alone decides, before anything reads the body
    r = await client.post(
        "/v1/organisations",
        content=b"x" * (MiB + 1),
        headers={**operator_headers, "Content-Type": "application/json"},
    )

    assert_problem(r, 413)


async def test_chunked_body_over_one_mib_is_413_and_not_read_to_the_end(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    sent: list[int] = []
    chunk = 64 * 1024

    r = await client.post(
        "/v1/organisations",
        content=_big_chunks(40, chunk, sent),  # 2.5 MiB, no Content-Length
        headers={**operator_headers, "Content-Type": "application/json"},
    )

    assert "content-length" not in r.request.headers
    assert_problem(r, 413)
    assert sum(sent) <= MiB + chunk, "the hub kept reading past its limit"


async def test_chunked_body_within_limit_is_accepted(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b'{"type": "trust", '
        yield b'"name": "Chunked Trust"}'

    r = await client.post(
        "/v1/organisations",
        content=body(),
        headers={**operator_headers, "Content-Type": "application/json"},
    )

    assert r.status_code == 201, r.text


async def test_wrong_content_type_is_415_problem(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    r = await client.post(
        "/v1/organisations",
        content=b'{"type": "trust", "name": "T"}',
        headers={**operator_headers, "Content-Type": "text/plain"},
    )

    body = assert_problem(r, 415)
    assert "application/json" in body["detail"]


async def test_too_many_requests_is_429_with_retry_after_and_ratelimit_headers(
    settings: Settings,
    database: Database,
    app: FastAPI,
    db: Database,
    fresh_client: Callable[[FastAPI], httpx.AsyncClient],
) -> None:
    limited_app = create_app(
        settings.model_copy(update={"rate_limit_per_minute": 2}), database=database
    )
    headers = auth(token_for(limited_app, await make_org(db, "operator")))

    async with fresh_client(limited_app) as limited:
        statuses = [
            (await limited.get("/v1/organisations", headers=headers)).status_code for _ in range(2)
        ]
        r = await limited.get("/v1/organisations", headers=headers)

    assert statuses == [200, 200]
    assert_problem(r, 429)
    assert int(r.headers["retry-after"]) >= 1
    assert r.headers["ratelimit-policy"] == '"default";q=2;w=60'
    assert r.headers["ratelimit"].startswith('"default";r=0;t=')
    assert int(r.headers["ratelimit"].rsplit("=", 1)[1]) >= 1


def _app_with_failing_route(settings: Settings, database: Database) -> FastAPI:
    app = create_app(settings, database=database)

    async def boom() -> None:
        raise RuntimeError("secret sauce: password=hunter2 at /srv/aphub/db.py")

    app.add_api_route("/boom", boom, methods=["GET"], include_in_schema=False)
    return app


async def test_unhandled_error_is_500_problem_without_internals(
    settings: Settings,
    database: Database,
    fresh_client: Callable[[FastAPI], httpx.AsyncClient],
    json_logs: list[str],
) -> None:
    async with fresh_client(_app_with_failing_route(settings, database)) as failing:
        r = await failing.get("/boom", headers={"X-Request-ID": "boom-1"})

    body = assert_problem(r, 500)
    for leak in ("secret sauce", "hunter2", "RuntimeError", "Traceback", "db.py"):
        assert leak not in r.text
    assert body["type"] == "/problems/internal-error"
    # the request id in the response finds the failure, with its traceback, in the logs
    assert r.headers["x-request-id"] == "boom-1"
    failures = [line for line in json_logs if '"exception":' in line]
    assert failures, "the failure was not logged"
    assert '"request_id":"boom-1"' in failures[0]
    assert "secret sauce" in failures[0]


# --- request ids and logs ---------------------------------------------------------------


async def test_safe_incoming_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz", headers={"X-Request-ID": "client-abc.123:x_y-z"})

    assert r.headers["x-request-id"] == "client-abc.123:x_y-z"


@pytest.mark.parametrize("incoming", [None, "has spaces", "<script>", "x" * 129, "ä"])
async def test_missing_or_unsafe_request_id_is_replaced_by_a_generated_one(
    client: httpx.AsyncClient, incoming: str | None
) -> None:
    headers = {"X-Request-ID": incoming.encode()} if incoming is not None else {}

    r = await client.get("/healthz", headers=headers)

    generated = r.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    other = await client.get("/healthz", headers=headers)
    assert other.headers["x-request-id"] != generated


async def test_error_responses_carry_the_request_id(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/organisations", headers={"X-Request-ID": "req-401"})

    assert r.status_code == 401
    assert r.headers["x-request-id"] == "req-401"


async def test_logs_never_contain_access_tokens_or_client_secrets(
    client: httpx.AsyncClient, db: Database, json_logs: list[str]
) -> None:
    operator = await make_org(db, "operator")
    async with db.writing() as uow:
        issued = await create_client(uow, operator.id, "log test", None, Actor.system("test"))

    r = await client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": issued.client.client_id,
            "client_secret": issued.client_secret,
        },
        headers={"X-Request-ID": "log-token"},
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    listed = await client.get(
        "/v1/organisations", params={"name": "x"}, headers={**auth(token), "X-Request-ID": "lt"}
    )
    assert listed.status_code == 200
    basic = await client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(issued.client.client_id, issued.client_secret),
    )
    assert basic.status_code == 200

    assert any('"logger":"sqlalchemy.engine' in line for line in json_logs)
    access = [line for line in json_logs if '"logger":"aphub.access"' in line]
    assert any('"request_id":"log-token"' in line for line in access)
    assert any('"request_id":"lt"' in line and '"status":200' in line for line in access)
    text = "\n".join(json_logs)
    for secret in (token, issued.client_secret, basic.json()["access_token"]):
        assert secret not in text
        assert secret[:24] not in text


async def test_the_access_log_names_routes_never_the_ids_in_a_path(
    client: httpx.AsyncClient, app: FastAPI, db: Database, json_logs: list[str]
) -> None:
    area = await make_area(app, db)
    r = await client.get(f"/v1/children/{area.child.id}", headers=area.la_headers)
    assert r.status_code == 200, r.text
    access = [line for line in json_logs if '"logger":"aphub.access"' in line]
    assert any('"route":"/v1/children/{child_id}"' in line for line in access)
    # the hub's own lines, SQL included (parameters hidden); not the test client's
    hubs = [line for line in json_logs if '"logger":"httpx"' not in line]
    assert str(area.child.id) not in "\n".join(hubs)
    assert "Jordan" not in "\n".join(hubs)
