"""Placements (commissions) and their intended outcomes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from aphub.models.base import Base, created_at, updated_at, uuid_pk

PLACEMENT_STATUSES = ("requested", "offered", "active", "ended", "declined", "cancelled")


def _org_fk(nullable: bool = True) -> Any:
    return mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=nullable
    )


class Placement(Base):
    __tablename__ = "placements"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in PLACEMENT_STATUSES) + ")", name="status"
        ),
        CheckConstraint("planned_end_date >= start_date", name="planned_end_after_start"),
        CheckConstraint(
            "actual_end_date IS NULL OR actual_end_date >= start_date",
            name="actual_end_after_start",
        ),
        CheckConstraint("hours_per_week IS NULL OR hours_per_week > 0", name="hours_positive"),
        Index("ix_placements_provider_id_id", "provider_id", "id"),
        Index("ix_placements_commissioner_id_id", "commissioner_id", "id"),
        Index(
            "ix_placements_child_id",
            "child_id",
            postgresql_include=["status", "provider_id", "commissioner_id"],
        ),
        Index("ix_placements_provider_id_child_id", "provider_id", "child_id"),
        Index("ix_placements_commissioner_id_child_id", "commissioner_id", "child_id"),
        Index("ix_placements_status_id", "status", "id"),
        # the provider oversight reports (migration 0024)
        Index("ix_placements_provider_id_status", "provider_id", "status"),
        # a provider's list (placements.listing): its current placements in id order, and
        # its ended ones by end date (migration 0025)
        Index(
            "ix_placements_provider_current",
            "provider_id",
            "id",
            postgresql_where=text("status IN ('requested', 'offered', 'active')"),
        ),
        Index(
            "ix_placements_provider_ended",
            "provider_id",
            "actual_end_date",
            "id",
            postgresql_where=text("status = 'ended'"),
        ),
        # no index on updated_at, and fillfactor 90 (migration 0013): a transition that
        # changes no indexed column is a HOT update, writing no index entry
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("children.id", ondelete="RESTRICT"), nullable=False
    )
    commissioner_id: Mapped[uuid.UUID] = _org_fk(nullable=False)
    provider_id: Mapped[uuid.UUID] = _org_fk(nullable=False)
    home_school_id: Mapped[uuid.UUID | None] = _org_fk()
    offer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    delivery_location_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'")
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    legal_basis: Mapped[str] = mapped_column(String(64), nullable=False)
    primary_reason: Mapped[str] = mapped_column(String(32), nullable=False)
    dual_registered: Mapped[bool] = mapped_column(nullable=False, server_default=text("false"))
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    planned_end_date: Mapped[date] = mapped_column(Date, nullable=False)
    actual_end_date: Mapped[date | None] = mapped_column(Date)
    hours_per_week: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    pattern: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'")
    )
    part_time_justification: Mapped[str | None] = mapped_column(Text)
    part_time_parent_agreed_on: Mapped[date | None] = mapped_column(Date)
    part_time_review_date: Mapped[date | None] = mapped_column(Date)
    exit_strategy: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    review_frequency_weeks: Mapped[int | None] = mapped_column(Integer)
    next_review_date: Mapped[date | None] = mapped_column(Date)
    funding: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    transport: Mapped[str | None] = mapped_column(Text)
    safeguarding_confirmed_on: Mapped[date | None] = mapped_column(Date)
    ehcp_caseworker_notified_on: Mapped[date | None] = mapped_column(Date)
    virtual_school_head_notified_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    destination: Mapped[str | None] = mapped_column(String(32))
    closing_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class IntendedOutcome(Base):
    """One SMART intended outcome of a placement."""

    __tablename__ = "intended_outcomes"
    __table_args__ = (Index("ix_intended_outcomes_placement_id", "placement_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    placement_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("placements.id", ondelete="CASCADE"), nullable=False
    )
    description: Mapped[str] = mapped_column(Text, nullable=False)
    baseline: Mapped[str] = mapped_column(Text, nullable=False)
    target: Mapped[str] = mapped_column(Text, nullable=False)
    measure: Mapped[str] = mapped_column(Text, nullable=False)
    target_date: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = created_at()


class PlacementReview(Base):
    """A review meeting: progress against each outcome, views, decision, actions."""

    __tablename__ = "placement_reviews"
    __table_args__ = (
        CheckConstraint(
            "decision IN ('continue', 'vary', 'extend', 'end', 'reintegrate')", name="decision"
        ),
        Index("ix_placement_reviews_placement_id_held_on", "placement_id", "held_on"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    placement_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("placements.id", ondelete="CASCADE"), nullable=False
    )
    scheduled_on: Mapped[date | None] = mapped_column(Date)
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    attendees: Mapped[list[str]] = mapped_column(ARRAY(String(32)), nullable=False)
    progress: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    attendance_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    child_views: Mapped[str | None] = mapped_column(Text)
    family_views: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16), nullable=False)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    next_review_date: Mapped[date | None] = mapped_column(Date)
    proposed_end_date: Mapped[date | None] = mapped_column(Date)
    extension_applied: Mapped[bool] = mapped_column(nullable=False, server_default=text("false"))
    recorded_by_id: Mapped[uuid.UUID | None] = _org_fk()
    created_at: Mapped[datetime] = created_at()
