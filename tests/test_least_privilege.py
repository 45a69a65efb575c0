"""Least privilege: the web and jobs processes act as the application role, which can
append to the event log but never alter it, even with its triggers switched off, and can
neither switch them off nor change what it is allowed.

The whole suite's writes run as that role (the write pool takes it at connect), so a grant
the hub needs and lacks fails the test that exercises it; these tests prove the other
side: what the role must not be able to do, logged in as the role itself as a web process
in production is.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from aphub.config import Settings
from aphub.db import Database, async_url
from aphub.db.embedded import EMBEDDED_OWNER, as_user, embedded_urls
from aphub.events.verify import verify_chain
from aphub.migrate import migrate
from tests.conftest import with_database
from tests.test_event_log import _append

APP_ROLE = "aphub_app"
# what the role may do to each append-only table, and to nothing else of the log
APPEND_ONLY = {
    "events": {"SELECT"},
    "event_chain_head": {"SELECT"},
    "event_outbox": {"SELECT", "INSERT"},
    "event_checkpoints": {"SELECT", "INSERT"},
    "access_log": {"SELECT", "INSERT"},
    "alembic_version": {"SELECT"},
}
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
# what a compromised web process would try, each refused by PostgreSQL
ATTEMPTS = (
    "UPDATE events SET type = 'x'",
    "DELETE FROM events",
    "TRUNCATE events",
    "UPDATE event_chain_head SET seq = 0",
    "DELETE FROM event_outbox",
    "UPDATE event_outbox SET type = 'x'",
    "DELETE FROM event_checkpoints",
    "UPDATE access_log SET outcome = 'denied'",
    "DELETE FROM access_log",
    "TRUNCATE access_log",
    "TRUNCATE children CASCADE",
    "ALTER TABLE events DISABLE TRIGGER USER",
    "DROP TRIGGER events_no_update_delete ON events",
    "ALTER TABLE events OWNER TO aphub_app",
    "SET session_replication_role = replica",
    "SET ROLE postgres",  # the tables' owner here (the migrations ran as it)
    "CREATE TABLE shadow_events (id int)",
    "CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    "ALTER ROLE aphub_app SUPERUSER",
)


@pytest.fixture
async def as_app(
    superuser: asyncpg.Connection, superuser_dsn: str, clean_db: None
) -> AsyncIterator[asyncpg.Connection]:
    """A connection logged in as the application role, as a web process's is."""
    await superuser.execute(f"ALTER ROLE {APP_ROLE} LOGIN")
    try:
        connection = await asyncpg.connect(as_user(superuser_dsn, APP_ROLE))
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError):
        pytest.skip("the test server does not let the application role log in without a password")
    try:
        yield connection
    finally:
        await connection.close()


async def _refused(connection: asyncpg.Connection, statement: str) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await connection.execute(statement)


async def test_the_application_role_cannot_alter_or_delete_events_even_with_triggers_disabled(
    db: Database, superuser: asyncpg.Connection, as_app: asyncpg.Connection
) -> None:
    await _append(db, 3)
    before = await superuser.fetch("SELECT id, seq, hash FROM events ORDER BY seq")
    for statement in ATTEMPTS:
        await _refused(as_app, statement)
    await as_app.execute("GRANT UPDATE ON events TO aphub_app")  # a warning, granting nothing
    assert not await as_app.fetchval("SELECT has_table_privilege('events', 'UPDATE')")
    # the triggers switched off (by a superuser: the role itself cannot, above), the
    # grants alone still refuse every change to the log
    await superuser.execute("ALTER TABLE events DISABLE TRIGGER USER")
    try:
        for statement in ATTEMPTS[:3]:
            await _refused(as_app, statement)
    finally:
        await superuser.execute("ALTER TABLE events ENABLE TRIGGER USER")
    assert await superuser.fetch("SELECT id, seq, hash FROM events ORDER BY seq") == before
    assert await as_app.fetchval("SELECT current_setting('session_replication_role')") == "origin"
    assert (await verify_chain(db)).ok


async def test_the_application_role_holds_only_the_privileges_the_hub_needs(
    superuser: asyncpg.Connection, as_app: asyncpg.Connection
) -> None:
    role = await superuser.fetchrow(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication "
        "FROM pg_roles WHERE rolname = $1",
        APP_ROLE,
    )
    assert not any(role.values())
    tables = [
        r["relname"]
        for r in await superuser.fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        )
    ]
    for table in tables:
        held = {
            privilege
            for privilege in PRIVILEGES
            if await superuser.fetchval(
                "SELECT has_table_privilege($1, $2, $3)", APP_ROLE, table, privilege
            )
        }
        expected = APPEND_ONLY.get(table, {"SELECT", "INSERT", "UPDATE", "DELETE"})
        assert held == expected, table
    owned = await superuser.fetchval(
        "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles "
        "WHERE rolname = $1)",
        APP_ROLE,
    )
    assert owned == 0
    assert not await as_app.fetchval("SELECT has_schema_privilege('public', 'CREATE')")
    # what it may take: the read role, and nothing that owns or bypasses anything
    memberships = {
        r["rolname"]
        for r in await superuser.fetch(
            "SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
            "JOIN pg_roles a ON a.oid = m.member WHERE a.rolname = $1",
            APP_ROLE,
        )
    }
    assert memberships == {"aphub_reader"}


async def test_the_hub_writes_as_the_application_role_and_reads_as_the_read_role(
    db: Database,
) -> None:
    async with db.writing() as unit:
        assert await unit.fetchval("SELECT current_user") == APP_ROLE
    async with db.reading() as unit:
        assert await unit.fetchval("SELECT current_user") == "aphub_reader"
    await db.check_roles()


async def test_through_the_sealer_the_role_can_only_append_and_a_forged_hash_is_named(
    db: Database, superuser: asyncpg.Connection, as_app: asyncpg.Connection
) -> None:
    """The most a compromised web process can do to the log is append an event through
    the sealer's function; it cannot rewind the head or fill a gap, and a hash it forged
    is named by `aphub verify-log`."""
    await _append(db, 2)
    n = await as_app.fetchval(
        "INSERT INTO event_outbox (id, type, occurred_at, subject_type, subject_id, data) "
        "VALUES ($1, 'forged', now(), 'test', $1, '{}') RETURNING n",
        uuid.uuid4(),
    )
    with pytest.raises(asyncpg.DataError, match="one hash for each"):
        await as_app.fetchval("SELECT event_log_seal(ARRAY[$1::bigint], ARRAY[]::text[])", n)
    with pytest.raises(asyncpg.DataError, match="not in the outbox"):
        await as_app.fetchval("SELECT event_log_seal(ARRAY[-1::bigint], ARRAY['x'])")
    assert await as_app.fetchval("SELECT event_log_seal(ARRAY[$1::bigint], ARRAY['0'])", n) == 3
    assert await superuser.fetchval("SELECT seq FROM event_chain_head") == 3
    result = await verify_chain(db)
    assert (result.first_bad_seq, result.reason) == (3, "content does not match its hash")


@pytest.mark.skipif(
    bool(os.environ.get("APHUB_TEST_DATABASE_URL")), reason="sets up the embedded server's roles"
)
async def test_the_embedded_server_migrates_as_the_owner_and_serves_as_the_application_role(
    settings: Settings, superuser: asyncpg.Connection, superuser_dsn: str
) -> None:
    """What `make run` does on the embedded default: its superuser creates the roles (and
    hands a table an earlier version made as superuser to the owner), the owner migrates,
    and the hub logs in as the application role."""
    admin = await asyncpg.connect(superuser_dsn)
    try:
        await admin.execute("DROP DATABASE IF EXISTS aphub WITH (FORCE)")
        await admin.execute("CREATE DATABASE aphub")
    finally:
        await admin.close()
    earlier = await asyncpg.connect(with_database(superuser_dsn, "aphub"))
    try:
        await earlier.execute("CREATE TABLE made_by_superuser (id int)")
    finally:
        await earlier.close()
    urls = embedded_urls(settings.model_copy(update={"database_url": None}))
    await migrate(async_url(urls.owner))
    owner = await asyncpg.connect(urls.owner)
    try:
        owners = {
            r["owner"]
            for r in await owner.fetch(
                "SELECT pg_get_userbyid(relowner) AS owner FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
            )
        }
        assert owners == {EMBEDDED_OWNER}
    finally:
        await owner.close()
    database = Database(async_url(urls.app), settings)
    try:
        await database.check_roles()
        async with database.writing() as unit:
            assert await unit.fetchval("SELECT session_user") == APP_ROLE
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await unit.execute("ALTER TABLE events DISABLE TRIGGER USER")
    finally:
        await database.dispose()
        admin = await asyncpg.connect(superuser_dsn)
        try:
            await admin.execute("DROP DATABASE aphub WITH (FORCE)")
        finally:
            await admin.close()
