"""SQL for the directory: statements built with SQLAlchemy Core and read into plain views
(no ORM round trip on reads, see performance.md). Lists of things hung on providers are
loaded for many providers in one statement each, so a page costs the same number of
statements whatever its size."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    any_,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID, aggregate_order_by
from sqlalchemy.orm import aliased

from aphub import registration
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Invalid
from aphub.models import (
    Organisation,
    ProviderConcern,
    ProviderLocation,
    ProviderOffer,
    ProviderOfferLocation,
    ProviderProfile,
    ProviderQARecord,
    ProviderQAStatusChange,
)
from aphub.models.organisations import OrganisationType
from aphub.models.providers import QAStatus
from aphub.pagination import decode_cursor, page_of
from aphub.providers.views import (
    ConcernView,
    LocationView,
    OfferView,
    OfstedView,
    ProviderEntry,
    QARecordView,
    QAStatusChangeView,
    QualityAssuranceView,
    SafeguardingView,
)

V = TypeVar("V")
AnySelect = Select[*tuple[Any, ...]]

PROVIDER = OrganisationType.provider.value


# --- the directory entry -----------------------------------------------------------------------

PROVIDER_LA = aliased(Organisation, name="provider_la")
PROFILE = ProviderProfile


def entries() -> AnySelect:
    """Every provider's entry; a provider with no profile yet reads as not assessed."""
    full_time_pupils, full_time_flagged = registration.counts(Organisation.id)
    return (
        select(
            full_time_pupils.label("full_time_pupils"),
            full_time_flagged.label("full_time_flagged"),
            Organisation.id,
            Organisation.name,
            Organisation.active,
            Organisation.local_authority_id,
            PROVIDER_LA.la_code.label("la_code"),
            Organisation.postcode,
            Organisation.urn,
            Organisation.ukprn,
            Organisation.companies_house_number,
            Organisation.charity_number,
            Organisation.contact_email,
            Organisation.version,
            Organisation.created_at,
            Organisation.updated_at,
            PROFILE.description,
            PROFILE.website,
            PROFILE.phone,
            PROFILE.registration_status,
            PROFILE.census_setting_type,
            PROFILE.ofsted_last_inspection_date,
            PROFILE.ofsted_grade,
            PROFILE.dsl_name,
            PROFILE.dsl_email,
            PROFILE.dsl_phone,
            PROFILE.staff_checks_confirmed_on,
            PROFILE.safeguarding_policy_reviewed_on,
            PROFILE.insurance_expires_on,
            PROFILE.qa_status,
            PROFILE.qa_status_reason,
            PROFILE.qa_conditions,
            PROFILE.qa_status_changed_at,
            PROFILE.qa_assessor_organisation_id,
            PROFILE.qa_last_visit_on,
            PROFILE.qa_next_due_on,
        )
        .select_from(Organisation)
        .outerjoin(PROFILE, PROFILE.organisation_id == Organisation.id)
        .outerjoin(PROVIDER_LA, PROVIDER_LA.id == Organisation.local_authority_id)
        .where(Organisation.type == PROVIDER)
    )


def entry_from_row(row: Row[Any]) -> ProviderEntry:
    r = row._mapping
    return ProviderEntry(
        id=r["id"],
        name=r["name"],
        active=r["active"],
        local_authority_id=r["local_authority_id"],
        la_code=r["la_code"],
        postcode=r["postcode"],
        urn=r["urn"],
        ukprn=r["ukprn"],
        companies_house_number=r["companies_house_number"],
        charity_number=r["charity_number"],
        email=r["contact_email"],
        description=r["description"],
        website=r["website"],
        phone=r["phone"],
        registration_status=r["registration_status"],
        census_setting_type=r["census_setting_type"],
        ofsted=OfstedView(r["ofsted_last_inspection_date"], r["ofsted_grade"]),
        safeguarding=SafeguardingView(
            designated_lead_name=r["dsl_name"],
            designated_lead_email=r["dsl_email"],
            designated_lead_phone=r["dsl_phone"],
            staff_checks_confirmed_on=r["staff_checks_confirmed_on"],
            policy_reviewed_on=r["safeguarding_policy_reviewed_on"],
            insurance_expires_on=r["insurance_expires_on"],
        ),
        quality_assurance=QualityAssuranceView(
            status=r["qa_status"] or QAStatus.not_assessed.value,
            reason=r["qa_status_reason"],
            conditions=r["qa_conditions"],
            status_changed_at=r["qa_status_changed_at"],
            assessor_organisation_id=r["qa_assessor_organisation_id"],
            last_visit_on=r["qa_last_visit_on"],
            next_due_on=r["qa_next_due_on"],
        ),
        version=r["version"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        full_time_pupils=r["full_time_pupils"],
        full_time_flagged=r["full_time_flagged"],
    )


async def entry(uow: ReadUnit, provider_id: uuid.UUID) -> ProviderEntry | None:
    row = (await uow.session.execute(entries().where(Organisation.id == provider_id))).first()
    return entry_from_row(row) if row is not None else None


async def provider_exists(uow: ReadUnit, provider_id: uuid.UUID) -> bool:
    found = await uow.session.scalar(
        select(Organisation.id).where(Organisation.id == provider_id, Organisation.type == PROVIDER)
    )
    return found is not None


async def lock_provider(uow: WriteUnit, provider_id: uuid.UUID) -> Organisation | None:
    """The provider's organisation row, locked: every change to a directory entry takes
    this lock first, so changes to one provider are applied one at a time."""
    return await uow.session.scalar(
        select(Organisation)
        .where(Organisation.id == provider_id, Organisation.type == PROVIDER)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def profile_for_update(uow: WriteUnit, provider_id: uuid.UUID) -> ProviderProfile:
    """The provider's profile, created on first use (under the provider's row lock)."""
    profile = await uow.session.get(ProviderProfile, provider_id)
    if profile is None:
        profile = ProviderProfile(
            organisation_id=provider_id, qa_status=QAStatus.not_assessed.value
        )
        uow.session.add(profile)
        await uow.session.flush()
    return profile


# --- who is in whose area ------------------------------------------------------------------------


def in_area_of(provider_id: Any, local_authority_id: Any) -> ColumnElement[bool]:
    """True where the provider lies in the local authority's area: the provider's own LA
    is that authority, or one of its delivery sites is in that authority's area. Both
    arguments may be values or columns of an enclosing query (it correlates)."""
    home = aliased(Organisation, name="area_provider")
    authority = aliased(Organisation, name="area_authority")
    own_area = (
        select(home.id)
        .where(home.id == provider_id, home.local_authority_id == local_authority_id)
        .exists()
    )
    site_in_area = (
        select(ProviderLocation.id)
        .join(authority, authority.la_code == ProviderLocation.la_code)
        .where(ProviderLocation.provider_id == provider_id, authority.id == local_authority_id)
        .exists()
    )
    return or_(own_area, site_in_area)


async def is_in_area(uow: ReadUnit, provider_id: uuid.UUID, local_authority_id: uuid.UUID) -> bool:
    return bool(await uow.session.scalar(select(in_area_of(provider_id, local_authority_id))))


def bad_cursor() -> Invalid:
    return Invalid.field("cursor", "The cursor is not one this hub issued")


def after_id(query: AnySelect, column: Any, cursor: str | None) -> AnySelect:
    after = decode_cursor(cursor, 1)
    if not after:
        return query
    try:
        return query.where(column > uuid.UUID(str(after[0])))
    except (TypeError, ValueError):
        raise bad_cursor() from None


# --- things hung on providers, batched ---------------------------------------------------------


def _any_of(column: Any, ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    # one array parameter: the same prepared statement serves every page size
    ids_param = bindparam(None, list(ids), type_=ARRAY(UUID(as_uuid=True)))
    return column == any_(ids_param)  # type: ignore[no-any-return]


_location_ids = (
    select(
        func.array_agg(
            aggregate_order_by(ProviderOfferLocation.location_id, ProviderOfferLocation.location_id)
        )
    )
    .where(ProviderOfferLocation.offer_id == ProviderOffer.id)
    .scalar_subquery()
)


def _offers() -> AnySelect:
    return select(*ProviderOffer.__table__.c, _location_ids.label("location_ids"))


def _offer(row: Row[Any]) -> OfferView:
    values = dict(row._mapping)
    values["location_ids"] = values["location_ids"] or []
    return OfferView(**values)


def _location(row: Row[Any]) -> LocationView:
    return LocationView(**row._mapping)


def _qa_record(row: Row[Any]) -> QARecordView:
    values = dict(row._mapping)
    values.pop("recorded_by_client_id")
    return QARecordView(**values)


def _qa_change(row: Row[Any]) -> QAStatusChangeView:
    values = dict(row._mapping)
    values.pop("changed_by_client_id")
    return QAStatusChangeView(**values)


def _concern(row: Row[Any]) -> ConcernView:
    values = dict(row._mapping)
    values.pop("raised_by_client_id")
    return ConcernView(**values)


def _grouped(
    views: Iterable[V], key: Callable[[V], uuid.UUID], ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[V]]:
    groups: dict[uuid.UUID, list[V]] = defaultdict(list)
    for view in views:
        groups[key(view)].append(view)
    return {i: groups.get(i, []) for i in ids}


async def offers_by_provider(
    uow: ReadUnit, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[OfferView]]:
    query = _offers().where(_any_of(ProviderOffer.provider_id, ids))
    rows = await uow.session.execute(query.order_by(ProviderOffer.provider_id, ProviderOffer.id))
    return _grouped((_offer(r) for r in rows), lambda v: v.provider_id, ids)


async def locations_by_provider(
    uow: ReadUnit, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[LocationView]]:
    t = ProviderLocation
    query = select(*t.__table__.c).where(_any_of(t.provider_id, ids))
    rows = await uow.session.execute(query.order_by(t.provider_id, t.id))
    return _grouped((_location(r) for r in rows), lambda v: v.provider_id, ids)


async def qa_records_by_provider(
    uow: ReadUnit, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[QARecordView]]:
    t = ProviderQARecord
    query = select(*t.__table__.c).where(_any_of(t.provider_id, ids))
    rows = await uow.session.execute(query.order_by(t.provider_id, t.id))
    return _grouped((_qa_record(r) for r in rows), lambda v: v.provider_id, ids)


async def qa_history_by_provider(
    uow: ReadUnit, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[QAStatusChangeView]]:
    t = ProviderQAStatusChange
    query = select(*t.__table__.c).where(_any_of(t.provider_id, ids))
    rows = await uow.session.execute(query.order_by(t.provider_id, t.id))
    return _grouped((_qa_change(r) for r in rows), lambda v: v.provider_id, ids)


async def concerns_by_provider(
    uow: ReadUnit, ids: Sequence[uuid.UUID], visible: ColumnElement[bool]
) -> dict[uuid.UUID, list[ConcernView]]:
    t = ProviderConcern
    query = select(*t.__table__.c).where(_any_of(t.provider_id, ids), visible)
    rows = await uow.session.execute(query.order_by(t.provider_id, t.id))
    return _grouped((_concern(r) for r in rows), lambda v: v.provider_id, ids)


# --- one provider's lists, a page at a time ----------------------------------------------------


async def _page(
    uow: ReadUnit,
    query: AnySelect,
    id_column: Any,
    make: Callable[[Row[Any]], V],
    limit: int,
    cursor: str | None,
) -> tuple[list[V], str | None]:
    query = after_id(query, id_column, cursor).order_by(id_column).limit(limit + 1)
    rows = [(make(r), r._mapping[id_column.key]) for r in await uow.session.execute(query)]
    page, next_cursor = page_of(rows, limit, lambda pair: [str(pair[1])])
    return [view for view, _ in page], next_cursor


async def offers_page(
    uow: ReadUnit, provider_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[OfferView], str | None]:
    query = _offers().where(ProviderOffer.provider_id == provider_id)
    return await _page(uow, query, ProviderOffer.id, _offer, limit, cursor)


async def locations_page(
    uow: ReadUnit, provider_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[LocationView], str | None]:
    t = ProviderLocation
    query = select(*t.__table__.c).where(t.provider_id == provider_id)
    return await _page(uow, query, t.id, _location, limit, cursor)


async def qa_records_page(
    uow: ReadUnit, provider_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[QARecordView], str | None]:
    t = ProviderQARecord
    query = select(*t.__table__.c).where(t.provider_id == provider_id)
    return await _page(uow, query, t.id, _qa_record, limit, cursor)


async def qa_history_page(
    uow: ReadUnit, provider_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[QAStatusChangeView], str | None]:
    t = ProviderQAStatusChange
    query = select(*t.__table__.c).where(t.provider_id == provider_id)
    return await _page(uow, query, t.id, _qa_change, limit, cursor)


async def concerns_page(
    uow: ReadUnit,
    provider_id: uuid.UUID,
    visible: ColumnElement[bool],
    limit: int,
    cursor: str | None,
) -> tuple[list[ConcernView], str | None]:
    t = ProviderConcern
    query = select(*t.__table__.c).where(t.provider_id == provider_id, visible)
    return await _page(uow, query, t.id, _concern, limit, cursor)


async def offer(uow: ReadUnit, provider_id: uuid.UUID, offer_id: uuid.UUID) -> OfferView | None:
    query = _offers().where(ProviderOffer.id == offer_id, ProviderOffer.provider_id == provider_id)
    row = (await uow.session.execute(query)).first()
    return _offer(row) if row is not None else None


async def location(
    uow: ReadUnit, provider_id: uuid.UUID, location_id: uuid.UUID
) -> LocationView | None:
    t = ProviderLocation
    query = select(*t.__table__.c).where(t.id == location_id, t.provider_id == provider_id)
    row = (await uow.session.execute(query)).first()
    return _location(row) if row is not None else None


async def single(uow: ReadUnit, query: AnySelect, make: Callable[[Row[Any]], V]) -> V:
    row = (await uow.session.execute(query)).one()
    return make(row)


async def qa_record(uow: ReadUnit, record_id: uuid.UUID) -> QARecordView:
    t = ProviderQARecord
    return await single(uow, select(*t.__table__.c).where(t.id == record_id), _qa_record)


async def concern(uow: ReadUnit, concern_id: uuid.UUID) -> ConcernView:
    t = ProviderConcern
    return await single(uow, select(*t.__table__.c).where(t.id == concern_id), _concern)


async def latest_qa_date(uow: ReadUnit, provider_id: uuid.UUID) -> date | None:
    return await uow.session.scalar(
        select(func.max(ProviderQARecord.conducted_on)).where(
            ProviderQARecord.provider_id == provider_id
        )
    )


async def foreign_locations(
    uow: ReadUnit, provider_id: uuid.UUID, location_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """The ids among `location_ids` that are not delivery locations of this provider."""
    if not location_ids:
        return []
    own = set(
        await uow.session.scalars(
            select(ProviderLocation.id).where(
                ProviderLocation.provider_id == provider_id,
                _any_of(ProviderLocation.id, location_ids),
            )
        )
    )
    return [i for i in location_ids if i not in own]


async def offer_location_ids(uow: ReadUnit, offer_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await uow.session.scalars(
        select(ProviderOfferLocation.location_id)
        .where(ProviderOfferLocation.offer_id == offer_id)
        .order_by(ProviderOfferLocation.location_id)
    )
    return list(rows)
