"""The placement transitions served by `aphub.fastpath.write_route` (a review, and every
action): the Idempotency-Key claim that rides on the row lock replays,
refuses another body, refuses a duplicate in flight and keeps nothing from a refusal; the
body is validated as FastAPI would; and `WriteUnit` runs a carried statement whatever the
unit does first, or at its commit if it does nothing."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.routing import Match

from aphub.api import serve
from aphub.api.routes import FastPath
from aphub.db import Database
from aphub.errors import Conflict, Invalid
from aphub.idempotency import KeyClaim, Replayed
from aphub.placements import reviews
from aphub.placements.schemas import ReviewCreate
from tests.placement_factories import Area, active, make_area, requested, review_body
from tests.placement_seeds import principal_of

KEY = "Idempotency-Key"
PROBLEM_JSON = "application/problem+json"


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, KEY: key}


def client_id(area: Area) -> str:
    """The client of the area provider's token (see `tests.factories.token_for`)."""
    return f"test-{area.provider.id.hex}"


async def written(superuser: asyncpg.Connection, pid: str) -> tuple[int, int, int]:
    """The placement's version, its `placement.reviewed` events (sealed or not), and its
    review rows."""
    row = await superuser.fetchrow(
        "SELECT p.version, "
        "(SELECT count(*) FROM events e "
        " WHERE e.subject_id = p.id AND e.type = 'placement.reviewed') "
        "+ (SELECT count(*) FROM event_outbox o "
        "   WHERE o.subject_id = p.id AND o.type = 'placement.reviewed') AS reviewed, "
        "(SELECT count(*) FROM placement_reviews r WHERE r.placement_id = p.id) AS reviews "
        "FROM placements p WHERE p.id = $1",
        uuid.UUID(pid),
    )
    return row["version"], row["reviewed"], row["reviews"]


async def events_of(superuser: asyncpg.Connection, pid: str, kind: str) -> int:
    count = await superuser.fetchval(
        "SELECT (SELECT count(*) FROM events WHERE subject_id = $1 AND type = $2) "
        "+ (SELECT count(*) FROM event_outbox WHERE subject_id = $1 AND type = $2)",
        uuid.UUID(pid),
        kind,
    )
    return int(count)


async def posted_twice(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str], status: int
) -> tuple[httpx.Response, httpx.Response]:
    """The same keyed POST sent twice: the first answered afresh, the second replayed
    byte for byte."""
    first = await client.post(url, json=body, headers=headers)
    assert first.status_code == status, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = await client.post(url, json=body, headers=headers)
    assert again.status_code == status, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    return first, again


async def kept_keys(superuser: asyncpg.Connection) -> int:
    return int(await superuser.fetchval("SELECT count(*) FROM idempotency_keys"))


@pytest.fixture
def fast_path(monkeypatch: pytest.MonkeyPatch) -> list[type[BaseModel]]:
    """The body models validated, in order: proof a request was served by the endpoint
    (and its body read once)."""
    seen: list[type[BaseModel]] = []
    validate = serve.parse_body

    def spy(model: type[BaseModel], raw: bytes) -> BaseModel:
        seen.append(model)
        return validate(model, raw)

    monkeypatch.setattr(serve, "parse_body", spy)
    return seen


async def reviewing(client: httpx.AsyncClient, app: FastAPI, db: Database) -> tuple[Area, str]:
    """An area whose provider holds an active placement, and that placement's id."""
    area = await make_area(app, db, registration="pru")
    return area, (await active(client, area))["id"]


def test_the_transitions_are_routed_to_the_fast_path_first(app: FastAPI) -> None:
    actions = ["offer", "decline", "start", "extend", "end", "cancel", "propose-end"]
    fast = app.build_middleware_stack().app  # inside HubMiddleware
    assert isinstance(fast, FastPath)
    for name in ["reviews", *actions]:
        scope = {
            "type": "http",
            "method": "POST",
            "path": f"/v1/placements/{uuid.uuid4()}/{name}",
            "root_path": "",
        }
        served = [e for r, e in fast.routes if r.matches(scope)[0] is Match.FULL]
        assert len(served) == 1, name
        assert served[0].path.endswith(f"/{name}"), name
        assert served[0].hot


async def test_a_retried_review_replays_the_first_answer_and_records_one_review(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    fast_path: list[type[BaseModel]],
) -> None:
    area, pid = await reviewing(client, app, db)
    version, reviewed, reviews = await written(superuser, pid)
    assert (reviewed, reviews) == (0, 0)
    url = f"/v1/placements/{pid}/reviews"
    headers = keyed(area.provider_headers, "review-1")
    body = review_body(child_views="Settling in well")
    fast_path.clear()
    first, again = await posted_twice(client, url, body, headers, 201)
    assert again.headers["content-type"] == first.headers["content-type"]
    assert first.json()["child_views"] == "Settling in well"
    assert len(fast_path) == 2  # both went through the fast path
    assert await written(superuser, pid) == (version + 1, 1, 1)
    assert await superuser.fetchval("SELECT count(*) FROM placement_reviews") == 1
    assert await kept_keys(superuser) == 1
    read = await client.get(f"/v1/placements/{pid}", headers=area.provider_headers)
    assert read.headers["ETag"] == f'"{version + 1}"'
    assert read.json()["version"] == version + 1


async def test_a_review_key_reused_with_another_body_is_422_and_records_nothing_more(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area, pid = await reviewing(client, app, db)
    url = f"/v1/placements/{pid}/reviews"
    headers = keyed(area.provider_headers, "review-k")
    r = await client.post(url, json=review_body(), headers=headers)
    assert r.status_code == 201, r.text
    after_first = await written(superuser, pid)
    assert after_first[1:] == (1, 1)
    other = review_body(child_views="Another account of the meeting")
    r = await client.post(url, json=other, headers=headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    assert "Idempotent-Replayed" not in r.headers
    problem = r.json()
    assert [e["field"] for e in problem["errors"]] == [KEY]
    assert "different request body" in problem["detail"]
    assert await written(superuser, pid) == after_first
    assert await kept_keys(superuser) == 1


async def test_a_duplicate_review_while_the_first_is_in_flight_is_409(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """As in test_idempotency: another connection holds the key's advisory lock, as a
    first request still running would; the claim riding on the row lock cannot take it."""
    area, pid = await reviewing(client, app, db)
    before = await written(superuser, pid)
    url = f"/v1/placements/{pid}/reviews"
    headers = keyed(area.provider_headers, "inflight")
    lock = "hashtextextended($1, 0)"
    held = f"{client_id(area)}\ninflight"
    await superuser.execute(f"SELECT pg_advisory_lock({lock})", held)
    try:
        r = await client.post(url, json=review_body(), headers=headers)
        assert r.status_code == 409, r.text
        assert r.headers["content-type"] == PROBLEM_JSON
        assert "still being processed" in r.json()["detail"]
        assert await written(superuser, pid) == before
        assert await kept_keys(superuser) == 0
    finally:
        await superuser.execute(f"SELECT pg_advisory_unlock({lock})", held)
    r = await client.post(url, json=review_body(), headers=headers)
    assert r.status_code == 201, r.text
    assert "Idempotent-Replayed" not in r.headers
    assert await written(superuser, pid) == (before[0] + 1, 1, 1)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("k" * 256, "String should have at most 255 characters"),
        ("", "String should have at least 1 character"),
    ],
    ids=["256-characters", "empty"],
)
async def test_a_key_out_of_bounds_is_422_naming_the_header_and_writes_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    key: str,
    message: str,
) -> None:
    area, pid = await reviewing(client, app, db)
    before = await written(superuser, pid)
    r = await client.post(
        f"/v1/placements/{pid}/reviews",
        json=review_body(),
        headers=keyed(area.provider_headers, key),
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    assert r.json()["errors"] == [{"field": KEY, "message": message}]
    assert await written(superuser, pid) == before
    assert await kept_keys(superuser) == 0
    # the longest key allowed is taken
    r = await client.post(
        f"/v1/placements/{pid}/reviews",
        json=review_body(),
        headers=keyed(area.provider_headers, "k" * 255),
    )
    assert r.status_code == 201, r.text


def _bad_bodies() -> list[tuple[str, bytes, list[tuple[str, str | None]]]]:
    """Each bad body, and the fields (with their messages, where fixed) its 422 names."""
    return [
        ("empty", b"", [("body", "Field required")]),
        ("malformed-json", b'{"held_on": ', [("body", "JSON decode error")]),
        ("unknown-decision", orjson.dumps(review_body(decision="maybe")), [("decision", None)]),
        (
            "nul-in-text",
            orjson.dumps(review_body(child_views="a\u0000b")),
            [("body", "text must not contain NUL or unrepresentable characters")],
        ),
    ]


@pytest.mark.parametrize(
    ("raw", "errors"),
    [(raw, errors) for _, raw, errors in _bad_bodies()],
    ids=[name for name, _, _ in _bad_bodies()],
)
async def test_a_body_the_hub_cannot_take_is_422_and_writes_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    raw: bytes,
    errors: list[tuple[str, str | None]],
) -> None:
    area, pid = await reviewing(client, app, db)
    before = await written(superuser, pid)
    url = f"/v1/placements/{pid}/reviews"
    headers = {**keyed(area.provider_headers, "body-1"), "Content-Type": "application/json"}
    r = await client.post(url, content=raw, headers=headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    problem = r.json()
    assert problem["status"] == 422
    assert [e["field"] for e in problem["errors"]] == [field for field, _ in errors]
    for got, (_, message) in zip(problem["errors"], errors, strict=True):
        if message is not None:
            assert got["message"] == message
    assert await written(superuser, pid) == before
    assert await kept_keys(superuser) == 0
    # nothing was kept under the key: a good body with it is judged afresh
    r = await client.post(url, json=review_body(), headers=keyed(area.provider_headers, "body-1"))
    assert r.status_code == 201, r.text
    assert "Idempotent-Replayed" not in r.headers


@pytest.mark.parametrize("hidden", ["another-providers", "no-such-placement"])
async def test_a_keyed_review_of_a_placement_out_of_sight_is_404_and_keeps_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    hidden: str,
) -> None:
    _, pid = await reviewing(client, app, db)
    stranger = await make_area(app, db, la_code="802", registration="pru")
    own = (await active(client, stranger))["id"]
    target = pid if hidden == "another-providers" else str(uuid.uuid4())
    before = await written(superuser, pid)
    headers = keyed(stranger.provider_headers, "seen-nothing")
    r = await client.post(f"/v1/placements/{target}/reviews", json=review_body(), headers=headers)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    assert await written(superuser, pid) == before
    assert await kept_keys(superuser) == 0
    # had the 404 been kept under the key, this (another path, so another request hash)
    # would be refused as the key reused with a different body
    r = await client.post(f"/v1/placements/{own}/reviews", json=review_body(), headers=headers)
    assert r.status_code == 201, r.text
    assert "Idempotent-Replayed" not in r.headers
    assert (await written(superuser, own))[1:] == (1, 1)
    assert await written(superuser, pid) == before


async def test_a_retried_offer_through_the_fast_path_replays_body_and_etag(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    fast_path: list[type[BaseModel]],
) -> None:
    area = await make_area(app, db)
    pid = (await requested(client, area))["id"]
    url = f"/v1/placements/{pid}/offer"
    headers = keyed(area.provider_headers, "offer-1")
    body = {"note": "Place from Monday"}
    fast_path.clear()
    first, again = await posted_twice(client, url, body, headers, 200)
    assert again.headers["ETag"] == first.headers["ETag"] == '"2"'
    assert first.json()["status"] == "offered"
    assert len(fast_path) == 2
    assert await events_of(superuser, pid, "placement.offered") == 1
    assert await superuser.fetchval("SELECT version FROM placements") == 2
    # without the key, the same offer is judged afresh: illegal now
    r = await client.post(url, json=body, headers=area.provider_headers)
    assert r.status_code == 409, r.text
    assert await events_of(superuser, pid, "placement.offered") == 1


# --- the claim on a WriteUnit ---------------------------------------------------------


async def _keep_a_first_answer(
    superuser: asyncpg.Connection, client_id: str, key: str, digest: str
) -> None:
    await superuser.execute(
        "INSERT INTO idempotency_keys (client_id, key, request_hash, response_status, "
        "response_body, response_headers) VALUES ($1, $2, $3, 201, 'first', "
        """'{"content-type": "text/plain"}')""",
        client_id,
        key,
        digest,
    )


async def test_a_claim_rides_on_a_first_one_row_select_in_one_statement(db: Database) -> None:
    with db.observing() as seen:
        async with db.writing() as unit:
            unit.claim_idempotency_key(KeyClaim("c", "k1", "h"))
            row = await unit.fetchrow("SELECT :n::int AS n WHERE :n::int > 0", n=7)
            assert row == {"n": 7}  # the caller sees its own columns only
    assert len(seen) == 1  # the claim and the SELECT together (no answer to keep)
    assert "claimed AS" in seen[0]
    async with db.writing() as unit:
        unit.claim_idempotency_key(KeyClaim("c", "k2", "h"))
        assert await unit.fetchrow("SELECT :n::int AS n WHERE :n::int > 0", n=0) is None


async def test_a_claim_runs_alone_before_a_first_statement_it_cannot_ride_on(
    db: Database,
) -> None:
    with db.observing() as seen:
        async with db.writing() as unit:
            unit.claim_idempotency_key(KeyClaim("c", "k3", "h"))
            rows = await unit.fetch("SELECT generate_series(1, 3) AS n")
            assert [r["n"] for r in rows] == [1, 2, 3]
    assert "key_claimed" in seen[0]
    assert "generate_series" in seen[1]


async def test_a_claimed_key_replays_or_refuses_before_any_change(
    db: Database, superuser: asyncpg.Connection
) -> None:
    await _keep_a_first_answer(superuser, "c", "kept", "same")

    async def claiming(digest: str) -> None:
        async with db.writing() as unit:
            unit.claim_idempotency_key(KeyClaim("c", "kept", digest))
            await unit.execute("UPDATE organisations SET name = 'changed'")

    with pytest.raises(Replayed) as replayed:
        await claiming("same")
    assert replayed.value.replay.body == b"first"
    with pytest.raises(Invalid, match="different request body"):
        await claiming("another")


async def test_a_unit_that_runs_no_statement_still_checks_its_claim_at_commit(
    db: Database, superuser: asyncpg.Connection
) -> None:
    await _keep_a_first_answer(superuser, "c", "idle", "same")
    hooks: list[str] = []

    async def before_commit(_: Any) -> None:
        hooks.append("ran")

    async def idle_unit() -> None:
        async with db.writing() as unit:
            unit.before_commit(before_commit)
            unit.claim_idempotency_key(KeyClaim("c", "idle", "same"))

    with pytest.raises(Replayed):
        await idle_unit()
    assert hooks == []  # refused before the unit's last hooks


async def test_a_transition_keeping_its_answer_refuses_a_key_kept_meanwhile(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """The transition's statement keeps the answer under the key; a first request that
    committed between the claim's snapshot and its lock has kept one already (the claim
    did not see it): the statement keeps nothing, and the transition is 409, undone."""
    area, pid = await reviewing(client, app, db)
    principal = principal_of(area.provider)
    await _keep_a_first_answer(superuser, principal.client_id, "meanwhile", "x")
    before = await written(superuser, pid)

    async def review_keeping(claim: KeyClaim) -> reviews.RecordedReview:
        async with db.writing() as unit:
            claim.checked = True  # as if its claim had not seen the first request's row
            unit.claim_idempotency_key(claim)
            body = ReviewCreate.model_validate(review_body())
            return await reviews.record_review(unit, principal, uuid.UUID(pid), body, None)

    refused = KeyClaim(principal.client_id, "meanwhile", "y")
    with pytest.raises(Conflict, match="processed meanwhile"):
        await review_keeping(refused)
    assert not refused.kept
    assert await written(superuser, pid) == before  # no version, event or review

    kept = KeyClaim(principal.client_id, "fresh", "z")
    recorded = await review_keeping(kept)
    assert kept.kept
    row = await superuser.fetchrow(
        "SELECT response_status, response_body, response_headers::text AS headers "
        "FROM idempotency_keys WHERE key = 'fresh'"
    )
    assert row["response_status"] == 201
    assert bytes(row["response_body"]) == recorded.json.encode()
    assert orjson.loads(row["headers"]) == {"content-type": "application/json"}
