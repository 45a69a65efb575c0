"""Every token is checked against its client's record as it stands now.

A token is signed by the hub, but what it says is only as good as the client it was
issued to: a revoked client, a client awaiting its organisation's approval, or a
deactivated organisation loses every token at once; a token naming another organisation,
another organisation type, or scopes its client does not hold (or that its organisation's
type may never hold) is refused. The records are cached per process for `TTL_SECONDS`: a
revocation takes effect on every worker within that time, at the cost of one statement per
client per worker per interval.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from aphub.auth.scopes import beyond_bounds
from aphub.auth.tokens import Claims
from aphub.db import Database
from aphub.errors import Unauthorised

TTL_SECONDS = 5.0
_MAX_CACHED = 10_000
_RECORD = (
    "SELECT c.organisation_id, o.type AS organisation_type, c.scopes FROM api_clients c "
    "JOIN organisations o ON o.id = c.organisation_id WHERE c.client_id = :client_id "
    "AND c.revoked_at IS NULL AND c.approved_at IS NOT NULL AND o.active"
)


@dataclass(frozen=True, slots=True)
class ClientRecord:
    organisation_id: uuid.UUID
    organisation_type: str
    scopes: frozenset[str]


class ClientRecords:
    """The active clients' records, as one process last read them (see the module)."""

    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._cache: OrderedDict[str, tuple[float, ClientRecord | None]] = OrderedDict()
        # claims found to agree with their record, until that record is read again
        self._agreed: dict[Claims, float] = {}

    def forget(self, client_id: str | None = None) -> None:
        """Read again at the next request (all clients when `client_id` is None)."""
        if client_id is None:
            self._cache.clear()
        else:
            self._cache.pop(client_id, None)
        self._agreed.clear()

    async def record(self, database: Database, client_id: str) -> ClientRecord | None:
        now = time.monotonic()
        cached = self._cache.get(client_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with database.reading() as unit:
            row = await unit.fetchrow(_RECORD, client_id=client_id)
        record = (
            None
            if row is None
            else ClientRecord(
                row["organisation_id"], row["organisation_type"], frozenset(row["scopes"])
            )
        )
        self._cache[client_id] = (now + self.ttl, record)
        self._cache.move_to_end(client_id)
        if len(self._cache) > _MAX_CACHED:
            self._cache.popitem(last=False)
        return record

    async def check(self, database: Database, claims: Claims) -> None:
        """401 unless the token says what its client's record says."""
        agreed_until = self._agreed.get(claims)
        if agreed_until is not None and agreed_until > time.monotonic():
            return
        record = await self.record(database, claims.client_id)
        if record is None:
            raise Unauthorised("The access token's client is revoked, unknown or not approved")
        if (
            record.organisation_id != claims.organisation_id
            or record.organisation_type != claims.organisation_type
        ):
            raise Unauthorised("The access token does not match its client's organisation")
        if not claims.scopes <= record.scopes:
            raise Unauthorised("The access token names scopes its client does not hold")
        if beyond_bounds(claims.organisation_type, tuple(claims.scopes)):
            raise Unauthorised("The access token names scopes its organisation may not hold")
        if len(self._agreed) > _MAX_CACHED:
            self._agreed.clear()
        self._agreed[claims] = self._cache[claims.client_id][0]
