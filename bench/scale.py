"""Scale scenarios: how the hub's costs grow with its data, at 100,000 children and at
national scale (1,000,000), in the same run.

    .venv/bin/python -m bench.scale [--sets 100k,national10] [--requests 100] [--rounds 3]
    .venv/bin/python -m bench.scale --sets 100k --prepared-cost

Each set is a bench database with the placements' event history and attendance marks
(`bench.generate --scale national10`, the 100k one with `--children 100000`); a missing
one is generated first (the national one takes the better part of an hour). The hub is
called in process (the FastAPI app over httpx's ASGI transport: token, sharing, SQL,
JSON; everything but the socket), one request at a time, the sets taking turns round by
round so that both see the same machine.

Read scenarios (requests per second; target: national >= 0.75 x 100k):
  child_by_id        GET /v1/children/{id} as the bench provider
  children_first     GET /v1/children?limit=50 as the home LA, first page
  children_deep      the same, with a cursor 90% of the way through the LA's children
  placements_list    GET /v1/placements?limit=50 as the bench provider
  feed_first         GET /v1/events?limit=100 as the home LA, from the start
  feed_last          the same, from 2,000 events before the head of the set's own history
                     (target: >= 1/1.5 of first)
The head is the set's last placement event, not the chain's: the concerns job (below)
appends its own events at every run, so the chain's head would be a concerns event in a
set it has run on and a placement event in one it has not, and the two sets would be
read at different kinds of place.
Then, once per set: the attendance-concerns job over every LA (the jobs process's work,
not a web worker's), and `verify_chain` throughput (events per second).

For every read scenario the statements the hub ran are explained again with
`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` and saved under `bench/plans/<set>/`; the run
fails the plan check if any reads a table of more than 10,000 rows by sequential scan
(one in a branch the page did not run is reported as latent).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from aphub import jobs
from aphub.auth.scopes import DEFAULT_SCOPES
from aphub.config import Settings
from aphub.db import Database, ReadUnit, async_url
from aphub.events.verify import verify_chain
from aphub.main import create_app
from aphub.pagination import encode_cursor
from bench.generate import (
    DEFAULT_DATA_DIR,
    NATIONAL_DATABASE,
    BenchDatabase,
    bench_client_id,
    ensure,
    register_bench_clients,
)

SETS = {"100k": (100_000, "aphub_bench_scale_100k"), "national10": (1_000_000, NATIONAL_DATABASE)}
PLANS = Path(__file__).resolve().parent / "plans"
BIG_TABLE_ROWS = 10_000
TARGET = 0.75
FEED_TARGET = 1.5


def say(message: str = "") -> None:
    print(message, flush=True)


class Captured:
    """The statements read units run while `on` (for EXPLAIN)."""

    on = False
    statements: list[tuple[str, dict[str, Any]]] = []


_run = ReadUnit._run


async def _capturing(self: ReadUnit, method: str, sql: str, params: Any) -> Any:
    if Captured.on and sql.lstrip().upper().startswith(("SELECT", "WITH")):
        Captured.statements.append((sql, dict(params)))
    return await _run(self, method, sql, params)


ReadUnit._run = _capturing  # type: ignore[method-assign]


class Hub:
    """One data set: its database, the hub in process, and the paths each scenario asks."""

    def __init__(self, name: str, bench: BenchDatabase, *, prepared: bool = True) -> None:
        self.name, self.bench = name, bench
        settings = Settings(
            database_url=async_url(bench.url),
            database_prepared_statements=prepared,
            data_dir=Path(tempfile.mkdtemp(prefix="aphub-scale-")),
            rate_limit_per_minute=0,
            migrate_on_start=False,
            jobs=False,
        )
        self.settings = settings
        self.database = Database(settings.database_url or "", settings)
        self.app = create_app(settings, database=self.database)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://hub", timeout=600
        )
        self.paths: dict[str, tuple[list[str], dict[str, str]]] = {}

    def bearer(self, organisation: Any, kind: str) -> dict[str, str]:
        token, _ = self.app.state.tokens.issue(
            client_id=bench_client_id(organisation),
            organisation_id=organisation,
            organisation_type=kind,
            scopes=list(DEFAULT_SCOPES[kind]),
        )
        return {"Authorization": f"Bearer {token}"}

    async def prepare(self, conn: asyncpg.Connection) -> None:
        await register_bench_clients(conn)
        la, provider = self.bench.home_la_id, self.bench.provider_id
        as_la, as_provider = self.bearer(la, "local_authority"), self.bearer(provider, "provider")
        kids = await conn.fetch(
            "SELECT DISTINCT child_id FROM placements WHERE provider_id = $1 "
            "AND status = 'active' LIMIT 200",
            provider,
        )
        total = await conn.fetchval("SELECT count(*) FROM children WHERE home_la_id = $1", la)
        deep = await conn.fetchval(
            "SELECT id FROM children WHERE home_la_id = $1 ORDER BY id OFFSET $2 LIMIT 1",
            la,
            int(total * 0.9),
        )
        head = int(
            await conn.fetchval(
                "SELECT seq FROM events WHERE subject_type = 'placement' ORDER BY seq DESC LIMIT 1"
            )
        )
        deep_cursor = encode_cursor([str(deep)])
        self.paths = {
            "child_by_id": ([f"/v1/children/{r['child_id']}" for r in kids], as_provider),
            "children_first": (["/v1/children?limit=50"], as_la),
            "children_deep": (
                [f"/v1/children?limit=50&cursor={deep_cursor}"],
                as_la,
            ),
            "placements_list": (["/v1/placements?limit=50"], as_provider),
            "feed_first": (["/v1/events?limit=100"], as_la),
            "feed_last": ([f"/v1/events?limit=100&after={encode_cursor([head - 2000])}"], as_la),
        }

    async def rate(self, scenario: str, requests: int) -> float:
        paths, headers = self.paths[scenario]
        for path in paths[:3]:  # warm: connections, plans, caches
            r = await self.client.get(path, headers=headers)
            assert r.status_code == 200, (self.name, path, r.status_code, r.text[:300])
        started = time.perf_counter()
        for i in range(requests):
            r = await self.client.get(paths[i % len(paths)], headers=headers)
            assert r.status_code == 200, (self.name, scenario, r.status_code)
        return requests / (time.perf_counter() - started)

    async def plans(self, scenario: str) -> list[str]:
        """Explain what one request of `scenario` ran; save the plans; name seq scans."""
        paths, headers = self.paths[scenario]
        Captured.statements, Captured.on = [], True
        try:
            await self.client.get(paths[0], headers=headers)
        finally:
            Captured.on = False
        where = PLANS / self.name
        where.mkdir(parents=True, exist_ok=True)
        found: list[str] = []
        async with self.database.reading() as unit:
            for n, (sql, params) in enumerate(Captured.statements, start=1):
                plan = await unit.fetchval(
                    f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", **params
                )
                plan = json.loads(plan) if isinstance(plan, str) else plan
                (where / f"{scenario}-{n}.json").write_text(
                    json.dumps({"sql": sql, "plan": plan}, indent=1, default=str)
                )
                for table, ran in seq_scans(plan[0]["Plan"]):
                    rows = await unit.fetchval(
                        "SELECT reltuples::bigint FROM pg_class WHERE relname = :t", t=table
                    )
                    if rows and rows > BIG_TABLE_ROWS:
                        scan = f"{scenario}-{n}: Seq Scan on {table} ({rows:,} rows)"
                        if ran:
                            found.append(scan)
                        else:
                            say(f"  (latent, not run on this page) {scan}")
        return found

    async def close(self) -> None:
        await self.client.aclose()
        await self.database.dispose()


def seq_scans(node: dict[str, Any]) -> list[tuple[str, bool]]:
    """Every sequential scan in a plan, and whether it ran (a branch the data did not
    reach, say a hashed subplan for an event type absent from the page, never runs)."""
    scans = []
    if node.get("Node Type") == "Seq Scan":
        scans.append((node["Relation Name"], node.get("Actual Loops", 0) > 0))
    for child in node.get("Plans", []):
        scans += seq_scans(child)
    return scans


async def once_per_set(
    hub: Hub, conn: asyncpg.Connection, verify: bool, concerns: bool
) -> dict[str, float]:
    figures: dict[str, float] = {}
    if concerns:
        await conn.execute("DELETE FROM attendance_concerns")
        started = time.perf_counter()
        result = await jobs.attendance_concerns(hub.database, hub.settings)
        figures["concerns_seconds"] = time.perf_counter() - started
        say(f"  {hub.name}: attendance-concerns job {figures['concerns_seconds']:.1f}s {result}")
    if verify:
        started = time.perf_counter()
        checked = await verify_chain(
            hub.database, progress=lambda n: say(f"  {hub.name}: verified {n:,} events")
        )
        seconds = time.perf_counter() - started
        figures["verify_events_per_second"] = checked.checked / seconds
        say(
            f"  {hub.name}: verify-log {checked.checked:,} events in {seconds:.0f}s "
            f"({checked.checked / seconds:,.0f}/s), ok={checked.ok}"
        )
    return figures


async def main_async(args: argparse.Namespace) -> int:
    names = args.sets.split(",")
    hubs, conns = [], []
    for name in names:
        children, database = SETS[name]
        bench = await ensure(
            children=children, data_dir=args.data_dir, database=database, history=True, log=say
        )
        hub = Hub(name, bench)
        conn = await asyncpg.connect(bench.url)
        await hub.prepare(conn)
        hubs.append(hub)
        conns.append(conn)
    scenarios = list(hubs[0].paths)
    rates: dict[tuple[str, str], list[float]] = {}
    for round_ in range(args.rounds):
        for scenario in scenarios:
            for hub in hubs if round_ % 2 == 0 else reversed(hubs):
                rate = await hub.rate(scenario, args.requests)
                rates.setdefault((hub.name, scenario), []).append(rate)
        say(f"round {round_ + 1}/{args.rounds} done")
    failures: list[str] = []
    say("\n== read scenarios (median requests/s, one at a time, in process)")
    base, top = names[0], names[-1]
    for scenario in scenarios:
        medians = {n: statistics.median(rates[(n, scenario)]) for n in names}
        line = "  ".join(f"{n} {medians[n]:8.1f}/s" for n in names)
        ratio = medians[top] / medians[base]
        verdict = "PASS" if ratio >= TARGET else "MISS"
        if verdict == "MISS":
            failures.append(f"{scenario}: {ratio:.2f}")
        say(f"  {scenario:16} {line}  {top}/{base} {ratio:.2f} (>= {TARGET}: {verdict})")
    for n in names:
        last, first = rates[(n, "feed_last")], rates[(n, "feed_first")]
        slower = statistics.median(first) / statistics.median(last)
        verdict = "PASS" if slower <= FEED_TARGET else "MISS"
        say(f"  {n}: feed last page {slower:.2f}x the first's time (<= {FEED_TARGET}: {verdict})")
        if verdict == "MISS":
            failures.append(f"{n} feed last/first {slower:.2f}")
    say("\n== plans (EXPLAIN ANALYZE, BUFFERS) saved under bench/plans/")
    for hub in hubs:
        for scenario in scenarios:
            scans = await hub.plans(scenario)
            failures += scans
            say(f"  {hub.name} {scenario}: {scans or 'no seq scan of a big table'}")
    say("\n== once per set")
    for hub, conn in zip(hubs, conns, strict=True):
        await once_per_set(hub, conn, args.verify, args.concerns)
        await hub.close()
        await conn.close()
    say(f"\n{'ALL PASS' if not failures else 'MISSED: ' + '; '.join(failures)}")
    return 0 if not failures else 1


async def prepared_cost(args: argparse.Namespace) -> int:
    """What running behind a pooler without prepared statements costs: the same set, the
    hub with its statement caches and with none (unnamed statements, parsed and planned
    every time), taking turns."""
    name = args.sets.split(",")[0]
    children, database = SETS[name]
    bench = await ensure(
        children=children, data_dir=args.data_dir, database=database, history=True, log=say
    )
    conn = await asyncpg.connect(bench.url)
    sides = [Hub("prepared", bench), Hub("unprepared", bench, prepared=False)]
    for hub in sides:
        await hub.prepare(conn)
    rates: dict[tuple[str, str], list[float]] = {}
    for round_ in range(args.rounds):
        for scenario in sides[0].paths:
            for hub in sides if round_ % 2 == 0 else reversed(sides):
                rates.setdefault((hub.name, scenario), []).append(
                    await hub.rate(scenario, args.requests)
                )
    say(f"\n== prepared statements on vs off, {name} (median requests/s)")
    for scenario in sides[0].paths:
        on = statistics.median(rates[("prepared", scenario)])
        off = statistics.median(rates[("unprepared", scenario)])
        say(f"  {scenario:16} on {on:8.1f}/s  off {off:8.1f}/s  off/on {off / on:.2f}")
    for hub in sides:
        await hub.close()
    await conn.close()
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="100k,national10", help="from: " + ", ".join(SETS))
    parser.add_argument("--requests", type=int, default=100, help="per scenario per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-verify", dest="verify", action="store_false")
    parser.add_argument("--no-concerns", dest="concerns", action="store_false")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument(
        "--prepared-cost",
        action="store_true",
        help="instead: the first set with prepared statements on and off (PgBouncer < 1.21)",
    )
    args = parser.parse_args(argv)
    run = prepared_cost(args) if args.prepared_cost else main_async(args)
    raise SystemExit(asyncio.run(run))


if __name__ == "__main__":
    main()
