"""Acceptance 3: `aphub verify-log`, run as an operator would, passes an intact log and
names the event a superuser altered or removed behind the application's back."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI

from aphub.db import Database
from tests.placement_factories import make_area, new_key, requested

APHUB = Path(sys.executable).parent / "aphub"


async def verify_log(database_dsn: str) -> tuple[int, str, str]:
    env = {**os.environ, "APHUB_DATABASE_URL": database_dsn}
    process = await asyncio.create_subprocess_exec(
        str(APHUB),
        "verify-log",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def placement_events(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> list[asyncpg.Record]:
    area = await make_area(app, db)
    pid = (await requested(client, area))["id"]
    r = await client.post(
        f"/v1/placements/{pid}/offer", json={}, headers={**area.provider_headers, **new_key()}
    )
    assert r.status_code == 200, r.text
    return list(
        await superuser.fetch(
            "SELECT id, seq, type FROM events WHERE subject_id = $1 ORDER BY seq",
            uuid.UUID(pid),
        )
    )


async def tamper(superuser: asyncpg.Connection, statement: str) -> None:
    # replica mode skips the append-only triggers: only a superuser can do this
    await superuser.execute(
        f"SET session_replication_role = replica; {statement}; "
        "SET session_replication_role = DEFAULT"
    )


async def test_verify_log_cli_exits_1_naming_the_placement_event_a_superuser_altered(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    superuser_dsn: str,
) -> None:
    events = await placement_events(client, app, db, superuser)
    assert [e["type"] for e in events][:2] == ["placement.requested", "placement.offered"]

    code, out, err = await verify_log(superuser_dsn)
    assert code == 0, err
    assert f"{len(events)} events, chain intact" in out
    assert "BROKEN" not in err
    assert "verify-log: finished in" in err  # progress on stderr, the verdict on stdout
    assert "waiting in the outbox" not in out  # every event sealed with its response

    offered = events[1]
    await tamper(
        superuser,
        f'UPDATE events SET data = data || \'{{"note": "back-dated"}}\' '
        f"WHERE id = '{offered['id']}'",
    )
    code, out, err = await verify_log(superuser_dsn)
    assert code == 1, out
    assert f"seq {offered['seq']}" in err
    assert str(offered["id"]) in err
    assert "content does not match its hash" in err


async def test_verify_log_cli_exits_1_naming_where_a_deleted_placement_event_was(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    superuser_dsn: str,
) -> None:
    events = await placement_events(client, app, db, superuser)
    removed, after = events[0], events[1]
    await tamper(superuser, f"DELETE FROM events WHERE id = '{removed['id']}'")
    code, _out, err = await verify_log(superuser_dsn)
    assert code == 1
    # the chain breaks at the event that followed the removed one
    assert f"seq {after['seq']}" in err
    assert str(after["id"]) in err
    assert "prev_hash does not match the chain" in err


async def test_verify_log_cli_reports_committed_events_not_yet_sealed(
    db: Database, superuser: asyncpg.Connection, superuser_dsn: str
) -> None:
    """A process that died between a commit and its seal: the chain is intact, and the
    operator is told what waits in the outbox."""
    await superuser.execute(
        "INSERT INTO event_outbox (id, type, occurred_at, subject_type, subject_id, data) "
        "VALUES (gen_random_uuid(), 'test.orphaned', now(), 'test', gen_random_uuid(), '{}')"
    )
    code, out, err = await verify_log(superuser_dsn)
    assert code == 0, err
    assert "0 events, chain intact" in out
    assert "1 committed events are waiting in the outbox to be sealed" in out
    assert "BROKEN" not in err
