"""Who sees attendance: every kind of organisation against a child with an active, a
recently ended and a long-ended placement, on every attendance read (REST and GraphQL).

The truth tables are written by hand from sharing.md, not computed by the code under test:
- a placement's marks, summary and concerns follow placement visibility (its commissioner,
  the child's home LA, the host LA of a current placement, its provider while the
  provider's access lasts, an involved body whose involvement covers `placement`);
- a child's marks need the child visible and the `placement` category, and then cover
  the placements of the child the caller sees: one rule per datum, so a provider never
  reads another provider's marks through the child (two marks per placement here).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.models import (
    AttendanceConcern,
    AttendanceMark,
    Child,
    Enrolment,
    Involvement,
    Organisation,
    Placement,
)
from tests.factories import auth, make_org, token_for

TODAY = date.today()
HIDDEN = (403, 404)

# placement visibility: which of the child's placements each organisation sees
SEES_PLACEMENTS: dict[str, set[str]] = {
    "home_la": {"active", "ended_30d", "ended_120d"},
    "host_la": {"active"},
    "other_la": set(),
    "school_on_roll": set(),
    "school_other": set(),
    "trust_of_school": set(),
    "prov_active": {"active"},
    "prov_ended_30d": {"ended_30d"},
    "prov_ended_120d": set(),
    "prov_never": set(),
    "social_with_placement": {"active", "ended_30d", "ended_120d"},
    "social_without_placement": set(),
    "health": {"active", "ended_30d", "ended_120d"},  # involved, recorded for placement
}
# the child's marks (of the placements it sees): 200, or the refusal
CHILD_ATTENDANCE: dict[str, int] = {
    "home_la": 200,
    "host_la": 200,
    "other_la": 404,
    "school_on_roll": 200,
    "school_other": 404,
    "trust_of_school": 200,
    "prov_active": 200,
    "prov_ended_30d": 200,
    "prov_ended_120d": 404,
    "prov_never": 404,
    "social_with_placement": 200,
    "social_without_placement": 403,  # sees the child, not its placement data
    "health": 200,
    "dashboard": 403,
    "operator": 403,
}


async def _area(app: FastAPI, db: Database) -> dict[str, Any]:
    o: dict[str, Organisation] = {}
    o["home_la"] = await make_org(db, "local_authority", la_code="801")
    o["host_la"] = await make_org(db, "local_authority", la_code="802")
    o["other_la"] = await make_org(db, "local_authority", la_code="803")
    o["trust_of_school"] = await make_org(db, "trust")
    o["school_on_roll"] = await make_org(
        db, "school", local_authority_id=o["home_la"].id, trust_id=o["trust_of_school"].id
    )
    o["school_other"] = await make_org(db, "school", local_authority_id=o["other_la"].id)
    o["prov_active"] = await make_org(db, "provider", local_authority_id=o["host_la"].id)
    for key in ("prov_ended_30d", "prov_ended_120d", "prov_never"):
        o[key] = await make_org(db, "provider", local_authority_id=o["other_la"].id)
    for key in ("social_with_placement", "social_without_placement"):
        o[key] = await make_org(db, "social_care")
    o["health"] = await make_org(db, "health")
    o["dashboard"] = await make_org(db, "dashboard")
    o["operator"] = await make_org(db, "operator")
    p: dict[str, Placement] = {}
    async with db.writing() as uow:
        child = Child(
            legal_first_name="Alfie",
            legal_last_name="Matrix",
            date_of_birth=date(2011, 3, 4),
            home_la_id=o["home_la"].id,
        )
        uow.session.add(child)
        await uow.session.flush()
        uow.session.add(
            Enrolment(
                child_id=child.id,
                school_id=o["school_on_roll"].id,
                status="C",
                start_date=date(2022, 9, 1),
            )
        )
        for key, categories in (
            ("social_with_placement", ["identity", "education", "placement"]),
            ("social_without_placement", ["identity", "education"]),
            ("health", ["identity", "health", "placement"]),
        ):
            uow.session.add(
                Involvement(
                    child_id=child.id,
                    organisation_id=o[key].id,
                    basis="consent",
                    consent_reference=f"C-{key}",
                    start_date=TODAY - timedelta(days=400),
                    categories=categories,
                )
            )
        for key, provider, start, ended in (
            ("active", "prov_active", 30, None),
            ("ended_30d", "prov_ended_30d", 100, 30),
            ("ended_120d", "prov_ended_120d", 200, 120),
        ):
            p[key] = Placement(
                child_id=child.id,
                commissioner_id=o["home_la"].id,
                provider_id=o[provider].id,
                status="ended" if ended else "active",
                legal_basis="s19_education_act_1996",
                primary_reason="permanent_exclusion",
                start_date=TODAY - timedelta(days=start),
                planned_end_date=TODAY + timedelta(days=30),
                actual_end_date=TODAY - timedelta(days=ended) if ended else None,
                end_reason="planned_end" if ended else None,
                destination="other_ap" if ended else None,
                version=3,
            )
            uow.session.add(p[key])
        await uow.session.flush()
        for key, placement in p.items():
            day = placement.start_date + timedelta(days=1)
            for session in ("am", "pm"):
                uow.session.add(
                    AttendanceMark(
                        placement_id=placement.id,
                        date=day,
                        session=session,
                        mark="present",
                        code="K",
                    )
                )
            uow.session.add(
                AttendanceConcern(
                    placement_id=placement.id,
                    child_id=child.id,
                    commissioner_id=placement.commissioner_id,
                    home_la_id=child.home_la_id,
                    kind="no_return",
                    day=day + timedelta(days=1),
                )
            )
            del key
    headers = {key: auth(token_for(app, org)) for key, org in o.items()}
    return {"orgs": o, "placements": p, "child": child, "headers": headers}


async def test_attendance_visibility_follows_the_matrix(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await _area(app, db)
    placements: dict[str, Placement] = area["placements"]
    names = {str(pl.id): key for key, pl in placements.items()}
    child_id = area["child"].id
    wrong: list[str] = []

    def check(condition: bool, what: str) -> None:
        if not condition:
            wrong.append(what)

    for org, headers in area["headers"].items():
        sees = SEES_PLACEMENTS.get(org, set())
        scoped = org in SEES_PLACEMENTS  # the others lack placements:read: 403 everywhere
        for key, placement in placements.items():
            for suffix in ("attendance", "attendance/summary"):
                r = await client.get(f"/v1/placements/{placement.id}/{suffix}", headers=headers)
                if key in sees:
                    check(r.status_code == 200, f"{org} {suffix} of {key}: {r.status_code}")
                else:
                    check(r.status_code in HIDDEN, f"{org} sees {suffix} of {key}")
                if key in sees and suffix == "attendance":
                    check(len(r.json()["items"]) == 2, f"{org} {key}: {r.text[:100]}")
        r = await client.get("/v1/attendance/summary?limit=500", headers=headers)
        if scoped:
            got = {names.get(i["placement_id"], "?") for i in r.json()["items"]}
            check(got == sees, f"{org} summary list: {got} not {sees}")
        else:
            check(r.status_code == 403, f"{org} summary list: {r.status_code}")
        r = await client.get("/v1/attendance/concerns?limit=500", headers=headers)
        if scoped:
            got = {names.get(i["placement_id"], "?") for i in r.json()["items"]}
            check(got == sees, f"{org} concerns: {got} not {sees}")
        else:
            check(r.status_code == 403, f"{org} concerns: {r.status_code}")

        expected = CHILD_ATTENDANCE[org]
        for suffix in ("attendance?limit=500", "attendance/summary"):
            r = await client.get(f"/v1/children/{child_id}/{suffix}", headers=headers)
            check(r.status_code == expected, f"{org} child {suffix}: {r.status_code}")
            if expected == 200 and suffix.startswith("attendance?"):
                marks = len(r.json()["items"])
                check(marks == 2 * len(sees), f"{org} child marks: {marks} for {sorted(sees)}")

        for field, argument, value, allowed in (
            ("placementAttendance", "placementId", placements["active"].id, "active" in sees),
            ("childAttendance", "childId", child_id, expected == 200),
        ):
            query = f"query ($v: UUID!) {{ {field}({argument}: $v) {{ items {{ date }} }} }}"
            r = await client.post(
                "/graphql", json={"query": query, "variables": {"v": str(value)}}, headers=headers
            )
            errors = [e["extensions"]["code"] for e in r.json().get("errors", [])]
            if allowed:
                check(not errors, f"{org} GraphQL {field}: {errors}")
            else:
                check(errors in (["NOT_FOUND"], ["FORBIDDEN"]), f"{org} GraphQL {field}: {errors}")

    assert not wrong, "\n".join(wrong)
