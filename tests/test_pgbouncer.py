"""The hub through PgBouncer in transaction pooling mode, as a national deployment runs it.

A pooler in transaction mode hands each transaction whichever server connection is free:
nothing of a session survives between transactions. Debian's PgBouncer (1.18) predates
protocol-level prepared statements (1.21), so a named prepared statement made on one
server connection is missing, or a different one, on the next: the hub runs there with
`APHUB_DATABASE_PREPARED_STATEMENTS=false` (no statement caches, unnamed statements
only). Nor can a session keep its role: the logins are the roles themselves (the write
login the application role, `APHUB_DATABASE_READ_URL` the read role) and PgBouncer drops
the `role` startup parameter (`ignore_startup_parameters`).

The test starts a real PgBouncer on a loopback port in front of the test database, with
fewer server connections than the hub's pools hold, and runs the racing clients of
tests/test_placements_concurrency.py through it: every answer one a race may give, no
event lost or duplicated, a chain that verifies, and the server connections shared.
Skipped, with the reason, where PgBouncer is not installed (`apt-get install pgbouncer`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.config import Settings
from aphub.db import Database
from aphub.events.verify import verify_chain
from aphub.main import create_app
from tests.placement_factories import complete_plan, make_area, new_key, request_body
from tests.test_placements_concurrency import (
    PLACEMENTS,
    assert_one_history_per_placement,
    run_client,
    scripts,
)

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)
SERVER_CONNECTIONS = 3  # per database entry: far fewer than the hub's pools hold
pytestmark = pytest.mark.skipif(
    PGBOUNCER is None, reason="PgBouncer is not installed (apt-get install -y pgbouncer)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_socket(superuser_dsn: str) -> tuple[str, int]:
    """The test server's socket directory and port, for PgBouncer to reach it by."""
    host = parse_qs(urlsplit(superuser_dsn).query).get("host", [None])[0]
    if host is None:
        pytest.skip("PgBouncer is tested against the embedded server (a socket directory)")
    sockets = sorted(Path(host).glob(".s.PGSQL.*"))
    sockets = [s for s in sockets if not s.name.endswith(".lock")]
    return host, int(sockets[0].name.rsplit(".", 1)[1])


def config(directory: Path, host: str, port: int, listen: int) -> Path:
    entry = f"host={host} port={port} dbname=aphub_test"
    ini = directory / "pgbouncer.ini"
    # PgBouncer will not run as root: as root, it becomes the server's own user (the one
    # that owns its socket directory), as the embedded server itself does
    user = f"user = {Path(host).owner()}\n" if os.geteuid() == 0 else ""
    ini.write_text(
        "[databases]\n"
        f"hub_app = {entry} user=aphub_app pool_size={SERVER_CONNECTIONS}\n"
        f"hub_read = {entry} user=aphub_reader pool_size={SERVER_CONNECTIONS}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {listen}\nunix_socket_dir =\n"
        "auth_type = any\npool_mode = transaction\nmax_client_conn = 200\n"
        "ignore_startup_parameters = role,plan_cache_mode\n"
        "admin_users = pgbouncer\nstats_users = pgbouncer\n"
        f"{user}"  # its log: standard error
    )
    return ini


@pytest.fixture
async def bouncer(
    superuser: asyncpg.Connection, superuser_dsn: str, tmp_path: Path
) -> AsyncIterator[int]:
    """A PgBouncer in transaction mode in front of the test database; its port."""
    assert PGBOUNCER is not None
    host, port = server_socket(superuser_dsn)
    await superuser.execute("ALTER ROLE aphub_app LOGIN")
    await superuser.execute("ALTER ROLE aphub_reader LOGIN")
    listen = free_port()
    process = await asyncio.create_subprocess_exec(
        PGBOUNCER, str(config(tmp_path, host, port, listen)), stdout=asyncio.subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            if process.returncode is not None:
                pytest.fail("PgBouncer exited at start (its reason is in the captured stderr)")
            try:
                probe = await asyncpg.connect(
                    f"postgresql://aphub_app@127.0.0.1:{listen}/hub_app", statement_cache_size=0
                )
                await probe.close()
                break
            except (OSError, asyncpg.PostgresError):
                await asyncio.sleep(0.1)
        yield listen
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


@pytest.fixture
async def pooled_app(settings: Settings, bouncer: int) -> AsyncIterator[FastAPI]:
    base = f"postgresql+asyncpg://aphub_app@127.0.0.1:{bouncer}"
    pooled = settings.model_copy(
        update={
            "database_url": f"{base}/hub_app",
            "database_read_url": f"postgresql://aphub_reader@127.0.0.1:{bouncer}/hub_read",
            "database_prepared_statements": False,
            "db_pool_size": 12,
        }
    )
    database = Database(pooled.database_url, pooled)
    try:
        await database.check_roles()
        yield create_app(pooled, database=database)
    finally:
        await database.dispose()


async def server_connections(superuser: asyncpg.Connection, role: str) -> int:
    return int(
        await superuser.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND datname = 'aphub_test'",
            role,
        )
    )


async def test_the_hub_through_pgbouncer_in_transaction_mode_keeps_every_event(
    pooled_app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    transport = httpx.ASGITransport(app=pooled_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as hub:
        area = await make_area(pooled_app, db, registration="pru")
        pids = []
        for _ in range(PLACEMENTS):
            r = await hub.post(
                "/v1/placements",
                json=request_body(area, **complete_plan(area)),
                headers={**area.la_headers, **new_key()},
            )
            assert r.status_code == 201, r.text
            pids.append(r.json()["id"])
        clients = [
            run_client(hub, i, pid, actor, steps)
            for i, pid in enumerate(pids)
            for actor, steps in scripts(area, i)
        ]
        answers = [a for batch in await asyncio.gather(*clients) for a in batch]
        # the same statements again and again, on whichever server connection is free
        for _ in range(3):
            for pid in pids:
                r = await hub.get(f"/v1/placements/{pid}", headers=area.la_headers)
                assert r.status_code == 200, r.text
    sealed = await assert_one_history_per_placement(superuser, pids, answers)
    result = await verify_chain(db)
    assert result.ok, result
    assert result.checked == sealed
    # the hub's pools held up to 12 connections each; PgBouncer gave them three servers
    assert await server_connections(superuser, "aphub_app") <= SERVER_CONNECTIONS
    assert await server_connections(superuser, "aphub_reader") <= SERVER_CONNECTIONS
