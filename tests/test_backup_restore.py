"""Backup and restore, as the README's commands do it: `pg_dump -Fc` of the hub's
database, `pg_restore` into a new database, then `aphub verify-log --checkpoint` against
the restored copy with a checkpoint a client saved before the backup. The restored log
must be the whole chain, intact, extending what was published; and the restored database
must keep the least-privilege grants (the application role still cannot alter events).

Uses the embedded PostgreSQL's own pg_dump and pg_restore (the server's major version);
skipped, with the reason, where they are missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.config import Settings
from aphub.db import Database
from tests.conftest import with_database
from tests.test_checkpoints import _published, verify_against
from tests.test_replica import BIN

RESTORED = "aphub_restored"
pytestmark = pytest.mark.skipif(
    BIN is None or not (BIN / "pg_dump").exists(),
    reason="the embedded PostgreSQL's pg_dump and pg_restore are not installed",
)


async def run(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 0, out.decode()


@pytest.fixture
async def restored_dsn(superuser: asyncpg.Connection, superuser_dsn: str) -> AsyncIterator[str]:
    """An empty database for the restore, dropped after the test."""
    await superuser.execute(f"DROP DATABASE IF EXISTS {RESTORED} WITH (FORCE)")
    await superuser.execute(f"CREATE DATABASE {RESTORED}")
    try:
        yield with_database(superuser_dsn, RESTORED)
    finally:
        await superuser.execute(f"DROP DATABASE IF EXISTS {RESTORED} WITH (FORCE)")


async def test_a_restored_backup_verifies_against_a_checkpoint_saved_before_it(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    superuser: asyncpg.Connection,
    superuser_dsn: str,
    restored_dsn: str,
    tmp_path: Path,
) -> None:
    assert BIN is not None
    _area, _pid, checkpoint = await _published(client, app, db, settings)
    events = await superuser.fetchval("SELECT count(*) FROM events")
    dump = tmp_path / "aphub.dump"

    await run(str(BIN / "pg_dump"), "--format=custom", f"--file={dump}", superuser_dsn)
    await run(str(BIN / "pg_restore"), "--exit-on-error", f"--dbname={restored_dsn}", str(dump))

    code, out = await verify_against(restored_dsn, settings.data_dir, checkpoint, tmp_path)
    assert code == 0, out
    assert f"{events} events, chain intact" in out
    assert f"checkpoint of {checkpoint['tree_size']} events" in out
    copy = await asyncpg.connect(restored_dsn)
    try:
        assert await copy.fetchval("SELECT count(*) FROM events") == events
        for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
            assert not await copy.fetchval(
                "SELECT has_table_privilege('aphub_app', 'events', $1)", privilege
            )
        assert await copy.fetchval("SELECT version_num FROM alembic_version") == (
            await superuser.fetchval("SELECT version_num FROM alembic_version")
        )
    finally:
        await copy.close()
