"""Indexes for a provider's list of placements: current ones, and recently ended ones.

A provider sees its requested, offered and active placements and those that ended under
90 days ago. Its list walked `(provider_id, id)` and passed over every older placement
before the first it could show: at national scale 17,000 rows for a page of 50. The list
is now the merge of two walks (aphub.placements.listing): the current placements in id
order, from a partial index holding only those, and the recently ended ones, from an
index on the end date of ended placements. Neither grows with the provider's history.
Both change only when a placement changes status, which already writes index entries
(`ix_placements_status_id`), so they cost no HOT update.

Revision ID: 0025
Revises: 0021
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_placements_provider_current",
        "placements",
        ["provider_id", "id"],
        postgresql_where=sa.text("status IN ('requested', 'offered', 'active')"),
    )
    op.create_index(
        "ix_placements_provider_ended",
        "placements",
        ["provider_id", "actual_end_date", "id"],
        postgresql_where=sa.text("status = 'ended'"),
    )


def downgrade() -> None:
    op.drop_index("ix_placements_provider_ended", table_name="placements")
    op.drop_index("ix_placements_provider_current", table_name="placements")
