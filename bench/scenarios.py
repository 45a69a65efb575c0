"""The scenarios the runner times: each pairs a hub endpoint with the reference's
equivalent, over the same rows.

A scenario is data: a name, what it measures, and two coroutines. `prepare` chooses the
requests (paths and headers for the hub and for the reference, the same rows in the
same order); `check` proves once, before any timing, that both answer correctly (it
raises `CheckFailed` otherwise). The runner does the rest: the audit-row check, warm-up,
alternating timed rounds, medians and the ratio against `target`.

To add one (placements, attendance...): write its `prepare` and `check`, give the
reference app the equivalent route (bench/reference.py), and append a `Scenario` to
`SCENARIOS`. Data it needs that the generator does not make yet goes in
bench/generate.py (bump `GENERATOR_VERSION` so existing bench databases regenerate).
"""

from __future__ import annotations

import random
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from aphub.auth.scopes import DEFAULT_SCOPES
from aphub.auth.tokens import TokenService
from aphub.config import Settings
from aphub.db import Database, async_url
from aphub.events.verify import verify_chain
from aphub.pagination import encode_cursor
from bench.generate import BenchDatabase, bench_client_id, mark_written

SAMPLE_SEED = 7


class CheckFailed(Exception):
    """The hub or the reference answered wrongly: figures would mean nothing."""


@dataclass(frozen=True)
class Target:
    """What the load generator sends to one server: paths (with query strings), taken in
    turn from a random starting point, and fixed headers; for a write, the method, the
    JSON body every request carries, and a header given a fresh value per request."""

    paths: list[str]
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    body: str = ""
    unique_header: str = ""


@dataclass(frozen=True)
class Prepared:
    hub: Target
    reference: Target
    # children each hub request must audit (None: the endpoint is not audited)
    audit_rows_per_request: int | None
    notes: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # what `after` compares against


@dataclass
class Context:
    """What a scenario may use: the bench database, clients for both servers, tokens."""

    bench: BenchDatabase
    db: asyncpg.Connection
    hub: httpx.AsyncClient
    reference: httpx.AsyncClient
    tokens: TokenService
    _minted: dict[tuple[uuid.UUID, str], str] = field(default_factory=dict)

    def bearer(self, organisation_id: uuid.UUID, organisation_type: str) -> dict[str, str]:
        """`Authorization` for a client of this organisation with its type's default
        scopes, signed with the hub's key (the hub verifies it like any other)."""
        key = (organisation_id, organisation_type)
        if key not in self._minted:
            token, _ttl = self.tokens.issue(
                client_id=bench_client_id(organisation_id),
                organisation_id=organisation_id,
                organisation_type=organisation_type,
                scopes=list(DEFAULT_SCOPES[organisation_type]),
            )
            self._minted[key] = token
        return {"Authorization": f"Bearer {self._minted[key]}"}


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    prepare: Callable[[Context], Awaitable[Prepared]]
    check: Callable[[Context, Prepared], Awaitable[list[str]]]
    # hub req/s at least this fraction of the reference's; None: measured for the record
    target: float | None = 0.5
    # run after the timed rounds: prove what they wrote is whole (raise CheckFailed if not)
    after: Callable[[Context, Prepared], Awaitable[list[str]]] | None = None


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def body(response: httpx.Response, what: str) -> Any:
    expect(
        response.status_code == 200,
        f"{what}: {response.status_code} {response.text[:300]}",
    )
    return response.json()


# --- child_by_id --------------------------------------------------------------------


async def child_by_id_prepare(ctx: Context) -> Prepared:
    rows = await ctx.db.fetch(
        "SELECT DISTINCT child_id FROM placements WHERE provider_id = $1 AND status = 'active'",
        ctx.bench.provider_id,
    )
    ids = sorted(str(r["child_id"]) for r in rows)
    random.Random(SAMPLE_SEED).shuffle(ids)
    return Prepared(
        hub=Target(
            [f"/v1/children/{i}" for i in ids], ctx.bearer(ctx.bench.provider_id, "provider")
        ),
        reference=Target([f"/children/{i}" for i in ids]),
        audit_rows_per_request=1,
        notes=[f"{len(ids):,} children with an active placement at the bench provider"],
    )


async def child_by_id_check(ctx: Context, prepared: Prepared) -> list[str]:
    path = prepared.hub.paths[0]
    child = body(await ctx.hub.get(path, headers=prepared.hub.headers), f"hub GET {path}")
    ref = body(await ctx.reference.get(prepared.reference.paths[0]), "reference GET")
    expect(child["id"] == ref["id"], f"hub and reference read different rows: {path}")
    expect(
        child.get("legal_last_name") == ref["legal_last_name"],
        "hub and reference disagree on the child's name",
    )
    expect(
        "provider_placement" in child["access"]["rules"],
        f"hub did not grant by provider_placement: {child['access']}",
    )
    # redaction: a provider sees `looked_after` but none of the other social-care fields
    expect(
        "child_in_need" not in child and "looked_after" in child,
        "provider view is not redacted as the policy says",
    )
    hidden = await ctx.db.fetchval(
        "SELECT c.id FROM children c WHERE NOT EXISTS (SELECT 1 FROM placements p "
        "WHERE p.child_id = c.id AND p.provider_id = $1) LIMIT 1",
        ctx.bench.provider_id,
    )
    denied = await ctx.hub.get(f"/v1/children/{hidden}", headers=prepared.hub.headers)
    expect(denied.status_code == 404, f"hub showed a child the provider may not see: {hidden}")
    return [
        f"hub GET {path} as the bench provider: 200, rules {child['access']['rules']}, "
        f"categories {', '.join(child['access']['categories'])}",
        "reference returns the same row; a child without a placement there: hub 404",
    ]


# --- children_list ------------------------------------------------------------------

LIST_POSITIONS = 200
PAGE = 50


async def children_list_prepare(ctx: Context) -> Prepared:
    """Pages at positions spread over the home LA's children: the first page and pages
    after each of `LIST_POSITIONS` ids, as a client walking with `next_cursor` would ask
    for them (the cursors are the hub's own encoding, checked against its answers)."""
    la = ctx.bench.home_la_id
    ids = [
        r["id"]
        for r in await ctx.db.fetch("SELECT id FROM children WHERE home_la_id = $1 ORDER BY id", la)
    ]
    step = max(1, len(ids) // LIST_POSITIONS)
    positions: list[uuid.UUID | None] = [None, *ids[step:-PAGE:step]]
    random.Random(SAMPLE_SEED).shuffle(positions)
    hub_paths, ref_paths = [], []
    for after in positions:
        if after is None:
            hub_paths.append(f"/v1/children?limit={PAGE}")
            ref_paths.append(f"/children?la={la}")
        else:
            hub_paths.append(f"/v1/children?limit={PAGE}&cursor={encode_cursor([str(after)])}")
            ref_paths.append(f"/children?la={la}&after={after}")
    return Prepared(
        hub=Target(hub_paths, ctx.bearer(la, "local_authority")),
        reference=Target(ref_paths),
        audit_rows_per_request=PAGE,
        notes=[f"{len(positions)} page positions over the LA's {len(ids):,} resident children"],
    )


async def children_list_check(ctx: Context, prepared: Prepared) -> list[str]:
    headers = prepared.hub.headers
    # Walk a few pages from the start: the cursors the hub hands out are the ones the
    # runner builds, so the timed positions are pages a real client would reach.
    path, walked, overlap, seen = f"/v1/children?limit={PAGE}", 0, 0, 0
    ref_path = prepared.reference.paths[prepared.hub.paths.index(path)]
    for _ in range(3):
        page = body(await ctx.hub.get(path, headers=headers), f"hub GET {path}")
        ref = body(await ctx.reference.get(ref_path), f"reference GET {ref_path}")
        items = page["items"]
        expect(len(items) == PAGE, f"hub page of {len(items)} children, not {PAGE}")
        expect(len(ref["items"]) == PAGE, "reference page is short")
        ids = [c["id"] for c in items]
        expect(ids == sorted(ids), "hub page is not in id order")
        expect(
            page["next_cursor"] == encode_cursor([ids[-1]]),
            "the hub's cursors are not the ones the runner builds",
        )
        expect(all("legal_last_name" in c for c in items), "home LA does not see names")
        # The hub's list also holds children the LA hosts (la_host): the reference's
        # home-LA page is the equivalent query, not necessarily the same 50 rows.
        overlap += len(set(ids) & {c["id"] for c in ref["items"]})
        seen += PAGE
        walked += 1
        path = f"/v1/children?limit={PAGE}&cursor={page['next_cursor']}"
        ref_path = f"/children?la={ctx.bench.home_la_id}&after={ids[-1]}"
    return [
        f"hub walked {walked} pages of {PAGE} as the home LA via next_cursor (200, id order)",
        f"{overlap}/{seen} of those children are on the reference's pages "
        "(the rest: children the LA hosts, which the hub adds)",
    ]


async def list_passports_prepare(ctx: Context) -> Prepared:
    """`children_list`'s pages, asking for the passports too."""
    prepared = await children_list_prepare(ctx)
    prepared.hub.paths[:] = [f"{p}&include=passport" for p in prepared.hub.paths]
    return prepared


async def list_passports_check(ctx: Context, prepared: Prepared) -> list[str]:
    path = f"/v1/children?limit={PAGE}&include=passport"
    items = body(await ctx.hub.get(path, headers=prepared.hub.headers), f"hub GET {path}")
    expect(all("passport" in c for c in items["items"]), "the home LA's page has no passports")
    return [f"hub page of {len(items['items'])} children, each with its passport"]


# --- placements ----------------------------------------------------------------------


async def _provider_placements(ctx: Context) -> list[str]:
    rows = await ctx.db.fetch(
        "SELECT id FROM placements WHERE provider_id = $1 AND status IN "
        "('requested', 'offered', 'active') ORDER BY id",
        ctx.bench.provider_id,
    )
    return [str(r["id"]) for r in rows]


async def placement_by_id_prepare(ctx: Context) -> Prepared:
    ids = await _provider_placements(ctx)
    random.Random(SAMPLE_SEED).shuffle(ids)
    return Prepared(
        hub=Target(
            [f"/v1/placements/{i}" for i in ids], ctx.bearer(ctx.bench.provider_id, "provider")
        ),
        reference=Target([f"/placements/{i}" for i in ids]),
        audit_rows_per_request=None,
        notes=[f"{len(ids):,} live placements at the bench provider"],
    )


async def placement_by_id_check(ctx: Context, prepared: Prepared) -> list[str]:
    path = prepared.hub.paths[0]
    hub = body(await ctx.hub.get(path, headers=prepared.hub.headers), f"hub GET {path}")
    ref = body(await ctx.reference.get(prepared.reference.paths[0]), "reference GET")
    expect(hub["id"] == ref["id"], "hub and reference read different placements")
    expect(hub["status"] == ref["status"], "hub and reference disagree on the status")
    other = await ctx.db.fetchval(
        "SELECT id FROM placements WHERE provider_id <> $1 LIMIT 1", ctx.bench.provider_id
    )
    denied = await ctx.hub.get(f"/v1/placements/{other}", headers=prepared.hub.headers)
    expect(denied.status_code == 404, "hub showed another provider's placement")
    return [f"hub GET {path} as the bench provider: 200; another provider's placement: 404"]


async def placements_list_prepare(ctx: Context) -> Prepared:
    ids = await _provider_placements(ctx)
    starts = [ids[i] for i in range(0, max(len(ids) - PAGE, 1), max(len(ids) // 200, 1))]
    hub_paths = ["/v1/placements?limit=50"] + [
        f"/v1/placements?limit=50&cursor={encode_cursor([i])}" for i in starts
    ]
    provider = ctx.bench.provider_id
    ref_paths = [f"/placements?provider={provider}"] + [
        f"/placements?provider={provider}&after={i}" for i in starts
    ]
    return Prepared(
        hub=Target(hub_paths, ctx.bearer(provider, "provider")),
        reference=Target(ref_paths),
        audit_rows_per_request=None,
        notes=[f"{len(hub_paths)} page positions over {len(ids):,} live placements"],
    )


async def placements_list_check(ctx: Context, prepared: Prepared) -> list[str]:
    hub = body(await ctx.hub.get(prepared.hub.paths[1], headers=prepared.hub.headers), "hub page")
    ref = body(await ctx.reference.get(prepared.reference.paths[1]), "reference page")
    expect(len(hub["items"]) == PAGE, f"hub page has {len(hub['items'])} items")
    expect(
        hub["items"][0]["id"] == ref["items"][0]["id"],
        "hub and reference pages start at different placements",
    )
    return ["hub and reference pages of 50 start at the same placement"]


# --- placement_review ---------------------------------------------------------------


REVIEW = {
    "held_on": date.today().isoformat(),
    "attendees": ["provider", "child"],
    "decision": "continue",
    "next_review_date": (date.today() + timedelta(weeks=6)).isoformat(),
}
BARE_TABLES = (
    "DROP TABLE IF EXISTS bench_bare_placements, bench_bare_events; "
    "DROP SEQUENCE IF EXISTS bench_bare_seq; "
    "CREATE TABLE bench_bare_placements (LIKE placements INCLUDING ALL); "
    "INSERT INTO bench_bare_placements SELECT * FROM placements WHERE provider_id = $1 "
    "AND status = 'active'; "
    "CREATE TABLE bench_bare_events (LIKE events INCLUDING ALL); "
    "CREATE SEQUENCE bench_bare_seq"
)


async def placement_review_prepare(ctx: Context) -> Prepared:
    rows = await ctx.db.fetch(
        "SELECT id FROM placements WHERE provider_id = $1 AND status = 'active' ORDER BY id",
        ctx.bench.provider_id,
    )
    ids = [str(r["id"]) for r in rows]
    random.Random(SAMPLE_SEED).shuffle(ids)
    await mark_written(ctx.db, "placement_review")  # reviews change the placements read
    # bare copies for the reference, so the hub's placements and chain stay the hub's
    await ctx.db.execute(BARE_TABLES.replace("$1", f"'{ctx.bench.provider_id}'"))
    await ctx.db.execute("ANALYZE bench_bare_placements")
    start = await ctx.db.fetchrow(
        "SELECT (SELECT coalesce(max(seq), 0) FROM events) AS seq, "
        "(SELECT count(*) FROM placement_reviews) AS reviews"
    )
    review = orjson.dumps(REVIEW).decode()
    return Prepared(
        hub=Target(
            [f"/v1/placements/{i}/reviews" for i in ids],
            ctx.bearer(ctx.bench.provider_id, "provider"),
            method="POST",
            body=review,
            unique_header="Idempotency-Key",
        ),
        reference=Target([f"/placements/{i}/transition" for i in ids], method="POST", body=review),
        audit_rows_per_request=None,
        notes=[f"{len(ids):,} active placements at the bench provider, a review each in turn"],
        state={"seq": int(start["seq"]), "reviews": int(start["reviews"])},
    )


async def placement_review_check(ctx: Context, prepared: Prepared) -> list[str]:
    path = prepared.hub.paths[0]
    headers = {
        **prepared.hub.headers,
        "Idempotency-Key": uuid.uuid4().hex,
        "Content-Type": "application/json",
    }
    hub = await ctx.hub.post(path, content=prepared.hub.body, headers=headers)
    expect(hub.status_code == 201, f"hub POST {path}: {hub.status_code} {hub.text[:300]}")
    again = await ctx.hub.post(path, content=prepared.hub.body, headers=headers)
    expect(
        again.status_code == 201 and again.json() == hub.json(),
        "the hub did not replay a repeated Idempotency-Key",
    )
    ref = await ctx.reference.post(
        prepared.reference.paths[0],
        content=prepared.reference.body,
        headers={"Content-Type": "application/json"},
    )
    expect(ref.status_code == 201, f"reference transition: {ref.status_code} {ref.text[:300]}")
    event = await ctx.db.fetchrow(
        "SELECT type, subject_version FROM events WHERE subject_id = $1 ORDER BY seq DESC LIMIT 1",
        uuid.UUID(path.split("/")[3]),
    )
    expect(event is not None and event["type"] == "placement.reviewed", "no event sealed")
    return [
        f"hub POST {path}: 201, event placement.reviewed sealed (version "
        f"{event['subject_version']}); the same Idempotency-Key replays the response",
        "reference: UPDATE + INSERT committed (201)",
    ]


async def placement_review_after(ctx: Context, prepared: Prepared) -> list[str]:
    """Every review the hub wrote has its event in the chain, and the chain verifies."""
    start = prepared.state
    reviews = await ctx.db.fetchval("SELECT count(*) FROM placement_reviews") - start["reviews"]
    events = await ctx.db.fetchval(
        "SELECT count(*) FROM events WHERE seq > $1 AND type = 'placement.reviewed'",
        start["seq"],
    )
    unsealed = await ctx.db.fetchval("SELECT count(*) FROM event_outbox")
    expect(
        reviews == events and unsealed == 0,
        f"{reviews:,} reviews written, {events:,} events sealed, {unsealed} left unsealed",
    )
    settings = Settings(database_url=ctx.bench.url, data_dir=Path(tempfile.mkdtemp()))
    database = Database(async_url(ctx.bench.url), settings)
    try:
        verification = await verify_chain(database, after=start["seq"])
    finally:
        await database.dispose()
    expect(verification.ok, f"chain broken: {verification}")
    return [
        f"{reviews:,} reviews written, {events:,} events sealed: none lost; the chain "
        f"verifies over the {verification.checked:,} events appended"
    ]


SCENARIOS: list[Scenario] = [
    Scenario(
        "child_by_id",
        "GET /v1/children/{id} as a provider (token, relationship check, category "
        "redaction, access-audit row) vs the reference selecting the row by id",
        child_by_id_prepare,
        child_by_id_check,
        target=0.65,
    ),
    Scenario(
        "children_list",
        "GET /v1/children?limit=50 as the home LA, at cursors spread over its children "
        "(50 audited reads a page, one access_log row per decision) vs the reference's "
        "page of 50 by (home_la_id, id)",
        children_list_prepare,
        children_list_check,
        target=0.6,
    ),
    Scenario(
        "list_passports",
        "children_list with include=passport: each child's passport in the page (for the "
        "record: the issue's target is for the list itself)",
        list_passports_prepare,
        list_passports_check,
        target=None,
    ),
    Scenario(
        "placement_by_id",
        "GET /v1/placements/{id} as its provider (token, visibility by placement state, "
        "JSON built in PostgreSQL) vs the reference selecting the row by id",
        placement_by_id_prepare,
        placement_by_id_check,
        target=0.9,
    ),
    Scenario(
        "placements_list",
        "GET /v1/placements?limit=50 as the provider at cursors spread over its live "
        "placements vs the reference's page of 50 by (provider_id, id)",
        placements_list_prepare,
        placements_list_check,
        target=0.65,
    ),
    Scenario(
        "placement_review",
        "POST /v1/placements/{id}/reviews as the provider (token, Idempotency-Key claim, "
        "row lock and guards, review row, version bump, event sealed into the hash chain) "
        "vs the reference's transaction: a conditional UPDATE plus an event INSERT",
        placement_review_prepare,
        placement_review_check,
        target=0.45,
        after=placement_review_after,
    ),
]
