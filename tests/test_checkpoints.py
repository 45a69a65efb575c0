"""The log anchored outside the database: signed checkpoints of the chain's head, kept by
clients, against which `aphub verify-log --checkpoint` proves today's chain extends what
was published; and the idempotent answers the hub keeps, deleted when a day is over."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from aphub import jobs
from aphub.config import Settings
from aphub.db import Database
from tests.placement_factories import Area, make_area, new_key, request_body, requested
from tests.test_verify_log_cli import APHUB, tamper


async def verify_against(
    database_dsn: str, data_dir: Path, checkpoint: dict[str, object], tmp_path: Path
) -> tuple[int, str]:
    saved = tmp_path / "checkpoint.json"
    saved.write_text(json.dumps(checkpoint))
    env = {**os.environ, "APHUB_DATABASE_URL": database_dsn, "APHUB_DATA_DIR": str(data_dir)}
    process = await asyncio.create_subprocess_exec(
        str(APHUB),
        "verify-log",
        "--checkpoint",
        str(saved),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def _published(
    client: httpx.AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> tuple[Area, str, dict[str, Any]]:
    """A few events, sealed and signed; the checkpoint as a client of the feed saves it."""
    area = await make_area(app, db)
    pid = (await requested(client, area))["id"]
    r = await client.patch(
        f"/v1/placements/{pid}", json={"hours_per_week": 25}, headers=area.la_headers
    )
    assert r.status_code == 200, r.text
    await client.get("/v1/events?limit=1", headers=area.la_headers)  # seals what committed
    assert (await jobs.sign_checkpoint(db, settings))["signed"] is not None
    feed = (await client.get("/v1/events?limit=500", headers=area.la_headers)).json()
    listed = (await client.get("/v1/events/checkpoints", headers=area.la_headers)).json()
    assert feed["checkpoint"] == listed["items"][0]
    return area, pid, feed["checkpoint"]


async def test_a_checkpoint_saved_before_an_honest_append_still_verifies(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    superuser_dsn: str,
    tmp_path: Path,
) -> None:
    area, pid, checkpoint = await _published(client, app, db, settings)
    r = await client.post(
        f"/v1/placements/{pid}/offer", json={}, headers={**area.provider_headers, **new_key()}
    )
    assert r.status_code == 200, r.text

    code, out = await verify_against(superuser_dsn, settings.data_dir, checkpoint, tmp_path)

    assert code == 0, out
    assert f"checkpoint of {checkpoint['tree_size']} events" in out


async def test_a_checkpoint_saved_before_a_superuser_rewinds_the_head_fails_verification(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    superuser: asyncpg.Connection,
    superuser_dsn: str,
    tmp_path: Path,
) -> None:
    _area, _pid, checkpoint = await _published(client, app, db, settings)
    size = int(checkpoint["tree_size"])
    # the newest event removed and the head rewound to the one before: a chain that
    # verifies on its own (the attack `verify-log` alone cannot see)
    await tamper(
        superuser,
        f"DELETE FROM events WHERE seq = {size}; "
        "UPDATE event_chain_head SET seq = e.seq, hash = e.hash "
        f"FROM (SELECT seq, hash FROM events WHERE seq = {size - 1}) e WHERE id = 1",
    )
    alone = await asyncio.create_subprocess_exec(
        str(APHUB),
        "verify-log",
        env={**os.environ, "APHUB_DATABASE_URL": superuser_dsn},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    said, _ = await alone.communicate()
    assert alone.returncode == 0, said.decode()  # without the checkpoint, nothing to see

    code, out = await verify_against(superuser_dsn, settings.data_dir, checkpoint, tmp_path)

    assert code == 1, out
    assert "does NOT extend the checkpoint" in out
    assert f"no longer holds event {size}" in out


async def test_a_checkpoint_whose_head_was_altered_is_refused_by_its_signature(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    superuser_dsn: str,
    tmp_path: Path,
) -> None:
    _area, _pid, checkpoint = await _published(client, app, db, settings)
    forged = {**checkpoint, "tree_size": int(checkpoint["tree_size"]) - 1}

    code, out = await verify_against(superuser_dsn, settings.data_dir, forged, tmp_path)

    assert code == 1, out
    assert "tree_size is not what its signature says" in out


async def test_kept_answers_are_deleted_once_a_day_has_passed(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    superuser: asyncpg.Connection,
) -> None:
    """A kept answer replays a keyed request for a day; it holds child data, so the
    hourly job deletes it after that (and nothing younger)."""
    area = await make_area(app, db)
    for _ in range(2):
        r = await client.post(
            "/v1/placements", json=request_body(area), headers={**area.la_headers, **new_key()}
        )
        assert r.status_code == 201, r.text
    kept = await superuser.fetchval("SELECT count(*) FROM idempotency_keys")
    assert kept >= 2
    await superuser.execute(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' "
        "WHERE key = (SELECT key FROM idempotency_keys ORDER BY created_at LIMIT 1)"
    )

    result = await jobs.expire_kept_answers(db, settings)

    assert result == {"deleted": 1}
    assert await superuser.fetchval("SELECT count(*) FROM idempotency_keys") == kept - 1
    assert (
        await superuser.fetchval(
            "SELECT count(*) FROM idempotency_keys WHERE created_at < now() - interval '24 hours'"
        )
        == 0
    )
