from __future__ import annotations

from datetime import date, timedelta

import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.events.verify import verify_chain
from aphub.placements.schemas import LegalBasis
from tests.placement_factories import complete_plan, make_area, requested


async def test_permanent_exclusion_walks_the_whole_lifecycle_with_guards(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db, qa="not_assessed")
    placement = await requested(client, area)
    pid = placement["id"]
    assert placement["status"] == "requested"
    assert placement["attendance_code"] == "K"  # LA-arranged

    r = await client.post(f"/v1/placements/{pid}/offer", json={}, headers=area.provider_headers)
    assert r.status_code == 200, r.text

    r = await client.post(f"/v1/placements/{pid}/start", json={}, headers=area.provider_headers)
    assert r.status_code == 422, r.text
    missing = {e["field"] for e in r.json()["errors"]}
    assert missing == {
        "intended_outcomes",
        "exit_strategy",
        "next_review_date",
        "hours_per_week",
        "safeguarding_confirmed_on",
        "provider.qa_status",
    }

    r = await client.patch(
        f"/v1/placements/{pid}", json=complete_plan(area), headers=area.la_headers
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/placements/{pid}/start", json={}, headers=area.provider_headers)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["provider.qa_status"]

    async with db.writing() as unit:
        await unit.execute(
            "UPDATE provider_profiles SET qa_status = 'approved' "
            "WHERE organisation_id = :provider_id",
            provider_id=area.provider.id,
        )
    r = await client.post(f"/v1/placements/{pid}/start", json={}, headers=area.provider_headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"

    outcome_id = r.json()["intended_outcomes"][0]["id"]
    new_end = date.today() + timedelta(weeks=20)
    r = await client.post(
        f"/v1/placements/{pid}/reviews",
        json={
            "held_on": date.today().isoformat(),
            "attendees": ["child", "parent_carer", "commissioner", "provider"],
            "progress": [
                {
                    "outcome_id": outcome_id,
                    "rating": "developing",
                    "evidence": "Attendance 78% since start",
                }
            ],
            "child_views": "I like the workshop mornings",
            "decision": "extend",
            "next_review_date": (date.today() + timedelta(weeks=6)).isoformat(),
            "proposed_end_date": new_end.isoformat(),
        },
        headers=area.la_headers,
    )
    assert r.status_code == 201, r.text
    review_id = r.json()["id"]
    r = await client.post(
        f"/v1/placements/{pid}/extend",
        json={"review_id": review_id, "planned_end_date": new_end.isoformat()},
        headers=area.la_headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["planned_end_date"] == new_end.isoformat()

    r = await client.post(
        f"/v1/placements/{pid}/end",
        json={"end_reason": "reintegrated", "destination": "new_mainstream_school"},
        headers=area.la_headers,
    )
    assert r.status_code == 200, r.text
    ended = r.json()
    assert ended["status"] == "ended"
    assert ended["destination"] == "new_mainstream_school"

    r = await client.get(f"/v1/placements/{pid}/history", headers=area.la_headers)
    history = r.json()
    assert [h["type"] for h in history] == [
        "placement.requested",
        "placement.offered",
        "placement.varied",
        "placement.started",
        "placement.reviewed",
        "placement.extended",
        "placement.ended",
    ]
    assert [h["version"] for h in history] == list(range(1, 8))
    assert ended["version"] == 7
    actors = [h["actor"]["organisation_id"] for h in history]
    assert actors[1] == str(area.provider.id)
    assert actors[0] == str(area.la.id)
    assert all(h["occurred_at"] for h in history)
    assert (await verify_chain(db)).ok


async def test_illegal_transition_is_409_and_wrong_actor_403(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    pid = (await requested(client, area))["id"]
    r = await client.post(f"/v1/placements/{pid}/start", json={}, headers=area.provider_headers)
    assert r.status_code == 409, r.text
    r = await client.post(f"/v1/placements/{pid}/offer", json={}, headers=area.la_headers)
    assert r.status_code == 403, r.text
    r = await client.post(f"/v1/placements/{pid}/offer", json={}, headers=area.school_headers)
    assert r.status_code == 404, r.text  # the school did not commission it: not visible


async def test_a_placement_can_be_requested_under_every_legal_basis(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    for basis in LegalBasis:
        placement = await requested(client, area, legal_basis=basis.value)
        assert placement["legal_basis"] == basis.value
