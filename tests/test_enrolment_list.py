"""A child's enrolments are kept on its row (`children.enrolment_list`, migration 0026)
by triggers on `enrolments`, and every read of the child shows that list. It must never
differ from the enrolments themselves: after recording, ending, moving (a merge) and
deleting roll entries, when two writers change one child's roll at once, and over the
whole demo area."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.config import Settings
from aphub.db import Database
from aphub.demo import load_demo
from tests.child_factories import make_area, make_child
from tests.factories import make_org

# the list as the enrolments give it, built as the record always built it
AGGREGATE = (
    "(SELECT coalesce(json_agg(json_build_object('id', e.id, 'school_id', e.school_id, "
    "'status', e.status, 'start_date', e.start_date, 'end_date', e.end_date, "
    "'hours_per_week', e.hours_per_week) "
    "ORDER BY e.start_date, e.id), '[]'::json) FROM enrolments e WHERE e.child_id = c.id)"
)
STALE = f"SELECT c.id FROM children c WHERE c.enrolment_list::text <> {AGGREGATE}::text"

INSERT = (
    "INSERT INTO enrolments (id, child_id, school_id, status, start_date) "
    "VALUES (gen_random_uuid(), :child, :school, 'S', :start)"
)


async def _stale(db: Database) -> list[Any]:
    async with db.reading() as unit:
        return [r["id"] for r in await unit.fetch(STALE)]


async def test_the_record_shows_its_roll_through_every_change(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    child = await make_child(client, area)
    other = await make_org(db, "school", local_authority_id=area.la.id)
    la = area.headers(area.la)
    r = await client.post(
        f"/v1/children/{child}/enrolments",
        json={"school_id": str(other.id), "status": "S", "start_date": "2024-01-08"},
        headers=la | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    added = r.json()["id"]
    shown = (await client.get(f"/v1/children/{child}", headers=la)).json()["enrolments"]
    assert [(e["school_id"], e["start_date"]) for e in shown] == [
        (str(area.school.id), "2023-09-01"),
        (str(other.id), "2024-01-08"),
    ]
    r = await client.post(
        f"/v1/children/{child}/enrolments/{added}/end",
        json={"end_date": "2024-03-28"},
        headers=la | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 204, r.text
    shown = (await client.get(f"/v1/children/{child}", headers=la)).json()["enrolments"]
    assert shown[1]["end_date"] == "2024-03-28"
    assert await _stale(db) == []

    # a merge moves one record's roll to the other; a deleted entry leaves the list
    survivor = await make_child(client, area, legal_first_name="Sam", enrolments=[])
    async with db.writing() as unit:
        await unit.execute(
            "UPDATE enrolments SET child_id = :to WHERE child_id = :from",
            to=uuid.UUID(survivor),
            **{"from": uuid.UUID(child)},
        )
    async with db.reading() as unit:
        lists = {
            str(r["id"]): r["enrolment_list"]
            for r in await unit.fetch(
                "SELECT id, enrolment_list::text FROM children WHERE id = ANY(:ids::uuid[])",
                ids=[uuid.UUID(child), uuid.UUID(survivor)],
            )
        }
    assert lists[child] == "[]"
    assert added in lists[survivor]
    async with db.writing() as unit:
        await unit.execute("DELETE FROM enrolments WHERE id = :id", id=uuid.UUID(added))
    assert await _stale(db) == []
    shown = (await client.get(f"/v1/children/{survivor}", headers=la)).json()["enrolments"]
    assert [e["school_id"] for e in shown] == [str(area.school.id)]


async def test_two_writers_on_one_childs_roll_both_show(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    child = uuid.UUID(await make_child(client, area, enrolments=[]))
    first_inserted = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with db.writing() as unit:
            await unit.execute(INSERT, child=child, school=area.school.id, start=date(2024, 9, 2))
            first_inserted.set()
            await release_first.wait()

    async def second() -> None:
        await first_inserted.wait()
        async with db.writing() as unit:
            # waits in the trigger for the first writer's lock on the child
            await unit.execute(INSERT, child=child, school=area.school.id, start=date(2025, 1, 6))

    writers = [asyncio.create_task(first()), asyncio.create_task(second())]
    await asyncio.sleep(0.3)
    assert not writers[1].done()  # the second writer is waiting on the first
    release_first.set()
    await asyncio.gather(*writers)
    async with db.reading() as unit:
        starts = await unit.fetchval(
            "SELECT array_agg(e->>'start_date' ORDER BY e->>'start_date') "
            "FROM children c, json_array_elements(c.enrolment_list) e WHERE c.id = :id",
            id=child,
        )
    assert starts == ["2024-09-02", "2025-01-06"]
    assert await _stale(db) == []


async def test_the_demo_areas_lists_match_their_rolls(db: Database, settings: Settings) -> None:
    assert await load_demo(db, settings, only_if_empty=True)
    async with db.reading() as unit:
        with_roll = await unit.fetchval(
            "SELECT count(*) FROM children WHERE enrolment_list::text <> '[]'"
        )
    assert with_roll > 10
    assert await _stale(db) == []
