"""Several hubs on one database: two `aphub serve` processes (one of them with two
workers) on loopback ports, taking the same racing clients as
tests/test_placements_concurrency.py between them. The sealer, the Idempotency-Key claims
and the client-record caches hold across processes: one chain that `aphub verify-log`
passes, every placement's events its versions with none lost or duplicated, a key
honoured once whichever hub each retry reaches, and a revoked client refused by every
process once its cached record expires."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.auth.clients import TTL_SECONDS
from aphub.db import Database
from tests.placement_factories import complete_plan, make_area, new_key, request_body
from tests.test_placements_concurrency import (
    PLACEMENTS,
    assert_one_history_per_placement,
    run_client,
    scripts,
)
from tests.test_verify_log_cli import APHUB, verify_log

STARTUP_SECONDS = 90  # importing the app on two busy shared cores is slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_hub(
    env: dict[str, str], workers: int, log: Path
) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(APHUB),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}"


def tail(log: Path) -> str:
    """The end of a hub's output, for a failure's message."""
    return log.read_text()[-2000:]


async def wait_ready(process: asyncio.subprocess.Process, base: str, log: Path) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        for _ in range(STARTUP_SECONDS * 4):
            if process.returncode is not None:
                pytest.fail(f"aphub serve exited: {tail(log)}")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
    pytest.fail(f"aphub serve did not become ready: {tail(log)}")


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=20)
        except TimeoutError:
            process.kill()
            await process.wait()


@pytest.fixture(scope="module")
async def hub_bases(
    superuser_dsn: str, data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[list[str]]:
    """Hub A (two workers) and hub B (one), on the test database, sharing its signing
    key (the tests' tokens are good at both); started once for the module."""
    env = {
        **os.environ,
        "APHUB_DATABASE_URL": superuser_dsn,
        "APHUB_DATA_DIR": str(data_dir),
        "APHUB_MIGRATE_ON_START": "false",
        "APHUB_RATE_LIMIT_PER_MINUTE": "0",
        "APHUB_LOG_LEVEL": "WARNING",
        "APHUB_JOBS": "true",  # every process runs the jobs too, as by default
        "APHUB_DB_POOL_SIZE": "8",
    }
    logs = tmp_path_factory.mktemp("hubs")
    started = []
    try:
        for i, workers in enumerate((2, 1)):
            log = logs / f"hub-{i}.log"
            started.append((*await start_hub(env, workers, log), log))
        await asyncio.gather(*(wait_ready(p, base, log) for p, base, log in started))
        yield [base for _, base, _ in started]
    finally:
        await asyncio.gather(*(stop(p) for p, _, _ in started))


@pytest.fixture
async def hubs(hub_bases: list[str], clean_db: None) -> AsyncIterator[list[httpx.AsyncClient]]:
    clients = [httpx.AsyncClient(base_url=base, timeout=60) for base in hub_bases]
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()


async def test_two_hub_processes_racing_on_one_database_keep_one_chain(
    hubs: list[httpx.AsyncClient],
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    superuser_dsn: str,
) -> None:
    area = await make_area(app, db, registration="pru")
    pids = []
    for i in range(PLACEMENTS):
        r = await hubs[i % 2].post(
            "/v1/placements",
            json=request_body(area, **complete_plan(area)),
            headers={**area.la_headers, **new_key()},
        )
        assert r.status_code == 201, r.text
        pids.append(r.json()["id"])

    # four clients per placement, alternately on hub A and hub B, all at once
    clients = [
        run_client(hubs[(i + k) % 2], i, pid, actor, steps)
        for i, pid in enumerate(pids)
        for k, (actor, steps) in enumerate(scripts(area, i))
    ]
    answers = [a for batch in await asyncio.gather(*clients) for a in batch]
    sealed = await assert_one_history_per_placement(superuser, pids, answers)
    assert await superuser.fetchval("SELECT count(*) FROM event_outbox") == 0
    assert await superuser.fetchval("SELECT count(DISTINCT id) FROM events") == sealed

    code, out, err = await verify_log(superuser_dsn)
    assert code == 0, out + err
    assert f"{sealed} events, chain intact" in out

    # the feed is the same sequence whichever hub serves it
    feeds = [
        [
            e["id"]
            for e in (await hub.get("/v1/events?limit=500", headers=area.la_headers)).json()[
                "items"
            ]
        ]
        for hub in hubs
    ]
    assert feeds[0] == feeds[1]
    assert len(feeds[0]) == sealed


async def test_an_idempotency_key_is_honoured_once_whichever_hub_each_retry_reaches(
    hubs: list[httpx.AsyncClient], app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    r = await hubs[0].post(
        "/v1/placements",
        json=request_body(area, **complete_plan(area)),
        headers={**area.la_headers, **new_key()},
    )
    pid = r.json()["id"]
    key = new_key()
    headers = {**area.provider_headers, **key}
    tries = await asyncio.gather(
        *(
            hubs[i % 2].post(f"/v1/placements/{pid}/offer", json={}, headers=headers)
            for i in range(6)
        )
    )
    statuses = sorted(t.status_code for t in tries)
    assert set(statuses) <= {200, 409}, [t.text for t in tries]
    assert 200 in statuses
    bodies = {t.text for t in tries if t.status_code == 200}
    assert len(bodies) == 1  # the first answer, replayed
    versions = await superuser.fetch(
        "SELECT subject_version FROM events WHERE subject_id = $1 ORDER BY seq", uuid.UUID(pid)
    )
    assert [v["subject_version"] for v in versions] == [1, 2]  # requested, offered once


async def test_a_revoked_client_is_refused_by_every_hub_process(
    hubs: list[httpx.AsyncClient], app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    for hub in hubs:
        for _ in range(3):  # hub A's two workers each take some
            assert (await hub.get("/v1/placements", headers=area.la_headers)).status_code == 200
    await superuser.execute(
        "UPDATE api_clients SET revoked_at = now() WHERE organisation_id = $1", area.la.id
    )
    # each process reads the record again once its cached copy expires (TTL_SECONDS)
    refused: set[int] = set()
    for _ in range(int(TTL_SECONDS * 4) + 20):
        answers = await asyncio.gather(
            *(hubs[i % 2].get("/v1/placements", headers=area.la_headers) for i in range(6))
        )
        if all(a.status_code == 401 for a in answers):
            refused = {a.status_code for a in answers}
            break
        await asyncio.sleep(0.5)
    assert refused == {401}
