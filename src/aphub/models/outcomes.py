"""Outcomes of a placement: progress against each intended outcome over time,
accreditations achieved, and follow-ups after the end (was the destination sustained?)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from aphub.models.base import Base, created_at, uuid_pk

RATINGS = ("not_started", "emerging", "developing", "secure", "achieved")
FOLLOW_UP_KINDS = ("six_weeks", "next_term_end")
QUALIFICATION_LEVELS = (
    "entry_1",
    "entry_2",
    "entry_3",
    "level_1",
    "level_2",
    "level_3",
    "level_4",
    "level_5",
    "level_6",
    "level_7",
    "level_8",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _placement_fk() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), ForeignKey("placements.id", ondelete="CASCADE"), nullable=False
    )


def _recorded_by() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False
    )


class OutcomeProgress(Base):
    """One progress update against an intended outcome. The outcome's description is
    kept with it: varying a placement replaces its intended outcomes (the link is then
    set null), and the history must still say what the progress was against."""

    __tablename__ = "outcome_progress"
    __table_args__ = (
        CheckConstraint(_in("rating", RATINGS), name="rating"),
        Index(
            "ix_outcome_progress_placement_id_recorded_on_id", "placement_id", "recorded_on", "id"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    placement_id: Mapped[uuid.UUID] = _placement_fk()
    outcome_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("intended_outcomes.id", ondelete="SET NULL")
    )
    outcome_description: Mapped[str] = mapped_column(Text, nullable=False)
    rating: Mapped[str] = mapped_column(String(16), nullable=False)
    evidence: Mapped[str | None] = mapped_column(Text)
    recorded_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    recorded_by_id: Mapped[uuid.UUID] = _recorded_by()
    created_at: Mapped[dt.datetime] = created_at()


class Accreditation(Base):
    """A qualification achieved during the placement."""

    __tablename__ = "accreditations"
    __table_args__ = (
        CheckConstraint(_in("level", QUALIFICATION_LEVELS), name="level"),
        Index("ix_accreditations_placement_id_awarded_on_id", "placement_id", "awarded_on", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    placement_id: Mapped[uuid.UUID] = _placement_fk()
    qualification: Mapped[str] = mapped_column(String(200), nullable=False)
    level: Mapped[str] = mapped_column(String(8), nullable=False)
    grade: Mapped[str | None] = mapped_column(String(32))
    awarding_body: Mapped[str | None] = mapped_column(String(200))
    awarded_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    recorded_by_id: Mapped[uuid.UUID] = _recorded_by()
    created_at: Mapped[dt.datetime] = created_at()


class FollowUp(Base):
    """Was the destination sustained, six weeks after the end and at the end of the next
    term? One of each kind per placement."""

    __tablename__ = "placement_follow_ups"
    __table_args__ = (
        UniqueConstraint("placement_id", "kind"),
        CheckConstraint(_in("kind", FOLLOW_UP_KINDS), name="kind"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    placement_id: Mapped[uuid.UUID] = _placement_fk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    sustained: Mapped[bool] = mapped_column(Boolean, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    recorded_by_id: Mapped[uuid.UUID] = _recorded_by()
    created_at: Mapped[dt.datetime] = created_at()
