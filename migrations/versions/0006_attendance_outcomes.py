"""Attendance marks, the school calendar and attendance concerns; outcome progress,
accreditations and follow-ups.

- `attendance_marks` is keyed by the session itself, (placement_id, date, session): the
  primary key is the index every read uses (a placement's marks in date order, a window
  of them) and the only one the bulk returns maintain. No foreign key to `placements`:
  each row is checked against its placement in the transaction that writes it, and a
  per-row trigger would cost the bulk COPY more than the rest of the checks together.
  A small partial index serves the concerns job's look for unexplained absences.
- `attendance_concerns` is unique on (placement_id, kind, day): the job inserts with
  ON CONFLICT DO NOTHING, so each concern is raised once whoever computes it.
- `outcome_progress.outcome_id` is set null if a variation replaces the outcome; the
  outcome's description is kept on the row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attendance_marks",
        sa.Column("placement_id", sa.UUID(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("session", sa.String(length=2), nullable=False),
        sa.Column("mark", sa.String(length=24), nullable=False),
        sa.Column("code", sa.String(length=1), nullable=False),
        sa.Column("minutes_late", sa.SmallInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "code IN ('K', 'B', 'D', 'C', 'O', 'X')", name=op.f("ck_attendance_marks_code")
        ),
        sa.CheckConstraint(
            "mark IN ('present', 'late', 'absent_authorised', 'absent_unauthorised', 'not_required')",
            name=op.f("ck_attendance_marks_mark"),
        ),
        sa.CheckConstraint(
            "minutes_late IS NULL OR (mark = 'late' AND minutes_late BETWEEN 0 AND 300)",
            name=op.f("ck_attendance_marks_minutes_late"),
        ),
        sa.CheckConstraint("session IN ('am', 'pm')", name=op.f("ck_attendance_marks_session")),
        sa.PrimaryKeyConstraint(
            "placement_id", "date", "session", name=op.f("pk_attendance_marks")
        ),
    )
    op.create_index(
        "ix_attendance_marks_unexplained_date",
        "attendance_marks",
        ["date"],
        unique=False,
        postgresql_where=sa.text("mark = 'absent_unauthorised' AND note IS NULL"),
    )
    op.create_table(
        "school_holidays",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("la_id", sa.UUID(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("to_date >= from_date", name=op.f("ck_school_holidays_to_after_from")),
        sa.ForeignKeyConstraint(
            ["la_id"],
            ["organisations.id"],
            name=op.f("fk_school_holidays_la_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_holidays")),
    )
    op.create_index(
        "ix_school_holidays_la_id_from_date",
        "school_holidays",
        ["la_id", "from_date"],
        unique=False,
    )
    op.create_table(
        "attendance_concerns",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("placement_id", sa.UUID(), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("commissioner_id", sa.UUID(), nullable=False),
        sa.Column("home_la_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("window_from", sa.Date(), nullable=True),
        sa.Column("possible", sa.Integer(), nullable=True),
        sa.Column("attended", sa.Integer(), nullable=True),
        sa.Column("percentage", sa.Numeric(precision=4, scale=1), nullable=True),
        sa.Column("sessions", sa.String(length=8), nullable=True),
        sa.Column(
            "raised_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('no_return', 'unexplained_absence', 'below_90', 'below_50')",
            name=op.f("ck_attendance_concerns_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["placements.id"],
            name=op.f("fk_attendance_concerns_placement_id_placements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_concerns")),
        sa.UniqueConstraint(
            "placement_id", "kind", "day", name=op.f("uq_attendance_concerns_placement_id_kind_day")
        ),
    )
    op.create_index(
        "ix_attendance_concerns_placement_id_id",
        "attendance_concerns",
        ["placement_id", "id"],
        unique=False,
    )
    op.create_table(
        "outcome_progress",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("placement_id", sa.UUID(), nullable=False),
        sa.Column("outcome_id", sa.UUID(), nullable=True),
        sa.Column("outcome_description", sa.Text(), nullable=False),
        sa.Column("rating", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "rating IN ('not_started', 'emerging', 'developing', 'secure', 'achieved')",
            name=op.f("ck_outcome_progress_rating"),
        ),
        sa.ForeignKeyConstraint(
            ["outcome_id"],
            ["intended_outcomes.id"],
            name=op.f("fk_outcome_progress_outcome_id_intended_outcomes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["placements.id"],
            name=op.f("fk_outcome_progress_placement_id_placements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["organisations.id"],
            name=op.f("fk_outcome_progress_recorded_by_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_progress")),
    )
    op.create_index(
        "ix_outcome_progress_placement_id_recorded_on_id",
        "outcome_progress",
        ["placement_id", "recorded_on", "id"],
        unique=False,
    )
    op.create_table(
        "accreditations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("placement_id", sa.UUID(), nullable=False),
        sa.Column("qualification", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("grade", sa.String(length=32), nullable=True),
        sa.Column("awarding_body", sa.String(length=200), nullable=True),
        sa.Column("awarded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "level IN ('entry_1', 'entry_2', 'entry_3', 'level_1', 'level_2', 'level_3', 'level_4', 'level_5', 'level_6', 'level_7', 'level_8')",
            name=op.f("ck_accreditations_level"),
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["placements.id"],
            name=op.f("fk_accreditations_placement_id_placements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["organisations.id"],
            name=op.f("fk_accreditations_recorded_by_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accreditations")),
    )
    op.create_index(
        "ix_accreditations_placement_id_awarded_on_id",
        "accreditations",
        ["placement_id", "awarded_on", "id"],
        unique=False,
    )
    op.create_table(
        "placement_follow_ups",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("placement_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("sustained", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('six_weeks', 'next_term_end')", name=op.f("ck_placement_follow_ups_kind")
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["placements.id"],
            name=op.f("fk_placement_follow_ups_placement_id_placements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["organisations.id"],
            name=op.f("fk_placement_follow_ups_recorded_by_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_follow_ups")),
        sa.UniqueConstraint(
            "placement_id", "kind", name=op.f("uq_placement_follow_ups_placement_id_kind")
        ),
    )


def downgrade() -> None:
    op.drop_table("placement_follow_ups")
    op.drop_index("ix_accreditations_placement_id_awarded_on_id", table_name="accreditations")
    op.drop_table("accreditations")
    op.drop_index("ix_outcome_progress_placement_id_recorded_on_id", table_name="outcome_progress")
    op.drop_table("outcome_progress")
    op.drop_index("ix_attendance_concerns_placement_id_id", table_name="attendance_concerns")
    op.drop_table("attendance_concerns")
    op.drop_index("ix_school_holidays_la_id_from_date", table_name="school_holidays")
    op.drop_table("school_holidays")
    op.drop_index("ix_attendance_marks_unexplained_date", table_name="attendance_marks")
    op.drop_table("attendance_marks")
