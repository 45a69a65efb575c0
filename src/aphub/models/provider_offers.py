"""A provider's offers (HSDS services: one kind of place, for whom, how many, when, at
what cost) and delivery locations (HSDS locations), with the enumerations that describe
an offer, each stored as strings guarded by check constraints.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Time,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from aphub.models.base import Base, created_at, updated_at, uuid_pk
from aphub.models.providers import one_of


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


def _subset_of(column: str, enum: type[StrEnum]) -> str:
    values = ", ".join(f"'{v.value}'" for v in enum)
    return f"{column} <@ ARRAY[{values}]::varchar[]"


class ProviderOffer(Base):
    """An offer (HSDS service): one kind of place the provider runs, for whom, how many."""

    __tablename__ = "provider_offers"
    __table_args__ = (
        CheckConstraint(one_of("type", OfferType), name="type"),
        CheckConstraint(one_of("time_basis", TimeBasis), name="time_basis"),
        CheckConstraint(one_of("cost_unit", CostUnit), name="cost_unit"),
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
