"""Transitions through the API against a bare reference transaction, 32 clients each.

The hub side: `POST /v1/placements/{id}/reviews` as the provider, each with its own
Idempotency-Key (the guard's key claim, the placement row lock and guards, the review
row, the version bump, and the event sealed into the hash chain), through the app in
process. The reference: asyncpg, in a transaction, a conditional UPDATE of the
placement's version plus an INSERT of an event row into a bare copy of the tables.
Both at the same concurrency over the same placements, alternating rounds; then the
hub's events are counted against its successful responses (zero lost) and the chain
is verified. Target (issue): the hub at least 0.4 of the reference's rate.

    .venv/bin/python -m bench.transitions [--clients 32] [--seconds 6] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import httpx

from aphub.config import Settings
from aphub.db import Database, async_url
from aphub.events.verify import verify_chain
from aphub.main import create_app
from aphub.migrate import migrate
from bench.attendance import seed, term
from bench.generate import DEFAULT_DATA_DIR, server_url, with_database

DATABASE = "aphub_bench_transitions"
TARGET = 0.4
BARE_TRANSITION = (
    "UPDATE bench_bare_placements SET version = version + 1 "
    "WHERE id = $1 AND status = 'active' RETURNING version, child_id"
)
BARE_EVENT = (
    "INSERT INTO bench_bare_events (id, seq, type, occurred_at, subject_type, subject_id, "
    "subject_version, child_id, data, prev_hash, hash) VALUES (gen_random_uuid(), "
    "nextval('bench_bare_seq'), 'placement.reviewed', now(), 'placement', $1, $2, $3, "
    "'{}'::jsonb, '', '')"
)


def say(message: str = "") -> None:
    print(message, flush=True)


async def run_clients(
    clients: int,
    seconds: float,
    one: Callable[[uuid.UUID], Awaitable[bool]],
    placements: list[uuid.UUID],
) -> tuple[float, int, int]:
    """Transitions per second with `clients` concurrent loops; (rate, ok, refused)."""
    deadline = time.perf_counter() + seconds
    ok = refused = 0

    async def client(n: int) -> None:
        nonlocal ok, refused
        i = n
        while time.perf_counter() < deadline:
            if await one(placements[i % len(placements)]):
                ok += 1
            else:
                refused += 1
            i += clients

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return ok / (time.perf_counter() - started), ok, refused


async def main_async(args: argparse.Namespace) -> None:
    server = server_url(args.data_dir)
    admin = await asyncpg.connect(with_database(server, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    url = with_database(server, DATABASE)
    await migrate(async_url(url))
    conn = await asyncpg.connect(url)
    area = await seed(conn, args.placements, term(date.today()))
    await conn.execute(
        "CREATE TABLE bench_bare_placements (LIKE placements INCLUDING ALL); "
        "INSERT INTO bench_bare_placements SELECT * FROM placements; "
        "CREATE TABLE bench_bare_events (LIKE events INCLUDING ALL); "
        "CREATE SEQUENCE bench_bare_seq"
    )
    await conn.execute("VACUUM ANALYZE")
    placements = list(area["arrangements"])
    settings = Settings(
        database_url=async_url(url),
        data_dir=Path(tempfile.mkdtemp(prefix="aphub-bench-")),
        rate_limit_per_minute=0,
        migrate_on_start=False,
        jobs=False,
    )
    database = Database(async_url(url), settings)
    app = create_app(settings, database=database)
    token, _ = app.state.tokens.issue(
        client_id="bench-provider",
        organisation_id=area["provider"],
        organisation_type="provider",
        scopes=["placements:read", "placements:write"],
    )
    headers = {"Authorization": f"Bearer {token}"}
    review = {
        "held_on": date.today().isoformat(),
        "attendees": ["provider", "child"],
        "decision": "continue",
        "next_review_date": (date.today() + timedelta(weeks=6)).isoformat(),
    }
    pool = await asyncpg.create_pool(url, min_size=settings.db_pool_size,
                                     max_size=settings.db_pool_size)  # fmt: skip
    transport = httpx.ASGITransport(app=app)
    statuses: dict[int, int] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as hub:

        async def hub_one(pid: uuid.UUID) -> bool:
            r = await hub.post(
                f"/v1/placements/{pid}/reviews",
                json=review,
                headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
            )
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            return r.status_code == 201

        async def bare_one(pid: uuid.UUID) -> bool:
            async with pool.acquire() as c, c.transaction():
                row = await c.fetchrow(BARE_TRANSITION, pid)
                if row is None:
                    return False
                await c.execute(BARE_EVENT, pid, row["version"], row["child_id"])
                return True

        say(f"{args.placements:,} active placements, {args.clients} clients, "
            f"{args.seconds:g} s a round, {args.rounds} alternating rounds")  # fmt: skip
        await run_clients(args.clients, 1.0, hub_one, placements)  # warm-up
        await run_clients(args.clients, 1.0, bare_one, placements)
        rates: dict[str, list[float]] = {"hub": [], "reference": []}
        hub_ok = 0
        for i in range(args.rounds):
            order = [("hub", hub_one), ("reference", bare_one)]
            for name, one in order if i % 2 == 0 else list(reversed(order)):
                rate, ok, refused = await run_clients(args.clients, args.seconds, one, placements)
                rates[name].append(rate)
                hub_ok += ok if name == "hub" else 0
                say(f"  round {i + 1} {name:9s} {rate:8,.0f} transitions/s "
                    f"({ok:,} done, {refused:,} refused)")  # fmt: skip
    events = await conn.fetchval("SELECT count(*) FROM events WHERE type = 'placement.reviewed'")
    warm_ok = statuses.get(201, 0) - hub_ok
    verification = await verify_chain(database.engine)
    await pool.close()
    await database.dispose()
    await conn.close()
    hub_rate, ref_rate = statistics.median(rates["hub"]), statistics.median(rates["reference"])
    ratio = hub_rate / ref_rate
    say()
    say("== transitions (medians)")
    say(f"   reference (UPDATE + INSERT)  {ref_rate:8,.0f} transitions/s")
    say(f"   hub POST .../reviews         {hub_rate:8,.0f} transitions/s   ratio {ratio:.2f}"
        f"  (target >= {TARGET}: {'PASS' if ratio >= TARGET else 'MISS'})")  # fmt: skip
    reviews = hub_ok + warm_ok
    lost = "none lost" if events == reviews else "MISMATCH"
    chain = "verified" if verification.ok else "BROKEN"
    say(f"   hub responses {dict(sorted(statuses.items()))}")
    say(f"   events recorded {events:,} for {reviews:,} reviews: {lost}")
    say(f"   chain {chain} ({verification.checked:,} events)")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--placements", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
