"""Generate the benchmark database: a realistic area of 100,000 children (fictional).

    .venv/bin/python -m bench.generate [--children 100000] [--force]

Creates a dedicated database (`aphub_bench`) on the embedded PostgreSQL under the bench
data directory (`bench/.data/`), or on the server of `APHUB_DATABASE_URL` when that is
set; migrates it with the hub's own migrations; bulk-loads it with COPY; then
`VACUUM (ANALYZE)` so plans are those of a settled database. Idempotent: a database
already generated at the same size by the same generator version is kept (only
migrated to head) unless `--force`.

What it holds (deterministic for a seed):
- 3 local authorities (the first, the "bench LA", is home to about half the children),
  20 schools in each, 2 trusts, 50 AP providers (the first, the "bench provider", has
  about 4% of the placements: a few thousand), 2 health and 2 social-care bodies;
- children with valid-looking identifiers (UPN, ULN, NHS number all pass the hub's
  check-digit rules), names, dates of birth, SEN and status flags;
- enrolments: most children on the roll of a school in their home LA, some with an
  ended earlier enrolment;
- as many placements as children, mostly active or ended, spread across providers;
- passport sections for about a third of the children, involvements for a few.

The database records its own description in `bench.meta` (size, seed, the ids of the
bench LA and the bench provider) for the runner.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from aphub.auth.scopes import DEFAULT_SCOPES
from aphub.db import async_url, start_embedded_postgres
from aphub.migrate import migrate
from aphub.placements.schemas import Destination, EndReason, LegalBasis, PrimaryReason

GENERATOR_VERSION = 5
DEFAULT_CHILDREN = 100_000
DEFAULT_SEED = 20261123
DEFAULT_DATA_DIR = Path(__file__).resolve().parent / ".data"
DEFAULT_DATABASE = "aphub_bench"
# --scale: children (and as many placements); the national set adds each placement's
# event history and attendance marks (bench/national.py), in a database of its own so
# that the 100k set stays beside it for the scale scenarios' ratios
SCALES = {"100k": (100_000, False), "national10": (1_000_000, True)}
NATIONAL_DATABASE = "aphub_bench_national10"

# Real LA codes (the hub validates them); everything below them is fictional.
LOCAL_AUTHORITIES = (("202", "Camden", 0.5), ("203", "Greenwich", 0.3), ("204", "Hackney", 0.2))
SCHOOLS_PER_LA = 20
PROVIDERS = 50
BENCH_PROVIDER_SHARE = 0.04
PLACEMENT_STATUSES = (
    ("active", 0.30),
    ("ended", 0.50),
    ("requested", 0.05),
    ("offered", 0.05),
    ("declined", 0.05),
    ("cancelled", 0.05),
)
# The hub's own vocabularies, so the rows read back through its APIs as valid.
LEGAL_BASES = tuple(v.value for v in LegalBasis)
REASONS = tuple(v.value for v in PrimaryReason)
END_REASONS = tuple(v.value for v in EndReason)
DESTINATIONS = tuple(v.value for v in Destination)
_FIRST_NAMES = (
    "Amelia Olivia Isla Ava Mia Ivy Lily Freya Florence Sophia Grace Willow Aisha Zara Maya "
    "Noah Oliver George Arthur Leo Muhammad Harry Oscar Archie Henry Theo Jack Freddie Alfie "
    "Charlie Isaac Kai Reggie Tommy Ezra Rory Finley Mason Jayden Kofi Tomasz Oluwaseun Priya"
)
FIRST_NAMES = tuple(_FIRST_NAMES.split())
_LAST_NAMES = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
    "Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell "
    "Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan "
    "Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell "
    "Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills "
    "Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Okafor"
)
LAST_NAMES = tuple(_LAST_NAMES.split())
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
CHUNK = 25_000  # rows a COPY takes at a time
PRIMARY_NEEDS = ("SEMH", "SEMH", "SEMH", "ASD", "SLCN", "MLD", "SPLD", "OTH")

Log = Callable[[str], None]


@dataclass(frozen=True)
class BenchDatabase:
    url: str  # libpq URL (postgresql://...) of the bench database
    meta: dict[str, Any]

    @property
    def home_la_id(self) -> uuid.UUID:
        return uuid.UUID(self.meta["home_la_id"])

    @property
    def provider_id(self) -> uuid.UUID:
        return uuid.UUID(self.meta["provider_id"])


def with_database(url: str, name: str) -> str:
    """The libpq URL of database `name` on the server of `url` (any driver spelling)."""
    parsed = make_url(url).set(drivername="postgresql", database=name)
    return parsed.render_as_string(hide_password=False)


def server_url(data_dir: Path) -> str:
    """`APHUB_DATABASE_URL`'s server when set, else the embedded one under `data_dir`
    (started by this process and stopped when it exits)."""
    configured = os.environ.get("APHUB_DATABASE_URL")
    if configured:
        return configured
    with warnings.catch_warnings():  # platformdirs, when XDG_RUNTIME_DIR is unset
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        return start_embedded_postgres(data_dir)


# --- identifiers that pass the hub's check-digit rules ----------------------------


def upn(body: str) -> str:
    """A UPN from its 12 characters after the check letter (11 digits + a digit)."""
    total = sum(int(ch) * weight for ch, weight in zip(body, range(2, 14), strict=True))
    return UPN_LETTERS[total % 23] + body


def nhs_number(rng: random.Random) -> str:
    while True:
        digits = f"{rng.randrange(400_000_000, 999_999_999):09d}"
        check = 11 - sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check == 11:
            check = 0
        if check != 10:
            return digits + str(check)


def uln(rng: random.Random) -> str:
    while True:
        digits = f"{rng.randrange(100_000_000, 999_999_999):09d}"
        remainder = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if remainder:
            return digits + str(10 - remainder)


def uuid7_at(at: datetime, rng: random.Random) -> uuid.UUID:
    """A version 7 UUID for the instant `at`, as the hub would have minted it then."""
    millis = int(at.timestamp() * 1000)
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rng.getrandbits(12) << 64
    value |= 0b10 << 62
    value |= rng.getrandbits(62)
    return uuid.UUID(int=value)


def year_group(dob: date, today: date) -> str | None:
    """England: the school year starts on 1 September; Reception is the year a child turns 5."""
    academic_start = today.year if today.month >= 9 else today.year - 1
    # A child born Sept (y-1)..Aug y starts Reception in September y+4.
    born_year = dob.year if dob.month < 9 else dob.year + 1
    year = academic_start - (born_year + 4)
    if year < 0:
        return None
    return "R" if year == 0 else str(year) if year <= 14 else None


# --- the data set -----------------------------------------------------------------


@dataclass
class Area:
    las: list[uuid.UUID]
    la_codes: list[str]
    schools: list[list[uuid.UUID]]  # by LA index
    school_estab: dict[uuid.UUID, str]
    trusts: list[uuid.UUID]
    providers: list[uuid.UUID]
    health: list[uuid.UUID]
    social_care: list[uuid.UUID]


async def _copy(
    conn: asyncpg.Connection,
    table: str,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    log: Log,
) -> None:
    started = time.perf_counter()
    for start in range(0, len(rows), CHUNK):
        await conn.copy_records_to_table(
            table, records=rows[start : start + CHUNK], columns=list(columns)
        )
        if len(rows) > CHUNK:
            done = min(start + CHUNK, len(rows))
            log(f"  {table}: {done:,}/{len(rows):,} rows")
    log(f"  {table}: {len(rows):,} rows loaded in {time.perf_counter() - started:.1f}s")


class Rows:
    """Rows on their way into a table, copied a chunk at a time: memory stays bounded
    whatever the scale (a national data set is a million children)."""

    def __init__(
        self, conn: asyncpg.Connection, table: str, columns: Sequence[str], log: Log
    ) -> None:
        self.conn, self.table, self.columns, self.log = conn, table, list(columns), log
        self.pending: list[tuple[Any, ...]] = []
        self.copied = 0
        self.started = time.perf_counter()

    async def add(self, row: tuple[Any, ...]) -> None:
        self.pending.append(row)
        if len(self.pending) >= CHUNK:
            await self.flush()
            if self.copied % (CHUNK * 8) == 0:
                self.log(f"  {self.table}: {self.copied:,} rows")

    async def flush(self) -> None:
        if self.pending:
            await self.conn.copy_records_to_table(
                self.table, records=self.pending, columns=self.columns
            )
            self.copied += len(self.pending)
            self.pending = []

    async def close(self) -> None:
        await self.flush()
        elapsed = time.perf_counter() - self.started
        self.log(f"  {self.table}: {self.copied:,} rows loaded in {elapsed:.1f}s")


ORG_COLUMNS = (
    "id", "type", "name", "la_code", "urn", "ukprn", "laestab", "local_authority_id",
    "trust_id", "postcode", "contact_email", "active", "version", "created_at", "updated_at",
)  # fmt: skip


async def load_organisations(
    conn: asyncpg.Connection, rng: random.Random, now: datetime, log: Log
) -> Area:
    created = now - timedelta(days=4 * 365)

    def org(kind: str, name: str, **values: Any) -> tuple[Any, ...]:
        row = {
            "id": uuid7_at(created, rng),
            "type": kind,
            "name": name,
            "active": True,
            "version": 1,
            "created_at": created,
            "updated_at": created,
            **values,
        }
        return tuple(row.get(c) for c in ORG_COLUMNS)

    first: list[tuple[Any, ...]] = []
    las, codes = [], []
    for code, name, _share in LOCAL_AUTHORITIES:
        row = org("local_authority", f"London Borough of {name}", la_code=code)
        first.append(row)
        las.append(row[0])
        codes.append(code)
    trusts = []
    for name in ("Northbank Learning Trust", "Riverside Schools Partnership"):
        row = org("trust", name, contact_email="office@example.org")
        first.append(row)
        trusts.append(row[0])
    await _copy(conn, "organisations", ORG_COLUMNS, first, log)

    rest: list[tuple[Any, ...]] = []
    schools: list[list[uuid.UUID]] = []
    school_estab: dict[uuid.UUID, str] = {}
    urn = 900_100
    for i, (la, code) in enumerate(zip(las, codes, strict=True)):
        schools.append([])
        for s in range(SCHOOLS_PER_LA):
            urn += 1
            estab = f"{4000 + s:04d}"
            kind = "Academy" if s % 3 == 0 else "School"
            row = org(
                "school",
                f"{rng.choice(LAST_NAMES)} Park {kind} {i + 1}-{s + 1}",
                urn=str(urn),
                laestab=code + estab,
                local_authority_id=la,
                trust_id=trusts[s % 2] if s % 3 == 0 else None,
                postcode=f"N{i + 1} {s % 9}AA",
            )
            rest.append(row)
            schools[-1].append(row[0])
            school_estab[row[0]] = estab
    providers = []
    for p in range(PROVIDERS):
        name = "Bench Provider (benchmark)" if p == 0 else f"{rng.choice(LAST_NAMES)} AP {p}"
        row = org(
            "provider",
            name,
            ukprn=str(10_090_000 + p),
            local_authority_id=las[0] if p == 0 else las[p % len(las)],
            postcode=f"E{p % 20 + 1} {p % 9}BB",
            contact_email=f"referrals{p}@example.org",
        )
        rest.append(row)
        providers.append(row[0])
    health, social_care = [], []
    for i, la in enumerate(las[:2]):
        row = org("health", f"Bench ICB CAMHS {i + 1}", local_authority_id=la)
        rest.append(row)
        health.append(row[0])
        row = org("social_care", f"Children's Services {i + 1}", local_authority_id=la)
        rest.append(row)
        social_care.append(row[0])
    await _copy(conn, "organisations", ORG_COLUMNS, rest, log)
    return Area(las, codes, schools, school_estab, trusts, providers, health, social_care)


CHILD_COLUMNS = (
    "id", "legal_first_name", "legal_last_name", "preferred_name", "date_of_birth", "sex",
    "year_group", "upn", "former_upns", "uln", "nhs_number", "home_la_id", "sen_provision",
    "primary_need", "has_medical_needs", "looked_after", "looked_after_la_id", "child_in_need",
    "child_protection_plan", "young_carer", "youth_justice", "free_school_meals", "version",
    "created_by_id", "created_at", "updated_at",
)  # fmt: skip


@dataclass
class Children:
    ids: list[uuid.UUID]
    la: list[int]  # LA index
    school: list[uuid.UUID | None]  # current school


# The tables the scenarios write into, empty after the load.
FILLED_BY_SCENARIOS = frozenset(
    {"access_log", "events", "event_outbox", "idempotency_keys", "placement_reviews"}
)


async def settle(conn: asyncpg.Connection) -> None:
    """Vacuum and analyze, and checkpoint, all but the tables the scenarios fill: those
    stay unanalyzed, as on a freshly migrated hub. Analyzed while empty, they would be
    planned as empty, and a statement prepared then (the Idempotency-Key claim) would keep
    scanning the whole table as the scenario filled it, until autovacuum next analyzed it."""
    tables = [
        r["relname"]
        for r in await conn.fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 1"
        )
    ]
    settled = [f'"{t}"' for t in tables if t not in FILLED_BY_SCENARIOS]
    await conn.execute(f"VACUUM (ANALYZE) {', '.join(settled)}")
    await conn.execute("CHECKPOINT")


async def load_children(
    conn: asyncpg.Connection, area: Area, count: int, rng: random.Random, now: datetime, log: Log
) -> Children:
    today = now.date()
    weights = [share for _c, _n, share in LOCAL_AUTHORITIES]
    span = timedelta(days=3 * 365)
    serials: dict[tuple[uuid.UUID, int], int] = {}
    rows = Rows(conn, "children", CHILD_COLUMNS, log)
    out = Children([], [], [])
    started = time.perf_counter()
    for i in range(count):
        created = now - span + span * (i / count)
        child_id = uuid7_at(created, rng)
        la = rng.choices(range(len(area.las)), weights)[0]
        dob = today - timedelta(days=rng.randrange(5 * 365, 17 * 365))
        school = rng.choice(area.schools[la]) if rng.random() < 0.92 else None
        upn_value = None
        if school is not None:
            entry_year = (dob.year + 5) % 100
            key = (school, entry_year)
            serials[key] = serial = serials.get(key, 0) + 1
            if serial < 1000:
                estab = area.school_estab[school]
                upn_value = upn(f"{area.la_codes[la]}{estab}{entry_year:02d}{serial:03d}")
        sen = rng.random()
        sen_provision = "ehcp" if sen < 0.05 else "sen_support" if sen < 0.2 else "none"
        looked_after = rng.random() < 0.03
        await rows.add(
            (
                child_id,
                rng.choice(FIRST_NAMES),
                rng.choice(LAST_NAMES),
                rng.choice(FIRST_NAMES) if rng.random() < 0.1 else None,
                dob,
                rng.choice(("female", "male")),
                year_group(dob, today),
                upn_value,
                [],
                uln(rng) if dob < today - timedelta(days=14 * 365) else None,
                nhs_number(rng),
                area.las[la],
                sen_provision,
                rng.choice(PRIMARY_NEEDS) if sen_provision != "none" else None,
                rng.random() < 0.1,
                looked_after,
                area.las[la] if looked_after else None,
                rng.random() < 0.05,
                rng.random() < 0.02,
                rng.random() < 0.02,
                rng.random() < 0.02,
                rng.random() < 0.25,
                1,
                area.las[la],
                created,
                created,
            )
        )
        out.ids.append(child_id)
        out.la.append(la)
        out.school.append(school)
    await rows.close()
    log(f"  children: {count:,} in {time.perf_counter() - started:.1f}s")
    return out


async def load_enrolments(
    conn: asyncpg.Connection,
    area: Area,
    children: Children,
    rng: random.Random,
    now: datetime,
    log: Log,
) -> None:
    today = now.date()
    september = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    columns = ("id", "child_id", "school_id", "status", "start_date", "end_date", "created_at")
    rows = Rows(conn, "enrolments", columns, log)
    for child_id, la, school in zip(children.ids, children.la, children.school, strict=True):
        if school is not None:
            start = september - timedelta(days=365 * rng.randrange(0, 4))
            await rows.add((uuid7_at(now, rng), child_id, school, "C", start, None, now))
        if school is None or rng.random() < 0.15:
            earlier = rng.choice([s for s in area.schools[la] if s != school])
            start = september - timedelta(days=365 * rng.randrange(4, 7))
            end = today - timedelta(days=rng.randrange(30, 900))
            await rows.add((uuid7_at(now, rng), child_id, earlier, "C", start, end, now))
    await rows.close()


PLACEMENT_COLUMNS = (
    "id", "child_id", "commissioner_id", "provider_id", "home_school_id",
    "delivery_location_ids", "status", "legal_basis", "primary_reason", "dual_registered",
    "start_date", "planned_end_date", "actual_end_date", "hours_per_week", "pattern",
    "part_time_justification", "review_frequency_weeks", "next_review_date", "end_reason",
    "destination", "version", "created_at", "updated_at",
)  # fmt: skip


async def load_placements(
    conn: asyncpg.Connection,
    area: Area,
    children: Children,
    count: int,
    rng: random.Random,
    now: datetime,
    log: Log,
) -> int:
    """`count` placements; returns how many are with the bench provider."""
    today = now.date()
    others = area.providers[1:]
    statuses = [s for s, _w in PLACEMENT_STATUSES]
    status_weights = [w for _s, w in PLACEMENT_STATUSES]
    days = ("monday", "tuesday", "wednesday", "thursday")
    pattern = json.dumps({"days": [{"day": d, "sessions": ["am", "pm"]} for d in days]})
    staged: list[tuple[datetime, tuple[Any, ...]]] = []
    rows = Rows(conn, "placements", PLACEMENT_COLUMNS, log)
    bench_count = 0
    for i in range(count):
        c = rng.randrange(len(children.ids))
        if rng.random() < BENCH_PROVIDER_SHARE:
            provider = area.providers[0]
            bench_count += 1
        else:
            provider = rng.choice(others)
        school = children.school[c]
        commissioner = school if school is not None and rng.random() < 0.7 else None
        commissioner = commissioner or area.las[children.la[c]]
        status = rng.choices(statuses, status_weights)[0]
        actual_end = end_reason = destination = None
        if status in ("requested", "offered"):
            start = today + timedelta(days=rng.randrange(3, 60))
            created = now - timedelta(days=rng.randrange(1, 30))
        elif status == "active":
            start = today - timedelta(days=rng.randrange(0, 300))
            created = datetime.combine(start, datetime.min.time(), UTC) - timedelta(days=14)
        else:
            start = today - timedelta(days=rng.randrange(40, 1000))
            created = datetime.combine(start, datetime.min.time(), UTC) - timedelta(days=14)
            if status == "ended":
                actual_end = min(today, start + timedelta(days=rng.randrange(20, 240)))
                end_reason = rng.choice(END_REASONS)
                destination = rng.choice(DESTINATIONS)
        planned_end = start + timedelta(weeks=rng.randrange(6, 40))
        hours = Decimal(rng.choice(("15.0", "20.0", "25.0", "12.5")))
        staged.append(
            (
                created,
                (
                    uuid7_at(created, rng),
                    children.ids[c],
                    commissioner,
                    provider,
                    school,
                    [],
                    status,
                    rng.choice(LEGAL_BASES),
                    rng.choice(REASONS),
                    school is not None and rng.random() < 0.6,
                    start,
                    planned_end,
                    actual_end,
                    hours,
                    pattern,
                    "Phased return agreed at review" if hours < 25 else None,
                    6,
                    start + timedelta(weeks=6) if status == "active" else None,
                    end_reason,
                    destination,
                    1,
                    created,
                    now if status == "ended" else created,
                ),
            )
        )
        if len(staged) == CHUNK * 4 or i == count - 1:
            # inserted in creation (= id) order, as in life, a chunk at a time
            staged.sort(key=lambda item: item[0])
            for _created, row in staged:
                await rows.add(row)
            staged = []
    await rows.close()
    return bench_count


async def load_passports(
    conn: asyncpg.Connection,
    area: Area,
    children: Children,
    rng: random.Random,
    now: datetime,
    log: Log,
) -> None:
    columns = ("child_id", "section", "version", "content", "updated_at", "updated_by_id")
    rows = Rows(conn, "passport_sections", columns, log)
    columns = (
        "id", "child_id", "organisation_id", "basis", "consent_reference", "start_date",
        "end_date", "categories", "recorded_by_id", "version", "created_at",
    )  # fmt: skip
    involvements = Rows(conn, "involvements", columns, log)
    today = now.date()
    for child_id, la in zip(children.ids, children.la, strict=True):
        author = area.las[la]
        if rng.random() < 0.33:
            about = {
                "summary": "Enjoys practical tasks; finds large groups hard.",
                "what_works_for_me": "A calm start, clear routines, a named adult.",
                "interests": rng.choice(("football", "drawing", "music", "animals", "cooking")),
            }
            needs = {
                "summary_of_needs": "Social, emotional and mental health needs.",
                "strategies": ["movement breaks", "visual timetable", "pre-warning of change"],
            }
            await rows.add((child_id, "about_me", 1, json.dumps(about), now, author))
            await rows.add((child_id, "needs_and_strategies", 1, json.dumps(needs), now, author))
            if rng.random() < 0.3:
                health = {"medical_needs": "Asthma: inhaler in bag.", "medication": ["salbutamol"]}
                await rows.add((child_id, "health", 1, json.dumps(health), now, author))
            if rng.random() < 0.3:
                contacts = {
                    "parents_carers": [
                        {
                            "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                            "relationship": rng.choice(("mother", "father", "carer")),
                            "phone": f"07700 900{rng.randrange(1000):03d}",
                            "parental_responsibility": True,
                        }
                    ]
                }
                await rows.add((child_id, "contacts", 1, json.dumps(contacts), now, author))
        if la < 2 and rng.random() < 0.05:
            health_body = rng.random() < 0.5
            await involvements.add(
                (
                    uuid7_at(now, rng),
                    child_id,
                    area.health[la] if health_body else area.social_care[la],
                    "consent" if health_body else "looked_after_child",
                    "CONSENT-2026-001" if health_body else None,
                    today - timedelta(days=rng.randrange(10, 700)),
                    None,
                    ["identity", "health", "needs"]
                    if health_body
                    else ["identity", "social_care", "safeguarding"],
                    author,
                    1,
                    now,
                )
            )
    await rows.close()
    await involvements.close()


META_DDL = (
    "CREATE SCHEMA IF NOT EXISTS bench; "
    "CREATE TABLE IF NOT EXISTS bench.meta (key text PRIMARY KEY, value jsonb NOT NULL)"
)


def bench_client_id(organisation_id: uuid.UUID) -> str:
    """The client the bench issues an organisation's tokens to."""
    return f"bench-{organisation_id.hex}"


async def register_bench_clients(conn: asyncpg.Connection) -> None:
    """A client record for every organisation, approved, holding its type's default
    scopes: the hub checks every token against its client's record."""
    await conn.executemany(
        "INSERT INTO api_clients (id, client_id, secret_hash, organisation_id, name, scopes, "
        "approved_at) SELECT gen_random_uuid(), 'bench-' || replace(o.id::text, '-', ''), "
        "'-', o.id, 'bench', $2::varchar[], now() FROM organisations o WHERE o.type = $1 "
        "ON CONFLICT (client_id) DO NOTHING",
        [(kind, list(scopes)) for kind, scopes in DEFAULT_SCOPES.items()],
    )


async def mark_written(conn: asyncpg.Connection, scenario: str) -> None:
    """Record that a scenario changed the generated rows (the next run regenerates)."""
    await conn.execute(
        "INSERT INTO bench.meta (key, value) VALUES ('written_to', to_jsonb($1::text)) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        scenario,
    )


async def read_meta(url: str) -> dict[str, Any] | None:
    conn = await asyncpg.connect(url)
    try:
        if not await conn.fetchval("SELECT to_regclass('bench.meta') IS NOT NULL"):
            return None
        rows = await conn.fetch("SELECT key, value FROM bench.meta")
        return {r["key"]: json.loads(r["value"]) for r in rows} or None
    finally:
        await conn.close()


async def generate(
    url: str, children: int, seed: int, log: Log, *, history: bool = False
) -> dict[str, Any]:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        log("loading organisations")
        area = await load_organisations(conn, rng, now, log)
        log(f"loading {children:,} children")
        kids = await load_children(conn, area, children, rng, now, log)
        log("loading enrolments")
        await load_enrolments(conn, area, kids, rng, now, log)
        log(f"loading {children:,} placements")
        bench_placements = await load_placements(conn, area, kids, children, rng, now, log)
        log("loading passport sections and involvements")
        await load_passports(conn, area, kids, rng, now, log)
        extra: dict[str, Any] = {}
        if history:
            from bench import national  # builds on this module

            log(f"sealing ~{children * 10:,} events")
            extra["events"] = await national.load_events(url, conn, children * 10, log)
            log("loading attendance marks")
            extra["attendance_marks"] = await national.load_marks(conn, log)
        log("VACUUM (ANALYZE) and CHECKPOINT")
        await settle(conn)
        meta = {
            "generator": GENERATOR_VERSION,
            "children": children,
            "seed": seed,
            "generated_at": now.isoformat(),
            "home_la_id": str(area.las[0]),
            "home_la_children": kids.la.count(0),
            "provider_id": str(area.providers[0]),
            "provider_placements": bench_placements,
            "history": history,
            **extra,
        }
        await conn.execute(META_DDL)
        await conn.executemany(
            "INSERT INTO bench.meta (key, value) VALUES ($1, $2::jsonb)",
            [(k, json.dumps(v)) for k, v in meta.items()],
        )
        log(f"generated in {time.perf_counter() - started:.1f}s")
        return meta
    finally:
        await conn.close()


async def ensure(
    *,
    children: int = DEFAULT_CHILDREN,
    data_dir: Path = DEFAULT_DATA_DIR,
    database: str = DEFAULT_DATABASE,
    seed: int = DEFAULT_SEED,
    force: bool = False,
    history: bool = False,
    log: Log = print,
) -> BenchDatabase:
    """The bench database at this size, generated if it is missing or different."""
    server = server_url(data_dir)
    url = with_database(server, database)
    admin = await asyncpg.connect(with_database(server, "postgres"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        meta = await read_meta(url) if exists else None
        same = (
            meta is not None
            and meta.get("generator") == GENERATOR_VERSION
            and meta.get("children") == children
            and meta.get("seed") == seed
            and bool(meta.get("history")) == history
            # a scenario that writes (placement_review) leaves rows that later reads would
            # measure: the next run starts from freshly generated data
            and not meta.get("written_to")
        )
        if same and not force:
            assert meta is not None
            log(
                f"bench database {database}: {children:,} children already generated "
                f"on {meta['generated_at'][:10]}; kept (--force to regenerate)"
            )
            await migrate(async_url(url))
            return BenchDatabase(url, meta)
        if exists:
            why = (
                "forced"
                if force
                else "written to by a scenario"
                if meta and meta.get("written_to")
                else "made at another size, seed or generator version"
            )
            log(f"dropping database {database} ({why})")
            await admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        log(f"creating database {database}")
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    log("migrating to head")
    await migrate(async_url(url))
    meta = await generate(url, children, seed, log, history=history)
    return BenchDatabase(url, meta)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=None)
    parser.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default=None,
        help="a named data set: 100k, or national10 (1,000,000 children and placements, "
        "~10,000,000 sealed events, ~20,000,000 attendance marks, in its own database)",
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--database", default=None)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--force", action="store_true", help="regenerate even if present")
    args = parser.parse_args(argv)
    children, history = SCALES[args.scale] if args.scale else (DEFAULT_CHILDREN, False)
    database = NATIONAL_DATABASE if history else DEFAULT_DATABASE
    started = time.perf_counter()
    bench = asyncio.run(
        ensure(
            children=args.children or children,
            data_dir=args.data_dir,
            database=args.database or database,
            seed=args.seed,
            force=args.force,
            history=history,
            log=lambda message: print(message, flush=True),
        )
    )
    print(json.dumps(bench.meta, indent=2))
    print(f"ready in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
