"""Involvements can be withdrawn before or on their first day.

Ending an involvement "now" sets yesterday as its last day; for one that started today or
has not started, that was before its start and refused, so access granted in error lasted
until midnight. Such an involvement now ends on the day before its start: it is never
current again. The constraint allows exactly that one day more.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_involvements_dates"), "involvements", type_="check")
    op.create_check_constraint(
        op.f("ck_involvements_dates"),
        "involvements",
        "end_date IS NULL OR end_date >= start_date - 1",
    )


def downgrade() -> None:
    # a withdrawn involvement keeps its first day, as the older rule requires
    op.execute("UPDATE involvements SET end_date = start_date WHERE end_date < start_date")
    op.drop_constraint(op.f("ck_involvements_dates"), "involvements", type_="check")
    op.create_check_constraint(
        op.f("ck_involvements_dates"), "involvements", "end_date IS NULL OR end_date >= start_date"
    )
