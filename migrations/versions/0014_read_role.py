"""The read role: what a read unit's connection may do.

Read units run on connections that `SET ROLE` to this role when they open: it may read
every table and write only the access log (a read's audit row travels in the statement
that reads), so a write through a read unit fails loudly instead of committing on its own.
Tables created later by the role that runs the migrations are readable by default.

The role's name is `APHUB_DATABASE_READ_ROLE` (default `aphub_reader`); creating it needs
CREATEROLE, which a database owner usually has (otherwise create it and grant it to the
hub's user beforehand: this migration then only grants its privileges).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

from aphub.config import get_settings

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _role() -> str:
    return get_settings().database_read_role  # validated: a plain lower-case identifier


def upgrade() -> None:
    role = _role()
    op.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
        f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
    )
    op.execute(
        f"DO $$ BEGIN IF NOT pg_has_role(current_user, '{role}', 'MEMBER') "
        f"THEN EXECUTE 'GRANT {role} TO ' || quote_ident(current_user); END IF; END $$"
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    op.execute(f"GRANT INSERT ON access_log TO {role}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {role}")


def downgrade() -> None:
    role = _role()
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM {role}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {role}")
