"""Access log: one row per read and decision, naming every child it covers.

A page of 50 children was 50 audit rows; it is now one row per distinct decision on the
page (usually one to three), each listing its children in `child_ids`, found per child
through a GIN index. `access_log_entries` is the per-child view of the same rows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTRIES = (
    "CREATE VIEW access_log_entries AS SELECT a.id, a.at, a.organisation_id, a.client_id, "
    "c.child_id, a.action, a.surface, a.outcome, a.rules, a.categories, a.policy_version "
    "FROM access_log a CROSS JOIN LATERAL unnest(a.child_ids) AS c(child_id)"
)


def upgrade() -> None:
    op.add_column(
        "access_log", sa.Column("child_ids", postgresql.ARRAY(postgresql.UUID(as_uuid=True)))
    )
    op.execute("UPDATE access_log SET child_ids = ARRAY[child_id]")
    op.alter_column("access_log", "child_ids", nullable=False)
    op.drop_index("ix_access_log_child_id_at", table_name="access_log")
    op.drop_column("access_log", "child_id")
    op.create_index("ix_access_log_child_ids", "access_log", ["child_ids"], postgresql_using="gin")
    op.execute(ENTRIES)


def downgrade() -> None:
    op.execute("DROP VIEW access_log_entries")
    op.add_column("access_log", sa.Column("child_id", postgresql.UUID(as_uuid=True)))
    # a row covering several children becomes one row per child
    op.execute(
        "INSERT INTO access_log (id, at, organisation_id, client_id, child_id, child_ids, "
        "action, surface, outcome, rules, categories, policy_version) "
        "SELECT gen_random_uuid(), at, organisation_id, client_id, c, ARRAY[c], action, "
        "surface, outcome, rules, categories, policy_version "
        "FROM access_log, unnest(child_ids) c WHERE cardinality(child_ids) > 1"
    )
    op.execute("DELETE FROM access_log WHERE cardinality(child_ids) > 1")
    op.execute("UPDATE access_log SET child_id = child_ids[1] WHERE child_id IS NULL")
    op.alter_column("access_log", "child_id", nullable=False)
    op.drop_index("ix_access_log_child_ids", table_name="access_log")
    op.drop_column("access_log", "child_ids")
    op.create_index("ix_access_log_child_id_at", "access_log", ["child_id", "at"])
