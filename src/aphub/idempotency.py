"""`Idempotency-Key` on every POST that creates or transitions.

The key is claimed inside the request's own transaction: the stored response commits
with the change it describes, or neither does. A retry with the same key and body
replays the first response; the same key with another body is 422; a duplicate that
arrives while the first is still running is 409 (it holds the key's advisory lock), and
so is one that claimed the key just as the first committed (see `_CLAIM`).

On the routes FastAPI serves, the claim is the unit's first statement and the response
is kept by a statement of its own before the commit. On the placement transitions
(`aphub.fastpath`), the claim rides on the transition's row lock (`claiming`, carried by
the `WriteUnit`) and the transition's own statement keeps the answer it builds
(`KeptAnswer`): the key costs no round trip of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from aphub.db import Carried, UnitOfWork, Writes
from aphub.deps import unit_of_work
from aphub.errors import Conflict, Invalid, Problem

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Token issuance is naturally repeatable; every other POST takes a key.
EXEMPT_PATHS = frozenset({"/v1/oauth/token", "/graphql"})
_KEPT_HEADERS = ("etag", "location", "content-type")


@dataclass
class Claim:
    client_id: str
    key: str
    request_hash: str
    response: Response | None = None
    # the statement that built the answer kept it too (see `KeptAnswer`)
    kept: bool = False

    async def keep(self, unit: Writes) -> None:
        """Store the response under the key, last thing in the request's transaction."""
        response = self.response
        if self.kept or response is None or response.status_code >= 500:
            return
        headers = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
        kept = await unit.fetchrow(
            _KEEP,
            self.client_id,
            self.key,
            self.request_hash,
            response.status_code,
            bytes(response.body),
            orjson.dumps(headers).decode(),
        )
        if kept is None:  # a first request committed between the claim's snapshot and lock
            raise Conflict(PROCESSED_MEANWHILE)


# A unit's state may hold a `KeptAnswer` under this key: the route answers with the JSON
# that a placement transition's statement builds (one per action or review), so that
# statement keeps it too (`kept_answer_sql`), rather than a statement of its own at the
# commit.
KEPT_ANSWER = "idempotency.kept_answer"
PROCESSED_MEANWHILE = "A request with this Idempotency-Key was processed meanwhile; retry"


@dataclass(frozen=True, slots=True)
class KeptAnswer:
    """How a route will answer: the status, and whether the answer carries the ETag of
    the version its statement wrote; the body is the JSON text the statement builds."""

    claim: Claim
    status: int
    etag: bool

    def args(self) -> list[Any]:
        """The parameters of `kept_answer_sql`."""
        claim = self.claim
        return [claim.client_id, claim.key, claim.request_hash, self.status]


_KEEP_ANSWER = (
    "INSERT INTO idempotency_keys (client_id, key, request_hash, response_status, "
    "response_body, response_headers)"
)
_KEEP_ONCE = "ON CONFLICT (client_id, key) DO NOTHING RETURNING true AS kept"


def kept_answer_sql(body: str, first: int, etag: bool) -> str:
    """An INSERT keeping an answer, for a CTE of the statement that builds it: it reads
    the JSON text `body` and `version` from the CTE named `answer`, and numbers its
    parameters (`KeptAnswer.args`) from `$first`. It returns a row only if it kept the
    answer (a first request that committed meanwhile holds the key: 409)."""
    headers = "'content-type', 'application/json'"
    if etag:
        headers += """, 'etag', '"' || answer.version || '"'"""
    values = f"${first}, ${first + 1}, ${first + 2}, ${first + 3}"
    kept = f"{values}, convert_to({body}, 'UTF8'), jsonb_build_object({headers})"
    return f"{_KEEP_ANSWER} SELECT {kept} FROM answer {_KEEP_ONCE}"  # noqa: S608 - ours


class Replayed(Problem):
    """Not an error: carries the first response back out through the handlers."""

    status = 200

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        super().__init__("replayed")
        self.replay = Response(body, status_code=status, headers=headers)
        self.replay.headers["Idempotent-Replayed"] = "true"


# The claim: the key's lock, and any response kept under the key, in one round trip. The
# lookup reads the snapshot the statement started with, a moment before the lock was
# taken; a first request that committed in that moment is not seen, but its row is then
# there when this one keeps its own, and `_KEEP` refuses (409) instead of acting twice.
_CLAIM = (
    "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS key_claimed, "
    "k.request_hash AS key_request_hash, k.response_status AS key_response_status, "
    "k.response_body AS key_response_body, k.response_headers::text AS key_response_headers "
    "FROM (VALUES (1)) AS one LEFT JOIN idempotency_keys k ON k.client_id = $2 AND k.key = $3"
)
_CLAIM_COLUMNS = (
    "key_claimed",
    "key_request_hash",
    "key_response_status",
    "key_response_body",
    "key_response_headers",
)
_KEEP = (
    "INSERT INTO idempotency_keys (client_id, key, request_hash, response_status, "
    "response_body, response_headers) VALUES ($1, $2, $3, $4, $5, $6::text::jsonb) "
    "ON CONFLICT (client_id, key) DO NOTHING RETURNING true AS kept"
)


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def checked_key(value: str | None) -> str | None:
    """The header's value, within the bounds the OpenAPI documents (as FastAPI checks them
    on the routes it serves)."""
    if value is not None and not 1 <= len(value) <= MAX_KEY_LENGTH:
        message = (
            "String should have at least 1 character"
            if not value
            else f"String should have at most {MAX_KEY_LENGTH} characters"
        )
        raise Invalid.field(HEADER, message)
    return value


def claiming(unit: Writes, client_id: str, key: str, digest: str) -> tuple[Carried, Claim]:
    """The claim of the key, as a statement to run first in the unit (the lock is the
    transaction's until it commits): its check replays or refuses what an earlier request
    left under the key, or has this request's response kept under it before the unit
    commits (set `Claim.response`)."""
    claimed = Claim(client_id, key, digest)

    def check(row: Mapping[str, Any]) -> None:
        if not row["key_claimed"]:
            raise Conflict("A request with this Idempotency-Key is still being processed")
        if row["key_request_hash"] is not None:
            if row["key_request_hash"] != digest:
                raise Invalid.field(
                    HEADER, "This Idempotency-Key was used with a different request body"
                )
            raise Replayed(
                row["key_response_status"],
                bytes(row["key_response_body"]),
                orjson.loads(row["key_response_headers"]),
            )
        unit.before_commit(claimed.keep)

    statement = Carried(_CLAIM, (f"{client_id}\n{key}", client_id, key), check, _CLAIM_COLUMNS)
    return statement, claimed


async def claim(unit: Writes, client_id: str, key: str, digest: str) -> Claim:
    """Claim the key now, as the unit's first statement (see `claiming`)."""
    statement, claimed = claiming(unit, client_id, key, digest)
    statement.check(await unit.fetchrow_in_transaction(statement.sql, *statement.args))
    return claimed


async def idempotency_guard(
    request: Request,
    uow: Annotated[UnitOfWork, Depends(unit_of_work, scope="function")],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=MAX_KEY_LENGTH,
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
    digest = request_hash(request.method, request.scope["path"], await request.body())
    request.scope["aphub.idempotency"] = await claim(uow, client_id, idempotency_key, digest)


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
