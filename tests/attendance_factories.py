"""Factories for attendance and outcomes tests: active placements of each arrangement
(LA-arranged K, school-arranged B, dual registered D), started in the past so that
marks can be returned for days gone by, and CSV / JSON returns."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.models import Child, Enrolment
from aphub.models.providers import ProviderProfile
from tests.factories import auth, make_org, token_for
from tests.placement_factories import Area, complete_plan, new_key, request_body


async def area_in(app: FastAPI, db: Database, la_code: str, *, registration: str = "pru") -> Area:
    """Like `make_area`, in a local authority of its own (so a test can have several)."""
    la = await make_org(db, "local_authority", la_code=la_code)
    school = await make_org(db, "school", local_authority_id=la.id)
    provider = await make_org(db, "provider", local_authority_id=la.id)
    async with db.writing() as uow:
        uow.session.add(
            ProviderProfile(
                organisation_id=provider.id,
                registration_status=registration,
                census_setting_type="OTH" if registration == "unregistered" else None,
                qa_status="approved",
            )
        )
        child = Child(
            legal_first_name="Sam",
            legal_last_name="Okoro",
            date_of_birth=date(2011, 2, 3),
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


async def started(
    client: httpx.AsyncClient,
    area: Area,
    commissioner_headers: dict[str, str],
    start: date,
    **overrides: Any,
) -> dict[str, Any]:
    """An active placement that started on `start`, requested by the given commissioner."""
    body = request_body(area, **complete_plan(area))
    body.update(start_date=start.isoformat(), **overrides)
    r = await client.post("/v1/placements", json=body, headers=commissioner_headers)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = await client.post(f"/v1/placements/{pid}/offer", json={}, headers=area.provider_headers)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/v1/placements/{pid}/start",
        json={"start_date": start.isoformat()},
        headers=area.provider_headers,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


@dataclass
class Arrangements:
    la_arranged: dict[str, Any]  # K
    school_arranged: dict[str, Any]  # B
    dual_registered: dict[str, Any]  # D


async def three_arrangements(client: httpx.AsyncClient, area: Area, start: date) -> Arrangements:
    return Arrangements(
        await started(client, area, area.la_headers, start),
        await started(client, area, area.school_headers, start),
        await started(
            client,
            area,
            area.school_headers,
            start,
            dual_registered=True,
            home_school_id=str(area.school.id),
        ),
    )


def weekdays(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def mark(
    placement_id: str,
    day: date | str,
    session: str = "am",
    mark: str = "present",
    minutes_late: int | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    return {
        "placement_id": placement_id,
        "date": day if isinstance(day, str) else day.isoformat(),
        "session": session,
        "mark": mark,
        "minutes_late": minutes_late,
        "note": note,
    }


def as_csv(rows: list[dict[str, Any] | list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["placement_id", "date", "session", "mark", "minutes_late", "note"])
    for row in rows:
        if isinstance(row, list):
            writer.writerow(row)
        else:
            writer.writerow(
                [
                    "" if row.get(k) is None else row[k]
                    for k in ("placement_id", "date", "session", "mark", "minutes_late", "note")
                ]
            )
    return out.getvalue().encode()


async def post_marks(
    client: httpx.AsyncClient, headers: dict[str, str], marks: list[dict[str, Any]]
) -> httpx.Response:
    return await client.post(
        "/v1/attendance", json={"marks": marks}, headers={**headers, **new_key()}
    )


async def post_csv(
    client: httpx.AsyncClient, headers: dict[str, str], body: bytes
) -> httpx.Response:
    return await client.post(
        "/v1/attendance",
        content=body,
        headers={**headers, **new_key(), "Content-Type": "text/csv"},
    )
