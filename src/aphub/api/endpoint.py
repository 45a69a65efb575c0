"""One declaration per endpoint.

An `Endpoint` says everything about one operation: method and path, the scope it needs,
its handler, what it reads from the request and what it answers, whether it is served
ahead of FastAPI's machinery (`hot`), and the events a successful call appends. The
handler's signature says the rest, by parameter name:

- `unit`: a `ReadUnit` or a `WriteUnit`, which fixes how the endpoint reaches the database
  (a read unit's statements stand alone; a write unit is one transaction);
- `principal`: the caller (`Principal`; `Principal | None` on a public endpoint);
- `body`: the request body, validated by the annotated model;
- `query`: the query string, validated by the annotated model (unknown names are 400);
- `if_match`: the `If-Match` header as a version number (or None);
- `request`: the Starlette request itself (a body that is not JSON);
- any other name: the path parameter of that name, of the annotated type.

`aphub.api.routes` builds both the FastAPI route (what OpenAPI documents) and, for hot
endpoints, the lean dispatch from the same declaration; both call `aphub.api.serve`.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel, TypeAdapter

from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit

Handler = Callable[..., Awaitable[Any]]
_SPECIAL = frozenset({"unit", "principal", "body", "query", "if_match", "request"})
_PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    scope: str | None = None  # None: any authenticated caller (unless `public`)
    public: bool = False  # no token at all (health, token endpoint, documentation)
    response: Any = None  # what a success answers, for OpenAPI (and serialisation)
    status: int = 200
    errors: tuple[int, ...] = ()
    description: str | None = None
    tags: tuple[str, ...] = ()
    hot: bool = False
    events: tuple[str, ...] = ()  # the event types a successful call may append
    # a POST that takes no Idempotency-Key, and why (every other POST takes one)
    not_idempotent: str | None = None
    openapi_extra: Mapping[str, Any] | None = None
    name: str | None = None  # operationId; the handler's name by default
    include_in_schema: bool = True
    response_headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def operation_id(self) -> str:
        return self.name or self.handler.__name__

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @cached_property
    def signature(self) -> HandlerSignature:
        return HandlerSignature.of(self)

    @property
    def writes(self) -> bool:
        return self.signature.unit is WriteUnit

    @cached_property
    def cursor_parameter(self) -> str | None:
        """For a list answering pages (`next_cursor`): the query parameter that takes the
        cursor (`cursor`, or the feed's `after`); None for any other endpoint."""
        fields = getattr(self.response, "model_fields", {})
        query = self.signature.query
        if "next_cursor" not in fields or query is None:
            return None
        return next((n for n in ("cursor", "after") if n in query.model_fields), None)

    @property
    def idempotent(self) -> bool:
        """Whether the endpoint takes an `Idempotency-Key` (every POST, unless exempt)."""
        return self.method == "POST" and self.not_idempotent is None


@dataclass(frozen=True)
class HandlerSignature:
    """What a handler takes, read once from its annotations."""

    unit: type[ReadUnit] | None
    principal: bool
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    if_match: bool
    request: bool
    path: dict[str, TypeAdapter[Any]]
    path_types: dict[str, Any]

    @classmethod
    def of(cls, endpoint: Endpoint) -> HandlerSignature:
        handler = endpoint.handler
        hints = typing.get_type_hints(handler, include_extras=True)
        names = list(inspect.signature(handler).parameters)
        declared = set(_PATH_PARAM.findall(endpoint.path))
        path = [n for n in names if n not in _SPECIAL]
        if set(path) != declared:
            raise TypeError(
                f"{endpoint.method} {endpoint.path}: the handler {handler.__name__} takes "
                f"path parameters {sorted(path)}, the path names {sorted(declared)}"
            )
        unit = hints.get("unit")
        if "unit" in names and unit not in (ReadUnit, WriteUnit):
            raise TypeError(f"{handler.__name__}: `unit` must be a ReadUnit or a WriteUnit")
        if "principal" in names and not endpoint.public and hints["principal"] is not Principal:
            raise TypeError(f"{handler.__name__}: `principal` must be a Principal")
        if endpoint.method == "GET" and unit is WriteUnit:
            raise TypeError(f"{handler.__name__}: a GET reads; its unit is a ReadUnit")
        return cls(
            unit=unit if "unit" in names else None,
            principal="principal" in names,
            body=hints["body"] if "body" in names else None,
            query=hints["query"] if "query" in names else None,
            if_match="if_match" in names,
            request="request" in names,
            path={n: TypeAdapter(hints[n]) for n in path},
            path_types={n: hints[n] for n in path},
        )
