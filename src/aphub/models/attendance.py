"""Attendance: session marks returned by providers, the school-day calendar (holidays per
local authority) and the concerns the hub raises from them."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from aphub.models.base import Base, created_at, uuid_pk

MARKS = ("present", "late", "absent_authorised", "absent_unauthorised", "not_required")
SESSIONS = ("am", "pm")
# The home school's DfE codes: K / B / D attended (by arrangement), C authorised absence,
# O unauthorised absence, X not required to attend.
CODES = ("K", "B", "D", "C", "O", "X")
CONCERN_KINDS = ("no_return", "unexplained_absence", "below_90", "below_50")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class AttendanceMark(Base):
    """One session mark. The key is the session itself, so re-posting replaces it.

    No surrogate id and no foreign key to `placements`: the primary key is the only
    index the bulk upsert maintains, and every row is checked against its placement
    (the caller's, within its dates) in the transaction that writes it; placements are
    never deleted."""

    __tablename__ = "attendance_marks"
    __table_args__ = (
        PrimaryKeyConstraint("placement_id", "date", "session", name="pk_attendance_marks"),
        CheckConstraint(_in("session", SESSIONS), name="session"),
        CheckConstraint(_in("mark", MARKS), name="mark"),
        CheckConstraint(_in("code", CODES), name="code"),
        CheckConstraint(
            "minutes_late IS NULL OR (mark = 'late' AND minutes_late BETWEEN 0 AND 300)",
            name="minutes_late",
        ),
        # the concerns job's scan for unexplained absences (a small partial index)
        Index(
            "ix_attendance_marks_unexplained_date",
            "date",
            postgresql_where=text("mark = 'absent_unauthorised' AND note IS NULL"),
        ),
    )

    placement_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    session: Mapped[str] = mapped_column(String(2), nullable=False)
    mark: Mapped[str] = mapped_column(String(24), nullable=False)
    code: Mapped[str] = mapped_column(String(1), nullable=False)
    minutes_late: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class SchoolHoliday(Base):
    """A holiday in a local authority's school calendar (weekdays outside these are
    school days for the concerns computed for its resident children)."""

    __tablename__ = "school_holidays"
    __table_args__ = (
        CheckConstraint("to_date >= from_date", name="to_after_from"),
        Index("ix_school_holidays_la_id_from_date", "la_id", "from_date"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    la_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    from_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    to_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = created_at()


class AttendanceConcern(Base):
    """A concern raised once: unique per placement, kind and school day (no return,
    unexplained absence) or window end (below 90% / 50% over six weeks)."""

    __tablename__ = "attendance_concerns"
    __table_args__ = (
        UniqueConstraint("placement_id", "kind", "day"),
        CheckConstraint(_in("kind", CONCERN_KINDS), name="kind"),
        Index("ix_attendance_concerns_placement_id_id", "placement_id", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    placement_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("placements.id", ondelete="CASCADE"), nullable=False
    )
    child_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    commissioner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    home_la_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    window_from: Mapped[dt.date | None] = mapped_column(Date)
    possible: Mapped[int | None] = mapped_column(Integer)
    attended: Mapped[int | None] = mapped_column(Integer)
    percentage: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    sessions: Mapped[str | None] = mapped_column(String(8))
    raised_at: Mapped[dt.datetime] = created_at()
