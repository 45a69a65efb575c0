"""Organisations: the operator's register of every party to the hub."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Conflict, Invalid, NotFound, PreconditionFailed
from aphub.events.log import Actor, record
from aphub.models import Organisation
from aphub.models.organisations import OrganisationType
from aphub.organisations.schemas import OrganisationCreate, OrganisationUpdate
from aphub.pagination import decode_cursor, page_of

_UNIQUE_FIELDS = ("la_code", "urn", "ukprn")


@dataclass(frozen=True)
class OrganisationFilter:
    type: OrganisationType | None = None
    la_code: str | None = None
    local_authority_id: uuid.UUID | None = None
    trust_id: uuid.UUID | None = None
    urn: str | None = None
    ukprn: str | None = None
    name: str | None = None
    updated_since: datetime | None = None


async def _require_type(
    uow: WriteUnit, org_id: uuid.UUID | None, expected: OrganisationType, field: str
) -> None:
    if org_id is None:
        return
    found = await uow.session.scalar(select(Organisation.type).where(Organisation.id == org_id))
    if found != expected:
        raise Invalid.field(field, f"{field} must name an existing {expected.value} organisation")


async def _check_unique(
    uow: WriteUnit, values: dict[str, Any], exclude: uuid.UUID | None = None
) -> None:
    for field in _UNIQUE_FIELDS:
        value = values.get(field)
        if not value:
            continue
        query = select(Organisation.id).where(getattr(Organisation, field) == value)
        if exclude is not None:
            query = query.where(Organisation.id != exclude)
        existing = await uow.session.scalar(query)
        if existing is not None:
            raise Conflict(
                f"An organisation with {field} {value} already exists",
                extra={"existing_id": str(existing)},
            )


async def create(uow: WriteUnit, data: OrganisationCreate, actor: Actor) -> Organisation:
    await _require_type(
        uow, data.local_authority_id, OrganisationType.local_authority, "local_authority_id"
    )
    await _require_type(uow, data.trust_id, OrganisationType.trust, "trust_id")
    values = data.model_dump()
    await _check_unique(uow, values)
    organisation = Organisation(**values)
    uow.session.add(organisation)
    try:
        await uow.session.flush()
    except IntegrityError:
        # a concurrent creation won the race for the same identifier
        raise Conflict("An organisation with one of these identifiers already exists") from None
    await uow.session.refresh(organisation)
    record(
        uow,
        type="organisation.created",
        subject_type="organisation",
        subject_id=organisation.id,
        subject_version=organisation.version,
        actor=actor,
        data={
            "organisation_id": str(organisation.id),
            "type": organisation.type,
            "name": organisation.name,
        },
    )
    return organisation


async def get(uow: ReadUnit, organisation_id: uuid.UUID) -> Organisation:
    organisation = await uow.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation")
    return organisation


async def update(
    uow: WriteUnit,
    organisation_id: uuid.UUID,
    data: OrganisationUpdate,
    if_match: int | None,
    actor: Actor,
) -> Organisation:
    organisation = await uow.session.get(Organisation, organisation_id, with_for_update=True)
    if organisation is None:
        raise NotFound("No such organisation")
    if if_match is not None and if_match != organisation.version:
        raise PreconditionFailed(
            f"The organisation is at version {organisation.version}, not {if_match}"
        )
    changes = data.model_dump(exclude_unset=True)
    if "la_code" in changes and organisation.type != OrganisationType.local_authority:
        raise Invalid.field("la_code", "only a local authority has an la_code")
    if changes.get("trust_id") and organisation.type != OrganisationType.school:
        raise Invalid.field("trust_id", "only a school belongs to a trust")
    await _require_type(
        uow,
        changes.get("local_authority_id"),
        OrganisationType.local_authority,
        "local_authority_id",
    )
    await _require_type(uow, changes.get("trust_id"), OrganisationType.trust, "trust_id")
    await _check_unique(uow, changes, exclude=organisation.id)
    for field, value in changes.items():
        setattr(organisation, field, value)
    organisation.version += 1
    await uow.session.flush()
    await uow.session.refresh(organisation)
    record(
        uow,
        type="organisation.updated",
        subject_type="organisation",
        subject_id=organisation.id,
        subject_version=organisation.version,
        actor=actor,
        data={"organisation_id": str(organisation.id), "fields": sorted(changes)},
    )
    return organisation


def _filtered(query: Select[Any], f: OrganisationFilter) -> Select[Any]:
    if f.type is not None:
        query = query.where(Organisation.type == f.type.value)
    if f.la_code is not None:
        area = select(Organisation.id).where(Organisation.la_code == f.la_code)
        query = query.where(
            (Organisation.la_code == f.la_code)
            | Organisation.local_authority_id.in_(area.scalar_subquery())
        )
    if f.local_authority_id is not None:
        query = query.where(Organisation.local_authority_id == f.local_authority_id)
    if f.trust_id is not None:
        query = query.where(Organisation.trust_id == f.trust_id)
    if f.urn is not None:
        query = query.where(Organisation.urn == f.urn)
    if f.ukprn is not None:
        query = query.where(Organisation.ukprn == f.ukprn)
    if f.name:
        escaped = f.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Organisation.name.ilike(f"%{escaped}%"))
    return query


async def search(
    uow: ReadUnit, f: OrganisationFilter, limit: int, cursor: str | None
) -> tuple[list[Organisation], str | None]:
    query = _filtered(select(Organisation), f)
    if f.updated_since is not None:
        # delta sync walks in (updated_at, id) order so a cursor survives later edits
        query = query.where(Organisation.updated_at >= f.updated_since)
        after = decode_cursor(cursor, 2)
        if after:
            try:
                stamp, last_id = datetime.fromisoformat(after[0]), uuid.UUID(after[1])
            except (TypeError, ValueError):
                raise Invalid.field("cursor", "The cursor is not one this hub issued") from None
            query = query.where(
                (Organisation.updated_at > stamp)
                | ((Organisation.updated_at == stamp) & (Organisation.id > last_id))
            )
        query = query.order_by(Organisation.updated_at, Organisation.id)
        rows = list((await uow.session.scalars(query.limit(limit + 1))).all())
        return page_of(rows, limit, lambda o: [o.updated_at.isoformat(), str(o.id)])
    after = decode_cursor(cursor, 1)
    if after:
        try:
            query = query.where(Organisation.id > uuid.UUID(str(after[0])))
        except (TypeError, ValueError):
            raise Invalid.field("cursor", "The cursor is not one this hub issued") from None
    rows = list((await uow.session.scalars(query.order_by(Organisation.id).limit(limit + 1))).all())
    return page_of(rows, limit, lambda o: [str(o.id)])
