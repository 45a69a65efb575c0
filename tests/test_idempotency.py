"""Acceptance 4: writes clients can retry. Idempotency-Key replays, refuses reuse with
another body, refuses a duplicate in flight; If-Match refuses a stale version; GET's ETag
is the version."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
from fastapi import FastAPI

from aphub.db import Database
from tests.placement_factories import Area, complete_plan, make_area, request_body

KEY = "Idempotency-Key"


def keyed(area: Area, key: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {**(headers or area.la_headers), KEY: key}


async def counts(superuser: asyncpg.Connection) -> tuple[int, int]:
    placements = await superuser.fetchval("SELECT count(*) FROM placements")
    events = await superuser.fetchval("SELECT count(*) FROM events")
    return placements, events


async def test_retry_with_the_same_key_and_body_replays_the_first_response_and_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    body = request_body(area)
    first = await client.post("/v1/placements", json=body, headers=keyed(area, "req-1"))
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = await client.post("/v1/placements", json=body, headers=keyed(area, "req-1"))
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"] == '"1"'
    assert await counts(superuser) == (1, 1)


async def test_retried_action_replays_and_records_one_event(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    r = await client.post("/v1/placements", json=request_body(area), headers=keyed(area, "r"))
    pid = r.json()["id"]
    url = f"/v1/placements/{pid}/offer"
    headers = keyed(area, "offer-1", area.provider_headers)
    first = await client.post(url, json={"note": "Place from Monday"}, headers=headers)
    again = await client.post(url, json={"note": "Place from Monday"}, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert first.json()["version"] == 2
    assert await counts(superuser) == (1, 2)
    # without the key, the same action is judged afresh: illegal now
    fresh = await client.post(
        url, json={"note": "Place from Monday"}, headers=area.provider_headers
    )
    assert fresh.status_code == 409


async def test_key_reused_with_another_body_is_422_naming_idempotency_key(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    r = await client.post("/v1/placements", json=request_body(area), headers=keyed(area, "k"))
    assert r.status_code == 201
    other = request_body(area, primary_reason="medical")
    r = await client.post("/v1/placements", json=other, headers=keyed(area, "k"))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert [e["field"] for e in problem["errors"]] == [KEY]
    assert "different request body" in problem["detail"]
    assert await counts(superuser) == (1, 1)


async def test_duplicate_arriving_while_the_first_is_in_flight_is_409(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """The first request holds its key's lock until it commits; here another connection
    holds it, as a first request still running would."""
    area = await make_area(app, db)
    client_id = f"test-{area.la.id.hex}"  # the client of the LA's token
    lock = "hashtextextended($1, 0)"
    await superuser.execute(f"SELECT pg_advisory_lock({lock})", f"{client_id}\ninflight")
    try:
        r = await client.post(
            "/v1/placements", json=request_body(area), headers=keyed(area, "inflight")
        )
        assert r.status_code == 409, r.text
        assert "still being processed" in r.json()["detail"]
        assert await counts(superuser) == (0, 0)
    finally:
        await superuser.execute(f"SELECT pg_advisory_unlock({lock})", f"{client_id}\ninflight")
    r = await client.post(
        "/v1/placements", json=request_body(area), headers=keyed(area, "inflight")
    )
    assert r.status_code == 201
    assert "Idempotent-Replayed" not in r.headers
    assert await counts(superuser) == (1, 1)


async def test_concurrent_duplicates_have_exactly_one_side_effect(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    body = request_body(area)
    for attempt in range(5):
        headers = keyed(area, f"race-{attempt}")
        answers = await asyncio.gather(
            *(client.post("/v1/placements", json=body, headers=headers) for _ in range(2))
        )
        statuses = sorted(r.status_code for r in answers)
        replayed = [r.headers.get("Idempotent-Replayed") for r in answers]
        assert statuses in ([201, 409], [201, 201]), statuses
        if statuses == [201, 201]:
            assert replayed.count("true") == 1
            assert answers[0].content == answers[1].content
        assert await counts(superuser) == (attempt + 1, attempt + 1)


async def test_stale_if_match_on_an_action_is_412_and_records_no_event(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    r = await client.post("/v1/placements", json=request_body(area), headers=keyed(area, "p"))
    pid = r.json()["id"]
    stale = {**area.provider_headers, "If-Match": '"0"'}
    r = await client.post(f"/v1/placements/{pid}/offer", json={}, headers=stale)
    assert r.status_code == 412, r.text
    assert "version 1" in r.json()["detail"]
    r = await client.patch(
        f"/v1/placements/{pid}",
        json=complete_plan(area),
        headers={**area.la_headers, "If-Match": '"3"'},
    )
    assert r.status_code == 412
    assert await counts(superuser) == (1, 1)
    assert await superuser.fetchval("SELECT version FROM placements") == 1
    current = {**area.provider_headers, "If-Match": '"1"'}
    r = await client.post(f"/v1/placements/{pid}/offer", json={}, headers=current)
    assert r.status_code == 200
    assert await counts(superuser) == (1, 2)


async def test_get_returns_an_etag_equal_to_the_version(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    r = await client.post("/v1/placements", json=request_body(area), headers=keyed(area, "e"))
    pid = r.json()["id"]
    r = await client.get(f"/v1/placements/{pid}", headers=area.la_headers)
    assert r.headers["ETag"] == f'"{r.json()["version"]}"' == '"1"'
    r = await client.post(f"/v1/placements/{pid}/offer", json={}, headers=area.provider_headers)
    assert r.headers["ETag"] == '"2"'
    r = await client.get(f"/v1/placements/{pid}", headers=area.provider_headers)
    assert r.headers["ETag"] == f'"{r.json()["version"]}"' == '"2"'


async def test_a_refused_request_is_not_remembered_so_its_retry_is_judged_afresh(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """The stored response commits with the change it describes: a refusal changes
    nothing, so nothing is stored, and the same key works once the refusal is put right."""
    area = await make_area(app, db)
    r = await client.post("/v1/placements", json=request_body(area), headers=keyed(area, "p"))
    pid = r.json()["id"]
    await client.post(f"/v1/placements/{pid}/offer", json={}, headers=area.provider_headers)
    start = keyed(area, "start-1", area.provider_headers)
    r = await client.post(f"/v1/placements/{pid}/start", json={}, headers=start)
    assert r.status_code == 422  # no plan yet
    r = await client.patch(
        f"/v1/placements/{pid}", json=complete_plan(area), headers=area.la_headers
    )
    assert r.status_code == 200
    r = await client.post(f"/v1/placements/{pid}/start", json={}, headers=start)
    assert r.status_code == 200, r.text
    assert "Idempotent-Replayed" not in r.headers
    stored = await superuser.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'start-1'")
    assert stored == 1


async def test_a_first_request_committing_while_the_claim_is_taken_turns_the_second_into_409(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """The claim takes the key's lock and looks the key up in one statement, whose snapshot
    is a moment older than the lock: a first request committing in that moment is not
    seen. Its stored row is there when the second keeps its own, and the second is then
    refused whole instead of acting twice. Here the superuser plays the first request:
    it holds the placement's row lock until it has stored the key and committed."""
    area = await make_area(app, db)
    r = await client.post("/v1/placements", json=request_body(area), headers=keyed(area, "p"))
    pid = r.json()["id"]
    client_id = f"test-{area.provider.id.hex}"
    first = superuser.transaction()
    await first.start()
    try:
        await superuser.execute("SELECT 1 FROM placements WHERE id = $1 FOR UPDATE", uuid.UUID(pid))
        second = asyncio.create_task(
            client.post(
                f"/v1/placements/{pid}/offer",
                json={},
                headers=keyed(area, "offer-race", area.provider_headers),
            )
        )
        for _ in range(500):  # until the second waits for the row lock, past its claim
            await superuser.execute("SELECT pg_stat_clear_snapshot()")  # fresh in a transaction
            waiting = await superuser.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND wait_event = 'transactionid'"
            )
            if waiting:
                break
            await asyncio.sleep(0.01)
        assert waiting, "the second request never waited for the row lock"
        await superuser.execute(
            "INSERT INTO idempotency_keys (client_id, key, request_hash, response_status, "
            "response_body, response_headers) VALUES ($1, 'offer-race', 'first', 200, '', '{}')",
            client_id,
        )
    finally:
        await first.commit()
    r = await second
    assert r.status_code == 409, r.text
    assert "processed meanwhile" in r.json()["detail"]
    assert await counts(superuser) == (1, 1)  # the offer rolled back with its event
    assert await superuser.fetchval("SELECT version FROM placements") == 1
    stored = await superuser.fetchval(
        "SELECT request_hash FROM idempotency_keys WHERE key = 'offer-race'"
    )
    assert stored == "first"


# The POSTs that take no Idempotency-Key, each for a reason of its own; any other is keyed.
# A new exemption is a decision to make here, in review, not a field to fill in.
NOT_KEYED = {
    ("POST", "/v1/oauth/token"),
    ("POST", "/oversight/sign-in"),
    ("POST", "/oversight/sign-out"),
}


def test_every_post_takes_an_idempotency_key_unless_exempt_for_a_stated_reason() -> None:
    from aphub.api.table import ENDPOINTS

    exempt = {(e.method, e.path): e.not_idempotent for e in ENDPOINTS if e.not_idempotent}
    assert set(exempt) == NOT_KEYED
    assert all(len(reason or "") > 20 for reason in exempt.values()), exempt
    # a reason on anything but a POST, or an empty one, means nothing
    assert [(e.method, e.path) for e in ENDPOINTS if e.not_idempotent is not None] == [
        key for key in ((e.method, e.path) for e in ENDPOINTS) if key in NOT_KEYED
    ]
    posts = [e for e in ENDPOINTS if e.method == "POST"]
    assert all(e.idempotent for e in posts if (e.method, e.path) not in NOT_KEYED)
