"""The lists hung on providers (offers, delivery locations, QA records, QA status history,
concerns), read into plain views by statements built with SQLAlchemy Core, as in
`repository`: for many providers at once, one statement per list (so a page of the
directory costs the same number of statements whatever its size); for one provider, a
page at a time; and single items.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID, aggregate_order_by

from aphub.db import ReadUnit
from aphub.models import (
    ProviderConcern,
    ProviderLocation,
    ProviderOffer,
    ProviderOfferLocation,
    ProviderQARecord,
    ProviderQAStatusChange,
)
from aphub.pagination import page_of
from aphub.providers.repository import AnySelect, after_id
from aphub.providers.views import (
    ConcernView,
    LocationView,
    OfferView,
    QARecordView,
    QAStatusChangeView,
)

V = TypeVar("V")


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
