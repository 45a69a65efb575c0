"""Factories for child-record tests: a small area (home LA, a school with the child on
roll, providers, health and social care bodies), children created over the API, and
placements and involvements put straight into the database for relationships."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.models import IntendedOutcome, Organisation, Placement
from tests.factories import auth, make_org, token_for


@dataclass
class Area:
    app: FastAPI
    la: Organisation
    school: Organisation
    provider: Organisation  # gets an active placement when `placed` is asked for
    stranger: Organisation  # a provider never involved with anyone
    health: Organisation
    social_care: Organisation

    def headers(
        self, organisation: Organisation, scopes: list[str] | None = None
    ) -> dict[str, str]:
        return auth(token_for(self.app, organisation, scopes))


async def make_area(app: FastAPI, db: Database) -> Area:
    la = await make_org(db, "local_authority", la_code="801")
    return Area(
        app,
        la,
        await make_org(db, "school", local_authority_id=la.id),
        await make_org(db, "provider", local_authority_id=la.id),
        await make_org(db, "provider"),
        await make_org(db, "health"),
        await make_org(db, "social_care"),
    )


async def make_child(client: httpx.AsyncClient, area: Area, **fields: Any) -> str:
    """A resident of the area's LA on the school's roll, recorded by the LA."""
    body: dict[str, Any] = {
        "legal_first_name": "Amira",
        "legal_last_name": "Khan",
        "date_of_birth": "2012-03-04",
        "home_la_id": str(area.la.id),
        "enrolments": [
            {"school_id": str(area.school.id), "status": "C", "start_date": "2023-09-01"}
        ],
    }
    body.update(fields)
    r = await client.post("/v1/children", json=body, headers=area.headers(area.la))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def place(
    db: Database,
    child_id: str,
    *,
    commissioner: Organisation,
    provider: Organisation,
    status: str = "active",
    outcomes: int = 0,
) -> uuid.UUID:
    """A placement row, as the placements service would have left it."""
    today = date.today()
    async with db.writing() as uow:
        placement = Placement(
            child_id=uuid.UUID(child_id),
            commissioner_id=commissioner.id,
            provider_id=provider.id,
            status=status,
            legal_basis="s19_education_act_1996",
            primary_reason="permanent_exclusion",
            start_date=today - timedelta(days=30),
            planned_end_date=today + timedelta(days=60),
        )
        uow.session.add(placement)
        await uow.session.flush()
        for n in range(outcomes):
            uow.session.add(
                IntendedOutcome(
                    placement_id=placement.id,
                    description=f"Outcome {n + 1}",
                    baseline="40% attendance",
                    target="90% attendance",
                    measure="register",
                    target_date=today + timedelta(days=50),
                )
            )
    return placement.id


async def involve(
    client: httpx.AsyncClient,
    area: Area,
    child_id: str,
    organisation: Organisation,
    **fields: Any,
) -> dict[str, Any]:
    """An involvement recorded by the home LA over the API (started last year)."""
    body: dict[str, Any] = {
        "organisation_id": str(organisation.id),
        "basis": "child_in_need",
        "start_date": "2025-01-06",
    }
    body.update(fields)
    r = await client.post(
        f"/v1/children/{child_id}/involvements", json=body, headers=area.headers(area.la)
    )
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def graphql(
    client: httpx.AsyncClient, query: str, headers: dict[str, str], **variables: Any
) -> dict[str, Any]:
    r = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result
