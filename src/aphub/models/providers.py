"""The AP provider directory, shaped on Open Referral UK / HSDS: an organisation of type
`provider` has one directory profile, offers (HSDS services) and delivery locations, and
the local quality assurance around it (QA records, status history, concerns). This module
holds the profile; offers and locations are in `provider_offers`, quality assurance in
`provider_quality`.

Identifiers (URN, UKPRN, Companies House, charity number) stay on the organisation row;
the profile holds what only a provider has. Enumerations are stored as strings guarded by
check constraints generated from the enums (`one_of`), so the database refuses what the API
would refuse.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from aphub.models.base import Base, created_at, updated_at


class RegistrationStatus(StrEnum):
    """How the setting is registered: `pru` pupil referral unit, `ap_academy` AP academy or
    free school, `hospital_school` hospital school, `independent_school` registered
    independent school, `fe_college` further education college, `unregistered` not
    registered with Ofsted or the DfE as a school."""

    pru = "pru"
    ap_academy = "ap_academy"
    hospital_school = "hospital_school"
    independent_school = "independent_school"
    fe_college = "fe_college"
    unregistered = "unregistered"


class CensusSettingType(StrEnum):
    """AP census setting type of an unregistered provider (official DfE codes): `NFE`
    non-maintained further education, `OOT` one-to-one tuition, `OTH` other unregistered
    provision, `WBP` work-based placement."""

    NFE = "NFE"
    OOT = "OOT"
    OTH = "OTH"
    WBP = "WBP"


class OfstedGrade(StrEnum):
    """Overall effectiveness at the last Ofsted inspection: `outstanding`, `good`,
    `requires_improvement`, `inadequate`."""

    outstanding = "outstanding"
    good = "good"
    requires_improvement = "requires_improvement"
    inadequate = "inadequate"


class QAStatus(StrEnum):
    """Local quality-assurance status: `not_assessed` never assessed (the initial status),
    `approved`, `approved_with_conditions` approved subject to the conditions recorded,
    `suspended` no new placements until reinstated, `removed` no longer to be used."""

    not_assessed = "not_assessed"
    approved = "approved"
    approved_with_conditions = "approved_with_conditions"
    suspended = "suspended"
    removed = "removed"


REGISTERED_STATUSES = tuple(s.value for s in RegistrationStatus if s != "unregistered")


def one_of(column: str, enum: type[StrEnum]) -> str:
    """A check constraint: the column holds one of the enum's values."""
    return f"{column} IN (" + ", ".join(f"'{v.value}'" for v in enum) + ")"


class ProviderProfile(Base):
    """A provider's directory entry beyond its organisation row. Created on the first
    write; a provider without one reads as `not_assessed` with no directory data."""

    __tablename__ = "provider_profiles"
    __table_args__ = (
        CheckConstraint(one_of("registration_status", RegistrationStatus), name="registration"),
        CheckConstraint(one_of("census_setting_type", CensusSettingType), name="census_type"),
        CheckConstraint(
            "census_setting_type IS NULL OR registration_status = 'unregistered'",
            name="census_type_only_unregistered",
        ),
        CheckConstraint(one_of("ofsted_grade", OfstedGrade), name="ofsted_grade"),
        CheckConstraint(
            "(ofsted_grade IS NULL AND ofsted_last_inspection_date IS NULL) "
            "OR registration_status <> 'unregistered'",
            name="ofsted_only_registered",
        ),
        CheckConstraint(one_of("qa_status", QAStatus), name="qa_status"),
        Index("ix_provider_profiles_qa_status_organisation_id", "qa_status", "organisation_id"),
        Index(
            "ix_provider_profiles_registration_status_organisation_id",
            "registration_status",
            "organisation_id",
        ),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("organisations.id", ondelete="RESTRICT"),
        primary_key=True,
    )
    description: Mapped[str | None] = mapped_column(String(4000))
    website: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(30))
    registration_status: Mapped[str | None] = mapped_column(String(32))
    census_setting_type: Mapped[str | None] = mapped_column(String(3))
    ofsted_last_inspection_date: Mapped[date | None] = mapped_column(Date)
    ofsted_grade: Mapped[str | None] = mapped_column(String(32))
    dsl_name: Mapped[str | None] = mapped_column(String(200))
    dsl_email: Mapped[str | None] = mapped_column(String(254))
    dsl_phone: Mapped[str | None] = mapped_column(String(30))
    staff_checks_confirmed_on: Mapped[date | None] = mapped_column(Date)
    safeguarding_policy_reviewed_on: Mapped[date | None] = mapped_column(Date)
    insurance_expires_on: Mapped[date | None] = mapped_column(Date)
    qa_status: Mapped[str] = mapped_column(
        String(32), nullable=False, server_default=text("'not_assessed'")
    )
    qa_status_reason: Mapped[str | None] = mapped_column(String(2000))
    qa_conditions: Mapped[str | None] = mapped_column(String(2000))
    qa_status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    qa_assessor_organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    qa_last_visit_on: Mapped[date | None] = mapped_column(Date)
    qa_next_due_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
