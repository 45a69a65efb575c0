"""API clients: who created each, and its organisation's approval.

A client the operator creates for an organisation that already has an admin client
(`clients:admin`), and that holds child scopes or `clients:admin`, waits for that
organisation's admin to approve it (`approved_at` null until then); its tokens are refused
meanwhile. Existing clients count as approved when they were created.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_clients", sa.Column("approved_at", sa.DateTime(timezone=True)))
    op.add_column("api_clients", sa.Column("approved_by_client_id", sa.String(64)))
    op.add_column("api_clients", sa.Column("created_by_organisation_id", UUID(as_uuid=True)))
    op.add_column("api_clients", sa.Column("created_by_client_id", sa.String(64)))
    op.execute("UPDATE api_clients SET approved_at = created_at")


def downgrade() -> None:
    for column in (
        "created_by_client_id",
        "created_by_organisation_id",
        "approved_by_client_id",
        "approved_at",
    ):
        op.drop_column("api_clients", column)
