"""`Idempotency-Key` on every POST that creates or transitions.

The key is claimed inside the request's own transaction: the stored response commits
with the change it describes, or neither does. A retry with the same key and body
replays the first response; the same key with another body is 422; a duplicate that
arrives while the first is still running is 409 (it holds the key's advisory lock).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.routing import APIRoute
from sqlalchemy import text
from starlette.responses import Response

from aphub.db import UnitOfWork
from aphub.deps import unit_of_work
from aphub.errors import Conflict, Invalid, Problem

HEADER = "Idempotency-Key"
# Token issuance is naturally repeatable; every other POST takes a key.
EXEMPT_PATHS = frozenset({"/v1/oauth/token", "/graphql"})
_KEPT_HEADERS = ("etag", "location", "content-type")


@dataclass
class Claim:
    client_id: str
    key: str
    request_hash: str
    response: Response | None = None


class Replayed(Problem):
    """Not an error: carries the first response back out through the handlers."""

    status = 200

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        super().__init__("replayed")
        self.replay = Response(body, status_code=status, headers=headers)
        self.replay.headers["Idempotent-Replayed"] = "true"


async def idempotency_guard(
    request: Request,
    uow: Annotated[UnitOfWork, Depends(unit_of_work, scope="function")],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=255,
            description="Makes the POST safe to retry: the first response is replayed",
        ),
    ] = None,
) -> None:
    if idempotency_key is None:
        return
    from aphub.auth.principal import bearer_token, principal_from_token

    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        return  # the route's own authentication answers 401
    client_id = principal_from_token(request, token).client_id
    body = await request.body()
    digest = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + body
    ).hexdigest()
    async with uow.lock:
        session = uow.session
        locked = await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"),
            {"k": f"{client_id}\n{idempotency_key}"},
        )
        if not locked:
            raise Conflict("A request with this Idempotency-Key is still being processed")
        stored = (
            await session.execute(
                text(
                    "SELECT request_hash, response_status, response_body, response_headers "
                    "FROM idempotency_keys WHERE client_id = :c AND key = :k"
                ),
                {"c": client_id, "k": idempotency_key},
            )
        ).one_or_none()
    if stored is not None:
        if stored.request_hash != digest:
            raise Invalid.field(
                HEADER, "This Idempotency-Key was used with a different request body"
            )
        raise Replayed(
            stored.response_status, bytes(stored.response_body), dict(stored.response_headers)
        )
    claim = Claim(client_id, idempotency_key, digest)
    request.scope["aphub.idempotency"] = claim

    async def keep_response(unit: UnitOfWork) -> None:
        response = claim.response
        if response is None or response.status_code >= 500:
            return
        headers = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
        await unit.session.execute(
            text(
                "INSERT INTO idempotency_keys (client_id, key, request_hash, response_status, "
                "response_body, response_headers) VALUES (:c, :k, :h, :s, :b, "
                "CAST(:hd AS jsonb))"
            ),
            {
                "c": claim.client_id,
                "k": claim.key,
                "h": claim.request_hash,
                "s": response.status_code,
                "b": bytes(response.body),
                "hd": _json(headers),
            },
        )

    uow.before_commit(keep_response)


def _json(value: dict[str, str]) -> str:
    import orjson

    return orjson.dumps(value).decode()


class HubRoute(APIRoute):
    """Every POST route gets the idempotency guard; the handler's response is handed to
    it before the unit of work commits (function-scoped dependencies exit after the
    response object is built and before it is sent)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ()}
        dependencies = list(kwargs.get("dependencies") or [])
        already = any(getattr(d, "dependency", None) is idempotency_guard for d in dependencies)
        if "POST" in methods and path not in EXEMPT_PATHS and not already:
            dependencies.append(Depends(idempotency_guard, scope="function"))
            kwargs["dependencies"] = dependencies
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            response = await handler(request)
            claim = request.scope.get("aphub.idempotency")
            if isinstance(claim, Claim):
                claim.response = response
            return response

        return handle
