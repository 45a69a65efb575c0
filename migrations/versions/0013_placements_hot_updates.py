"""Placement updates that change no indexed column stay on their page (HOT updates).

A transition bumps `version` and `updated_at` and, for a review, `next_review_date`. The
index on `updated_at` made every such update write a new entry into each of the table's
nine indexes; without it, a review or a varied plan changes no indexed column, and with
a tenth of each page kept free the new row version fits beside the old one, so no index
is written at all.

`updated_since` on the placement list is now answered from the caller's own placements
(the visibility condition and the id order pick them by index), filtered by time; the
event feed (`GET /v1/events?after=`) remains the way to follow every change.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_placements_updated_at_id", table_name="placements")
    op.execute("ALTER TABLE placements SET (fillfactor = 90)")


def downgrade() -> None:
    op.execute("ALTER TABLE placements RESET (fillfactor)")
    op.create_index("ix_placements_updated_at_id", "placements", ["updated_at", "id"])
