"""A provider's list of placements is exactly the placements it may see, in id order.

The provider's page is not the plain visibility statement: it merges a walk of its current
placements with a walk of its recently ended ones (aphub.placements.listing), so that a
page does not grow with the provider's history. These tests hold that shape to the plain
condition (`repository.visible_ids`, the one every single-placement read uses) over every
status and end date, across cursor boundaries and with the list's filters: a branch
dropped, a window changed, or a sharing rule that admits a placement outside both walks
fails here.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.models import Child, Enrolment, Organisation, Placement
from aphub.models.placements import PLACEMENT_STATUSES
from aphub.pagination import encode_cursor
from aphub.placements import repository
from tests.factories import auth, make_org, token_for
from tests.placement_factories import make_area
from tests.placement_seeds import principal_of

# days since a placement ended: inside the provider's 90 days, and outside them
ENDED_DAYS_AGO = (0, 1, 10, 60, 85, 89, 90, 95, 120, 400, 1000)


async def _history(
    db: Database, school: Organisation, providers: list[Organisation]
) -> list[uuid.UUID]:
    """Placements of every status for each provider, ended ones at many ages, created in a
    shuffled order so that current and ended placements interleave in id order."""
    today = date.today()
    kinds: list[tuple[str, int | None]] = [
        (status, None) for status in PLACEMENT_STATUSES if status != "ended"
    ] * 3
    kinds += [("ended", days) for days in ENDED_DAYS_AGO] * 2
    rows: list[tuple[Organisation, str, int | None]] = [
        (provider, status, days) for provider in providers for status, days in kinds
    ]
    random.Random(7).shuffle(rows)
    ids = []
    async with db.writing() as uow:
        children = []
        for i in range(6):
            child = Child(
                legal_first_name=f"Listed{i}",
                legal_last_name="Child",
                date_of_birth=date(2011, 1, 1) + timedelta(days=i),
                home_la_id=school.local_authority_id,
            )
            uow.session.add(child)
            await uow.session.flush()
            uow.session.add(
                Enrolment(
                    child_id=child.id, school_id=school.id, status="C", start_date=date(2020, 9, 1)
                )
            )
            children.append(child)
        for n, (provider, status, days) in enumerate(rows):
            placement = Placement(
                child_id=children[n % len(children)].id,
                commissioner_id=school.id,
                provider_id=provider.id,
                status=status,
                legal_basis="s19_education_act_1996",
                primary_reason="medical",
                start_date=today - timedelta(days=1500),
                planned_end_date=today + timedelta(days=100),
                actual_end_date=None if days is None else today - timedelta(days=days),
            )
            uow.session.add(placement)
            await uow.session.flush()
            ids.append(placement.id)
    return ids


async def _listed(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> list[str]:
    listed: list[str] = []
    cursor = None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        r = await client.get(f"/v1/placements?limit=4{query}{suffix}", headers=headers)
        assert r.status_code == 200, r.text
        listed += [p["id"] for p in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return listed


async def test_provider_page_is_every_visible_placement(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    other = await make_org(db, "provider", local_authority_id=area.la.id)
    ids = await _history(db, area.school, [area.provider, other])
    async with db.reading() as uow:
        visible = await repository.visible_ids(uow, principal_of(area.provider), ids)
    expected = sorted(str(i) for i in visible)
    headers = auth(token_for(app, area.provider))

    listed = await _listed(client, headers, "")
    assert listed == expected  # the same rows, in id order, each once, across pages

    # what the comparison rests on: current and recently ended placements both listed,
    # older ended ones, declined and cancelled ones, and the other provider's, not
    async with db.reading() as uow:
        rows = await uow.fetch(
            "SELECT id::text, status, provider_id, actual_end_date FROM placements"
        )
    by_id = {r["id"]: r for r in rows}
    today = date.today()
    shown = {(by_id[i]["status"], by_id[i]["actual_end_date"]) for i in listed}
    assert {s for s, _ in shown} == {"requested", "offered", "active", "ended"}
    assert {today - d for s, d in shown if s == "ended"} == {
        timedelta(days=days) for days in ENDED_DAYS_AGO if days < 90
    }
    assert all(by_id[i]["provider_id"] == area.provider.id for i in listed)


async def test_provider_page_with_filters_and_cursor(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    ids = await _history(db, area.school, [area.provider])
    async with db.reading() as uow:
        visible = set(await repository.visible_ids(uow, principal_of(area.provider), ids))
        rows = await uow.fetch("SELECT id, status FROM placements")
    status_of = {r["id"]: r["status"] for r in rows}
    headers = auth(token_for(app, area.provider))
    for status in ("active", "ended", "declined"):
        listed = await _listed(client, headers, f"&status={status}")
        assert listed == sorted(str(i) for i in visible if status_of[i] == status)
    # a cursor in the middle: the rest of the list after it, from both walks
    ordered = sorted(visible)
    middle = ordered[len(ordered) // 2]
    r = await client.get(
        f"/v1/placements?limit=500&cursor={encode_cursor([str(middle)])}", headers=headers
    )
    assert [p["id"] for p in r.json()["items"]] == [str(i) for i in ordered if i > middle]
