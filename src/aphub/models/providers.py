"""The AP provider directory, shaped on Open Referral UK / HSDS: an organisation of type
`provider` has one directory profile, offers (HSDS services) and delivery locations, and
the local quality assurance around it (QA records, status history, concerns).

Identifiers (URN, UKPRN, Companies House, charity number) stay on the organisation row;
the profile holds what only a provider has. Enumerations are stored as strings guarded by
check constraints generated from the enums below, so the database refuses what the API
would refuse.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from aphub.models.base import Base, created_at, updated_at, uuid_pk


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


class QAKind(StrEnum):
    """`visit` a quality-assurance visit to the provider, `audit` a desk audit of its
    policies, records and evidence."""

    visit = "visit"
    audit = "audit"


class QAOutcome(StrEnum):
    """What a QA visit or audit concluded: `meets_standards`,
    `meets_standards_with_actions` (actions agreed with the provider),
    `does_not_meet_standards`."""

    meets_standards = "meets_standards"
    meets_standards_with_actions = "meets_standards_with_actions"
    does_not_meet_standards = "does_not_meet_standards"


class OfferType(StrEnum):
    """Kind of AP offered: `medical` for children too ill to attend school, `exclusion`
    for permanently excluded pupils, `vocational` vocational or work-related learning,
    `intervention_assessment` time-limited intervention or assessment place,
    `ks1_3_full_time` full-time provision at key stages 1-3, `ks4_full_time` full-time
    provision at key stage 4, `step_out` short off-site placement to improve behaviour,
    `engagement` re-engagement programme, `outreach` support delivered in the home school,
    `tuition` one-to-one or small-group tuition, `therapeutic` therapeutic education."""

    medical = "medical"
    exclusion = "exclusion"
    vocational = "vocational"
    intervention_assessment = "intervention_assessment"
    ks1_3_full_time = "ks1_3_full_time"
    ks4_full_time = "ks4_full_time"
    step_out = "step_out"
    engagement = "engagement"
    outreach = "outreach"
    tuition = "tuition"
    therapeutic = "therapeutic"


class KeyStage(StrEnum):
    """National curriculum key stage: `ks1` ages 5-7, `ks2` 7-11, `ks3` 11-14, `ks4` 14-16,
    `post_16` 16 and over."""

    ks1 = "ks1"
    ks2 = "ks2"
    ks3 = "ks3"
    ks4 = "ks4"
    post_16 = "post_16"


class TimeBasis(StrEnum):
    """Whether places are `full_time`, `part_time`, or `either` as the placement needs."""

    full_time = "full_time"
    part_time = "part_time"
    either = "either"


class Qualification(StrEnum):
    """Qualifications an offer leads to: `gcse`, `functional_skills` (English, maths),
    `vocational` (e.g. BTEC, City & Guilds, CSCS), `entry_level` entry level
    certificates, `other`."""

    gcse = "gcse"
    functional_skills = "functional_skills"
    vocational = "vocational"
    entry_level = "entry_level"
    other = "other"


class SendSpecialism(StrEnum):
    """SEND an offer specialises in, after the DfE primary need categories:
    `specific_learning_difficulty` (SpLD), `moderate_learning_difficulty` (MLD),
    `severe_learning_difficulty` (SLD), `profound_multiple_learning_difficulty` (PMLD),
    `social_emotional_mental_health` (SEMH), `speech_language_communication` (SLCN),
    `hearing_impairment` (HI), `visual_impairment` (VI), `multi_sensory_impairment` (MSI),
    `physical_disability` (PD), `autism` (ASD), `other` (OTH)."""

    specific_learning_difficulty = "specific_learning_difficulty"
    moderate_learning_difficulty = "moderate_learning_difficulty"
    severe_learning_difficulty = "severe_learning_difficulty"
    profound_multiple_learning_difficulty = "profound_multiple_learning_difficulty"
    social_emotional_mental_health = "social_emotional_mental_health"
    speech_language_communication = "speech_language_communication"
    hearing_impairment = "hearing_impairment"
    visual_impairment = "visual_impairment"
    multi_sensory_impairment = "multi_sensory_impairment"
    physical_disability = "physical_disability"
    autism = "autism"
    other = "other"


class OfferDay(StrEnum):
    """Day of the week an offer runs, `monday` to `sunday`."""

    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
    sunday = "sunday"


class CostUnit(StrEnum):
    """What `cost_per_place` is charged per: `per_hour`, `per_session` (half day),
    `per_day`, `per_week`, `per_term`, `per_year`."""

    per_hour = "per_hour"
    per_session = "per_session"
    per_day = "per_day"
    per_week = "per_week"
    per_term = "per_term"
    per_year = "per_year"


class ConcernCategory(StrEnum):
    """What a quality concern is about: `safeguarding`, `quality_of_education`,
    `attendance_reporting` (late or missing attendance returns), `health_and_safety`,
    `staffing`, `premises`, `leadership`, `communication`, `other`."""

    safeguarding = "safeguarding"
    quality_of_education = "quality_of_education"
    attendance_reporting = "attendance_reporting"
    health_and_safety = "health_and_safety"
    staffing = "staffing"
    premises = "premises"
    leadership = "leadership"
    communication = "communication"
    other = "other"


class ConcernSeverity(StrEnum):
    """How serious the concern is: `low`, `medium`, `high`."""

    low = "low"
    medium = "medium"
    high = "high"


REGISTERED_STATUSES = tuple(s.value for s in RegistrationStatus if s != "unregistered")


def _one_of(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v.value}'" for v in enum) + ")"


def _subset_of(column: str, enum: type[StrEnum]) -> str:
    values = ", ".join(f"'{v.value}'" for v in enum)
    return f"{column} <@ ARRAY[{values}]::varchar[]"


class ProviderProfile(Base):
    """A provider's directory entry beyond its organisation row. Created on the first
    write; a provider without one reads as `not_assessed` with no directory data."""

    __tablename__ = "provider_profiles"
    __table_args__ = (
        CheckConstraint(_one_of("registration_status", RegistrationStatus), name="registration"),
        CheckConstraint(_one_of("census_setting_type", CensusSettingType), name="census_type"),
        CheckConstraint(
            "census_setting_type IS NULL OR registration_status = 'unregistered'",
            name="census_type_only_unregistered",
        ),
        CheckConstraint(_one_of("ofsted_grade", OfstedGrade), name="ofsted_grade"),
        CheckConstraint(
            "(ofsted_grade IS NULL AND ofsted_last_inspection_date IS NULL) "
            "OR registration_status <> 'unregistered'",
            name="ofsted_only_registered",
        ),
        CheckConstraint(_one_of("qa_status", QAStatus), name="qa_status"),
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


class ProviderOffer(Base):
    """An offer (HSDS service): one kind of place the provider runs, for whom, how many."""

    __tablename__ = "provider_offers"
    __table_args__ = (
        CheckConstraint(_one_of("type", OfferType), name="type"),
        CheckConstraint(_one_of("time_basis", TimeBasis), name="time_basis"),
        CheckConstraint(_one_of("cost_unit", CostUnit), name="cost_unit"),
        CheckConstraint(_subset_of("key_stages", KeyStage), name="key_stages"),
        CheckConstraint(_subset_of("qualifications", Qualification), name="qualifications"),
        CheckConstraint(_subset_of("send_specialisms", SendSpecialism), name="send_specialisms"),
        CheckConstraint(_subset_of("days", OfferDay), name="days"),
        CheckConstraint("age_min IS NULL OR age_max IS NULL OR age_min <= age_max", name="ages"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity"),
        CheckConstraint(
            "places_free IS NULL OR (capacity IS NOT NULL AND places_free BETWEEN 0 AND capacity)",
            name="places_free",
        ),
        Index("ix_provider_offers_provider_id_id", "provider_id", "id"),
        Index("ix_provider_offers_type_provider_id", "type", "provider_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    provider_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False
    )
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(String(4000))
    key_stages: Mapped[list[str]] = mapped_column(
        ARRAY(String(16)), nullable=False, server_default=text("'{}'")
    )
    age_min: Mapped[int | None] = mapped_column(Integer)
    age_max: Mapped[int | None] = mapped_column(Integer)
    time_basis: Mapped[str | None] = mapped_column(String(16))
    qualifications: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), nullable=False, server_default=text("'{}'")
    )
    send_specialisms: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), nullable=False, server_default=text("'{}'")
    )
    capacity: Mapped[int | None] = mapped_column(Integer)
    places_free: Mapped[int | None] = mapped_column(Integer)
    days: Mapped[list[str]] = mapped_column(
        ARRAY(String(16)), nullable=False, server_default=text("'{}'")
    )
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    hours_per_week: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    cost_per_place: Mapped[Decimal | None] = mapped_column(Numeric(9, 2))
    cost_unit: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class ProviderLocation(Base):
    """A delivery site (HSDS location), with the local authority area it lies in."""

    __tablename__ = "provider_locations"
    __table_args__ = (
        Index("ix_provider_locations_provider_id_id", "provider_id", "id"),
        Index("ix_provider_locations_la_code_provider_id", "la_code", "provider_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    provider_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    address_1: Mapped[str] = mapped_column(String(200), nullable=False)
    address_2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(8), nullable=False)
    la_code: Mapped[str] = mapped_column(String(3), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class ProviderOfferLocation(Base):
    """Where an offer is delivered (HSDS service_at_location)."""

    __tablename__ = "provider_offer_locations"
    __table_args__ = (Index("ix_provider_offer_locations_location_id", "location_id"),)

    offer_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("provider_offers.id", ondelete="CASCADE"), primary_key=True
    )
    location_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("provider_locations.id", ondelete="CASCADE"),
        primary_key=True,
    )


class ProviderQARecord(Base):
    """A quality-assurance visit or audit and what it found."""

    __tablename__ = "provider_qa_records"
    __table_args__ = (
        CheckConstraint(_one_of("kind", QAKind), name="kind"),
        CheckConstraint(_one_of("outcome", QAOutcome), name="outcome"),
        CheckConstraint("next_due_on IS NULL OR next_due_on > conducted_on", name="next_due"),
        Index("ix_provider_qa_records_provider_id_id", "provider_id", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    provider_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    conducted_on: Mapped[date] = mapped_column(Date, nullable=False)
    assessor_organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False
    )
    assessor_name: Mapped[str | None] = mapped_column(String(200))
    findings: Mapped[str] = mapped_column(Text, nullable=False)
    actions: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(32), nullable=False)
    next_due_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at()


class ProviderQAStatusChange(Base):
    """One change of a provider's QA status: who, when, from what, to what and why."""

    __tablename__ = "provider_qa_history"
    __table_args__ = (
        CheckConstraint(_one_of("from_status", QAStatus), name="from_status"),
        CheckConstraint(_one_of("to_status", QAStatus), name="to_status"),
        Index("ix_provider_qa_history_provider_id_id", "provider_id", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    provider_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False
    )
    from_status: Mapped[str] = mapped_column(String(32), nullable=False)
    to_status: Mapped[str] = mapped_column(String(32), nullable=False)
    reason: Mapped[str] = mapped_column(String(2000), nullable=False)
    conditions: Mapped[str | None] = mapped_column(String(2000))
    next_due_on: Mapped[date | None] = mapped_column(Date)
    changed_by_organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False
    )
    changed_by_client_id: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[datetime] = created_at()


class ProviderConcern(Base):
    """A quality concern a commissioner raised about a provider."""

    __tablename__ = "provider_concerns"
    __table_args__ = (
        CheckConstraint(_one_of("category", ConcernCategory), name="category"),
        CheckConstraint(_one_of("severity", ConcernSeverity), name="severity"),
        Index("ix_provider_concerns_provider_id_id", "provider_id", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    provider_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False
    )
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(String(4000), nullable=False)
    raised_by_organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False
    )
    raised_by_client_id: Mapped[str | None] = mapped_column(String(64))
    raised_at: Mapped[datetime] = created_at()
