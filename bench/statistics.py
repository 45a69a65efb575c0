"""Dashboard statistics over the bench data set (100,000 children), against a hand-written
SQL query of the same counts in the same run.

    .venv/bin/python -m bench.statistics [--runs 5] [--period 2025/26]

For each dimension: the hub's answer as a dashboard asks it (`aphub.statistics.service`:
the population read through the sharing layer, grouped by LA and category, then
disclosure control over the national table), and the reference, one GROUP BY over the
placements and children written by hand (`DISTINCT ON` the child's latest placement in the
period, no disclosure control). Both are timed in process on the same database, median of
`--runs`, so the ratio is what the hub adds to the query an analyst would write. The
database is only read.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from aphub.auth.principal import Principal
from aphub.config import Settings
from aphub.db import Database, async_url
from aphub.education.exclusions import england_today
from aphub.statistics import service
from aphub.statistics.dimensions import Dimension
from bench.generate import DEFAULT_DATA_DIR, ensure

# The reference: the counts by home LA and one column, written as an analyst would.
REFERENCE = (
    "SELECT home_la_id, {column}, count(*) FROM ("
    "SELECT DISTINCT ON (p.child_id) c.home_la_id, p.primary_reason, p.start_date, "
    "p.actual_end_date, p.destination, c.sen_provision, c.year_group, pp.registration_status "
    "FROM placements p JOIN children c ON c.id = p.child_id "
    "LEFT JOIN provider_profiles pp ON pp.organisation_id = p.provider_id "
    "WHERE p.status IN ('active', 'ended') AND p.start_date <= :period_end "
    "AND (p.actual_end_date IS NULL OR p.actual_end_date >= :period_start) "
    "ORDER BY p.child_id, p.start_date DESC) x GROUP BY 1, 2"
)
COLUMNS = {
    Dimension.local_authority: "home_la_id",
    Dimension.provider_type: "registration_status",
    Dimension.registration: "registration_status = 'unregistered'",
    Dimension.reason: "primary_reason",
    Dimension.sen_provision: "sen_provision",
    Dimension.year_group: "year_group",
    Dimension.destination: "destination",
    Dimension.month: "date_trunc('month', start_date)",
}
# attendance bands need the marks: the reference sums them per child too
ATTENDANCE_REFERENCE = (
    "SELECT x.home_la_id, CASE WHEN coalesce(a.possible, 0) = 0 THEN 'none' "
    "WHEN a.attended * 100 < a.possible * 50 THEN 'u50' "
    "WHEN a.attended * 100 < a.possible * 90 THEN 'u90' ELSE 'ok' END, count(*) FROM ("
    "SELECT DISTINCT ON (p.child_id) p.child_id, c.home_la_id FROM placements p "
    "JOIN children c ON c.id = p.child_id WHERE p.status IN ('active', 'ended') "
    "AND p.start_date <= :period_end "
    "AND (p.actual_end_date IS NULL OR p.actual_end_date >= :period_start) "
    "ORDER BY p.child_id, p.start_date DESC) x LEFT JOIN ("
    "SELECT q.child_id, count(*) FILTER (WHERE m.mark IN ('present', 'late')) AS attended, "
    "count(*) FILTER (WHERE m.mark <> 'not_required') AS possible FROM placements q "
    "JOIN attendance_marks m ON m.placement_id = q.id "
    "WHERE m.date BETWEEN :period_start AND :period_end GROUP BY q.child_id) a "
    "ON a.child_id = x.child_id GROUP BY 1, 2"
)


def say(message: str = "") -> None:
    print(message, flush=True)


async def timed(runs: int, action: Callable[[], Awaitable[None]]) -> float:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


async def main_async(args: argparse.Namespace) -> None:
    bench = await ensure(data_dir=args.data_dir, log=say)
    settings = Settings(
        database_url=async_url(bench.url),
        data_dir=Path(tempfile.mkdtemp(prefix="aphub-bench-")),
        migrate_on_start=False,
        jobs=False,
    )
    database = Database(async_url(bench.url), settings)
    dashboard = Principal(uuid.uuid4(), "dashboard", "bench", frozenset({"reports:read"}))
    period = service.parse_period(args.period, england_today())
    say(f"period {period.label} ({period.start} to {period.end}); median of {args.runs} runs")
    say(f"{'dimension':<18}{'hub ms':>10}{'reference ms':>14}{'ratio':>8}")
    worst = 0.0
    try:
        for dimension in Dimension:
            sql = (
                ATTENDANCE_REFERENCE
                if dimension is Dimension.attendance_band
                else REFERENCE.format(column=COLUMNS[dimension])
            )

            async def reference(sql: str = sql) -> None:
                async with database.reading() as unit:
                    await unit.fetch(sql, period_start=period.start, period_end=period.end)

            async def hub(dimension: Dimension = dimension) -> None:
                async with database.reading() as unit:
                    await service.statistics(
                        unit, dashboard, dimension, period=period.label, local_authority=None
                    )

            await reference()  # warm both (plans, caches)
            await hub()
            ours = await timed(args.runs, hub)
            theirs = await timed(args.runs, reference)
            worst = max(worst, ours / theirs)
            say(
                f"{dimension.value:<18}{ours * 1000:>10.1f}{theirs * 1000:>14.1f}"
                f"{ours / theirs:>8.2f}"
            )
    finally:
        await database.dispose()
    say(f"worst ratio {worst:.2f} (target: no more than 2x the hand-written query)")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--period", default=None)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
