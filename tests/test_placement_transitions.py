"""The machinery every placement transition shares: the answer is the placement (or the
review) as the change left it, one version and one event per change, and a refusal
(404, 403, 409, 412, 422) writes nothing."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.models import Placement
from aphub.placements.repository import COLUMNS, LockedPlacement
from tests.placement_factories import (
    Area,
    active,
    make_area,
    new_key,
    request_body,
    requested,
    review_body,
)


async def written(superuser: asyncpg.Connection, pid: str) -> tuple[int, int, int]:
    """The placement's version, its events (sealed or not) and its reviews."""
    row = await superuser.fetchrow(
        "SELECT p.version, "
        "(SELECT count(*) FROM events e WHERE e.subject_id = p.id) "
        "+ (SELECT count(*) FROM event_outbox o WHERE o.subject_id = p.id) AS events, "
        "(SELECT count(*) FROM placement_reviews r WHERE r.placement_id = p.id) AS reviews "
        "FROM placements p WHERE p.id = $1",
        uuid.UUID(pid),
    )
    return row["version"], row["events"], row["reviews"]


def test_the_locked_row_reads_every_column_of_a_placement() -> None:
    assert set(COLUMNS) == set(Placement.__table__.columns.keys())
    assert set(COLUMNS) <= set(LockedPlacement.__annotations__)


async def test_an_action_answers_with_the_placement_as_a_read_then_shows_it(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    pid = (await requested(client, area))["id"]
    r = await client.post(
        f"/v1/placements/{pid}/offer",
        json={"note": "Mornings first"},
        headers={**area.provider_headers, **new_key()},
    )
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"2"'
    read = await client.get(f"/v1/placements/{pid}", headers=area.provider_headers)
    assert r.json() == read.json()
    assert r.json()["status"] == "offered"


async def test_declining_answers_with_what_it_did_though_the_provider_no_longer_sees_it(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    pid = (await requested(client, area))["id"]
    r = await client.post(
        f"/v1/placements/{pid}/decline", json={"reason": "Full"}, headers=area.provider_headers
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["closing_note"], r.json()["version"]) == (
        "declined",
        "Full",
        2,
    )
    assert r.headers["ETag"] == '"2"'
    gone = await client.get(f"/v1/placements/{pid}", headers=area.provider_headers)
    assert gone.status_code == 404


async def test_a_review_answers_as_the_list_shows_it_and_moves_the_version_once(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db, registration="pru")
    placement = await active(client, area)
    pid, outcome_id = placement["id"], placement["intended_outcomes"][0]["id"]
    before = await written(superuser, pid)
    next_review = (date.today() + timedelta(weeks=4)).isoformat()
    body = review_body(
        next_review_date=next_review,
        progress=[{"outcome_id": outcome_id, "rating": "secure"}],
        attendance_percent=86.5,
        actions=[{"description": "Call home", "owner": "Key worker", "due_date": next_review}],
    )
    headers = {**area.provider_headers, **new_key()}
    r = await client.post(f"/v1/placements/{pid}/reviews", json=body, headers=headers)
    assert r.status_code == 201, r.text
    listed = await client.get(f"/v1/placements/{pid}/reviews", headers=area.la_headers)
    assert listed.json() == [r.json()]
    assert r.json()["recorded_by_id"] == str(area.provider.id)
    assert await written(superuser, pid) == (before[0] + 1, before[1] + 1, 1)
    read = (await client.get(f"/v1/placements/{pid}", headers=area.la_headers)).json()
    assert read["next_review_date"] == next_review
    history = (await client.get(f"/v1/placements/{pid}/history", headers=area.la_headers)).json()
    assert history[-1]["type"] == "placement.reviewed"
    assert history[-1]["data"]["review_id"] == r.json()["id"]
    assert history[-1]["version"] == read["version"]

    again = await client.post(f"/v1/placements/{pid}/reviews", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == r.content
    assert await written(superuser, pid) == (before[0] + 1, before[1] + 1, 1)


async def test_refused_reviews_write_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db, registration="pru")
    pid = (await active(client, area))["id"]
    stranger = await make_area(app, db, la_code="802")
    before = await written(superuser, pid)
    url = f"/v1/placements/{pid}/reviews"
    unknown = [{"outcome_id": str(uuid.uuid4()), "rating": "secure"}]
    refusals: list[tuple[dict[str, str], dict[str, Any], int]] = [
        (area.provider_headers, review_body(progress=unknown), 422),
        ({**area.provider_headers, "If-Match": '"1"'}, review_body(), 412),
        (stranger.provider_headers, review_body(), 404),
        (stranger.la_headers, review_body(), 404),
    ]
    for headers, body, status in refusals:
        r = await client.post(url, json=body, headers={**headers, **new_key()})
        assert r.status_code == status, (status, r.text)
    problem = (
        await client.post(
            url, json=review_body(progress=unknown), headers={**area.provider_headers, **new_key()}
        )
    ).json()
    assert [e["field"] for e in problem["errors"]] == ["progress.0.outcome_id"]
    assert await written(superuser, pid) == before


async def test_a_review_of_a_placement_not_active_is_409_and_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    pid = (await requested(client, area))["id"]
    r = await client.post(
        f"/v1/placements/{pid}/reviews", json=review_body(), headers=area.provider_headers
    )
    assert r.status_code == 409, r.text
    assert await written(superuser, pid) == (1, 1, 0)


async def test_the_home_la_acts_for_its_resident_on_a_school_commissioned_placement(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """The home LA's right to act as commissioner comes with the locked row."""
    area = await make_area(app, db)
    r = await client.post(
        "/v1/placements", json=request_body(area), headers={**area.school_headers, **new_key()}
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    stranger: Area = await make_area(app, db, la_code="802")
    r = await client.post(
        f"/v1/placements/{pid}/cancel", json={"reason": "No"}, headers=stranger.la_headers
    )
    assert r.status_code == 404
    r = await client.post(
        f"/v1/placements/{pid}/cancel", json={"reason": "No"}, headers=area.provider_headers
    )
    assert r.status_code == 403, r.text
    assert await written(superuser, pid) == (1, 1, 0)
    r = await client.post(
        f"/v1/placements/{pid}/cancel",
        json={"reason": "A school place was found"},
        headers=area.la_headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["version"]) == ("cancelled", 2)
    assert await written(superuser, pid) == (2, 2, 0)
