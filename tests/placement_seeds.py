"""Many placements at once, through the services (not the API), for tests that need a
volume: each child on the area school's roll, each placement requested by the home LA,
offered and started by a registered provider, and reviewed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from aphub.auth.principal import Principal
from aphub.auth.scopes import DEFAULT_SCOPES
from aphub.db import Database
from aphub.models import Child, Enrolment, Organisation
from aphub.models.providers import ProviderProfile
from aphub.placements import lifecycle, reviews, service
from aphub.placements.schemas import (
    OfferAction,
    PlacementCreate,
    ReviewCreate,
    StartAction,
)
from tests.factories import make_org
from tests.placement_factories import Area, complete_plan, request_body


def principal_of(organisation: Organisation) -> Principal:
    return Principal(
        organisation_id=organisation.id,
        organisation_type=organisation.type,
        client_id=f"test-{organisation.id.hex}",
        scopes=frozenset(DEFAULT_SCOPES[organisation.type]),
    )


async def registered_provider(db: Database, area: Area) -> Organisation:
    provider = await make_org(db, "provider", local_authority_id=area.la.id)
    async with db.writing() as uow:
        uow.session.add(
            ProviderProfile(
                organisation_id=provider.id, registration_status="pru", qa_status="approved"
            )
        )
    return provider


@dataclass
class Seeded:
    placement_ids: list[uuid.UUID]
    child_ids: list[uuid.UUID]


async def seed_active_placements(
    db: Database, area: Area, providers: list[Organisation], count: int, *, children: int
) -> Seeded:
    """`count` active placements, each with one intended outcome and one review, spread over
    `children` new children and the given providers."""
    la = principal_of(area.la)
    seeded = Seeded([], [])
    async with db.writing() as uow:
        for i in range(children):
            child = Child(
                legal_first_name=f"Child{i}",
                legal_last_name="Seeded",
                date_of_birth=date(2011, 1, 1) + timedelta(days=i),
                home_la_id=area.la.id,
            )
            uow.session.add(child)
            await uow.session.flush()
            uow.session.add(
                Enrolment(
                    child_id=child.id,
                    school_id=area.school.id,
                    status="C",
                    start_date=date(2022, 9, 1),
                )
            )
            seeded.child_ids.append(child.id)
        today = date.today()
        for i in range(count):
            provider = providers[i % len(providers)]
            body: dict[str, Any] = {
                **request_body(area),
                **complete_plan(area),
                "child_id": str(seeded.child_ids[i % children]),
                "provider_id": str(provider.id),
                "hours_per_week": 10,
                "part_time_justification": "Part of a blended full-time offer",
                "part_time_parent_agreed_on": (today - timedelta(days=7)).isoformat(),
                "part_time_review_date": (today + timedelta(days=28)).isoformat(),
            }
            pid = await service.request(uow, la, PlacementCreate.model_validate(body))
            p = principal_of(provider)
            await lifecycle.offer(uow, p, pid, OfferAction(), None)
            await lifecycle.start(uow, p, pid, StartAction(), None)
            await reviews.record_review(
                uow,
                p,
                pid,
                ReviewCreate.model_validate(
                    {
                        "held_on": today.isoformat(),
                        "attendees": ["child", "provider"],
                        "decision": "continue",
                        "next_review_date": (today + timedelta(weeks=6)).isoformat(),
                    }
                ),
                None,
            )
            seeded.placement_ids.append(pid)
    return seeded
