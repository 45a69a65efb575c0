"""Children out of education: exclusions as records, and the flags the daily job raises."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from aphub.models.base import Base, created_at, updated_at, uuid_pk

EXCLUSION_KINDS = ("suspension", "permanent")
# As the headteacher decided it (`in_force`), then what the governing board or an
# independent review panel decided (School Discipline (Pupil Exclusions and Reviews)
# (England) Regulations 2012), or the headteacher's withdrawal.
EXCLUSION_STATUSES = (
    "in_force",
    "withdrawn",
    "reinstated",
    "upheld",
    "reconsideration_recommended",
    "reconsideration_directed",
)
# statuses under which the exclusion no longer runs after `status_on`
ENDING_STATUSES = ("withdrawn", "reinstated")
FLAG_KINDS = (
    "sixth_day_breach",
    "part_time_review_overdue",
    "waiting_for_place",
    "missing_education",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _org_fk(nullable: bool = False) -> Any:
    return mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=nullable
    )


class Exclusion(Base):
    """A suspension or permanent exclusion, posted by the school (or its trust) that
    excludes. Category `education`, visible under the child's rules."""

    __tablename__ = "exclusions"
    __table_args__ = (
        CheckConstraint("kind IN ('suspension', 'permanent')", name="kind"),
        CheckConstraint(_in("status", EXCLUSION_STATUSES), name="status"),
        CheckConstraint(
            "(kind = 'permanent' AND school_days IS NULL) OR "
            "(kind = 'suspension' AND school_days > 0 AND school_days <= 45)",
            name="days",
        ),
        CheckConstraint("cardinality(reasons) BETWEEN 1 AND 3", name="reasons"),
        Index("ix_exclusions_child_id_first_day", "child_id", "first_day"),
        Index("ix_exclusions_first_day", "first_day"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("children.id", ondelete="CASCADE"), nullable=False
    )
    school_id: Mapped[uuid.UUID] = _org_fk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    first_day: Mapped[date] = mapped_column(Date, nullable=False)
    school_days: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    reasons: Mapped[list[str]] = mapped_column(ARRAY(String(2)), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False, server_default="in_force")
    status_on: Mapped[date | None] = mapped_column(Date)
    converted_from_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("exclusions.id", ondelete="RESTRICT")
    )
    recorded_by_id: Mapped[uuid.UUID] = _org_fk()
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class EducationFlag(Base):
    """A child the daily job found without what the law or the area expects: open until
    the job finds it resolved (one open flag per kind and subject)."""

    __tablename__ = "education_flags"
    __table_args__ = (
        CheckConstraint(_in("kind", FLAG_KINDS), name="kind"),
        Index(
            "uq_education_flags_open",
            "kind",
            "subject_id",
            unique=True,
            postgresql_where=text("cleared_on IS NULL"),
        ),
        Index("ix_education_flags_child_id", "child_id"),
        Index(
            "ix_education_flags_home_la_id_open",
            "home_la_id",
            "kind",
            postgresql_where=text("cleared_on IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("children.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    responsible_id: Mapped[uuid.UUID] = _org_fk()
    home_la_id: Mapped[uuid.UUID] = _org_fk()
    since: Mapped[date] = mapped_column(Date, nullable=False)
    raised_on: Mapped[date] = mapped_column(Date, nullable=False)
    cleared_on: Mapped[date | None] = mapped_column(Date)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    created_at: Mapped[datetime] = created_at()
