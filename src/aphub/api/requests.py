"""Reading a request the way every endpoint reads it: path parameters, the query string
(unknown names refused), the JSON body, If-Match and the Idempotency-Key."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.datastructures import QueryParams as QueryParams_
from starlette.requests import Request

from aphub.errors import FieldError, Problem, validation_problem
from aphub.pagination import DEFAULT_LIMIT, MAX_LIMIT


class QueryParams(BaseModel):
    """Base of every endpoint's query model: the names it takes, nothing else."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NoParams(QueryParams):
    """The query of an endpoint that takes none."""


class PageParams(QueryParams):
    """A cursor page: `limit` and `cursor`."""

    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}"
    )
    cursor: str | None = Field(
        None, max_length=512, description="`next_cursor` of the previous page"
    )


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation) if a is not type(None))
    return origin in (list, tuple, set, frozenset)


@cache
def _query_fields(model: type[BaseModel]) -> dict[str, bool]:
    """Each name the query string may use, and whether it may repeat (a list)."""
    return {
        (info.alias or name): _is_list(info.annotation) for name, info in model.model_fields.items()
    }


class UnknownParameters(Problem):
    status = 400

    def __init__(self, names: list[str], known: list[str]) -> None:
        shown = ", ".join(names)
        accepted = ", ".join(known) or "none"
        super().__init__(
            f"Unknown query parameter: {shown} (this endpoint takes {accepted})",
            slug="unknown-parameter",
            errors=[FieldError(name, "unknown query parameter") for name in names],
        )


def parse_query(model: type[BaseModel], query: QueryParams_) -> BaseModel:
    """The query string as `model`: unknown names are 400 naming them; a name given more
    than once where one value is expected, and any bad value, are 422."""
    fields = _query_fields(model)
    unknown = sorted({name for name in query if name not in fields})
    if unknown:
        raise UnknownParameters(unknown, sorted(fields))
    data: dict[str, Any] = {}
    for name, repeats in fields.items():
        values = query.getlist(name)
        if not values:
            continue
        if repeats:
            data[name] = values
        elif len(values) > 1:
            raise validation_problem([{"loc": ("query", name), "msg": "Give this parameter once"}])
        else:
            data[name] = values[0]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(
            [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
        ) from None


def parse_path(
    adapters: Mapping[str, TypeAdapter[Any]], values: Mapping[str, str]
) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name, adapter in adapters.items():
        try:
            parsed[name] = adapter.validate_python(values[name])
        except ValidationError as exc:
            errors += [{**e, "loc": ("path", name, *e["loc"])} for e in exc.errors()]
    if errors:
        raise validation_problem(errors)
    return parsed


def parse_body(model: type[BaseModel], raw: bytes) -> BaseModel:
    """The body as `model`, with the problems FastAPI would give (a body that is missing,
    not JSON, or not valid)."""
    if not raw:
        raise validation_problem([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors()
        if any(e["type"] == "json_invalid" for e in errors):
            raise validation_problem(
                [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]
            ) from None
        raise validation_problem([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


async def request_body(request: Request) -> bytes:
    return await request.body()
