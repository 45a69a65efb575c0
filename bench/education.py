"""The daily out-of-education job over the bench data set, outside any web worker.

    .venv/bin/python -m bench.education [--excluded 0.01] [--runs 3]

It copies the bench database (`aphub_bench`, 100,000 children, generated if missing) to
`aphub_bench_education` (`CREATE DATABASE ... TEMPLATE`, so the read benchmarks' data is
never written to), adds exclusions for a share of the children (`--excluded`, of which
half permanent and half suspensions of six to ten school days, all started within the
last four weeks, so most owe provision today), and then runs the job as `aphub jobs
run-education` does: one write unit of its own, on a database of its own, not in a
process answering requests.

Timed: the first run (it raises every flag due: sixth-day breaches, waiting for a place,
part-time reviews overdue, missing education) and then `--runs` steady runs (nothing new
to raise: what every later school day costs). Reference, in the same run: the statements
that find the candidates (the job's own reads, without deciding, writing or recording
events), so the ratio shows what deciding and recording adds. Target (issue "Children out
of education"): the job over 100,000 children in under 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from aphub.config import Settings
from aphub.db import Database, async_url
from aphub.education import flags
from aphub.education.exclusions import ENGLAND, england_today
from aphub.ids import uuid7
from bench.generate import DEFAULT_DATA_DIR, DEFAULT_DATABASE, ensure, server_url, with_database

DATABASE = "aphub_bench_education"
REASONS = ("PA", "VP", "DM", "DB", "BU")


def say(message: str = "") -> None:
    print(message, flush=True)


async def clone(server: str) -> str:
    admin = await asyncpg.connect(with_database(server, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{DEFAULT_DATABASE}"')
    finally:
        await admin.close()
    return with_database(server, DATABASE)


async def add_exclusions(conn: asyncpg.Connection, share: float, today: date) -> int:
    """Exclusions by each child's current school, started within the last four weeks."""
    rows = await conn.fetch(
        "SELECT e.child_id, e.school_id FROM enrolments e "
        "WHERE e.end_date IS NULL AND e.status = 'C' ORDER BY e.child_id"
    )
    rng = random.Random(20261203)
    chosen = [r for r in rows if rng.random() < share]
    records: list[tuple[Any, ...]] = []
    for i, row in enumerate(chosen):
        permanent = i % 2 == 0
        records.append(
            (
                uuid7(),
                row["child_id"],
                row["school_id"],
                "permanent" if permanent else "suspension",
                today - timedelta(days=rng.randrange(1, 28)),
                None if permanent else rng.randrange(6, 11),
                [rng.choice(REASONS)],
                row["school_id"],
            )
        )
    await conn.copy_records_to_table(
        "exclusions",
        records=records,
        columns=(
            "id",
            "child_id",
            "school_id",
            "kind",
            "first_day",
            "school_days",
            "reasons",
            "recorded_by_id",
        ),
    )
    await conn.execute("VACUUM ANALYZE exclusions")
    return len(records)


async def candidates(database: Database, today: date) -> int:
    """The job's own candidate reads, and nothing else."""
    recent = today - timedelta(days=flags.LOOKBACK_DAYS)
    async with database.reading() as unit:
        found = len(await unit.fetch(flags.EXCLUDED, recent=recent, la_id=None))
        found += len(
            await unit.fetch(
                flags.WAITING,
                waited=datetime.combine(today, datetime.min.time(), ENGLAND),
                la_id=None,
            )
        )
        found += len(await unit.fetch(flags.PART_TIME, today=today, la_id=None))
        found += len(await unit.fetch(flags.LEFT_ROLL, today=today, recent=recent, la_id=None))
    return found


async def one_run(database: Database, today: date) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    async with database.writing() as unit:
        result = await flags.run_flags(unit, as_of=today)
    return time.perf_counter() - started, result


async def main_async(args: argparse.Namespace) -> None:
    await ensure(data_dir=args.data_dir, log=say)
    server = server_url(args.data_dir)
    url = await clone(server)
    today = england_today()
    conn = await asyncpg.connect(url)
    try:
        children = await conn.fetchval("SELECT count(*) FROM children")
        excluded = await add_exclusions(conn, args.excluded, today)
    finally:
        await conn.close()
    say(f"{children:,} children; {excluded:,} exclusions added; as of {today}")
    settings = Settings(
        database_url=async_url(url),
        data_dir=Path(tempfile.mkdtemp(prefix="aphub-bench-")),
        migrate_on_start=False,
        jobs=False,
    )
    database = Database(async_url(url), settings)
    try:
        reads = []
        for _ in range(args.runs):
            started = time.perf_counter()
            found = await candidates(database, today)
            reads.append(time.perf_counter() - started)
        first, result = await one_run(database, today)
        say(f"first run: raised {result['raised']} cleared {result['cleared']}")
        steady = []
        for _ in range(args.runs):
            seconds, again = await one_run(database, today)
            assert not again["raised"], again
            steady.append(seconds)
    finally:
        await database.dispose()
    reference = statistics.median(reads)
    median = statistics.median(steady)
    say()
    say("== education flags job (100k children)")
    say(f"candidate reads (reference)  {reference:8.2f} s   ({found:,} candidate rows)")
    say(
        f"first run (raises all)       {first:8.2f} s   "
        f"(target < 60 s: {'PASS' if first < 60 else 'MISS'})"
    )
    say(
        f"steady run (median of {args.runs})     {median:8.2f} s   "
        f"job/reads {median / reference:.1f}"
        f"  (target < 60 s: {'PASS' if median < 60 else 'MISS'}; runs {min(steady):.2f}"
        f"-{max(steady):.2f} s)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--excluded", type=float, default=0.01)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
