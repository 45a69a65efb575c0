"""The bare reference: Starlette + an asyncpg pool, nothing else.

    uvicorn bench.reference:create_app --factory   (BENCH_DATABASE_URL=postgresql://...)

It answers the same reads as the hub from the same database, without authentication,
relationship checks, redaction or audit, so that `hub req/s / reference req/s` is the
price of everything the hub adds. Same JSON library as the hub (orjson), same pool size.

Routes (one per scenario; a later scenario adds its route here):
- `GET /children/{id}`: the child's row (the `children` columns) as JSON;
- `GET /children?la=...&after=...`: the next 50 children of a home LA in id order, with
  the id to continue after, served by the index `(home_la_id, id)`;
- `GET /placements/{id}`, `GET /placements?provider=...&after=...`: the same for placements;
- `POST /placements/{id}/transition`: in one transaction, a conditional UPDATE of the
  placement's version plus an INSERT of an event row, on bare copies of the tables
  (`bench_bare_placements`, `bench_bare_events`, made by the scenario), so the hub's
  own placements and event chain are left to the hub.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# The columns of `children` the hub reads for a provider (sharing.statements.CHILD_COLUMNS).
CHILD_COLUMNS = (
    "id, version, home_la_id, updated_at, created_at, legal_first_name, legal_last_name, "
    "preferred_name, date_of_birth, sex, year_group, upn, former_upns, uln, nhs_number, "
    "sen_provision, primary_need, has_medical_needs, looked_after, looked_after_la_id, "
    "child_in_need, child_protection_plan, young_carer, youth_justice, free_school_meals"
)
CHILD_BY_ID = f"SELECT {CHILD_COLUMNS} FROM children WHERE id = $1"
CHILDREN_OF_LA = (
    f"SELECT {CHILD_COLUMNS} FROM children WHERE home_la_id = $1 AND id > $2 ORDER BY id LIMIT $3"
)
PLACEMENT_COLUMNS = (
    "id, version, status, child_id, commissioner_id, provider_id, home_school_id, offer_id, "
    "delivery_location_ids, legal_basis, primary_reason, dual_registered, start_date, "
    "planned_end_date, actual_end_date, hours_per_week, pattern, part_time_justification, "
    "exit_strategy, review_frequency_weeks, next_review_date, funding, transport, "
    "safeguarding_confirmed_on, ehcp_caseworker_notified_on, virtual_school_head_notified_on, "
    "end_reason, destination, closing_note, created_at, updated_at"
)
PLACEMENT_BY_ID = f"SELECT {PLACEMENT_COLUMNS} FROM placements WHERE id = $1"
PLACEMENTS_OF_PROVIDER = (
    f"SELECT {PLACEMENT_COLUMNS} FROM placements WHERE provider_id = $1 AND id > $2 "
    "ORDER BY id LIMIT $3"
)
BARE_TRANSITION = (
    "UPDATE bench_bare_placements SET version = version + 1 "
    "WHERE id = $1 AND status = 'active' RETURNING version, child_id"
)
BARE_EVENT = (
    "INSERT INTO bench_bare_events (id, seq, type, occurred_at, subject_type, subject_id, "
    "subject_version, child_id, data, prev_hash, hash) VALUES (gen_random_uuid(), "
    "nextval('bench_bare_seq'), 'placement.reviewed', now(), 'placement', $1, $2, $3, "
    "$4::jsonb, '', '')"
)
NIL = uuid.UUID(int=0)
PAGE = 50


def json_response(body: Any, status: int = 200) -> Response:
    # asyncpg's UUIDs are its own type, which orjson hands to `default`; dates and
    # datetimes orjson writes itself.
    return Response(
        orjson.dumps(body, default=str), status_code=status, media_type="application/json"
    )


async def child_by_id(request: Request) -> Response:
    try:
        child_id = uuid.UUID(request.path_params["child_id"])
    except ValueError:
        return json_response({"detail": "not a UUID"}, 422)
    async with request.app.state.pool.acquire() as conn:
        row = await conn.fetchrow(CHILD_BY_ID, child_id)
    if row is None:
        return json_response({"detail": "no such child"}, 404)
    return json_response(dict(row))


async def children_of_la(request: Request) -> Response:
    try:
        la = uuid.UUID(request.query_params["la"])
        after = uuid.UUID(request.query_params["after"]) if "after" in request.query_params else NIL
    except (KeyError, ValueError):
        return json_response({"detail": "la (and after) must be UUIDs"}, 422)
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(CHILDREN_OF_LA, la, after, PAGE)
    items = [dict(r) for r in rows]
    last = str(items[-1]["id"]) if len(items) == PAGE else None
    return json_response({"items": items, "next_cursor": last})


async def placement_by_id(request: Request) -> Response:
    try:
        placement_id = uuid.UUID(request.path_params["placement_id"])
    except ValueError:
        return json_response({"detail": "not a UUID"}, 422)
    async with request.app.state.pool.acquire() as conn:
        row = await conn.fetchrow(PLACEMENT_BY_ID, placement_id)
    if row is None:
        return json_response({"detail": "no such placement"}, 404)
    return json_response(dict(row))


async def placements_of_provider(request: Request) -> Response:
    try:
        provider = uuid.UUID(request.query_params["provider"])
        after = uuid.UUID(request.query_params["after"]) if "after" in request.query_params else NIL
    except (KeyError, ValueError):
        return json_response({"detail": "provider (and after) must be UUIDs"}, 422)
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(PLACEMENTS_OF_PROVIDER, provider, after, PAGE)
    items = [dict(r) for r in rows]
    last = str(items[-1]["id"]) if len(items) == PAGE else None
    return json_response({"items": items, "next_cursor": last})


async def placement_transition(request: Request) -> Response:
    placement_id = uuid.UUID(request.path_params["placement_id"])
    payload = (await request.body()).decode()
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(BARE_TRANSITION, placement_id)
        if row is None:
            return json_response({"status": 409}, status=409)
        await conn.execute(BARE_EVENT, placement_id, row["version"], row["child_id"], payload)
    return json_response({"id": str(placement_id), "version": row["version"]}, status=201)


async def healthz(_request: Request) -> Response:
    return json_response({"status": "ok"})


def create_app() -> Starlette:
    url = os.environ["BENCH_DATABASE_URL"]
    # As many connections as the hub may hold (its fixed pool of `db_pool_size`).
    pool_size = int(os.environ.get("APHUB_DB_POOL_SIZE", "20"))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(
            url,
            min_size=pool_size,
            max_size=pool_size,
            server_settings={"application_name": "aphub-bench-reference"},
        )
        yield
        await app.state.pool.close()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/children/{child_id}", child_by_id),
            Route("/children", children_of_la),
            Route("/placements/{placement_id}", placement_by_id),
            Route("/placements", placements_of_provider),
            Route("/placements/{placement_id}/transition", placement_transition, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
