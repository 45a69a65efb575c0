"""Keyset pagination with opaque cursors: `{"items": [...], "next_cursor": ...}`."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel

from aphub.errors import Invalid

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values, default=str)).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):
        raise Invalid.field("cursor", "The cursor is not one this hub issued") from None
    if not isinstance(values, list) or len(values) != arity:
        raise Invalid.field("cursor", "The cursor is not one this hub issued")
    return values


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page")
]


def cursor_id(cursor: str | None) -> uuid.UUID | None:
    """The id a one-value cursor holds (keyset pages ordered by id)."""
    values = decode_cursor(cursor, 1)
    if not values:
        return None
    try:
        return uuid.UUID(str(values[0]))
    except ValueError:
        raise Invalid.field("cursor", "The cursor is not one this hub issued") from None


def page_of(rows: list[T], limit: int, key: Any) -> tuple[list[T], str | None]:
    """Rows were fetched with `limit + 1`; the extra row only says another page exists."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(key(rows[-1]))
    return rows, None
