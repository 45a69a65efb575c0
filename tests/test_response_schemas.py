"""The check every test's client makes (tests/response_schemas.py): a 2xx body that breaks
its declared schema, or a status or media type the contract does not declare, fails; and a
tour of an area with a live placement reads every operation that lists or shows something
as each party, so each such answer is validated against its schema at least once."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from aphub.api.examples import request_example
from aphub.db import Database
from aphub.providers.schemas import ProviderLocationInput, ProviderOfferInput
from tests.factories import auth, make_org, token_for
from tests.placement_factories import active, make_area
from tests.response_schemas import CONTRACT, ResponseChecker, checker

PLACEMENT = "/v1/placements/00000000-0000-4000-8000-000000000001"


def _answer(status: int, body: Any, media_type: str = "application/json") -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": media_type}
    )


@pytest.fixture
async def placement(client: httpx.AsyncClient, app: FastAPI, db: Database) -> dict[str, Any]:
    return await active(client, await make_area(app, db))


def test_a_body_true_to_its_schema_passes(placement_body: dict[str, Any]) -> None:
    checker().check("GET", PLACEMENT, _answer(200, placement_body))


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "lost"), ("start_date", "14/09/2026"), ("version", "3"), ("id", None)],
)
def test_a_body_that_breaks_its_schema_fails(
    placement_body: dict[str, Any], field: str, value: Any
) -> None:
    broken = {**placement_body, field: value}
    with pytest.raises(AssertionError, match="does not match its declared schema"):
        checker().check("GET", PLACEMENT, _answer(200, broken))


def test_a_body_missing_a_required_member_fails(placement_body: dict[str, Any]) -> None:
    del placement_body["status"]
    with pytest.raises(AssertionError, match='"status" is a required property'):
        checker().check("GET", PLACEMENT, _answer(200, placement_body))


def test_an_undeclared_status_or_media_type_fails(placement_body: dict[str, Any]) -> None:
    with pytest.raises(AssertionError, match="which the contract does not declare"):
        checker().check("GET", PLACEMENT, _answer(201, placement_body))
    with pytest.raises(AssertionError, match="the contract declares"):
        checker().check("GET", PLACEMENT, _answer(200, placement_body, "text/csv"))


@pytest.fixture
def placement_body(placement: dict[str, Any]) -> dict[str, Any]:
    # a real answer of the hub, already checked once by the client that received it
    return dict(placement)


def _reads() -> list[str]:
    spec = json.loads(CONTRACT.read_text())
    return [template for template, item in spec["paths"].items() if "get" in item]


async def _offer(
    client: httpx.AsyncClient, provider: str, headers: dict[str, str]
) -> dict[str, str]:
    """A location and an offer there, from the contract's own examples."""
    base = f"/v1/providers/{provider}"
    example = request_example(ProviderLocationInput)
    r = await client.post(f"{base}/locations", json=example, headers=headers)
    assert r.status_code == 201, r.text
    location = r.json()["id"]
    example = {**request_example(ProviderOfferInput), "location_ids": [location]}
    r = await client.post(f"{base}/offers", json=example, headers=headers)
    assert r.status_code == 201, r.text
    return {"location_id": location, "offer_id": r.json()["id"]}


# Reads that need a query to answer at all (a census day)
QUERIES = {
    "/v1/returns/ap-census": "?census_date=2026-01-15",
    "/v1/returns/school-census-ap": "?census_date=2026-01-15",
}
# Reads the tour does not reach, and why: nothing else is left out.
NOT_TOURED: dict[str, str] = {}


async def test_every_read_answers_a_body_true_to_its_schema_for_each_party(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    placement = await active(client, area)
    operator = auth(token_for(app, await make_org(db, "operator")))
    ids = {
        "child_id": str(area.child.id),
        "placement_id": placement["id"],
        "organisation_id": str(area.la.id),
        "provider_id": str(area.provider.id),
        "section": "about_me",
        "slug": "not-found",
        **await _offer(client, str(area.provider.id), area.provider_headers),
    }
    r = await client.post(
        "/v1/webhook-subscriptions",
        json={"url": "http://127.0.0.1:9/hooks", "event_types": ["placement.*"]},
        headers=area.school_headers,
    )
    assert r.status_code == 201, r.text
    ids["subscription_id"] = r.json()["id"]
    ids["dimension"] = "reason"
    tour = ResponseChecker.from_contract(json.loads(CONTRACT.read_text()))
    # a school asks for reports:read explicitly (its own census module)
    school_reports = auth(token_for(app, area.school, ["reports:read"]))
    callers = (
        area.la_headers,
        area.school_headers,
        school_reports,
        area.provider_headers,
        operator,
    )
    never_2xx = []
    for template in _reads():
        if template in NOT_TOURED:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: ids[m[1]], template) + QUERIES.get(template, "")
        answered = False
        for headers in callers:
            r = await client.get(path, headers=headers)  # the client checks it too
            if 200 <= r.status_code < 300:
                tour.check("GET", r.url.path, r)
                answered = True
        if not answered:
            never_2xx.append(template)

    assert never_2xx == []
    toured = {template for _, template in tour.checked}
    assert toured == set(_reads()) - set(NOT_TOURED)
