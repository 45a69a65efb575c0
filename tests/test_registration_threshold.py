"""The registration threshold, from live placement data: the directory flags an
unregistered provider over it, and the start guard refuses to take it over."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.models import Child, Placement
from tests.factories import auth, make_org, token_for
from tests.placement_factories import complete_plan, make_area, request_body, requested


async def _full_time_pupils(db: Database, area, n: int, **child: object) -> None:  # type: ignore[no-untyped-def]
    async with db.writing() as uow:
        for i in range(n):
            kid = Child(
                legal_first_name=f"Pupil{i}",
                legal_last_name="Example",
                date_of_birth=date(2011, 1, 1 + i),
                home_la_id=area.la.id,
                **child,
            )
            uow.session.add(kid)
            await uow.session.flush()
            uow.session.add(
                Placement(
                    child_id=kid.id,
                    commissioner_id=area.la.id,
                    provider_id=area.provider.id,
                    status="active",
                    legal_basis="s19_education_act_1996",
                    primary_reason="permanent_exclusion",
                    start_date=date.today() - timedelta(days=30),
                    planned_end_date=date.today() + timedelta(days=60),
                    hours_per_week=25,
                )
            )


def _alert_codes(body: dict[str, object]) -> list[str]:
    return [a["code"] for a in body["alerts"]]  # type: ignore[index, union-attr]


async def test_unregistered_provider_with_five_full_time_pupils_is_flagged(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    await _full_time_pupils(db, area, 4)
    r = await client.get(f"/v1/providers/{area.provider.id}", headers=area.school_headers)
    assert "registration_required" not in _alert_codes(r.json())
    await _full_time_pupils(db, area, 1)
    r = await client.get(f"/v1/providers/{area.provider.id}", headers=area.school_headers)
    assert "registration_required" in _alert_codes(r.json()), r.json()["alerts"]


async def test_one_full_time_looked_after_pupil_flags_an_unregistered_provider(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    await _full_time_pupils(db, area, 1, looked_after=True)
    r = await client.get(f"/v1/providers/{area.provider.id}", headers=area.school_headers)
    assert "registration_required" in _alert_codes(r.json())


async def test_registered_provider_is_never_flagged(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db, registration="independent_school")
    await _full_time_pupils(db, area, 6)
    r = await client.get(f"/v1/providers/{area.provider.id}", headers=area.school_headers)
    assert "registration_required" not in _alert_codes(r.json())


async def test_start_that_would_cross_the_threshold_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    await _full_time_pupils(db, area, 4)
    pid = (await requested(client, area, **complete_plan(area)))["id"]
    await client.post(f"/v1/placements/{pid}/offer", json={}, headers=area.provider_headers)
    r = await client.post(f"/v1/placements/{pid}/start", json={}, headers=area.provider_headers)
    assert r.status_code == 422, r.text
    assert "registration threshold" in r.json()["detail"]


async def test_concern_is_shared_with_a_commissioner_using_the_provider(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    r = await client.post("/v1/placements", json=request_body(area), headers=area.school_headers)
    assert r.status_code == 201, r.text  # the school now uses the provider
    trust = await make_org(db, "trust")
    r = await client.post(
        f"/v1/providers/{area.provider.id}/concerns",
        json={"category": "safeguarding", "severity": "high", "reason": "Unlocked fire exit"},
        headers=auth(token_for(app, trust)),
    )
    assert r.status_code == 201, r.text
    r = await client.get(f"/v1/providers/{area.provider.id}/concerns", headers=area.school_headers)
    assert [c["reason"] for c in r.json()["items"]] == ["Unlocked fire exit"]
    other_school = await make_org(db, "school")
    r = await client.get(
        f"/v1/providers/{area.provider.id}/concerns", headers=auth(token_for(app, other_school))
    )
    assert r.json()["items"] == []
