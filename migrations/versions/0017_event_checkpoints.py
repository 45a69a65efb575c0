"""Signed checkpoints of the event log's chain head, and the expiry of kept answers.

A checkpoint is the chain's size and head hash at a moment, signed with the hub's key
(Certificate Transparency style). Clients keep the ones they see in the feed; `aphub
verify-log --checkpoint FILE` proves a kept checkpoint is a prefix of today's chain, so a
log rewound after it was published no longer passes. Checkpoints are append-only, as the
events are.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_checkpoints",
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("head", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_event_checkpoints")),
    )
    op.execute(
        "CREATE TRIGGER event_checkpoints_no_update_delete BEFORE UPDATE OR DELETE "
        "ON event_checkpoints FOR EACH ROW EXECUTE FUNCTION events_append_only()"
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("event_checkpoints")
