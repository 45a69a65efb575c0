"""The directory search: one statement per page, built from the criteria given.

Two shapes matter for the plan a prepared statement gets (its generic plan, with the
values unknown): the area and the offer criteria are uncorrelated `IN` subqueries kept
out of the join tree (`OFFSET 0`), so PostgreSQL computes each set once and probes it by
provider. As joins, the planner estimates `key_stages @> $n` at 0.5% of offers whatever the
value and picks a nested loop that rescans the matching offers per provider (measured at
5,000 providers and 15,000 offers: 16-60 ms against 1-4 ms).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, CompoundSelect, and_, or_, select, union
from sqlalchemy.orm import aliased

from aphub.db import ReadUnit
from aphub.models import Organisation, ProviderLocation, ProviderOffer
from aphub.models.providers import QAStatus
from aphub.pagination import decode_cursor, page_of
from aphub.providers.repository import (
    PROFILE,
    AnySelect,
    after_id,
    bad_cursor,
    entries,
    entry_from_row,
)
from aphub.providers.views import ProviderEntry


@dataclass(frozen=True)
class SearchFilter:
    """Directory search. Offer criteria (type, key stage, age, SEND specialism,
    qualification, time basis, free places) must all hold for one and the same offer."""

    la_code: str | None = None
    offer_types: tuple[str, ...] = ()
    key_stage: str | None = None
    age: int | None = None
    registration_statuses: tuple[str, ...] = ()
    census_setting_type: str | None = None
    qa_statuses: tuple[str, ...] = ()
    send_specialism: str | None = None
    has_free_places: bool | None = None
    qualification: str | None = None
    time_basis: str | None = None
    name: str | None = None
    urn: str | None = None
    ukprn: str | None = None
    updated_since: datetime | None = None


def _offer_conditions(f: SearchFilter) -> list[ColumnElement[bool]]:
    o = ProviderOffer
    conditions: list[ColumnElement[bool]] = []
    if f.offer_types:
        conditions.append(o.type.in_(f.offer_types))
    if f.key_stage:
        conditions.append(o.key_stages.contains([f.key_stage]))
    if f.age is not None:
        # an offer that states no age range does not match an age
        conditions.append(and_(o.age_min <= f.age, o.age_max >= f.age))
    if f.send_specialism:
        conditions.append(o.send_specialisms.contains([f.send_specialism]))
    if f.qualification:
        conditions.append(o.qualifications.contains([f.qualification]))
    if f.time_basis:
        conditions.append(o.time_basis.in_([f.time_basis, "either"]))
    if f.has_free_places is True:
        conditions.append(o.places_free > 0)
    elif f.has_free_places is False:
        conditions.append(or_(o.places_free.is_(None), o.places_free == 0))
    return conditions


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _providers_in_area(la_code: str) -> CompoundSelect[uuid.UUID]:
    """Providers based in the LA, and providers with a delivery site there: a small set the
    planner can start from, rather than testing every provider."""
    authority = aliased(Organisation, name="search_authority")
    based = aliased(Organisation, name="search_provider")
    return union(
        select(based.id)
        .join(authority, authority.id == based.local_authority_id)
        .where(authority.la_code == la_code),
        select(ProviderLocation.provider_id).where(ProviderLocation.la_code == la_code),
    ).offset(0)


def search_statement(f: SearchFilter) -> AnySelect:
    query = entries().where(Organisation.active.is_(True))
    if f.la_code:
        query = query.where(Organisation.id.in_(_providers_in_area(f.la_code)))
    if f.registration_statuses:
        query = query.where(PROFILE.registration_status.in_(f.registration_statuses))
    if f.census_setting_type:
        query = query.where(PROFILE.census_setting_type == f.census_setting_type)
    if f.qa_statuses:
        qa: ColumnElement[bool] = PROFILE.qa_status.in_(f.qa_statuses)
        if QAStatus.not_assessed.value in f.qa_statuses:
            qa = or_(qa, PROFILE.organisation_id.is_(None))  # no profile yet: not assessed
        query = query.where(qa)
    offer_conditions = _offer_conditions(f)
    if offer_conditions:
        # uncorrelated IN, not EXISTS: the generic plan of a prepared EXISTS rescans the
        # matching offers once per provider (measured: 16 ms against 2 ms at 5,000 providers)
        query = query.where(
            Organisation.id.in_(
                select(ProviderOffer.provider_id).where(*offer_conditions).offset(0)
            )
        )
    if f.name:
        query = query.where(Organisation.name.ilike(f"%{_escape_like(f.name)}%"))
    if f.urn:
        query = query.where(Organisation.urn == f.urn)
    if f.ukprn:
        query = query.where(Organisation.ukprn == f.ukprn)
    return query


async def search(
    uow: ReadUnit, f: SearchFilter, limit: int, cursor: str | None
) -> tuple[list[ProviderEntry], str | None]:
    query = search_statement(f)
    if f.updated_since is not None:
        # delta sync walks in (updated_at, id) order so a cursor survives later edits
        query = query.where(Organisation.updated_at >= f.updated_since)
        after = decode_cursor(cursor, 2)
        if after:
            try:
                stamp, last_id = datetime.fromisoformat(after[0]), uuid.UUID(after[1])
            except (TypeError, ValueError):
                raise bad_cursor() from None
            query = query.where(
                (Organisation.updated_at > stamp)
                | ((Organisation.updated_at == stamp) & (Organisation.id > last_id))
            )
        query = query.order_by(Organisation.updated_at, Organisation.id)
        rows = [entry_from_row(r) for r in await uow.session.execute(query.limit(limit + 1))]
        return page_of(rows, limit, lambda e: [e.updated_at.isoformat(), str(e.id)])
    query = after_id(query, Organisation.id, cursor).order_by(Organisation.id)
    rows = [entry_from_row(r) for r in await uow.session.execute(query.limit(limit + 1))]
    return page_of(rows, limit, lambda e: [str(e.id)])
