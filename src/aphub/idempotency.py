"""`Idempotency-Key` on every POST that creates or transitions.

The key is claimed inside the request's own transaction (`WriteUnit.claim_idempotency_key`):
the stored answer commits with the change it describes, or neither does. A retry with the
same key and body replays the first answer; the same key with another body is 422; a
duplicate that arrives while the first is still running is 409 (it holds the key's
advisory lock), and so is one that claimed the key just as the first committed (see
`_CLAIM`). The claim rides on the unit's first statement when it can (a transition's row
lock), and a statement that builds the answer can keep it too (`WriteUnit.answer`), so a
key costs no round trip of its own on the transitions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import Response

from aphub.db.sql import Statement
from aphub.errors import Conflict, Invalid, Problem

if TYPE_CHECKING:
    from aphub.db.units import WriteUnit

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
PROCESSED_MEANWHILE = "A request with this Idempotency-Key was processed meanwhile; retry"
_KEPT_HEADERS = ("etag", "location", "content-type")


class Replayed(Problem):
    """Not an error: carries the first response back out through the handlers."""

    status = 200

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        super().__init__("replayed")
        self.replay = Response(body, status_code=status, headers=headers)
        self.replay.headers["Idempotent-Replayed"] = "true"


# The key's lock, and any answer kept under the key, in one round trip. The lookup reads
# the snapshot the statement started with, a moment before the lock was taken; a first
# request that committed in that moment is not seen, but its row is then there when this
# one keeps its own, and the keep refuses (409) instead of acting twice.
_CLAIM = (
    "SELECT pg_try_advisory_xact_lock(hashtextextended(:idempotency_lock, 0)) AS key_claimed, "
    "k.request_hash AS key_request_hash, k.response_status AS key_response_status, "
    "k.response_body AS key_response_body, k.response_headers::text AS key_response_headers "
    "FROM (VALUES (1)) AS one LEFT JOIN idempotency_keys k "
    "ON k.client_id = :idempotency_client AND k.key = :idempotency_key"
)
_CLAIM_COLUMNS = (
    "key_claimed",
    "key_request_hash",
    "key_response_status",
    "key_response_body",
    "key_response_headers",
)
_INSERT = (
    "INSERT INTO idempotency_keys (client_id, key, request_hash, response_status, "
    "response_body, response_headers)"
)
_ONCE = "ON CONFLICT (client_id, key) DO NOTHING RETURNING true AS kept"
_KEEP = (
    f"{_INSERT} VALUES (:idempotency_client, :idempotency_key, :idempotency_hash, "
    f":response_status, :response_body, :response_headers) {_ONCE}"
)


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def checked_key(value: str | None) -> str | None:
    """The header's value, within the bounds the OpenAPI documents."""
    if value is not None and not 1 <= len(value) <= MAX_KEY_LENGTH:
        message = (
            "String should have at least 1 character"
            if not value
            else f"String should have at most {MAX_KEY_LENGTH} characters"
        )
        raise Invalid.field(HEADER, message)
    return value


class KeyClaim:
    """One request's claim of its key: checked by the unit's first statement, and the
    answer kept under the key before the unit commits."""

    sql = _CLAIM
    columns = _CLAIM_COLUMNS

    def __init__(self, client_id: str, key: str, digest: str) -> None:
        self.client_id = client_id
        self.key = key
        self.digest = digest
        self.checked = False
        self.kept = False
        self.kept_status: int | None = None
        self._answer: tuple[int, bytes, dict[str, str]] | None = None

    def params(self) -> dict[str, Any]:
        return {
            "idempotency_lock": f"{self.client_id}\n{self.key}",
            "idempotency_client": self.client_id,
            "idempotency_key": self.key,
            "idempotency_hash": self.digest,
        }

    def check(self, row: Mapping[str, Any]) -> None:
        """Replay or refuse what an earlier request left under the key (raises), or note
        that this request holds it."""
        self.checked = True
        if not row["key_claimed"]:
            raise Conflict("A request with this Idempotency-Key is still being processed")
        if row["key_request_hash"] is not None:
            if row["key_request_hash"] != self.digest:
                raise Invalid.field(
                    HEADER, "This Idempotency-Key was used with a different request body"
                )
            raise Replayed(
                row["key_response_status"],
                bytes(row["key_response_body"]),
                orjson.loads(row["key_response_headers"]),
            )

    def answer(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        """The answer the request gives, to keep at the commit (5xx answers are not kept:
        a retry should try again)."""
        if self.kept:
            if status != self.kept_status:
                raise RuntimeError(f"kept an answer of {self.kept_status}, but answered {status}")
            return
        kept = {k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}
        self._answer = (status, body, kept)

    async def keep(self, unit: WriteUnit) -> None:
        """Store the answer under the key, last thing in the unit's transaction."""
        if self._answer is None or self._answer[0] >= 500:
            return
        status, body, headers = self._answer
        kept = await unit.fetchrow(
            _KEEP,
            **self.params(),
            response_status=status,
            response_body=body,
            response_headers=orjson.dumps(headers).decode(),
        )
        if kept is None:  # a first request committed between the claim's snapshot and lock
            raise Conflict(PROCESSED_MEANWHILE)
        self.kept = True

    def keeping(self, statement: Statement, *, status: int, body: str, etag: bool) -> Statement:
        """`statement` keeping its own answer: its row's JSON text column `body` (and the
        version for the ETag, when `etag`), with `status`."""
        headers = "'content-type', 'application/json'"
        if etag:
            headers += """, 'etag', '"' || answer.version || '"'"""
        keep = (
            f"{_INSERT} SELECT :idempotency_client, :idempotency_key, :idempotency_hash, "
            f"{int(status)}, convert_to(answer.{body}, 'UTF8'), jsonb_build_object({headers}) "
            f"FROM answer {_ONCE}"
        )
        final = "SELECT answer.*, EXISTS (SELECT 1 FROM kept) AS kept FROM answer"
        self.kept_status = status
        return statement.answered().extended(("kept", keep), final=final)

    def kept_by_statement(self, row: Mapping[str, Any] | None) -> None:
        if row is None:
            return  # the statement found nothing to answer with: the request fails
        if not row["kept"]:
            raise Conflict(PROCESSED_MEANWHILE)
        self.kept = True
