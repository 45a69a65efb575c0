from __future__ import annotations

import uuid

import asyncpg
import pytest

from aphub.db import Database
from aphub.events.log import Actor, record, seal_pass
from aphub.events.verify import verify_chain


async def _append(
    db: Database, n: int, subject: uuid.UUID | None = None, version: int | None = None
) -> list[uuid.UUID]:
    ids = []
    async with db.writing() as uow:
        for i in range(n):
            ids.append(
                record(
                    uow,
                    type="test.happened",
                    subject_type="test",
                    subject_id=subject or uuid.uuid4(),
                    subject_version=version,
                    actor=Actor.system("test"),
                    data={"i": i, "text": "café", "ratio": 0.1},
                ).id
            )
    return ids


async def test_appended_events_form_a_verifiable_chain(db: Database) -> None:
    await _append(db, 3)
    await _append(db, 2)
    result = await verify_chain(db)
    assert result.ok
    assert result.checked == 5


async def test_event_rows_cannot_be_updated_deleted_or_truncated_by_the_application(
    db: Database,
) -> None:
    await _append(db, 1)
    for statement in ("UPDATE events SET type = 'x'", "DELETE FROM events", "TRUNCATE events"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            async with db.writing() as unit:
                await unit.execute(statement)
    assert (await verify_chain(db)).ok


async def test_the_triggers_refuse_changes_to_events_even_to_a_privileged_role(
    db: Database, superuser: asyncpg.Connection
) -> None:
    """Behind the grants (tests/test_least_privilege.py), the triggers hold for a role that
    has the privilege, unless it is a superuser who switches them off."""
    await _append(db, 1)
    for statement in ("UPDATE events SET type = 'x'", "DELETE FROM events", "TRUNCATE events"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await superuser.execute(statement)
    assert (await verify_chain(db)).ok


async def test_superuser_tampering_is_reported_at_the_altered_event(
    db: Database, superuser: asyncpg.Connection
) -> None:
    ids = await _append(db, 4)
    await superuser.execute(
        "SET session_replication_role = replica; "
        f"UPDATE events SET data = '{{\"i\": 99}}' WHERE id = '{ids[2]}'; "
        "SET session_replication_role = DEFAULT"
    )
    result = await verify_chain(db)
    assert not result.ok
    assert result.first_bad_id == str(ids[2])
    assert result.first_bad_seq == 3


async def test_a_failed_transaction_leaves_no_event(
    db: Database, superuser: asyncpg.Connection
) -> None:
    async def failing_change() -> None:
        async with db.writing() as uow:
            record(
                uow,
                type="test.happened",
                subject_type="test",
                subject_id=uuid.uuid4(),
                actor=Actor.system("test"),
            )
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert (await verify_chain(db)).checked == 0
    assert await superuser.fetchval("SELECT count(*) FROM event_outbox") == 0


async def test_events_are_sealed_in_the_chain_when_the_unit_of_work_returns(
    db: Database, superuser: asyncpg.Connection
) -> None:
    ids = await _append(db, 3)
    rows = await superuser.fetch("SELECT id, seq FROM events ORDER BY seq")
    assert [r["id"] for r in rows] == ids
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert await superuser.fetchval("SELECT count(*) FROM event_outbox") == 0


async def test_events_left_in_the_outbox_by_a_dead_process_are_sealed_by_the_next_pass(
    db: Database, superuser: asyncpg.Connection
) -> None:
    """A process that committed events and died before sealing them: the next pass, any
    process's, puts them in the chain ahead of its own, in the order they were written."""
    orphans = [uuid.uuid4(), uuid.uuid4()]
    for orphan in orphans:
        await superuser.execute(
            "INSERT INTO event_outbox (id, type, occurred_at, subject_type, subject_id, data) "
            "VALUES ($1, 'test.orphaned', now(), 'test', $1, '{}')",
            orphan,
        )
    ids = await _append(db, 1)
    rows = await superuser.fetch("SELECT id FROM events ORDER BY seq")
    assert [r["id"] for r in rows] == [*orphans, *ids]
    assert (await verify_chain(db)).checked == 3


async def test_a_version_already_in_the_chain_is_refused_with_its_change(
    db: Database, superuser: asyncpg.Connection
) -> None:
    """Exactly one event per version of a subject: a second one fails the transaction that
    wrote it, as the chain's own unique index would, and never reaches the sealer."""
    subject = uuid.uuid4()
    await _append(db, 1, subject, version=1)
    with pytest.raises(Exception, match="already in the log"):
        await _append(db, 1, subject, version=1)
    assert await superuser.fetchval("SELECT count(*) FROM event_outbox") == 0
    await _append(db, 1)  # the sealer carries on
    assert (await verify_chain(db)).checked == 2


async def test_a_unit_queuing_more_events_than_one_statement_carries_writes_them_all_in_order(
    db: Database, superuser: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job raising concerns across a national data set queues millions of events: they
    go in statements of `OUTBOX_CHUNK`, in the order queued, in the one transaction."""
    monkeypatch.setattr("aphub.events.log.OUTBOX_CHUNK", 2)
    ids = await _append(db, 5)
    rows = await superuser.fetch("SELECT id, (data->>'i')::int AS i FROM events ORDER BY seq")
    assert [r["id"] for r in rows] == ids
    assert [r["i"] for r in rows] == [0, 1, 2, 3, 4]
    assert (await verify_chain(db)).ok


async def test_a_pass_over_many_batches_seals_every_row_once_in_order(
    db: Database, superuser: asyncpg.Connection
) -> None:
    """A pass reads the outbox a batch at a time, each batch on from the last row it moved
    (a national concerns run leaves millions): every row sealed, once, in outbox order."""
    rows = [uuid.uuid4() for _ in range(7)]
    for row in rows:
        await superuser.execute(
            "INSERT INTO event_outbox (id, type, occurred_at, subject_type, subject_id, data) "
            "VALUES ($1, 'test.batched', now(), 'test', $1, '{}')",
            row,
        )
    connection = await db.connect()
    try:
        assert await seal_pass(connection, batch=2) == 7
    finally:
        await connection.close()
    sealed = await superuser.fetch("SELECT id, seq FROM events ORDER BY seq")
    assert [r["id"] for r in sealed] == rows
    assert await superuser.fetchval("SELECT count(*) FROM event_outbox") == 0
    assert (await verify_chain(db)).checked == 7
