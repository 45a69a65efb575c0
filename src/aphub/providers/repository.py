"""SQL for the directory: statements built with SQLAlchemy Core and read into plain views
(no ORM round trip on reads, see performance.md). This module holds the directory entry
(a provider's organisation row and profile), the locks taken to change one, who is in
whose area, and the cursors of pages; the lists hung on providers (offers, locations,
QA records and history, concerns) are read in `lists`."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, or_, select
from sqlalchemy.orm import aliased

from aphub import registration
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Invalid
from aphub.models import Organisation, ProviderLocation, ProviderProfile
from aphub.models.organisations import OrganisationType
from aphub.models.providers import QAStatus
from aphub.pagination import decode_cursor
from aphub.providers.views import OfstedView, ProviderEntry, QualityAssuranceView, SafeguardingView

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
