"""`GET /v1/events`: delta sync of everything the caller may see, as CloudEvents."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, Field
from starlette.responses import Response

from aphub.api.endpoint import Endpoint
from aphub.api.requests import PageParams, QueryParams
from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.errors import Invalid
from aphub.events import checkpoints
from aphub.events.feed import read_feed
from aphub.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor


class CloudEvent(BaseModel):
    """CloudEvents 1.0 (JSON format) with the hub's extension attributes."""

    specversion: str = "1.0"
    id: str
    source: str
    type: str
    subject: str
    time: str
    sequence: str = Field(description="Position in the log; commit order")
    subjectversion: int | None = None
    actororganisation: str | None = None
    actorclient: str | None = None
    hash: str = Field(description="This event's link in the tamper-evident chain")
    childid: str | None = None
    datacontenttype: str | None = None
    data: dict[str, Any] | None = None


class Checkpoint(BaseModel):
    """The event log's size and head hash at a moment, signed by the hub (a JWS verified
    with /.well-known/jwks.json). Keep the ones you see: `aphub verify-log --checkpoint`
    proves a kept one is a prefix of the log as it stands."""

    tree_size: int
    head: str
    signed_at: str
    kid: str
    signature: str


class EventPage(BaseModel):
    items: list[CloudEvent]
    next_cursor: str = Field(description="Poll again with this; it is never null")
    checkpoint: Checkpoint | None = Field(
        default=None, description="The latest signed checkpoint of the whole log"
    )


class CheckpointPage(BaseModel):
    items: list[Checkpoint]
    next_cursor: str | None


class FeedQuery(QueryParams):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT}")
    after: str | None = Field(
        None, max_length=512, description="`next_cursor` of the previous page"
    )


async def list_events(unit: ReadUnit, principal: Principal, query: FeedQuery) -> Response:
    values = decode_cursor(query.after, 1)
    position = 0
    if values:
        if not isinstance(values[0], int) or isinstance(values[0], bool) or values[0] < 0:
            raise Invalid.field("after", "The cursor is not one this hub issued")
        position = values[0]
    items, resume = await read_feed(unit, principal, position, query.limit)
    # each event carries exactly the attributes the caller may receive
    body = {
        "items": items,
        "next_cursor": encode_cursor([resume]),
        "checkpoint": await checkpoints.latest(unit),
    }
    return Response(orjson.dumps(body), media_type="application/json")


async def list_checkpoints(unit: ReadUnit, principal: Principal, query: PageParams) -> Response:
    before = None
    values = decode_cursor(query.cursor, 1)
    if values:
        if not isinstance(values[0], int) or isinstance(values[0], bool):
            raise Invalid.field("cursor", "The cursor is not one this hub issued")
        before = values[0]
    items = await checkpoints.page(unit, before, query.limit)
    last = items[-1]["tree_size"] if len(items) == query.limit else None
    body = {"items": items, "next_cursor": encode_cursor([last]) if last else None}
    return Response(orjson.dumps(body), media_type="application/json")


ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/events",
        list_events,
        "Events you may see, in commit order, after a cursor",
        description=(
            "Start without a cursor, then keep the `next_cursor` of each page. Events are "
            "in commit order, so a poller never misses one. Payloads are cut to your "
            "categories; events about a child stop when your relationship with the child "
            "ends."
        ),
        scope="events:read",
        response=EventPage,
        tags=("events",),
    ),
    Endpoint(
        "GET",
        "/v1/events/checkpoints",
        list_checkpoints,
        "Signed checkpoints of the event log, newest first",
        description=(
            "Each names the log's size and head hash at a moment, signed with the hub's "
            "key. A log cut back or rewritten after a checkpoint no longer extends it."
        ),
        scope="events:read",
        response=CheckpointPage,
        tags=("events",),
    ),
]
