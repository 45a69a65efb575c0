"""An outbox row may not repeat the version of an event already in the chain.

The chain's unique index on (subject_type, subject_id, subject_version) used to refuse a
duplicate in the transaction that wrote it; with the outbox, the duplicate would commit
and the sealer would fail on it at every pass. The outbox's own unique index covers the
rows waiting in it; this trigger covers the rows already sealed. It runs after the row's
index entries are in place, so a sealing pass that moved an earlier row has committed
and is seen (each statement in the function reads a fresh snapshot).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION event_outbox_version_unsealed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.subject_version IS NOT NULL AND EXISTS (
                SELECT 1 FROM events e WHERE e.subject_type = NEW.subject_type
                AND e.subject_id = NEW.subject_id AND e.subject_version = NEW.subject_version
            ) THEN
                RAISE EXCEPTION 'an event for % % version % is already in the log',
                    NEW.subject_type, NEW.subject_id, NEW.subject_version
                    USING ERRCODE = 'unique_violation';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER event_outbox_version_unsealed AFTER INSERT ON event_outbox "
        "FOR EACH ROW EXECUTE FUNCTION event_outbox_version_unsealed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER event_outbox_version_unsealed ON event_outbox")
    op.execute("DROP FUNCTION event_outbox_version_unsealed()")
