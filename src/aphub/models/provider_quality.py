"""The local quality assurance of providers: QA visits and audits and what they found,
the history of a provider's QA status, and the quality concerns commissioners raise, with
their enumerations (the status itself, `QAStatus`, is on the profile in `providers`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from aphub.models.base import Base, created_at, uuid_pk
from aphub.models.providers import QAStatus, one_of


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


class ProviderQARecord(Base):
    """A quality-assurance visit or audit and what it found."""

    __tablename__ = "provider_qa_records"
    __table_args__ = (
        CheckConstraint(one_of("kind", QAKind), name="kind"),
        CheckConstraint(one_of("outcome", QAOutcome), name="outcome"),
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
        CheckConstraint(one_of("from_status", QAStatus), name="from_status"),
        CheckConstraint(one_of("to_status", QAStatus), name="to_status"),
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
        CheckConstraint(one_of("category", ConcernCategory), name="category"),
        CheckConstraint(one_of("severity", ConcernSeverity), name="severity"),
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
