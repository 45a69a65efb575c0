"""The event log: append-only, hash-chained.

UPDATE, DELETE and TRUNCATE on `events` are refused by triggers for every role that
runs with normal triggers (the application's role included) and revoked from PUBLIC.
Only a superuser who switches `session_replication_role` can alter a row, and then
`aphub verify-log` names the event whose hash no longer fits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_organisation_id", sa.UUID(), nullable=True),
        sa.Column("actor_client_id", sa.String(length=64), nullable=True),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.UUID(), nullable=False),
        sa.Column("subject_version", sa.Integer(), nullable=True),
        sa.Column("child_id", sa.UUID(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_events_seq")),
    )
    op.create_index("ix_events_child_id_seq", "events", ["child_id", "seq"])
    op.create_index(
        "ix_events_subject_type_subject_id_seq", "events", ["subject_type", "subject_id", "seq"]
    )
    op.create_index(
        "uq_events_subject_version",
        "events",
        ["subject_type", "subject_id", "subject_version"],
        unique=True,
        postgresql_where=sa.text("subject_version IS NOT NULL"),
    )
    op.create_table(
        "event_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_chain_head")),
    )
    op.execute(f"INSERT INTO event_chain_head (id, seq, hash) VALUES (1, 0, '{'0' * 64}')")
    op.execute(
        """
        CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the event log is append-only: % is not allowed', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()"
    )
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON events FROM PUBLIC")


def downgrade() -> None:
    op.execute("DROP TRIGGER events_no_truncate ON events")
    op.execute("DROP TRIGGER events_no_update_delete ON events")
    op.execute("DROP FUNCTION events_append_only()")
    op.drop_table("event_chain_head")
    op.drop_index("uq_events_subject_version", table_name="events")
    op.drop_index("ix_events_subject_type_subject_id_seq", table_name="events")
    op.drop_index("ix_events_child_id_seq", table_name="events")
    op.drop_table("events")
