"""The access log's group commit (aphub.db.access): the audit rows of read units are
written together, and a read is answered only once its audit row is committed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.auth.principal import Principal
from aphub.db import Database
from aphub.db.access import AccessRecorder
from aphub.db.pool import DatabaseUnavailable
from aphub.errors import NotFound
from aphub.sharing import gate
from tests.factories import auth, make_org, token_for


async def _children(client: httpx.AsyncClient, app: FastAPI, db: Database, n: int) -> Any:
    la = await make_org(db, "local_authority", la_code="801")
    school = await make_org(db, "school", local_authority_id=la.id)
    ids = []
    for i in range(n):
        body = {
            "legal_first_name": f"Child{i}",
            "legal_last_name": "Recorder",
            "date_of_birth": "2012-03-04",
            "home_la_id": str(la.id),
            "enrolments": [
                {"school_id": str(school.id), "status": "C", "start_date": "2023-09-01"}
            ],
        }
        r = await client.post("/v1/children", json=body, headers=auth(token_for(app, school)))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return la, ids


async def test_concurrent_reads_share_commits_and_each_is_audited_once(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    la, ids = await _children(client, app, db, 3)
    headers = auth(token_for(app, la))
    await superuser.execute("DELETE FROM access_log")
    before = db.access_log.batches
    paths = [f"/v1/children/{ids[i % 3]}" for i in range(15)] + ["/v1/children"] * 5
    answers = await asyncio.gather(*(client.get(p, headers=headers) for p in paths))
    assert [a.status_code for a in answers] == [200] * 20
    rows = await superuser.fetch(
        "SELECT action, child_ids, outcome, rules, categories, client_id FROM access_log"
    )
    # the array columns arrive whole: the rule, the categories the response was shaped by
    shown = answers[0].json()["access"]
    assert {tuple(r["rules"]) for r in rows} == {tuple(shown["rules"])} == {("la_home",)}
    assert {tuple(r["categories"]) for r in rows} == {tuple(sorted(shown["categories"]))}
    assert len(shown["categories"]) > 3
    assert sorted(r["action"] for r in rows) == ["list"] * 5 + ["read"] * 15
    assert all(r["outcome"] == "allowed" for r in rows)
    # one row per read, naming the child it read; a page's row names the page
    reads = sorted(str(r["child_ids"][0]) for r in rows if r["action"] == "read")
    assert reads == sorted(str(ids[i % 3]) for i in range(15))
    assert all(
        sorted(map(str, r["child_ids"])) == sorted(ids) for r in rows if r["action"] == "list"
    )
    batches = db.access_log.batches - before
    assert 1 <= batches < 20  # reads waiting together went in one INSERT


async def test_a_read_whose_audit_cannot_be_written_is_not_answered(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    la, ids = await _children(client, app, db, 1)
    headers = auth(token_for(app, la))

    async def unavailable(self: AccessRecorder, rows: list[Any]) -> None:
        raise DatabaseUnavailable()

    monkeypatch.setattr(AccessRecorder, "_write", unavailable)
    r = await client.get(f"/v1/children/{ids[0]}", headers=headers)
    assert r.status_code == 503, r.text
    assert "Child0" not in r.text
    r = await client.get("/v1/children", headers=headers)
    assert r.status_code == 503, r.text
    assert "Child0" not in r.text


async def test_the_answer_waits_for_the_commit_of_its_audit_row(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    la, ids = await _children(client, app, db, 1)
    headers = auth(token_for(app, la))
    await superuser.execute("DELETE FROM access_log")
    write = AccessRecorder._write
    release = asyncio.Event()

    async def slow(self: AccessRecorder, rows: list[Any]) -> None:
        await release.wait()
        await write(self, rows)

    monkeypatch.setattr(AccessRecorder, "_write", slow)
    request = asyncio.ensure_future(client.get(f"/v1/children/{ids[0]}", headers=headers))
    await asyncio.sleep(0.2)
    assert not request.done()  # read, but its audit row is not committed yet
    release.set()
    r = await request
    assert r.status_code == 200
    assert await superuser.fetchval("SELECT count(*) FROM access_log") == 1


async def test_reads_audited_in_a_write_unit_that_rolls_back_are_audited_still(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """Statements that carry their audit row (a batch by id, a read beside the record)
    write it in the unit's transaction; the transaction rolling back must not take the
    audit of what was read, allowed or denied, with it."""
    la, ids = await _children(client, app, db, 2)
    stranger = await make_org(db, "provider")
    await superuser.execute("DELETE FROM access_log")

    class Undone(Exception):
        pass

    async def read_then_fail() -> None:
        async with db.writing() as unit:
            home = Principal(la.id, "local_authority", "la-client", frozenset())
            shown = await gate.read_children_by_ids(unit, home, [uuid.UUID(i) for i in ids])
            assert len(shown) == 2
            other = Principal(stranger.id, "provider", "provider-client", frozenset())
            with pytest.raises(NotFound):
                await gate.decide_audited(unit, other, uuid.UUID(ids[0]), action="read")
            raise Undone

    with pytest.raises(Undone):
        await read_then_fail()
    rows = await superuser.fetch("SELECT client_id, outcome, child_ids FROM access_log")
    assert sorted((r["client_id"], r["outcome"], len(r["child_ids"])) for r in rows) == [
        ("la-client", "allowed", 2),
        ("provider-client", "denied", 1),
    ]
