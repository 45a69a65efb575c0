"""Factories for placement tests: an area with an LA, a school, a child on roll and a
provider, and helpers to walk a placement through its lifecycle over the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.models import Child, Enrolment, Organisation
from aphub.models.providers import ProviderProfile
from tests.factories import auth, make_org, token_for


@dataclass
class Area:
    la: Organisation
    school: Organisation
    provider: Organisation
    child: Child
    la_headers: dict[str, str]
    school_headers: dict[str, str]
    provider_headers: dict[str, str]


async def make_area(
    app: FastAPI,
    db: Database,
    *,
    registration: str = "unregistered",
    qa: str = "approved",
    la_code: str = "801",
) -> Area:
    la = await make_org(db, "local_authority", la_code=la_code)
    school = await make_org(db, "school", local_authority_id=la.id)
    provider = await make_org(db, "provider", local_authority_id=la.id)
    async with db.writing() as uow:
        uow.session.add(
            ProviderProfile(
                organisation_id=provider.id,
                registration_status=registration,
                census_setting_type="OTH" if registration == "unregistered" else None,
                qa_status=qa,
            )
        )
        child = Child(
            legal_first_name="Jordan",
            legal_last_name="Reid",
            date_of_birth=date(2011, 5, 6),
            home_la_id=la.id,
        )
        uow.session.add(child)
        await uow.session.flush()
        uow.session.add(
            Enrolment(
                child_id=child.id, school_id=school.id, status="C", start_date=date(2022, 9, 1)
            )
        )
    return Area(
        la,
        school,
        provider,
        child,
        auth(token_for(app, la)),
        auth(token_for(app, school)),
        auth(token_for(app, provider)),
    )


def request_body(area: Area, **overrides: Any) -> dict[str, Any]:
    today = date.today()
    body: dict[str, Any] = {
        "child_id": str(area.child.id),
        "provider_id": str(area.provider.id),
        "legal_basis": "s19_education_act_1996",
        "primary_reason": "permanent_exclusion",
        "start_date": today.isoformat(),
        "planned_end_date": (today + timedelta(weeks=12)).isoformat(),
    }
    body.update(overrides)
    return body


def complete_plan(area: Area) -> dict[str, Any]:
    today = date.today()
    return {
        "hours_per_week": 25,
        "pattern": [
            {"day": d, "sessions": ["am", "pm"]}
            for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
        ],
        "intended_outcomes": [
            {
                "description": "Attend every morning session",
                "baseline": "Attendance 40% in the last term at school",
                "target": "Attendance 90%",
                "measure": "Registers returned to the hub",
                "target_date": (today + timedelta(weeks=10)).isoformat(),
            }
        ],
        "exit_strategy": {
            "intended_destination": "new_mainstream_school",
            "readiness_criteria": "Attendance above 90% for four weeks; managed move agreed",
            "planned_date": (today + timedelta(weeks=12)).isoformat(),
        },
        "next_review_date": (today + timedelta(weeks=6)).isoformat(),
        "review_frequency_weeks": 6,
        "safeguarding_confirmed_on": today.isoformat(),
    }


async def requested(client: httpx.AsyncClient, area: Area, **overrides: Any) -> dict[str, Any]:
    r = await client.post(
        "/v1/placements", json=request_body(area, **overrides), headers=area.la_headers
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def active(client: httpx.AsyncClient, area: Area) -> dict[str, Any]:
    placement = await requested(client, area, **complete_plan(area))
    pid = placement["id"]
    r = await client.post(f"/v1/placements/{pid}/offer", json={}, headers=area.provider_headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/placements/{pid}/start", json={}, headers=area.provider_headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def new_key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def review_body(**overrides: Any) -> dict[str, Any]:
    """A review held today that continues the placement, with `overrides`."""
    today = date.today()
    return {
        "held_on": today.isoformat(),
        "attendees": ["child", "provider"],
        "decision": "continue",
        "next_review_date": (today + timedelta(weeks=6)).isoformat(),
        **overrides,
    }
