"""Factories for the provider directory: rows straight into the database (the API that
writes them is what the tests exercise), and small helpers for GraphQL and row counts."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from aphub.db import Database
from aphub.ids import uuid7
from aphub.models import (
    Base,
    Organisation,
    ProviderLocation,
    ProviderOffer,
    ProviderOfferLocation,
    ProviderProfile,
)
from tests.factories import auth, make_org

_ukprn = itertools.count(10_100_000)


async def make_la(database: Database, la_code: str) -> Organisation:
    return await make_org(database, "local_authority", la_code=la_code, name=f"LA {la_code}")


async def make_school(database: Database, la: Organisation) -> Organisation:
    return await make_org(database, "school", local_authority_id=la.id)


async def make_provider(
    database: Database, la: Organisation, name: str | None = None, **profile: Any
) -> Organisation:
    """A provider organisation in `la`'s area; a profile row when `profile` has values."""
    organisation = await make_org(
        database,
        "provider",
        local_authority_id=la.id,
        ukprn=str(next(_ukprn)),
        **({"name": name} if name else {}),
    )
    if profile:
        async with database.writing() as uow:
            uow.session.add(ProviderProfile(organisation_id=organisation.id, **profile))
    return organisation


async def add_location(
    database: Database, provider: Organisation, la_code: str = "201", **values: Any
) -> ProviderLocation:
    values.setdefault("name", "Main site")
    values.setdefault("address_1", "1 High Street")
    values.setdefault("postcode", "EC1A 1BB")
    location = ProviderLocation(id=uuid7(), provider_id=provider.id, la_code=la_code, **values)
    async with database.writing() as uow:
        uow.session.add(location)
    return location


async def add_offer(
    database: Database,
    provider: Organisation,
    locations: list[ProviderLocation] | None = None,
    **values: Any,
) -> ProviderOffer:
    values.setdefault("type", "vocational")
    values.setdefault("name", "Vocational programme")
    offer = ProviderOffer(id=uuid7(), provider_id=provider.id, **values)
    async with database.writing() as uow:
        uow.session.add(offer)
        await uow.session.flush()
        for location in locations or []:
            uow.session.add(ProviderOfferLocation(offer_id=offer.id, location_id=location.id))
    return offer


async def row_counts(database: Database) -> dict[str, int]:
    """Rows in every table: to show that a refused request wrote nothing anywhere."""
    counts = {}
    async with database.writing() as uow:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = await uow.session.scalar(select(func.count()).select_from(table))
    return counts


async def gql(
    client: httpx.AsyncClient,
    token: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=auth(token)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _snake_key(key: str) -> str:
    key = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key)
    return re.sub(r"(?<=[a-z])([0-9])", r"_\1", key).lower()  # address1 -> address_1


def snake(value: Any) -> Any:
    """GraphQL's camelCase keys as REST's snake_case, timestamps as datetimes (the two
    surfaces format UTC differently: `Z` and `+00:00`), so the data can be compared."""
    if isinstance(value, dict):
        return {_snake_key(k): snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*", value):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def ids(items: list[dict[str, Any]]) -> list[uuid.UUID]:
    return [uuid.UUID(i["id"]) for i in items]


OFFER_FIELDS = """
id providerId type name description keyStages ageMin ageMax timeBasis qualifications
sendSpecialisms capacity placesFree days startTime endTime hoursPerWeek costPerPlace costUnit
locationIds version createdAt updatedAt
"""
LOCATION_FIELDS = """
id providerId name address1 address2 city postcode laCode version createdAt updatedAt
"""
# every field of the REST representation of a provider, so the two can be compared whole
PROVIDER_FIELDS = f"""
id name active localAuthorityId laCode postcode urn ukprn companiesHouseNumber charityNumber
description website email phone registrationStatus censusSettingType
ofsted {{ lastInspectionDate grade }}
safeguarding {{
  designatedLeadName designatedLeadEmail designatedLeadPhone staffChecksConfirmedOn
  policyReviewedOn insuranceExpiresOn
}}
qualityAssurance {{
  status reason conditions statusChangedAt assessorOrganisationId lastVisitOn nextDueOn
}}
alerts {{ code message since }}
offers {{ {OFFER_FIELDS} }}
locations {{ {LOCATION_FIELDS} }}
version createdAt updatedAt
"""
