"""Oversight reports over an area whose answers are known by construction
(`tests.report_fixtures`): each report as the home LA, the school and trust views, the
other LA's child absent everywhere, CSV equal to JSON, filters, paging, refusals, audit."""

from __future__ import annotations

import csv
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.db import Database
from aphub.reports import machinery
from aphub.reports.catalogue import REPORTS
from aphub.reports.machinery import csv_cell
from aphub.sharing.placements import placement_visible, placement_visible_with_child
from aphub.sharing.policy import active_policy
from tests.factories import auth, make_org, token_for
from tests.report_fixtures import ReportArea, ids, make_report_area


@pytest.fixture
async def area(app: FastAPI, db: Database, superuser: asyncpg.Connection) -> ReportArea:
    return await make_report_area(app, db, superuser)


async def get(
    client: httpx.AsyncClient, headers: dict[str, str], slug: str, **params: Any
) -> dict[str, Any]:
    r = await client.get(f"/v1/reports/{slug}", headers=headers, params=params)
    assert r.status_code == 200, r.text
    document: dict[str, Any] = r.json()
    return document


def named(area: ReportArea, *names: str, of: str = "placements") -> set[str]:
    return {str(getattr(area, of)[n]) for n in names}


async def test_each_report_answers_what_the_area_was_built_to_hold(
    client: httpx.AsyncClient, area: ReportArea
) -> None:
    la = area.headers["la"]
    flags = await get(client, la, "children-out-of-education")
    assert ids(flags, "child_id") == named(area, "amy", of="children")
    (flag,) = flags["items"]
    assert (flag["kind"], flag["days_since"], flag["responsible_id"]) == (
        "missing_education",
        12,
        str(area.la.id),
    )
    past = await get(client, la, "placements-past-planned-end")
    assert ids(past) == named(area, "ben", "dee")
    assert {r["days_past_end"] for r in past["items"]} == {5, 1}
    assert ids(await get(client, la, "reviews-overdue")) == named(area, "ben", "cal")
    without = await get(client, la, "placements-without-plan")
    assert ids(without) == named(area, "cal")
    assert (
        without["items"][0]["has_intended_outcomes"],
        without["items"][0]["has_exit_strategy"],
    ) == (False, False)
    away = await get(client, la, "out-of-area-placements")
    assert ids(away) == named(area, "dee")
    assert (away["items"][0]["qa_assessor_id"], away["items"][0]["qa_status"]) == (
        str(area.other_la.id),
        "approved",
    )
    attendance = await get(client, la, "attendance-below-90")
    bands = {r["placement_id"]: (r["band"], r["percentage"]) for r in attendance["items"]}
    assert bands == {
        str(area.placements["amy"]): ("severe", 40.0),
        str(area.placements["ben"]): ("persistent", 80.0),
    }
    broke = await get(client, la, "repeated-breakdowns")
    assert ids(broke, "child_id") == named(area, "eve", of="children")
    assert broke["items"][0]["placement_ids"] == [
        str(area.placements["eve1"]),
        str(area.placements["eve2"]),
    ]
    destinations = await get(client, la, "destinations")
    assert ids(destinations) == named(area, "eve1", "eve2", "fay1", "fay2")
    sustained = {r["placement_id"]: r["sustained_six_weeks"] for r in destinations["items"]}
    assert sustained[str(area.placements["eve2"])] is True
    assert sustained[str(area.placements["eve1"])] is None
    assert ids(await get(client, la, "ap-arranged-by-schools")) == named(area, "dee")
    (unregistered,) = (await get(client, la, "unregistered-providers"))["items"]
    assert unregistered["provider_id"] == str(area.unregistered.id)
    assert unregistered["placement_ids"] == [str(area.placements["dee"])]
    assert (unregistered["full_time_pupils"], unregistered["threshold"]) == (4, "one_away")
    (attention,) = (await get(client, la, "providers-needing-attention"))["items"]
    assert attention["provider_id"] == str(area.unregistered.id)
    assert attention["reasons"] == ["qa_overdue", "safeguarding_concern"]


async def test_another_las_child_is_in_no_report_and_every_answer_says_what_it_is(
    client: httpx.AsyncClient, area: ReportArea
) -> None:
    hidden_children = named(area, "hidden", "hidden2", "hidden3", of="children")
    hidden_placements = named(area, "hidden", "hidden2", "hidden3", "hidden_b1", "hidden_b2")
    for report in REPORTS:
        for who in ("la", "school", "trust"):
            if who not in {"la"} and report.audiences == frozenset({"local_authority"}):
                continue
            document = await get(client, area.headers[who], report.slug, limit=500)
            text = str(document["items"])
            assert not any(h in text for h in hidden_children | hidden_placements), (
                report.slug,
                who,
            )
            assert document["definition"] == report.definition
            assert document["computed_at"].endswith("Z")
            assert document["report"] == report.slug
    # the other LA does see its own children (and dee, placed in its area as host LA):
    # the fixture's hidden rows are real
    theirs = await get(
        client,
        auth(token_for(client._transport.app, area.other_la, ["reports:read"])),  # type: ignore[attr-defined]
        "placements-past-planned-end",
    )
    assert ids(theirs) == named(area, "hidden", "hidden2", "hidden3", "dee")


async def test_school_and_trust_see_the_same_reports_scoped_to_their_commissions(
    client: httpx.AsyncClient, area: ReportArea
) -> None:
    for who in ("school", "trust"):
        headers = area.headers[who]
        assert ids(await get(client, headers, "placements-past-planned-end")) == named(area, "dee")
        assert ids(await get(client, headers, "out-of-area-placements")) == named(area, "dee")
        assert (await get(client, headers, "reviews-overdue"))["items"] == []
        (row,) = (await get(client, headers, "unregistered-providers"))["items"]
        assert row["placement_ids"] == [str(area.placements["dee"])]
        r = await client.get("/v1/reports/ap-arranged-by-schools", headers=headers)
        assert r.status_code == 403, r.text
        listed = (await client.get("/v1/reports", headers=headers)).json()["items"]
        assert "ap-arranged-by-schools" not in {e["report"] for e in listed}
    listed = (await client.get("/v1/reports", headers=area.headers["la"])).json()["items"]
    assert [e["report"] for e in listed] == [r.slug for r in REPORTS]
    assert all(e["definition"] and e["columns"] for e in listed)


async def test_csv_holds_the_json_rows_under_a_header_row(
    client: httpx.AsyncClient, area: ReportArea
) -> None:
    for report in REPORTS:
        document = await get(client, area.headers["la"], report.slug)
        r = await client.get(report.path, headers={**area.headers["la"], "Accept": "text/csv"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        assert r.headers["report-definition"] == report.definition
        rows = list(csv.reader(r.text.splitlines()))
        assert rows[0] == document["columns"], report.slug
        assert rows[1:] == [
            [csv_cell(item[c]) for c in document["columns"]] for item in document["items"]
        ], report.slug
        assert len(rows) == len(document["items"]) + 1
    r = await client.get(
        "/v1/reports/out-of-area-placements",
        headers={**area.headers["la"], "Accept": "text/csv"},
    )
    assert "'=Tuition Co" in r.text  # a provider's name a spreadsheet would run


async def test_filters_narrow_and_bad_filters_are_problems_not_empty_reports(
    client: httpx.AsyncClient, area: ReportArea
) -> None:
    la = area.headers["la"]
    slug = "placements-past-planned-end"
    by_provider = await get(client, la, slug, provider_id=str(area.unregistered.id))
    assert ids(by_provider) == named(area, "dee")
    assert by_provider["filters"] == {"provider_id": str(area.unregistered.id)}
    assert ids(await get(client, la, slug, school_id=str(area.school.id))) == named(area, "dee")
    assert ids(await get(client, la, slug, commissioner_id=str(area.la.id))) == named(area, "ben")
    dee_end = (await get(client, la, slug, school_id=str(area.school.id)))["items"][0]
    assert ids(await get(client, la, slug, **{"from": dee_end["planned_end_date"]})) == named(
        area, "dee"
    )
    assert ids(await get(client, la, slug, to=dee_end["planned_end_date"])) == named(
        area, "ben", "dee"
    )
    for params, status in (
        ({"colour": "red"}, 400),
        ({"status": "active"}, 400),
        ({"provider_id": "not-a-uuid"}, 422),
        ({"provider_id": str(area.school.id)}, 422),  # names no provider
        ({"school_id": str(area.provider.id)}, 422),
        ({"from": "2026-09-01", "to": "2026-08-01"}, 422),
        ({"from": "yesterday"}, 422),
        ({"limit": "0"}, 422),
        ({"cursor": "bm90IGEgY3Vyc29y"}, 422),
    ):
        r = await client.get(f"/v1/reports/{slug}", headers=la, params=params)
        assert r.status_code == status, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    r = await client.get(
        "/v1/reports/attendance-below-90", headers=la, params={"from": "2026-01-01"}
    )
    assert r.status_code == 400, r.text  # this report has no period


async def test_pages_follow_the_cursor_and_together_hold_the_report(
    client: httpx.AsyncClient, area: ReportArea
) -> None:
    la = area.headers["la"]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        document = await get(client, la, "destinations", **params)
        seen += [r["placement_id"] for r in document["items"]]
        cursor = document["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(named(area, "eve1", "eve2", "fay1", "fay2"))
    r = await client.get(
        "/v1/reports/destinations",
        headers={**la, "Accept": "text/csv"},
        params={"limit": 1},
    )
    assert 'rel="next"' in r.headers["link"]


async def test_callers_without_a_report_audience_or_scope_are_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database, area: ReportArea
) -> None:
    provider = auth(token_for(app, area.provider, ["reports:read"]))
    for path in ("/v1/reports", "/v1/reports/placements-past-planned-end"):
        r = await client.get(path, headers=provider)
        assert r.status_code == 403, r.text
    dashboard = await make_org(db, "dashboard")
    r = await client.get(
        "/v1/reports/reviews-overdue", headers=auth(token_for(app, dashboard, ["reports:read"]))
    )
    assert r.status_code == 403, r.text
    no_scope = auth(token_for(app, area.la, ["placements:read"]))
    r = await client.get("/v1/reports/reviews-overdue", headers=no_scope)
    assert r.status_code == 403, r.text
    r = await client.get("/v1/reports/no-such-report", headers=area.headers["la"])
    assert r.status_code == 404, r.text


async def test_a_report_read_is_audited_as_a_read_of_the_children_it_names(
    client: httpx.AsyncClient, area: ReportArea, superuser: asyncpg.Connection
) -> None:
    await get(client, area.headers["la"], "reviews-overdue")
    rows = await superuser.fetch(
        "SELECT child_ids, action, categories FROM access_log WHERE organisation_id = $1",
        area.la.id,
    )
    (row,) = rows
    assert set(row["child_ids"]) == {area.children["ben"], area.children["cal"]}
    assert (row["action"], row["categories"]) == ("report", ["placement"])


async def test_the_audit_names_only_the_children_of_the_rows_shown(
    client: httpx.AsyncClient, area: ReportArea, superuser: asyncpg.Connection
) -> None:
    """A page reads one row more than it shows (to know whether another follows): that
    row's child is not read, and a page that shows no row audits nothing."""
    first = await get(client, area.headers["la"], "reviews-overdue", limit=1)
    (shown,) = first["items"]
    assert first["next_cursor"]
    await get(client, area.headers["school"], "children-out-of-education")  # none of its
    rows = await superuser.fetch(
        "SELECT organisation_id, child_ids FROM access_log WHERE organisation_id = ANY($1::uuid[])",
        [area.la.id, area.school.id],
    )
    assert [(r["organisation_id"], r["child_ids"]) for r in rows] == [
        (area.la.id, [uuid.UUID(shown["child_id"])])
    ]


async def test_columns_outside_the_callers_categories_are_absent_from_json_and_csv(
    client: httpx.AsyncClient, area: ReportArea, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an area's agreement under which some relationship of an LA reads no identity
    monkeypatch.setattr(
        machinery, "readable_categories", lambda _type: frozenset({"placement", "education"})
    )
    document = await get(client, area.headers["la"], "reviews-overdue")
    assert document["items"]
    for row in document["items"]:
        assert "legal_last_name" not in row
        assert "year_group" not in row
        assert row["child_id"]
        assert row["placement_id"]
    r = await client.get(
        "/v1/reports/reviews-overdue", headers={**area.headers["la"], "Accept": "text/csv"}
    )
    assert "legal_last_name" not in r.text.splitlines()[0]
    listed = (await client.get("/v1/reports", headers=area.headers["la"])).json()["items"]
    assert all(c["name"] != "legal_first_name" for entry in listed for c in entry["columns"])


async def test_placement_visibility_over_a_joined_child_is_placement_visibility(
    db: Database, area: ReportArea
) -> None:
    """The reports test visibility on the child they join; it must select exactly what
    the sharing layer's own condition selects, for every organisation type."""
    policy = active_policy()
    health = await make_org(db, "health")
    others = {"provider": area.provider, "unregistered": area.unregistered, "health": health}
    for organisation in [area.la, area.other_la, area.school, area.trust, *others.values()]:
        kind = organisation.type
        plain = placement_visible(kind, ":org::uuid", policy)
        joined = placement_visible_with_child(kind, ":org::uuid", policy)
        async with db.reading() as unit:
            expected = await unit.fetch(
                f"SELECT p.id FROM placements p WHERE {plain} ORDER BY p.id",
                org=organisation.id,
            )
            got = await unit.fetch(
                "SELECT p.id FROM placements p JOIN children c ON c.id = p.child_id "
                f"WHERE {joined} ORDER BY p.id",
                org=organisation.id,
            )
        assert got == expected, organisation.name
        assert expected or kind == "health", organisation.name  # the fixture reaches each
