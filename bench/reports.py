"""Oversight reports over the bench data set: each report through the hub against a
hand-written SQL query of the same answer.

    .venv/bin/python -m bench.reports [--repeat 7] [--limit 500] [--reports slug,...]

It copies the bench database (`aphub_bench`, 100,000 children, generated if missing) to
`aphub_bench_reports` (`CREATE DATABASE ... TEMPLATE`: the read benchmarks' data is never
written to) and adds what the generator leaves out and the reports read: a directory
profile for every provider (a fifth unregistered, a tenth with QA overdue), six weeks of
attendance for the active placements of a third of the children, open out-of-education
flags for 2% of the children, and six-week follow-ups for half the ended placements.

Then, as the bench LA (home to half the children), for each report: the hub in process
(the FastAPI app over httpx's ASGI transport: middleware, token, parsing, sharing, SQL,
audit, JSON), walking every page of `--limit` rows, against one hand-written SQL query
returning the same rows (the LA's residents' placements and those hosted in its area,
written the way an analyst would). Both are checked to name the same rows in the same
order, then timed alternately; the median of `--repeat` runs each. Target (issue "Area
oversight"): the hub within 2x the SQL. The figures go in notes, not in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from aphub.config import Settings
from aphub.db import Database, async_url
from aphub.education.exclusions import england_today
from aphub.ids import uuid7
from aphub.main import create_app
from aphub.reports.catalogue import REPORTS
from bench.generate import (
    DEFAULT_DATA_DIR,
    DEFAULT_DATABASE,
    bench_client_id,
    ensure,
    register_bench_clients,
    server_url,
    with_database,
)

DATABASE = "aphub_bench_reports"

# The placements the bench LA sees, as an analyst would write it: its residents', and
# the current ones at providers in its area or commissioned by its schools.
SEEN = """
seen AS (
  SELECT p.* FROM placements p JOIN children c ON c.id = p.child_id
  WHERE (c.home_la_id = $1 AND c.merged_into_id IS NULL)
     OR (p.status IN ('requested', 'offered', 'active') AND (
         p.provider_id IN (SELECT id FROM organisations WHERE local_authority_id = $1)
      OR p.commissioner_id IN (SELECT id FROM organisations
                               WHERE type = 'school' AND local_authority_id = $1)))
)"""
# the columns every placement report answers, and where they come from
COLUMNS = (
    "s.id, s.child_id, c.legal_first_name, c.legal_last_name, c.year_group, s.status, "
    "s.primary_reason, s.provider_id, prov.name, s.commissioner_id, comm.name, comm.type, "
    "s.start_date, s.planned_end_date"
)
JOINED = (
    "seen s JOIN children c ON c.id = s.child_id "
    "JOIN organisations prov ON prov.id = s.provider_id "
    "JOIN organisations comm ON comm.id = s.commissioner_id"
)
HAND_WRITTEN: dict[str, str] = {
    "children-out-of-education": """
SELECT f.id, f.child_id, c.legal_first_name, c.legal_last_name, c.year_group, f.kind,
       f.since, f.raised_on, $2::date - f.since, f.responsible_id, r.name, r.type
FROM education_flags f JOIN children c ON c.id = f.child_id
JOIN organisations r ON r.id = f.responsible_id
WHERE f.cleared_on IS NULL AND (c.home_la_id = $1 OR EXISTS (
  SELECT 1 FROM placements p WHERE p.child_id = c.id
  AND p.status IN ('requested', 'offered', 'active') AND (
    p.provider_id IN (SELECT id FROM organisations WHERE local_authority_id = $1)
    OR p.commissioner_id IN (SELECT id FROM organisations
                             WHERE type = 'school' AND local_authority_id = $1))))
ORDER BY f.id""",
    "placements-past-planned-end": f"""WITH {SEEN}
SELECT {COLUMNS}, $2::date - s.planned_end_date FROM {JOINED}
WHERE s.status = 'active' AND s.planned_end_date < $2 ORDER BY s.id""",
    "reviews-overdue": f"""WITH {SEEN}
SELECT {COLUMNS}, s.next_review_date, r.held_on, $2::date - s.next_review_date
FROM {JOINED} LEFT JOIN (SELECT placement_id, max(held_on) AS held_on
  FROM placement_reviews GROUP BY placement_id) r ON r.placement_id = s.id
WHERE s.status = 'active' AND (s.next_review_date IS NULL OR s.next_review_date < $2)
ORDER BY s.id""",
    "unregistered-providers": f"""WITH {SEEN}
SELECT s.provider_id, o.name, count(*), array_agg(s.id ORDER BY s.id),
       array_agg(DISTINCT s.child_id), pp.census_setting_type, pp.qa_status,
       (SELECT count(*) FROM placements a WHERE a.provider_id = s.provider_id
        AND a.status = 'active' AND a.hours_per_week >= 18)
FROM seen s JOIN organisations o ON o.id = s.provider_id
LEFT JOIN provider_profiles pp ON pp.organisation_id = s.provider_id
WHERE s.status = 'active'
AND (pp.registration_status IS NULL OR pp.registration_status = 'unregistered')
GROUP BY s.provider_id, o.name, pp.census_setting_type, pp.qa_status
ORDER BY s.provider_id""",
    "out-of-area-placements": f"""WITH {SEEN}
SELECT {COLUMNS}, prov.local_authority_id, pla.name, pp.registration_status, pp.qa_status,
       pp.qa_assessor_organisation_id, qa.name, pp.qa_last_visit_on, pp.qa_next_due_on
FROM {JOINED} LEFT JOIN organisations pla ON pla.id = prov.local_authority_id
LEFT JOIN provider_profiles pp ON pp.organisation_id = s.provider_id
LEFT JOIN organisations qa ON qa.id = pp.qa_assessor_organisation_id
WHERE s.status = 'active' AND prov.local_authority_id IS DISTINCT FROM c.home_la_id
ORDER BY s.id""",
    "attendance-below-90": f"""WITH {SEEN}, a AS (
  SELECT m.placement_id, count(*) FILTER (WHERE m.mark <> 'not_required') AS possible,
         count(*) FILTER (WHERE m.mark IN ('present', 'late')) AS attended
  FROM attendance_marks m WHERE m.date > $2::date - 42 AND m.date <= $2
  GROUP BY m.placement_id)
SELECT {COLUMNS}, a.possible, a.attended, round(100.0 * a.attended / a.possible, 1)
FROM {JOINED} JOIN a ON a.placement_id = s.id
WHERE s.status = 'active' AND a.possible > 0 AND 100.0 * a.attended / a.possible < 90
ORDER BY s.id""",
    "repeated-breakdowns": f"""WITH {SEEN}
SELECT s.child_id, c.legal_first_name, c.legal_last_name, c.year_group, count(*),
       array_agg(s.id ORDER BY s.actual_end_date, s.id), max(s.actual_end_date)
FROM seen s JOIN children c ON c.id = s.child_id
WHERE s.status = 'ended' AND s.end_reason = 'breakdown'
AND s.actual_end_date > $2::date - interval '12 months'
GROUP BY s.child_id, c.legal_first_name, c.legal_last_name, c.year_group
HAVING count(*) >= 2 ORDER BY s.child_id""",
    "destinations": f"""WITH {SEEN}
SELECT {COLUMNS}, s.actual_end_date, s.end_reason, s.destination, f6.sustained, ft.sustained
FROM {JOINED}
LEFT JOIN placement_follow_ups f6 ON f6.placement_id = s.id AND f6.kind = 'six_weeks'
LEFT JOIN placement_follow_ups ft ON ft.placement_id = s.id AND ft.kind = 'next_term_end'
WHERE s.status = 'ended' ORDER BY s.id""",
    "ap-arranged-by-schools": f"""WITH {SEEN}
SELECT {COLUMNS}, s.legal_basis, s.hours_per_week, pp.registration_status, pp.qa_status
FROM {JOINED} LEFT JOIN provider_profiles pp ON pp.organisation_id = s.provider_id
WHERE s.status IN ('requested', 'offered', 'active') AND comm.type IN ('school', 'trust')
ORDER BY s.id""",
    "providers-needing-attention": f"""WITH {SEEN}
SELECT s.provider_id, o.name, count(*), array_agg(s.id ORDER BY s.id),
       array_agg(DISTINCT s.child_id), pp.registration_status, pp.qa_status,
       pp.qa_next_due_on, pp.qa_last_visit_on
FROM seen s JOIN organisations o ON o.id = s.provider_id
LEFT JOIN provider_profiles pp ON pp.organisation_id = s.provider_id
WHERE s.status IN ('requested', 'offered', 'active') AND (
  pp.qa_next_due_on < $2 OR pp.qa_status IN ('suspended', 'removed', 'not_assessed')
  OR pp.qa_status IS NULL OR pp.staff_checks_confirmed_on IS NULL
  OR pp.insurance_expires_on < $2
  OR pp.safeguarding_policy_reviewed_on < $2::date - interval '12 months'
  OR EXISTS (SELECT 1 FROM provider_concerns pc WHERE pc.provider_id = s.provider_id
             AND pc.category = 'safeguarding'
             AND pc.raised_at > $2::date - interval '12 months'))
GROUP BY s.provider_id, o.name, pp.registration_status, pp.qa_status, pp.qa_next_due_on,
         pp.qa_last_visit_on
ORDER BY s.provider_id""",
    "placements-without-plan": f"""WITH {SEEN}
SELECT {COLUMNS}, o.placement_id IS NOT NULL, s.exit_strategy IS NOT NULL
FROM {JOINED} LEFT JOIN (SELECT DISTINCT placement_id FROM intended_outcomes) o
ON o.placement_id = s.id
WHERE s.status IN ('offered', 'active') AND (s.exit_strategy IS NULL OR o.placement_id IS NULL)
ORDER BY s.id""",
}
KEY = {
    "children-out-of-education": None,  # the flag's id is no column: compared by child
    "unregistered-providers": "provider_id",
    "providers-needing-attention": "provider_id",
    "repeated-breakdowns": "child_id",
}


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


async def add_report_data(conn: asyncpg.Connection, today: date, rng: random.Random) -> None:
    providers = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM organisations WHERE type = 'provider' ORDER BY id"
        )
    ]
    profiles = []
    for i, p in enumerate(providers):
        unregistered = i % 5 == 4
        profiles.append(
            (
                p,
                "unregistered" if unregistered else "pru",
                "OOT" if unregistered else None,
                "approved",
                today + timedelta(days=-20 if i % 10 == 3 else 120),
                today - timedelta(days=200),
            )
        )
    await conn.execute("DELETE FROM provider_profiles")
    await conn.copy_records_to_table(
        "provider_profiles",
        records=profiles,
        columns=[
            "organisation_id", "registration_status", "census_setting_type", "qa_status",
            "qa_next_due_on", "staff_checks_confirmed_on",
        ],
    )  # fmt: skip
    active = await conn.fetch(
        "SELECT p.id FROM placements p JOIN children c ON c.id = p.child_id "
        "WHERE p.status = 'active' AND p.start_date <= $1::date - 42 ORDER BY p.id",
        today,
    )
    days = [today - timedelta(days=d) for d in range(1, 43)]
    days = [d for d in days if d.weekday() < 5]
    marks = []
    for i, row in enumerate(active):
        if i % 3:
            continue
        rate = rng.choice((0.97, 0.93, 0.85, 0.6, 0.3))
        for d in days:
            for s in ("am", "pm"):
                present = rng.random() < rate
                marks.append(
                    (
                        row["id"],
                        d,
                        s,
                        "present" if present else "absent_unauthorised",
                        "K" if present else "O",
                    )
                )
    await conn.copy_records_to_table(
        "attendance_marks",
        records=marks,
        columns=["placement_id", "date", "session", "mark", "code"],
    )
    children = await conn.fetch("SELECT id, home_la_id FROM children ORDER BY id")
    flags = [
        (uuid7(), c["id"], "missing_education", c["id"], c["home_la_id"], c["home_la_id"],
         today - timedelta(days=10), today - timedelta(days=9))
        for i, c in enumerate(children) if i % 50 == 7
    ]  # fmt: skip
    await conn.copy_records_to_table(
        "education_flags",
        records=flags,
        columns=[
            "id", "child_id", "kind", "subject_id", "responsible_id", "home_la_id", "since",
            "raised_on",
        ],
    )  # fmt: skip
    recorder = await conn.fetchval(
        "SELECT id FROM organisations WHERE type = 'local_authority' ORDER BY id LIMIT 1"
    )
    ended = await conn.fetch(
        "SELECT id, actual_end_date FROM placements WHERE status = 'ended' ORDER BY id"
    )
    follow_ups = [
        (
            uuid7(), r["id"], "six_weeks", r["actual_end_date"] + timedelta(weeks=6),
            rng.random() < 0.7, today, recorder,
        )
        for i, r in enumerate(ended) if i % 2 == 0
    ]  # fmt: skip
    await conn.copy_records_to_table(
        "placement_follow_ups",
        records=follow_ups,
        columns=[
            "id", "placement_id", "kind", "due_on", "sustained", "recorded_on", "recorded_by_id",
        ],
    )  # fmt: skip
    await conn.execute("VACUUM ANALYZE")
    say(
        f"  added {len(profiles)} provider profiles, {len(marks):,} marks, {len(flags):,} flags, "
        f"{len(follow_ups):,} follow-ups"
    )


async def walk(
    hub: httpx.AsyncClient,
    headers: dict[str, str],
    slug: str,
    limit: int,
    pages: int | None = None,
) -> list[dict[str, Any]]:
    """The report's rows, page after page (the first `pages`, or all)."""
    items: list[dict[str, Any]] = []
    cursor = None
    while pages is None or pages > 0:
        pages = None if pages is None else pages - 1
        params = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        r = await hub.get(f"/v1/reports/{slug}", headers=headers, params=params)
        assert r.status_code == 200, r.text
        document = orjson.loads(r.content)
        items += document["items"]
        cursor = document["next_cursor"]
        if cursor is None:
            break
    return items


async def main_async(args: argparse.Namespace) -> None:
    bench = await ensure(data_dir=args.data_dir, log=say)
    url = await clone(server_url(args.data_dir))
    conn = await asyncpg.connect(url)
    today = england_today()
    la = bench.home_la_id
    results: list[tuple[str, str, int, float, float]] = []
    args.la, args.today = la, today
    try:
        await add_report_data(conn, today, random.Random(20261203))
        await register_bench_clients(conn)
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
            client_id=bench_client_id(la),
            organisation_id=la,
            organisation_type="local_authority",
            scopes=["reports:read"],
        )
        await conn.execute(
            "UPDATE api_clients SET scopes = array_append(scopes, 'reports:read') "
            "WHERE client_id = $1 AND NOT 'reports:read' = ANY(scopes)",
            bench_client_id(la),
        )
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=app)
        chosen = [r for r in REPORTS if not args.reports or r.slug in args.reports.split(",")]
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as hub:
            for report in chosen:
                for mode in ("page", "all"):
                    results.append(await compare(hub, conn, headers, report.slug, mode, args))
        await database.dispose()
    finally:
        await conn.close()
    say()
    for mode, what in (("page", "the first page"), ("all", "every page")):
        say(f"== reports as the bench LA, {what} of {args.limit} rows (medians of {args.repeat})")
        for slug, m, rows, hub_ms, sql_ms in results:
            if m != mode:
                continue
            ratio = hub_ms / sql_ms
            verdict = "PASS" if ratio <= 2 else "MISS"
            say(
                f"{slug:<28} {rows:>6} rows  hub {hub_ms:7.1f} ms  SQL {sql_ms:7.1f} ms  "
                f"hub/SQL {ratio:5.2f}  (target <= 2: {verdict})"
            )


async def compare(
    hub: httpx.AsyncClient,
    conn: asyncpg.Connection,
    headers: dict[str, str],
    slug: str,
    mode: str,
    args: argparse.Namespace,
) -> tuple[str, str, int, float, float]:
    """One report both ways, checked to agree, then timed alternately: `page`, the first
    page against the same query with its LIMIT; `all`, every page against the query."""
    la, today = args.la, args.today
    sql = HAND_WRITTEN[slug] + (f" LIMIT {args.limit}" if mode == "page" else "")
    values = (la, today) if "$2" in sql else (la,)
    pages = 1 if mode == "page" else None
    items = await walk(hub, headers, slug, args.limit, pages)
    rows = await conn.fetch(sql, *values)
    column = KEY.get(slug, "placement_id")
    if column is None:  # flags: the hub names the child, in flag order
        assert [uuid.UUID(i["child_id"]) for i in items] == [r[1] for r in rows], slug
    else:
        assert [uuid.UUID(i[column]) for i in items] == [r[0] for r in rows], slug

    async def hub_once() -> None:
        await walk(hub, headers, slug, args.limit, pages)

    async def sql_once() -> None:
        await conn.fetch(sql, *values)

    times: dict[str, list[float]] = {"hub": [], "sql": []}
    for _ in range(2):  # warm up both
        await hub_once()
        await sql_once()
    for i in range(args.repeat):
        order = [("hub", hub_once), ("sql", sql_once)]
        for name, action in order if i % 2 == 0 else reversed(order):
            started = time.perf_counter()
            await action()
            times[name].append(time.perf_counter() - started)
    hub_ms = statistics.median(times["hub"]) * 1000
    sql_ms = statistics.median(times["sql"]) * 1000
    say(f"  {slug} ({mode}): {len(items)} rows, hub {hub_ms:.1f} ms, SQL {sql_ms:.1f} ms")
    return slug, mode, len(items), hub_ms, sql_ms


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per side")
    parser.add_argument("--limit", type=int, default=500, help="page size")
    parser.add_argument("--reports", default="", help="comma-separated report names (all)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
