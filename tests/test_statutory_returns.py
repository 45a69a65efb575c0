"""The AP census and the school census AP module: which placements and children each
covers (known by construction), what cannot be completed (listed, not dropped), what the
caller may not see (absent), and every file checked against the specification held in
`aphub/reference/census/` (structure, items, code sets), CSV equal to XML."""

from __future__ import annotations

import csv
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.demo.children import make_upn
from aphub.models import Child, Enrolment, Organisation, Placement
from aphub.models.providers import ProviderProfile
from aphub.returns.ap_census import period_start, third_thursday_of_january
from aphub.returns.spec import AP_CENSUS, SCHOOL_CENSUS_AP, specification
from aphub.returns.validate import document_problems
from tests.factories import auth, make_org, token_for

CENSUS_DAY = date(2026, 1, 15)  # the third Thursday of January 2026


@dataclass
class Census:
    la: Organisation
    school: Organisation
    children: dict[str, uuid.UUID]
    placements: dict[str, uuid.UUID]
    la_headers: dict[str, str]
    school_headers: dict[str, str]
    other_la_headers: dict[str, str]
    provider_headers: dict[str, str]


async def _provider(db: Database, la: Organisation, **profile: Any) -> Organisation:
    identifiers = {k: profile.pop(k) for k in ("urn", "ukprn") if k in profile}
    provider = await make_org(db, "provider", local_authority_id=la.id, **identifiers)
    async with db.writing() as uow:
        uow.session.add(
            ProviderProfile(organisation_id=provider.id, qa_status="approved", **profile)
        )
    return provider


async def make_census_area(app: FastAPI, db: Database) -> Census:
    """An LA (801) and its school; children whose right answer is known:

    complete  LA placement, unregistered OTH provider, active on census day; an earlier one
    urn       LA placement at a PRU with a URN, ended in the period
    missing   LA placement at a provider with no URN, UKPRN or setting type; no UPN, no
              ethnicity -> exception, incomplete
    old       born 2004 -> exception, out of scope
    funded    the school's placement paid by the LA -> AP census and school census
    school    the school's own placement, school-funded -> school census only
    before    LA placement ended before the period; another requested -> in neither
    stranger  another LA's resident and placement at a provider in this LA (the LA sees it
              as host) -> in neither
    unseen    another LA's resident whom this LA placed with a provider in a third LA: the
              sharing agreement gives this LA no sight of the child -> in neither
    """
    la = await make_org(db, "local_authority", la_code="801")
    other_la = await make_org(db, "local_authority", la_code="802")
    school = await make_org(db, "school", local_authority_id=la.id, urn="180001", laestab="8014001")
    oth = await _provider(db, la, registration_status="unregistered", census_setting_type="OTH")
    pru = await _provider(db, la, registration_status="pru", urn="180002")
    bare = await _provider(db, la, registration_status="independent_school")
    third_la = await make_org(db, "local_authority", la_code="803")
    far = await _provider(
        db, third_la, registration_status="unregistered", census_setting_type="OOT"
    )
    children: dict[str, uuid.UUID] = {}
    placements: dict[str, uuid.UUID] = {}
    specs: dict[str, dict[str, Any]] = {
        "complete": {"ethnicity": "WBRI", "sen_provision": "ehcp", "primary_need": "SEMH"},
        "urn": {"ethnicity": "MWBC", "middle_names": "Ann Marie", "sex": "male"},
        "missing": {"upn": None},
        "old": {"date_of_birth": date(2004, 3, 1), "ethnicity": "WIRI"},
        "funded": {"ethnicity": "NOBT", "sen_provision": "sen_support"},
        "school": {"ethnicity": "REFU"},
        "before": {"ethnicity": "WBRI"},
        "stranger": {"ethnicity": "WBRI", "home_la_id": other_la.id},
        "unseen": {"ethnicity": "WBRI", "home_la_id": other_la.id},
    }
    async with db.writing() as uow:
        for serial, (name, extra) in enumerate(specs.items(), start=1):
            values: dict[str, Any] = {
                "legal_first_name": name.title(),
                "legal_last_name": "Census",
                "date_of_birth": date(2011, 5, 6),
                "sex": "female",
                "home_la_id": la.id,
                "upn": make_upn("8014001", 15, serial),
                "home_postcode": "BS6 5QA",
            } | extra
            child = Child(**values)
            uow.session.add(child)
            await uow.session.flush()
            children[name] = child.id
            uow.session.add(
                Enrolment(
                    child_id=child.id, school_id=school.id, status="C", start_date=date(2022, 9, 1)
                )
            )

        def place(key: str, child: str, provider: Organisation, **values: Any) -> None:
            values.setdefault("commissioner_id", la.id)
            values.setdefault("status", "active")
            values.setdefault("start_date", date(2025, 9, 1))
            values.setdefault("planned_end_date", date(2026, 7, 20))
            values.setdefault("legal_basis", "s19_education_act_1996")
            values.setdefault("primary_reason", "permanent_exclusion")
            placement = Placement(
                id=uuid.uuid4(),
                child_id=children[child],
                provider_id=provider.id,
                hours_per_week=25,
                **values,
            )
            uow.session.add(placement)
            placements[key] = placement.id

        ended = {"status": "ended", "end_reason": "completed", "destination": "other_ap"}
        place("complete", "complete", oth)
        place(
            "complete_earlier",
            "complete",
            pru,
            start_date=date(2025, 3, 1),
            actual_end_date=date(2025, 7, 18),
            **ended,
        )
        place("urn", "urn", pru, actual_end_date=date(2025, 12, 12), **ended)
        place("missing", "missing", bare)
        place("old", "old", oth)
        place(
            "funded",
            "funded",
            oth,
            commissioner_id=school.id,
            primary_reason="at_risk_of_exclusion",
            legal_basis="s29a_education_act_2002",
            funding={"source": "local_authority", "rate": "50.00", "unit": "per_day"},
        )
        place(
            "school",
            "school",
            pru,
            commissioner_id=school.id,
            legal_basis="s29a_education_act_2002",
        )
        place(
            "before",
            "before",
            oth,
            start_date=date(2024, 9, 2),
            planned_end_date=date(2024, 12, 20),
            actual_end_date=date(2024, 12, 20),
            **ended,
        )
        place("requested", "before", oth, status="requested")
        place("stranger", "stranger", oth, commissioner_id=other_la.id)
        place("unseen", "unseen", far)
    return Census(
        la=la,
        school=school,
        children=children,
        placements=placements,
        la_headers=auth(token_for(app, la)),
        # a school's clients hold reports:read only when asked for (not by default)
        school_headers=auth(token_for(app, school, ["placements:read", "reports:read"])),
        other_la_headers=auth(token_for(app, other_la)),
        provider_headers=auth(token_for(app, oth)),
    )


def _get(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], accept: str, **params: str
) -> Any:
    return client.get(path, params=params, headers={**headers, "Accept": accept})


def _xml_records(body: bytes, record: str) -> list[dict[str, str]]:
    root = ET.fromstring(body)  # noqa: S314 (the hub's own answer)
    return [{e.tag: e.text or "" for e in r} for r in root.iter(record)]


def _csv_records(text: str, elements: tuple[str, ...]) -> list[dict[str, str]]:
    return [{e: row[e] for e in elements if row[e]} for row in csv.DictReader(text.splitlines())]


async def test_ap_census_returns_the_las_funded_placements_and_lists_what_it_cannot_complete(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_census_area(app, db)
    ids, pids = area.children, area.placements
    day = CENSUS_DAY.isoformat()
    r = await _get(
        client, "/v1/returns/ap-census", area.la_headers, "application/json", census_date=day
    )
    assert r.status_code == 200, r.text
    document = r.json()
    rows = {row["child_id"]: row for row in document["rows"]}
    assert set(rows) == {str(ids["complete"]), str(ids["urn"]), str(ids["funded"])}
    complete = rows[str(ids["complete"])]
    assert complete["placement_id"] == str(pids["complete"])  # current on census day
    assert complete["other_placement_ids"] == [str(pids["complete_earlier"])]
    items = complete["items"]
    assert items["APSettingType"] == "OTH"
    assert not items["PlacementURN"]
    assert (items["Sex"], items["Ethnicity"], items["SENprovision"], items["PrimaryNeed"]) == (
        "F",
        "WBRI",
        "E",
        "SEMH",
    )
    assert items["PostCode"] == "BS6 5QA"
    urn = rows[str(ids["urn"])]["items"]
    assert (urn["PlacementURN"], urn["PlacementEndDate"], urn["MiddleNames"], urn["Sex"]) == (
        "180002",
        "2025-12-12",
        "Ann Marie",
        "M",
    )
    assert rows[str(ids["funded"])]["items"]["PlacementReason"] == "at_risk_of_exclusion"
    exceptions = {e["child_id"]: e for e in document["exceptions"]}
    assert set(exceptions) == {str(ids["missing"]), str(ids["old"])}
    missing = exceptions[str(ids["missing"])]
    assert missing["kind"] == "incomplete"
    assert any(r.startswith("UPN") for r in missing["reasons"])
    assert any(r.startswith("Ethnicity") for r in missing["reasons"])
    assert any(r.startswith("setting_identified") for r in missing["reasons"])
    assert len(missing["actions"]) == 3
    assert exceptions[str(ids["old"])]["kind"] == "out_of_scope"
    for absent in ("school", "before", "stranger", "unseen"):
        assert str(ids[absent]) not in rows
        assert str(ids[absent]) not in exceptions
    assert document["header"]["Header/Source/LEA"] == "801"
    assert document["period_start"] == "2025-01-17"
    assert document["warnings"] == []
    assert "PlacementReason" in document["specification"]["unverified_elements"]

    # the XML message: valid against the structure, items and code sets; CSV the same rows
    spec = specification(AP_CENSUS)
    xml = await _get(
        client, "/v1/returns/ap-census", area.la_headers, "application/xml", census_date=day
    )
    assert xml.status_code == 200
    assert xml.headers["content-type"] == "application/xml"
    assert xml.headers["x-return-exceptions"] == "2"
    assert document_problems(spec, xml.content) == []
    records = _xml_records(xml.content, spec.record)
    assert records == [{e: v for e, v in row["items"].items() if v} for row in document["rows"]]
    text = await _get(client, "/v1/returns/ap-census", area.la_headers, "text/csv", census_date=day)
    assert text.headers["content-type"].startswith("text/csv")
    assert _csv_records(text.text, spec.elements) == records
    assert [r["child_id"] for r in csv.DictReader(text.text.splitlines())] == list(rows)
    listed = await _get(
        client,
        "/v1/returns/ap-census",
        area.la_headers,
        "text/csv",
        census_date=day,
        part="exceptions",
    )
    assert sorted(r["child_id"] for r in csv.DictReader(listed.text.splitlines())) == sorted(
        exceptions
    )

    # each child on the return was read through the sharing layer and audited as an export
    audited = await superuser.fetchval(
        "SELECT count(*) FROM access_log_entries WHERE child_id = $1 AND surface = 'export'",
        ids["complete"],
    )
    assert audited == 4  # one per request: JSON, XML, CSV, exceptions
    for absent in ("stranger", "unseen"):
        read = await superuser.fetchval(
            "SELECT count(*) FROM access_log_entries WHERE child_id = $1", ids[absent]
        )
        assert read == 0


async def test_school_census_ap_module_is_the_schools_own_placements(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_census_area(app, db)
    ids, pids = area.children, area.placements
    params = {"census_date": CENSUS_DAY.isoformat(), "period_start": "2025-10-03"}
    r = await _get(
        client, "/v1/returns/school-census-ap", area.school_headers, "application/json", **params
    )
    assert r.status_code == 200, r.text
    document = r.json()
    assert {(row["child_id"], row["placement_id"]) for row in document["rows"]} == {
        (str(ids["funded"]), str(pids["funded"])),
        (str(ids["school"]), str(pids["school"])),
    }
    assert document["exceptions"] == []
    assert document["warnings"] == []
    school = next(row for row in document["rows"] if row["child_id"] == str(ids["school"]))
    assert school["items"]["APPlacementURN"] == "180002"
    assert school["items"]["APHoursPerWeek"] == "25.0"
    assert document["header"]["Header/Source/Estab"] == "4001"
    spec = specification(SCHOOL_CENSUS_AP)
    xml = await _get(client, "/v1/returns/school-census-ap", area.school_headers, "*/*", **params)
    assert xml.headers["content-type"] == "application/xml"
    assert document_problems(spec, xml.content) == []
    records = _xml_records(xml.content, spec.record)
    text = await _get(
        client, "/v1/returns/school-census-ap", area.school_headers, "text/csv", **params
    )
    assert _csv_records(text.text, spec.elements) == records
    assert len(records) == 2


async def test_returns_refuse_callers_they_are_not_for_and_bad_filters(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_census_area(app, db)
    day = CENSUS_DAY.isoformat()
    for path, who in (
        ("/v1/returns/ap-census", area.school_headers),
        ("/v1/returns/ap-census", area.provider_headers),
        ("/v1/returns/school-census-ap", area.la_headers),
        ("/v1/returns/school-census-ap", area.provider_headers),
    ):
        r = await client.get(path, params={"census_date": day}, headers=who)
        assert r.status_code == 403, (path, r.text)
    no_scope = auth(token_for(app, area.la, ["placements:read"]))
    r = await client.get("/v1/returns/ap-census", params={"census_date": day}, headers=no_scope)
    assert r.status_code == 403
    for params, status in (
        ({}, 422),
        ({"census_date": "15/01/2026"}, 422),
        ({"census_date": "0001-01-01"}, 422),  # before any census the hub can draw
        ({"census_date": day, "la": "801"}, 400),
        ({"census_date": day, "part": "all"}, 422),
    ):
        r = await client.get("/v1/returns/ap-census", params=params, headers=area.la_headers)
        assert r.status_code == status, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    r = await client.get(
        "/v1/returns/school-census-ap",
        params={"census_date": day, "period_start": "2026-02-01"},
        headers=area.school_headers,
    )
    assert r.status_code == 422
    # another LA: its own return, holding nothing of this LA's children
    r = await _get(
        client, "/v1/returns/ap-census", area.other_la_headers, "application/json", census_date=day
    )
    document = r.json()
    assert [row["child_id"] for row in document["rows"]] == [str(area.children["stranger"])]
    assert document["exceptions"] == []


def test_census_day_and_period_follow_the_published_rule() -> None:
    assert third_thursday_of_january(2024) == date(2024, 1, 18)  # S7: ended 18 January 2024
    assert period_start(date(2024, 1, 18)) == date(2023, 1, 20)  # S7: from 20 January 2023
    assert third_thursday_of_january(2014) == date(2014, 1, 16)  # S6: 16 January 2014


async def test_a_school_missing_from_the_register_is_told_its_header_will_not_validate(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    school = await make_org(db, "school")  # no URN, no LAESTAB
    headers = auth(token_for(app, school, ["placements:read", "reports:read"]))
    r = await _get(
        client,
        "/v1/returns/school-census-ap",
        headers,
        "application/json",
        census_date=CENSUS_DAY.isoformat(),
        period_start="2025-10-03",
    )
    assert r.status_code == 200, r.text
    warned = " ".join(r.json()["warnings"])
    assert "Header/Source/URN" in warned
    assert "Header/Source/Estab" in warned
