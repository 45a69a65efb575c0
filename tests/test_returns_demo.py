"""The demo area's statutory returns: every LA's AP census and every school's AP module
validate against the specification, and no row is unexplained: every child with a
placement the return covers is either a row or an exception with its reasons."""

from __future__ import annotations

import json
from datetime import date, timedelta

import asyncpg
import httpx
from fastapi import FastAPI

from aphub.config import Settings
from aphub.db import Database
from aphub.demo import load_demo
from aphub.models import Organisation
from aphub.returns.ap_census import period_start
from aphub.returns.spec import AP_CENSUS, SCHOOL_CENSUS_AP, specification
from aphub.returns.validate import document_problems
from tests.factories import auth, register_client, token_for

# the children a return must account for, by hand: placements open in the period that the
# caller arranged (or, for the AP census, funds for its residents)
COVERED = (
    "SELECT DISTINCT p.child_id FROM placements p JOIN children c ON c.id = p.child_id "
    "WHERE p.status IN ('active', 'ended') AND p.start_date <= $2 "
    "AND (p.actual_end_date IS NULL OR p.actual_end_date >= $3) AND (p.commissioner_id = $1 "
    "OR ($4 AND p.funding->>'source' IN ('local_authority', 'high_needs_block') "
    "AND c.home_la_id = $1))"
)


async def test_the_demo_areas_returns_validate_with_no_unexplained_row(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    superuser: asyncpg.Connection,
) -> None:
    assert await load_demo(db, settings, only_if_empty=True)
    # the demo schools' clients may draw their module (reports:read is not a school default)
    credentials = json.loads((settings.data_dir / "demo-clients.json").read_text())
    schools = [c for c in credentials if c["type"] == "school"]
    assert schools
    assert all("reports:read" in c["scopes"] for c in schools)
    today = date.today()
    async with db.reading() as uow:
        organisations = [
            Organisation(**dict(r))
            for r in await uow.fetch(
                "SELECT id, type, name FROM organisations "
                "WHERE type IN ('local_authority', 'school') ORDER BY name"
            )
        ]
    totals = {"rows": 0, "exceptions": 0}
    for organisation in organisations:
        await register_client(db, organisation)
        headers = auth(token_for(app, organisation, ["placements:read", "reports:read"]))
        if organisation.type == "local_authority":
            key, path, start = AP_CENSUS, "/v1/returns/ap-census", period_start(today)
            params = {"census_date": today.isoformat()}
        else:
            key, path = SCHOOL_CENSUS_AP, "/v1/returns/school-census-ap"
            start = today - timedelta(weeks=20)
            params = {"census_date": today.isoformat(), "period_start": start.isoformat()}
        r = await client.get(path, params=params, headers={**headers, "Accept": "application/json"})
        assert r.status_code == 200, r.text
        document = r.json()
        accounted = {row["child_id"] for row in document["rows"]} | {
            e["child_id"] for e in document["exceptions"]
        }
        expected = await superuser.fetch(
            COVERED, organisation.id, today, start, organisation.type == "local_authority"
        )
        assert accounted == {str(e["child_id"]) for e in expected}, organisation.name
        for entry in document["exceptions"]:
            assert entry["reasons"], entry
        xml = await client.get(
            path, params=params, headers={**headers, "Accept": "application/xml"}
        )
        assert document_problems(specification(key), xml.content) == [], organisation.name
        totals["rows"] += len(document["rows"])
        totals["exceptions"] += len(document["exceptions"])
        print(
            organisation.name, len(document["rows"]), [e["reasons"] for e in document["exceptions"]]
        )
    assert totals["rows"] > 0
    assert totals["exceptions"] == 0
