"""The units of work: a read unit cannot write, a write unit is one transaction, and what
must survive a rollback does."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from aphub.db import Database, DatabaseUnavailable
from aphub.events.log import Actor, record

_AUDIT_ROW = (
    "INSERT INTO access_log (id, organisation_id, client_id, child_ids, action, surface, "
    "outcome, rules, categories, policy_version) VALUES (gen_random_uuid(), "
    "gen_random_uuid(), 'c', ARRAY[gen_random_uuid()], 'read', 'rest', 'allowed', "
    "'{}', '{}', 'v')"
)


async def test_a_write_through_a_read_unit_fails_loudly_and_writes_nothing(
    db: Database, superuser: asyncpg.Connection
) -> None:
    async with db.reading() as unit:  # the read role, whatever the statement looks like
        assert await unit.fetchval("SELECT current_user") == db.read_role
    for statement in (
        "INSERT INTO school_holidays (id, la_id, from_date, to_date, name) "
        "VALUES (gen_random_uuid(), gen_random_uuid(), '2026-01-01', '2026-01-02', 'x')",
        "UPDATE organisations SET name = 'x'",
        "UPDATE public.organisations SET name = 'x'",
        "DELETE FROM children",
        "CREATE TABLE sneaky (id int)",
    ):
        async with db.reading() as unit:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await unit.execute(statement)
    assert await superuser.fetchval("SELECT to_regclass('sneaky')") is None


async def test_a_read_unit_writes_the_access_log_and_nothing_else(
    db: Database, superuser: asyncpg.Connection
) -> None:
    """A read's audit row travels in the statement that reads; it is the one write a read
    unit may make, and it holds as soon as the statement returns."""
    async with db.reading() as unit:
        await unit.execute(_AUDIT_ROW)
        assert not unit.connection.is_in_transaction()
        assert await superuser.fetchval("SELECT count(*) FROM access_log") == 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await unit.execute("DELETE FROM access_log")


async def test_a_write_unit_rolls_back_everything_when_its_block_fails(
    db: Database, superuser: asyncpg.Connection
) -> None:
    async def failing_change() -> None:
        async with db.writing() as unit:
            await unit.execute(_AUDIT_ROW)  # a statement of its own
            record(
                unit,
                type="test.happened",
                subject_type="test",
                subject_id=uuid.uuid4(),
                actor=Actor.system("test"),
            )
            from aphub.models import Organisation

            unit.session.add(Organisation(type="operator", name="through the ORM"))
            await unit.session.flush()  # the ORM's row, on the unit's connection
            assert unit.connection.is_in_transaction()
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert await superuser.fetchval("SELECT count(*) FROM access_log") == 0
    assert await superuser.fetchval("SELECT count(*) FROM organisations") == 0
    assert await superuser.fetchval("SELECT count(*) FROM event_outbox") == 0
    assert await superuser.fetchval("SELECT count(*) FROM events") == 0


async def test_a_write_unit_commits_its_statements_orm_rows_and_events_together(
    db: Database, superuser: asyncpg.Connection
) -> None:
    from aphub.models import Organisation

    async with db.writing() as unit:
        await unit.execute(_AUDIT_ROW)
        unit.session.add(Organisation(type="operator", name="through the ORM"))
        record(
            unit,
            type="test.happened",
            subject_type="test",
            subject_id=uuid.uuid4(),
            actor=Actor.system("test"),
        )
        # the ORM's pending row is seen by the unit's own statements
        assert await unit.fetchval("SELECT count(*) FROM organisations") == 1
    assert await superuser.fetchval("SELECT count(*) FROM access_log") == 1
    assert await superuser.fetchval("SELECT count(*) FROM organisations") == 1
    assert await superuser.fetchval("SELECT count(*) FROM events") == 1


async def test_statements_kept_after_a_rollback_hold(
    db: Database, superuser: asyncpg.Connection
) -> None:
    async def failing_change() -> None:
        async with db.writing() as unit:
            await unit.execute(_AUDIT_ROW)
            unit.after_rollback(_AUDIT_ROW)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert await superuser.fetchval("SELECT count(*) FROM access_log") == 1


async def test_a_unit_that_cannot_reach_the_database_is_unavailable(db: Database) -> None:
    async with db.reading() as unit:
        unit.connection.terminate()
        with pytest.raises(DatabaseUnavailable):
            await unit.fetchval("SELECT 1")
    async with db.reading() as unit:  # the pool recovers on its own
        assert await unit.fetchval("SELECT 1") == 1
