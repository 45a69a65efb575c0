"""Attendance: bulk ingestion and the LA summary, the hub against the bare database.

    .venv/bin/python -m bench.attendance [--placements 1000] [--rounds 3] [--repeat 20]

Standalone (the wrk runner in bench/run.py times GET throughput; these are a bulk write
and an aggregate read, timed end to end). It creates its own database,
`aphub_bench_attendance`, on the bench server (the embedded PostgreSQL under bench/.data,
or APHUB_DATABASE_URL's server), migrates it, and seeds one local authority with
`--placements` active placements (a third each LA-arranged, school-arranged and dual
registered) of one provider, all started at the beginning of a 13-week term that ended
last week. It calls the hub in process (the FastAPI app over httpx's ASGI transport:
middleware, token, idempotency key, parsing, validation, sharing, SQL, events, commit;
everything but the socket).

(a) ingestion: the first 100 sessions of every placement (100,000 marks for 1,000
    placements) through `POST /v1/attendance` in requests of 10,000 marks (JSON, and again
    as CSV), against asyncpg `copy_records_to_table` of the same rows, 10,000 a
    transaction, into a bare table identical to `attendance_marks` (`LIKE ... INCLUDING
    ALL`). After a warm-up round, each round starts from empty tables; rounds alternate
    which side goes first.
    Target: the hub at least 1/3 of the bare COPY's rate.
(b) summary: with the whole term loaded (130,000 marks), `GET /v1/attendance/summary?
    status=active` as the LA, walking its pages of 500, against the one hand-written SQL
    aggregate computing the same figures for the same placements. Both are checked to
    agree, then timed alternately. Target: the hub within 2x the SQL.

The figures go in notes, not in tests; absolute times drift on a shared machine, the
ratios much less.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from aphub.attendance.codes import dfe_code
from aphub.config import Settings
from aphub.db import Database, async_url
from aphub.ids import uuid7
from aphub.main import create_app
from aphub.migrate import migrate
from bench.generate import (
    DEFAULT_DATA_DIR,
    bench_client_id,
    register_bench_clients,
    server_url,
    with_database,
)

DATABASE = "aphub_bench_attendance"
BATCH = 10_000
INGESTED_SESSIONS = 100  # per placement, through the hub
TERM_WEEKS = 13
COLUMNS = ["placement_id", "date", "session", "mark", "code", "minutes_late", "note"]
MARKS = (
    ("present", 0.85),
    ("late", 0.05),
    ("absent_authorised", 0.05),
    ("absent_unauthorised", 0.04),
    ("not_required", 0.01),
)
# the figures of the summary, as the hand-written SQL computes them
SQL_SUMMARY = """
SELECT p.id,
       count(m.mark) FILTER (WHERE m.mark <> 'not_required') AS possible,
       count(m.mark) FILTER (WHERE m.mark IN ('present', 'late')) AS attended,
       count(m.mark) FILTER (WHERE m.mark = 'present') AS present,
       count(m.mark) FILTER (WHERE m.mark = 'late') AS late,
       count(m.mark) FILTER (WHERE m.mark = 'absent_authorised') AS absent_authorised,
       count(m.mark) FILTER (WHERE m.mark = 'absent_unauthorised') AS absent_unauthorised,
       count(m.mark) FILTER (WHERE m.mark = 'absent_unauthorised' AND m.note IS NULL)
           AS unexplained_absences,
       count(m.mark) FILTER (WHERE m.mark = 'not_required') AS not_required
FROM placements p
JOIN children c ON c.id = p.child_id
LEFT JOIN attendance_marks m ON m.placement_id = p.id
WHERE c.home_la_id = $1 AND p.status = 'active'
GROUP BY p.id
ORDER BY p.id
"""


def say(message: str = "") -> None:
    print(message, flush=True)


def term(today: date) -> list[date]:
    """The school days of a 13-week term that ended last Friday."""
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=TERM_WEEKS)
    return [monday + timedelta(weeks=w, days=d) for w in range(TERM_WEEKS) for d in range(5)]


async def seed(conn: asyncpg.Connection, placements: int, days: list[date]) -> dict[str, Any]:
    la, school, provider = uuid7(), uuid7(), uuid7()
    await conn.execute(
        "INSERT INTO organisations (id, type, name, la_code) VALUES ($1, 'local_authority', "
        "'Bench LA', '202')",
        la,
    )
    await conn.execute(
        "INSERT INTO organisations (id, type, name, urn, local_authority_id) VALUES "
        "($1, 'school', 'Bench School', '100001', $3), ($2, 'provider', 'Bench PRU', "
        "'100101', $3)",
        school,
        provider,
        la,
    )
    await conn.execute(
        "INSERT INTO provider_profiles (organisation_id, registration_status, qa_status) "
        "VALUES ($1, 'pru', 'approved')",
        provider,
    )
    children = [uuid7() for _ in range(placements)]
    await conn.copy_records_to_table(
        "children",
        records=[(c, "Bench", f"Child {i}", date(2011, 1, 1), la) for i, c in enumerate(children)],
        columns=["id", "legal_first_name", "legal_last_name", "date_of_birth", "home_la_id"],
    )
    await conn.copy_records_to_table(
        "enrolments",
        records=[(uuid7(), c, school, "C", date(2022, 9, 1)) for c in children],
        columns=["id", "child_id", "school_id", "status", "start_date"],
    )
    rows, arrangements = [], {}
    for i, child in enumerate(children):
        pid = uuid7()
        kind = ("K", "B", "D")[i % 3]
        arrangements[pid] = kind
        rows.append(
            (
                pid,
                child,
                la if kind == "K" else school,
                provider,
                school if kind != "K" else None,
                "active",
                "s19_education_act_1996",
                "permanent_exclusion",
                kind == "D",
                days[0],
                days[-1] + timedelta(weeks=8),
                2,
            )
        )
    await conn.copy_records_to_table(
        "placements",
        records=rows,
        columns=[
            "id", "child_id", "commissioner_id", "provider_id", "home_school_id", "status",
            "legal_basis", "primary_reason", "dual_registered", "start_date",
            "planned_end_date", "version",
        ],
    )  # fmt: skip
    await conn.execute("VACUUM ANALYZE")
    return {"la": la, "provider": provider, "arrangements": arrangements}


def marks_for(arrangements: dict[uuid.UUID, str], days: list[date]) -> list[tuple[Any, ...]]:
    """Every session of the term for every placement, in date order (as returned daily)."""
    rng = random.Random(20261123)
    kinds = [k for k, _ in MARKS]
    weights = [w for _, w in MARKS]
    rows = []
    for day in days:
        for session in ("am", "pm"):
            for pid, arrangement in arrangements.items():
                mark = rng.choices(kinds, weights)[0]
                minutes = rng.randrange(5, 40) if mark == "late" else None
                note = None
                if mark == "absent_authorised" or (
                    mark == "absent_unauthorised" and rng.random() < 0.5
                ):
                    note = "Parent phoned"
                code = dfe_code(mark, arrangement)
                rows.append((pid, day, session, mark, code, minutes, note))
    return rows


def json_body(rows: list[tuple[Any, ...]]) -> bytes:
    return orjson.dumps(
        {
            "marks": [
                {
                    "placement_id": str(r[0]),
                    "date": r[1].isoformat(),
                    "session": r[2],
                    "mark": r[3],
                    "minutes_late": r[5],
                    "note": r[6],
                }
                for r in rows
            ]
        }
    )


def csv_body(rows: list[tuple[Any, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["placement_id", "date", "session", "mark", "minutes_late", "note"])
    for r in rows:
        writer.writerow([r[0], r[1].isoformat(), r[2], r[3], r[5] or "", r[6] or ""])
    return out.getvalue().encode()


async def timed(action: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


async def ingestion(
    conn: asyncpg.Connection,
    hub: httpx.AsyncClient,
    provider_headers: dict[str, str],
    rows: list[tuple[Any, ...]],
    rounds: int,
) -> dict[str, float]:
    batches = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
    bodies = {
        "json": ([json_body(b) for b in batches], "application/json"),
        "csv": ([csv_body(b) for b in batches], "text/csv"),
    }
    say(
        f"  {len(batches)} requests of {BATCH:,}: JSON {len(bodies['json'][0][0]):,} bytes, "
        f"CSV {len(bodies['csv'][0][0]):,} bytes each"
    )
    await conn.execute(
        "DROP TABLE IF EXISTS bench_bare_marks; "
        "CREATE TABLE bench_bare_marks (LIKE attendance_marks INCLUDING ALL)"
    )

    async def reset() -> None:
        await conn.execute("TRUNCATE attendance_marks, bench_bare_marks; CHECKPOINT")

    def through_hub(kind: str) -> Callable[[], Awaitable[None]]:
        payloads, media = bodies[kind]

        async def run() -> None:
            for payload in payloads:
                headers = {
                    **provider_headers,
                    "Content-Type": media,
                    "Idempotency-Key": uuid.uuid4().hex,
                }
                r = await hub.post("/v1/attendance", content=payload, headers=headers)
                report = r.json()
                if r.status_code != 200 or report["inserted"] != BATCH:
                    raise SystemExit(f"hub refused a batch: {r.status_code} {r.text[:300]}")

        return run

    async def bare() -> None:
        for batch in batches:
            async with conn.transaction():
                await conn.copy_records_to_table("bench_bare_marks", records=batch, columns=COLUMNS)

    sides: dict[str, Callable[[], Awaitable[None]]] = {
        "hub_json": through_hub("json"),
        "hub_csv": through_hub("csv"),
        "bare_copy": bare,
    }
    times: dict[str, list[float]] = {name: [] for name in sides}
    for side in sides.values():  # warm up: statements prepared, caches filled
        await reset()
        await side()
    for round_ in range(rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for name in order:
            await reset()
            elapsed = await timed(sides[name])
            times[name].append(elapsed)
            say(f"  round {round_ + 1} {name:9} {len(rows) / elapsed:>10,.0f} marks/s")
            table = "bench_bare_marks" if name == "bare_copy" else "attendance_marks"
            counted = await conn.fetchval(f"SELECT count(*) FROM {table}")
            if counted != len(rows):
                raise SystemExit(f"{name} left {counted} marks, not {len(rows)}")
    return {name: len(rows) / statistics.median(t) for name, t in times.items()}


async def summary(
    conn: asyncpg.Connection,
    hub: httpx.AsyncClient,
    la: uuid.UUID,
    la_headers: dict[str, str],
    repeat: int,
) -> dict[str, float]:
    async def via_hub() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            path = "/v1/attendance/summary?status=active&limit=500"
            r = await hub.get(path + (f"&cursor={cursor}" if cursor else ""), headers=la_headers)
            if r.status_code != 200:
                raise SystemExit(f"hub summary: {r.status_code} {r.text[:300]}")
            page = r.json()
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    async def via_sql() -> list[Any]:
        return list(await conn.fetch(SQL_SUMMARY, la))

    hub_items, sql_rows = await via_hub(), await via_sql()
    figures = [k for k in hub_items[0] if k not in ("placement_id", "child_id", "provider_id",
                                                    "status", "from_date", "to_date",
                                                    "percentage")]  # fmt: skip
    same = [str(r["id"]) for r in sql_rows] == [i["placement_id"] for i in hub_items] and all(
        all(i[k] == r[k] for k in figures) for i, r in zip(hub_items, sql_rows, strict=True)
    )
    if not same:
        raise SystemExit("the hub's summary and the SQL aggregate disagree")
    marks = sum(i["possible"] + i["not_required"] for i in hub_items)
    say(f"  {len(hub_items):,} placements, {marks:,} marks: hub and SQL agree on every figure")

    async def hub_once() -> None:
        await via_hub()

    async def sql_once() -> None:
        await via_sql()

    times: dict[str, list[float]] = {"hub": [], "sql": []}
    for _ in range(3):  # warm up both
        await hub_once()
        await sql_once()
    for i in range(repeat):
        order = [("hub", hub_once), ("sql", sql_once)]
        for name, action in order if i % 2 == 0 else reversed(order):
            times[name].append(await timed(action))
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


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
    days = term(date.today())
    try:
        say(f"seeding {args.placements:,} active placements, a term of {len(days)} school days")
        area = await seed(conn, args.placements, days)
        await register_bench_clients(conn)
        rows = marks_for(area["arrangements"], days)
        ingested = rows[: INGESTED_SESSIONS * args.placements]
        settings = Settings(
            database_url=async_url(url),
            data_dir=Path(tempfile.mkdtemp(prefix="aphub-bench-")),
            rate_limit_per_minute=0,
            migrate_on_start=False,
            jobs=False,
        )
        database = Database(async_url(url), settings)
        app = create_app(settings, database=database)

        def bearer(org: uuid.UUID, org_type: str, scopes: list[str]) -> dict[str, str]:
            token, _ = app.state.tokens.issue(
                client_id=bench_client_id(org),
                organisation_id=org,
                organisation_type=org_type,
                scopes=scopes,
            )
            return {"Authorization": f"Bearer {token}"}

        provider_headers = bearer(area["provider"], "provider", ["attendance:write"])
        la_headers = bearer(area["la"], "local_authority", ["placements:read"])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as hub:
            say(f"(a) ingestion of {len(ingested):,} marks, {args.rounds} rounds")
            rates = await ingestion(conn, hub, provider_headers, ingested, args.rounds)
            await conn.execute("TRUNCATE attendance_marks")
            await conn.copy_records_to_table("attendance_marks", records=rows, columns=COLUMNS)
            await conn.execute("VACUUM ANALYZE attendance_marks")
            say(f"(b) summary over the LA's active placements, {args.repeat} alternating runs")
            ms = await summary(conn, hub, area["la"], la_headers, args.repeat)
        await database.dispose()
    finally:
        await conn.close()

    json_ratio = rates["hub_json"] / rates["bare_copy"]
    csv_ratio = rates["hub_csv"] / rates["bare_copy"]
    say()
    say("== attendance (medians)")
    say(f"(a) bare COPY             {rates['bare_copy']:>10,.0f} marks/s")
    say(
        f"    hub POST JSON         {rates['hub_json']:>10,.0f} marks/s   ratio {json_ratio:.2f}"
        f"  (target >= 0.33: {'PASS' if json_ratio >= 1 / 3 else 'MISS'})"
    )
    say(
        f"    hub POST CSV          {rates['hub_csv']:>10,.0f} marks/s   ratio {csv_ratio:.2f}"
        f"  (target >= 0.33: {'PASS' if csv_ratio >= 1 / 3 else 'MISS'})"
    )
    ratio = ms["hub"] / ms["sql"]
    say(f"(b) SQL aggregate         {ms['sql']:>8.1f} ms")
    say(
        f"    hub summary (2 pages) {ms['hub']:>8.1f} ms   hub/SQL {ratio:.2f}"
        f"  (target <= 2: {'PASS' if ratio <= 2 else 'MISS'})"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--placements", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5, help="ingestion rounds per side")
    parser.add_argument("--repeat", type=int, default=20, help="summary runs per side")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
