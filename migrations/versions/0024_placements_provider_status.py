"""Placements by provider and status: the provider oversight reports' access path.

The unregistered-providers and providers-needing-attention reports read, for each
provider the directory flags, its current (or active) placements, and count each
unregistered provider's full-time pupils against the registration threshold. With only
`(provider_id, id)` and `(status, id)`, PostgreSQL read every placement the provider ever
had, or combined the provider's entries with every active placement in the hub, once per
provider. Status is indexed already (`ix_placements_status_id`), so a transition that
was not a HOT update stays one, and one that was stays one too.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_placements_provider_id_status", "placements", ["provider_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_placements_provider_id_status", table_name="placements")
