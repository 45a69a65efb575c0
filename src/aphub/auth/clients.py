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

from aphub.auth.scopes import SCOPE_BOUNDS, beyond_bounds
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


# An organisation admitting an issuer, found by the identifier the issuer's tokens carry
# (the column is chosen from this fixed table, never from input).
_ADMITTED = (
    "SELECT c.client_id, c.organisation_id, o.type AS organisation_type, c.scopes "
    "FROM api_clients c JOIN organisations o ON o.id = c.organisation_id "
    "WHERE c.issuer = :issuer AND c.authentication = 'external_issuer' AND {column} = :value "
    "AND c.revoked_at IS NULL AND c.approved_at IS NOT NULL AND o.active LIMIT 2"
)
_ADMITTED_BY = {
    identifier: _ADMITTED.replace("{column}", f"o.{identifier}")
    for identifier in ("id", "la_code", "urn", "ukprn", "ods_code")
}


@dataclass(frozen=True, slots=True)
class ClientRecord:
    organisation_id: uuid.UUID
    organisation_type: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class AdmittedIssuer:
    """The record by which an organisation admitted an external issuer."""

    client_id: str
    organisation_id: uuid.UUID
    organisation_type: str
    scopes: frozenset[str]

    def granted(self, asserted: frozenset[str]) -> frozenset[str]:
        """The scopes a token of the issuer gets: what it asserts, within the record's
        scopes and the bounds of the organisation's type, whatever the issuer says."""
        return asserted & self.scopes & SCOPE_BOUNDS.get(self.organisation_type, frozenset())


class ClientRecords:
    """The active clients' records, as one process last read them (see the module)."""

    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._cache: OrderedDict[str, tuple[float, ClientRecord | None]] = OrderedDict()
        self._admitted: OrderedDict[tuple[str, str], tuple[float, AdmittedIssuer | None]] = (
            OrderedDict()
        )
        # claims found to agree with their record, until that record is read again
        self._agreed: dict[Claims, float] = {}

    def forget(self, client_id: str | None = None) -> None:
        """Read again at the next request (all clients when `client_id` is None)."""
        if client_id is None:
            self._cache.clear()
        else:
            self._cache.pop(client_id, None)
        self._agreed.clear()
        self._admitted.clear()

    async def admitted(
        self, database: Database, issuer: str, identifier: str, value: str
    ) -> AdmittedIssuer | None:
        """The active record by which the organisation `value` names (as `identifier`)
        admitted `issuer`, or None (none, or no single organisation answers to it)."""
        now = time.monotonic()
        key = (issuer, f"{identifier}:{value}")
        cached = self._admitted.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await self._read_admitted(database, issuer, identifier, value)
        self._admitted[key] = (now + self.ttl, found)
        self._admitted.move_to_end(key)
        if len(self._admitted) > _MAX_CACHED:
            self._admitted.popitem(last=False)
        return found

    async def _read_admitted(
        self, database: Database, issuer: str, identifier: str, value: str
    ) -> AdmittedIssuer | None:
        bound: str | uuid.UUID = value
        if identifier == "id":
            try:
                bound = uuid.UUID(value)
            except ValueError:
                return None
        async with database.reading() as unit:
            rows = await unit.fetch(_ADMITTED_BY[identifier], issuer=issuer, value=bound)
        if len(rows) != 1:
            return None
        row = rows[0]
        return AdmittedIssuer(
            row["client_id"],
            row["organisation_id"],
            row["organisation_type"],
            frozenset(row["scopes"]),
        )

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
