"""Children out of education: exclusions as records, the daily flags (sixth-day duty
breaches, part-time timetables past review, children waiting for a place, children gone
from a roll to nothing), part-time timetables with the parent's agreement and a review
date, and a school's own hours for a child on its roll part-time.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXCLUSION_STATUSES = (
    "in_force",
    "withdrawn",
    "reinstated",
    "upheld",
    "reconsideration_recommended",
    "reconsideration_directed",
)
FLAG_KINDS = (
    "sixth_day_breach",
    "part_time_review_overdue",
    "waiting_for_place",
    "missing_education",
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.create_table(
        "exclusions",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "child_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("children.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "school_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("organisations.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("school_days", sa.Numeric(4, 1)),
        sa.Column("reasons", postgresql.ARRAY(sa.String(2)), nullable=False),
        sa.Column("status", sa.String(32), nullable=False, server_default="in_force"),
        sa.Column("status_on", sa.Date()),
        sa.Column(
            "converted_from_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("exclusions.id", ondelete="RESTRICT"),
        ),
        sa.Column(
            "recorded_by_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("organisations.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('suspension', 'permanent')", name="ck_exclusions_kind"),
        sa.CheckConstraint(_in("status", EXCLUSION_STATUSES), name="ck_exclusions_status"),
        sa.CheckConstraint(
            "(kind = 'permanent' AND school_days IS NULL) OR "
            "(kind = 'suspension' AND school_days > 0 AND school_days <= 45)",
            name="ck_exclusions_days",
        ),
        sa.CheckConstraint("cardinality(reasons) BETWEEN 1 AND 3", name="ck_exclusions_reasons"),
    )
    op.create_index("ix_exclusions_child_id_first_day", "exclusions", ["child_id", "first_day"])
    op.create_index("ix_exclusions_first_day", "exclusions", ["first_day"])

    op.create_table(
        "education_flags",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "child_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("children.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        # what the flag is about: an exclusion, a placement or a roll entry
        sa.Column("subject_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column(
            "responsible_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("organisations.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column(
            "home_la_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("organisations.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("cleared_on", sa.Date()),
        sa.Column("details", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.CheckConstraint(_in("kind", FLAG_KINDS), name="ck_education_flags_kind"),
    )
    # one open flag per (kind, subject): the daily job inserts with ON CONFLICT DO NOTHING
    op.create_index(
        "uq_education_flags_open",
        "education_flags",
        ["kind", "subject_id"],
        unique=True,
        postgresql_where=sa.text("cleared_on IS NULL"),
    )
    op.create_index("ix_education_flags_child_id", "education_flags", ["child_id"])
    op.create_index(
        "ix_education_flags_home_la_id_open",
        "education_flags",
        ["home_la_id", "kind"],
        postgresql_where=sa.text("cleared_on IS NULL"),
    )

    op.add_column("placements", sa.Column("part_time_parent_agreed_on", sa.Date()))
    op.add_column("placements", sa.Column("part_time_review_date", sa.Date()))
    op.add_column("enrolments", sa.Column("hours_per_week", sa.Numeric(4, 1)))
    op.create_check_constraint(
        "ck_enrolments_hours_positive", "enrolments", "hours_per_week IS NULL OR hours_per_week > 0"
    )


def downgrade() -> None:
    op.drop_constraint("ck_enrolments_hours_positive", "enrolments")
    op.drop_column("enrolments", "hours_per_week")
    op.drop_column("placements", "part_time_review_date")
    op.drop_column("placements", "part_time_parent_agreed_on")
    op.drop_table("education_flags")
    op.drop_table("exclusions")
