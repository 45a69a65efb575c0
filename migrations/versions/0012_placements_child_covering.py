"""The placements-by-child index carries what the sharing rules test.

The hosting LA's rule (`la_host`) and the provider rules ask, for a child, whether one of
its placements is current and with which provider or commissioner. With those columns in
the index, a list page's candidates and each child's rules are index-only scans: the
hosting LA's page no longer reads a placement row from the heap for every current
placement it walks past (the largest part of the page's statement on the bench).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_placements_child_id", table_name="placements")
    op.create_index(
        "ix_placements_child_id",
        "placements",
        ["child_id"],
        postgresql_include=["status", "provider_id", "commissioner_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_placements_child_id", table_name="placements")
    op.create_index("ix_placements_child_id", "placements", ["child_id"])
