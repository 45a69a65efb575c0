"""Least privilege: the application role, and the event log sealed through the owner.

The migrations run as the role that owns the schema (`APHUB_MIGRATION_DATABASE_URL`);
the web and jobs processes act as the application role (`APHUB_DATABASE_APP_ROLE`,
default `aphub_app`): in production they log in as it, and the write pool takes it at
connect (`SET ROLE`) whoever logged in, so every write the hub makes is checked against
these grants. The role has

- SELECT, INSERT, UPDATE and DELETE on the hub's tables, and on the tables later
  migrations create (default privileges): no TRUNCATE, no DDL (no CREATE on the schema,
  and it owns nothing), so it can neither drop nor disable the event log's triggers;
- on the append-only tables only what appending needs: INSERT and SELECT on
  `access_log`, `event_checkpoints` and `event_outbox`; SELECT on `events` and
  `event_chain_head`. The sealer moves outbox rows into the chain through two functions
  that run as their owner (SECURITY DEFINER): `event_log_head()` locks the chain head,
  and `event_log_seal(outbox rows, hashes)` appends those rows after the head, in that
  order, with the hashes given, removes them from the outbox and moves the head on. A
  compromised web process can therefore append (it could anyway, by making changes) but
  not alter, delete, reorder or rewind what is in the log, nor drop an event waiting in
  the outbox; a wrong hash it gave would be named by `aphub verify-log`.

The read role (0014) is granted to the application role, so a login that is the
application role can take it for read units. Creating the role needs CREATEROLE, as 0014
did; on a server where that is not allowed, create it (NOLOGIN, or LOGIN for the hub's
login) and grant it to the migrating user beforehand.

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

from aphub.config import get_settings

revision: str = "0021"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# tables the application may only append to and read
APPEND_ONLY = ("access_log", "event_checkpoints", "event_outbox")
# tables it may only read: the chain moves through the functions below
READ_ONLY = ("events", "event_chain_head", "alembic_version")

_EVENT_COLUMNS = (
    "id, seq, type, occurred_at, actor_organisation_id, actor_client_id, subject_type, "
    "subject_id, subject_version, child_id, data, prev_hash, hash"
)

HEAD_FUNCTION = """
CREATE FUNCTION event_log_head() RETURNS TABLE (seq bigint, hash text)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT h.seq, h.hash::text FROM event_chain_head h WHERE h.id = 1 FOR UPDATE
$$
"""

SEAL_FUNCTION = f"""
CREATE FUNCTION event_log_seal(outbox_rows bigint[], hashes text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    head_seq bigint;
    head_hash text;
    moved bigint;
BEGIN
    IF cardinality(outbox_rows) IS DISTINCT FROM cardinality(hashes)
            OR cardinality(outbox_rows) = 0 THEN
        RAISE EXCEPTION 'one hash for each outbox row to seal' USING ERRCODE = 'data_exception';
    END IF;
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM event_chain_head h WHERE h.id = 1
        FOR UPDATE;
    INSERT INTO events ({_EVENT_COLUMNS})
    SELECT o.id, head_seq + k.i, o.type, o.occurred_at, o.actor_organisation_id,
        o.actor_client_id, o.subject_type, o.subject_id, o.subject_version, o.child_id,
        o.data, CASE WHEN k.i = 1 THEN head_hash ELSE hashes[k.i - 1] END, hashes[k.i]
    FROM unnest(outbox_rows) WITH ORDINALITY AS k(n, i) JOIN event_outbox o ON o.n = k.n
    ORDER BY k.i;
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF moved <> cardinality(outbox_rows) THEN
        RAISE EXCEPTION 'an outbox row to seal is not in the outbox'
            USING ERRCODE = 'data_exception';
    END IF;
    DELETE FROM event_outbox WHERE n = ANY (outbox_rows);
    UPDATE event_chain_head SET seq = head_seq + moved, hash = hashes[moved] WHERE id = 1;
    RETURN head_seq + moved;
END $$
"""


def upgrade() -> None:
    settings = get_settings()
    app, reader = settings.database_app_role, settings.database_read_role  # validated names
    op.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{app}') "
        f"THEN CREATE ROLE {app} NOLOGIN; END IF; END $$"
    )
    # a login that runs the migrations and the hub alike (one URL) can act as the role
    op.execute(
        f"DO $$ BEGIN IF NOT pg_has_role(current_user, '{app}', 'MEMBER') "
        f"THEN EXECUTE 'GRANT {app} TO ' || quote_ident(current_user); END IF; END $$"
    )
    op.execute(
        f"DO $$ BEGIN IF NOT pg_has_role('{app}', '{reader}', 'MEMBER') "
        f"THEN GRANT {reader} TO {app}; END IF; END $$"
    )
    op.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {app}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}")
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}"
    )
    for table in APPEND_ONLY:
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC, {app}")
    for table in READ_ONLY:
        op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC, {app}")
    op.execute(HEAD_FUNCTION)
    op.execute(SEAL_FUNCTION)
    for function in ("event_log_head()", "event_log_seal(bigint[], text[])"):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {app}")


def downgrade() -> None:
    app = get_settings().database_app_role
    op.execute("DROP FUNCTION event_log_seal(bigint[], text[])")
    op.execute("DROP FUNCTION event_log_head()")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {app}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {app}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {app}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {app}")
