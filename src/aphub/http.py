"""HTTP details shared by routers: ETags and If-Match."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from aphub.errors import Invalid


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """`If-Match: "3"` → 3. `*` or no header means no precondition."""
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not (tag.isascii() and tag.isdigit()):  # "²".isdigit() is true, int("²") fails
        raise Invalid.field("If-Match", 'If-Match must be an ETag this hub issued, like "3"')
    return int(tag)


IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="ETag of the version you read; 412 if it moved on"),
]
