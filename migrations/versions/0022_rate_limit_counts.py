"""Rate-limit counts shared by every worker and instance of the hub.

Each worker counts its clients' requests itself and adds them to this table at most once
a second (`aphub.auth.rate_limit`), so the limit holds across processes without a write
per request. UNLOGGED: a crash loses at most a minute's counts.

Revision ID: 0022
Revises: 0017
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE UNLOGGED TABLE rate_limit_counts ("
        " client_id varchar(64) NOT NULL,"
        " window_start bigint NOT NULL,"
        " count bigint NOT NULL,"
        " CONSTRAINT pk_rate_limit_counts PRIMARY KEY (client_id, window_start))"
    )


def downgrade() -> None:
    op.drop_table("rate_limit_counts")
