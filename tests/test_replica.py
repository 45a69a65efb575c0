"""Read replicas: read units go to a real streaming replica, except for the client that
has just written, which reads the primary until the replica has replayed its write.

The replica is built as an operator would build one, with the embedded PostgreSQL's own
binaries: `pg_basebackup -R` of the test server (streaming its WAL, standby settings
written), started on a socket of its own. Replay is paused to make the replica
visibly behind: a client that did not write reads the replica and does not yet see the
new placement; the client that wrote it does, from the primary. Skipped, with the
reason, where the binaries are missing or the test server is not the embedded one.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.config import Settings
from aphub.db import Database
from aphub.main import create_app
from tests.placement_factories import complete_plan, make_area, new_key, request_body


def binaries() -> Path | None:
    try:
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    path = Path(POSTGRES_BIN_PATH)
    return path if (path / "pg_basebackup").exists() and (path / "pg_ctl").exists() else None


BIN = binaries()
pytestmark = pytest.mark.skipif(
    BIN is None, reason="the embedded PostgreSQL's pg_basebackup and pg_ctl are not installed"
)


def run_as(owner: str, *command: str) -> None:
    """Run a server binary as the server's own user (PostgreSQL refuses to run as root)."""
    prefix = ["runuser", "-u", owner, "--"] if os.geteuid() == 0 else []
    # the server's own binaries, with arguments this module builds
    subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)  # noqa: S603


@pytest.fixture(scope="module")
def replica_url(superuser_dsn: str, database_url: str) -> Iterator[str]:
    """A streaming replica of the test server; its libpq URL (the test database)."""
    assert BIN is not None
    primary = parse_qs(urlsplit(superuser_dsn).query).get("host", [None])[0]
    if primary is None:
        pytest.skip("the replica is built from the embedded server (a socket directory)")
    owner = Path(primary).owner()
    directory = Path(tempfile.mkdtemp(prefix="aphub-replica-"))
    shutil.chown(directory, owner)
    data = directory / "pgdata"
    run_as(
        owner, str(BIN / "pg_basebackup"), "-D", str(data), "-R", "-X", "stream",
        "-h", primary, "-U", "postgres", "-c", "fast",
    )  # fmt: skip
    port = "5432"  # a socket in its own directory, no TCP: no clash with the primary
    options = f"-p {port} -k {directory} -c listen_addresses="
    run_as(
        owner, str(BIN / "pg_ctl"), "-D", str(data), "-o", options,
        "-l", str(directory / "replica.log"), "-w", "start",
    )  # fmt: skip
    try:
        yield f"postgresql://postgres@/aphub_test?host={directory}&port={port}"
    finally:
        run_as(owner, str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def replica(replica_url: str) -> AsyncIterator[asyncpg.Connection]:
    """The replica, as its superuser (to pause and resume its replay)."""
    connection = await asyncpg.connect(replica_url)
    try:
        assert await connection.fetchval("SELECT pg_is_in_recovery()")
        yield connection
    finally:
        await connection.execute("SELECT pg_wal_replay_resume()")
        await connection.close()


@pytest.fixture
async def replicated_app(settings: Settings, replica_url: str) -> AsyncIterator[FastAPI]:
    with_replica = settings.model_copy(update={"database_replica_urls": replica_url})
    database = Database(settings.database_url or "", with_replica)
    try:
        await database.check_roles()  # the replica's connections act as the read role
        yield create_app(with_replica, database=database)
    finally:
        await database.dispose()


async def caught_up(primary: asyncpg.Connection, replica: asyncpg.Connection) -> None:
    target = await primary.fetchval("SELECT pg_current_wal_lsn()")
    for _ in range(600):
        if await replica.fetchval("SELECT pg_last_wal_replay_lsn() >= $1", target):
            return
        await asyncio.sleep(0.05)
    pytest.fail("the replica did not catch up")


async def test_reads_go_to_the_replica_and_the_writer_reads_its_own_write(
    replicated_app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    replica: asyncpg.Connection,
) -> None:
    replicas = replicated_app.state.db.replicas
    assert replicas is not None
    transport = httpx.ASGITransport(app=replicated_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as hub:
        area = await make_area(replicated_app, db)
        await caught_up(superuser, replica)
        served = replicas.served[0]
        r = await hub.get("/v1/placements", headers=area.provider_headers)
        assert r.status_code == 200, r.text
        assert replicas.served[0] == served + 1  # a read unit, on the replica

        await replica.execute("SELECT pg_wal_replay_pause()")
        r = await hub.post(
            "/v1/placements",
            json=request_body(area, **complete_plan(area)),
            headers={**area.la_headers, **new_key()},
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        served = replicas.served[0]
        # the writer reads its write back: from the primary, the replica being behind
        mine = await hub.get(f"/v1/placements/{pid}", headers=area.la_headers)
        assert mine.status_code == 200, mine.text
        assert replicas.served[0] == served
        # another client reads the replica, which has not replayed the write yet
        theirs = await hub.get(f"/v1/placements/{pid}", headers=area.provider_headers)
        assert theirs.status_code == 404
        assert replicas.served[0] == served + 1

        await replica.execute("SELECT pg_wal_replay_resume()")
        await caught_up(superuser, replica)
        theirs = await hub.get(f"/v1/placements/{pid}", headers=area.provider_headers)
        assert theirs.status_code == 200, theirs.text
        # and once the replica has the write, the writer's reads go there too
        mine = await hub.get(f"/v1/placements/{pid}", headers=area.la_headers)
        assert mine.status_code == 200
        assert replicas.served[0] == served + 3
