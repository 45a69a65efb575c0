"""`GET /v1/events`: delta sync of everything the caller may see, as CloudEvents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from aphub.auth.principal import Principal
from aphub.deps import UoW, principal_with
from aphub.errors import Invalid, problem_responses
from aphub.events.feed import read_feed
from aphub.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1/events", tags=["events"])
Reader = Annotated[Principal, principal_with("events:read")]


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


class EventPage(BaseModel):
    items: list[CloudEvent]
    next_cursor: str = Field(description="Poll again with this; it is never null")


@router.get(
    "",
    response_model=EventPage,
    response_model_exclude_unset=True,
    summary="Events you may see, in commit order, after a cursor",
    description=(
        "Start without a cursor, then keep the `next_cursor` of each page. Events are in "
        "commit order, so a poller never misses one. Payloads are cut to your categories; "
        "events about a child stop when your relationship with the child ends."
    ),
    responses=problem_responses(401, 403, 422, 429),
)
async def list_events(
    uow: UoW, principal: Reader, limit: Limit = DEFAULT_LIMIT, after: Cursor = None
) -> dict[str, Any]:
    values = decode_cursor(after, 1)
    position = 0
    if values:
        if not isinstance(values[0], int) or values[0] < 0:
            raise Invalid.field("after", "The cursor is not one this hub issued")
        position = values[0]
    items, resume = await read_feed(uow, principal, position, limit)
    return {"items": items, "next_cursor": encode_cursor([resume])}
