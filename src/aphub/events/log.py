"""Appending to the event log.

Services call `record(...)` next to the change it describes; a hook that runs last in the
same transaction writes the events to the outbox, so a change and its events commit
together or not at all, and concurrent transactions share nothing but the outbox's
identity sequence. After the commit, the unit of work waits for the process's `Sealer`,
which moves committed outbox rows into `events` in batches, one pass at a time under the
chain head's row lock: each event gets its `seq` and its hash chained to the one before, the chain
never forks, and `seq` order is commit order (a feed reader polling `after=seq` can never
miss an event that is sealed later with a lower number).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import insert

from aphub.db import UnitOfWork, Writes
from aphub.ids import uuid7
from aphub.models.events import EventOutbox

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Actor:
    organisation_id: uuid.UUID | None
    client_id: str | None

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(None, f"system:{job}")


@dataclass(slots=True)
class PendingEvent:
    type: str
    subject_type: str
    subject_id: uuid.UUID
    data: dict[str, Any]
    actor: Actor
    child_id: uuid.UUID | None = None
    subject_version: int | None = None
    id: uuid.UUID = field(default_factory=uuid7)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def canonical(event: dict[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, no whitespace, UTF-8, ISO timestamps."""
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z)


def hashed_fields(
    *,
    id: uuid.UUID,
    seq: int,
    type: str,
    occurred_at: datetime,
    actor_organisation_id: uuid.UUID | None,
    actor_client_id: str | None,
    subject_type: str,
    subject_id: uuid.UUID,
    subject_version: int | None,
    child_id: uuid.UUID | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": str(id),
        "seq": seq,
        "type": type,
        "occurred_at": occurred_at.astimezone(UTC),
        "actor": {
            "organisation_id": str(actor_organisation_id) if actor_organisation_id else None,
            "client_id": actor_client_id,
        },
        "subject": {"type": subject_type, "id": str(subject_id), "version": subject_version},
        "child_id": str(child_id) if child_id else None,
        "data": data,
    }


def chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(fields)).hexdigest()


def record(
    uow: UnitOfWork,
    *,
    type: str,
    subject_type: str,
    subject_id: uuid.UUID,
    actor: Actor,
    data: dict[str, Any] | None = None,
    child_id: uuid.UUID | None = None,
    subject_version: int | None = None,
) -> PendingEvent:
    """Queue an event to commit with the unit of work's transaction."""
    # round-trip the payload through JSON now, so what is hashed is what is stored
    payload = orjson.loads(orjson.dumps(data or {}, option=orjson.OPT_UTC_Z))
    event = PendingEvent(
        type=type,
        subject_type=subject_type,
        subject_id=subject_id,
        data=payload,
        actor=actor,
        child_id=child_id,
        subject_version=subject_version,
    )
    pending: list[PendingEvent] = uow.state.setdefault("pending_events", [])
    pending.append(event)
    uow.before_commit(write_outbox)
    return event


def pending_events(uow: UnitOfWork) -> list[PendingEvent]:
    return list(uow.state.get("pending_events", []))


# --- an event written by the statement that makes its change ----------------------------

OUTBOX_COLUMNS = (
    "id",
    "type",
    "occurred_at",
    "actor_organisation_id",
    "actor_client_id",
    "subject_type",
    "subject_id",
    "subject_version",
    "child_id",
    "data",
)


def outbox_insert(first: int) -> str:
    """An INSERT of one outbox row taking its values from parameters `$first` onwards (in
    the order of `outbox_values`), to run as a CTE of the statement that writes the change:
    the change and its event are then one round trip, not two."""
    values = ", ".join(f"${first + i}" for i in range(len(OUTBOX_COLUMNS)))
    columns = ", ".join(OUTBOX_COLUMNS)
    return f"INSERT INTO event_outbox ({columns}) VALUES ({values})"  # noqa: S608 - no input


def outbox_values(
    *,
    type: str,
    subject_type: str,
    subject_id: uuid.UUID,
    actor: Actor,
    data: dict[str, Any],
    child_id: uuid.UUID | None,
    subject_version: int | None,
) -> list[Any]:
    """The parameters of `outbox_insert` for one event (its data as JSON text, as the
    asyncpg connection takes JSONB). The caller runs the statement and then calls
    `appended`. Only for changes serialised by a row lock held until commit: the outbox
    orders a subject's events by insertion, so every event of such a subject must be
    written this way, not queued by `record` to be written at commit."""
    return [
        uuid7(),
        type,
        datetime.now(UTC),
        actor.organisation_id,
        actor.client_id,
        subject_type,
        subject_id,
        subject_version,
        child_id,
        orjson.dumps(data, option=orjson.OPT_UTC_Z).decode(),
    ]


def appended(uow: Writes) -> None:
    """Note that the unit wrote events itself: they are sealed once it commits."""
    uow.state["events_written"] = True


async def write_outbox(uow: UnitOfWork) -> None:
    """Insert the unit's events into the outbox, last thing in its transaction."""
    pending: list[PendingEvent] = uow.state.pop("pending_events", [])
    if not pending:
        return
    rows = [
        {
            "id": event.id,
            "type": event.type,
            "occurred_at": event.occurred_at,
            "actor_organisation_id": event.actor.organisation_id,
            "actor_client_id": event.actor.client_id,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "subject_version": event.subject_version,
            "child_id": event.child_id,
            "data": event.data,
        }
        for event in pending
    ]
    await uow.session.execute(insert(EventOutbox), rows)
    uow.state["events_written"] = True


_HEAD = "SELECT seq, hash FROM event_chain_head WHERE id = 1 FOR UPDATE"
_OUTBOX = (
    "SELECT n, id, type, occurred_at, actor_organisation_id, actor_client_id, subject_type, "
    "subject_id, subject_version, child_id, data::text AS data FROM event_outbox "
    "ORDER BY n LIMIT $1"
)
# A batch in one statement: its events into the chain (the outbox's columns with `seq`
# after `id`, then the hashes), its outbox rows out by key, and the new head.
_SEAL = (
    "WITH sealed AS (INSERT INTO events (id, seq, type, occurred_at, actor_organisation_id, "
    "actor_client_id, subject_type, subject_id, subject_version, child_id, data, prev_hash, "
    "hash) SELECT id, seq, type, occurred_at, actor_organisation_id, actor_client_id, "
    "subject_type, subject_id, subject_version, child_id, data::jsonb, prev_hash, hash "
    "FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::timestamptz[], $5::uuid[], "
    "$6::text[], $7::text[], $8::uuid[], $9::int[], $10::uuid[], $11::text[], $12::text[], "
    "$13::text[]) AS e(id, seq, type, occurred_at, actor_organisation_id, actor_client_id, "
    "subject_type, subject_id, subject_version, child_id, data, prev_hash, hash)), "
    "moved AS (DELETE FROM event_outbox WHERE n = ANY($14::bigint[])) "
    "UPDATE event_chain_head SET seq = $15, hash = $16 WHERE id = 1"
)
_SEALED_COLUMNS = 13


async def seal_pass(connection: Any, batch: int = 5000) -> int:
    """Move committed outbox rows into the chain, in one transaction on this asyncpg
    connection; the count moved.

    The chain head's row lock makes this the only writer of the chain, and the pass
    commits before the next one can read the outbox, so `seq` order is commit order: a
    feed reader polling `after=seq` never misses an event that is sealed later with a
    lower number.
    """
    sealed = 0
    async with connection.transaction():
        head = await connection.fetchrow(_HEAD)  # waits for any other pass to commit
        seq, prev = int(head["seq"]), str(head["hash"])
        while True:
            outbox = await connection.fetch(_OUTBOX, batch)
            if not outbox:
                break
            columns: list[list[Any]] = [[] for _ in range(_SEALED_COLUMNS)]
            for row in outbox:
                seq += 1
                fields = {k: row[k] for k in OUTBOX_COLUMNS}
                fields["data"] = orjson.loads(row["data"])
                digest = chain_hash(prev, hashed_fields(**fields, seq=seq))
                values = [*(row[k] for k in OUTBOX_COLUMNS), prev, digest]
                values.insert(1, seq)  # the chain's columns: id, seq, then the outbox's
                for column, value in zip(columns, values, strict=True):
                    column.append(value)
                prev = digest
            # by key, never by range: a row with a lower `n` may commit after this read
            await connection.execute(_SEAL, *columns, [row["n"] for row in outbox], seq, prev)
            sealed += len(outbox)
            if len(outbox) < batch:
                break
    return sealed


class Sealer:
    """Seals the outbox for one process, a pass at a time, and lets callers wait for it.

    A caller that has just committed events takes a ticket and waits until a pass that
    started after its ticket has finished: its events are then in the chain, so the
    response it sends can be followed by a feed read that includes them. Callers arriving
    while a pass runs share the next one, so the chain's commits (one WAL flush each) are
    amortised over every transition committed in the meantime.

    A pass runs on a connection of the sealer's own: every response waits for a pass, and
    one that queued for a pooled connection behind the requests it is to answer would
    hold them all.
    """

    def __init__(self, connect: Callable[[], Awaitable[Any]]) -> None:
        self._connect = connect  # opens an asyncpg connection
        self._connection: Any = None
        self._lock = asyncio.Lock()
        self._requested = 0
        self._done = 0

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                connection, self._connection = self._connection, None
                await connection.close()

    async def seal(self) -> None:
        self._requested += 1
        ticket = self._requested
        async with self._lock:
            if self._done >= ticket:
                return
            covers = self._requested
            try:
                if self._connection is None or self._connection.is_closed():
                    self._connection = await self._connect()
                await seal_pass(self._connection)
            except Exception:
                # the events are committed in the outbox; the next pass (any request's, or
                # the one at start-up) seals them. The caller's change has committed, so
                # this must not turn its success into an error.
                log.exception("sealing the event outbox failed; it is retried on the next pass")
                if self._connection is not None:
                    self._connection.terminate()  # a fresh one for the next pass
                    self._connection = None
                return
            self._done = covers
