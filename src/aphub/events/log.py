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

from aphub.db import WriteUnit
from aphub.db.sql import compiled
from aphub.db.units import WAL_POSITION
from aphub.ids import uuid7

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
    unit: WriteUnit,
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
    unit.pending_events.append(event)
    unit.before_commit(write_outbox)
    return event


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


# An INSERT of one outbox row from the parameters `outbox_values` names (`:event_<column>`),
# to run as a part of the statement that writes the change: the change and its event are
# then one round trip, not two.
OUTBOX_INSERT = (
    f"INSERT INTO event_outbox ({', '.join(OUTBOX_COLUMNS)}) "  # noqa: S608 - no input
    f"VALUES ({', '.join(f':event_{c}' for c in OUTBOX_COLUMNS)})"
)


def outbox_values(
    *,
    type: str,
    subject_type: str,
    subject_id: uuid.UUID,
    actor: Actor,
    data: dict[str, Any],
    child_id: uuid.UUID | None,
    subject_version: int | None,
) -> dict[str, Any]:
    """The parameters of `OUTBOX_INSERT` for one event (its data as JSON text, as the
    connection takes JSONB). The caller runs the statement and then calls
    `unit.appended_events()`. Only for changes serialised by a row lock held until commit:
    the outbox orders a subject's events by insertion, so every event of such a subject
    must be written this way, not queued by `record` to be written at commit."""
    return {
        "event_id": uuid7(),
        "event_type": type,
        "event_occurred_at": datetime.now(UTC),
        "event_actor_organisation_id": actor.organisation_id,
        "event_actor_client_id": actor.client_id,
        "event_subject_type": subject_type,
        "event_subject_id": subject_id,
        "event_subject_version": subject_version,
        "event_child_id": child_id,
        "event_data": orjson.dumps(data, option=orjson.OPT_UTC_Z).decode(),
    }


_OUTBOX_MANY = (
    f"INSERT INTO event_outbox ({', '.join(OUTBOX_COLUMNS)}) "  # noqa: S608 - no input
    "SELECT * FROM unnest(:ids::uuid[], :types::text[], :occurred::timestamptz[], "
    ":actor_organisations::uuid[], :actor_clients::text[], :subject_types::text[], "
    ":subject_ids::uuid[], :subject_versions::int[], :child_ids::uuid[], :data::jsonb[])"
)


# Events per INSERT: a job raising concerns across a national data set queues millions,
# and one statement carrying them all is over PostgreSQL's 1 GB limit for a message.
OUTBOX_CHUNK = 5_000


async def write_outbox(unit: WriteUnit) -> None:
    """Insert the unit's queued events into the outbox, last thing in its transaction
    (in statements of at most `OUTBOX_CHUNK` events, in the order they were queued)."""
    pending, unit.pending_events = unit.pending_events, []
    if not pending:
        return
    for start in range(0, len(pending), OUTBOX_CHUNK):
        chunk = pending[start : start + OUTBOX_CHUNK]
        await unit.execute(
            _OUTBOX_MANY,
            ids=[e.id for e in chunk],
            types=[e.type for e in chunk],
            occurred=[e.occurred_at for e in chunk],
            actor_organisations=[e.actor.organisation_id for e in chunk],
            actor_clients=[e.actor.client_id for e in chunk],
            subject_types=[e.subject_type for e in chunk],
            subject_ids=[e.subject_id for e in chunk],
            subject_versions=[e.subject_version for e in chunk],
            child_ids=[e.child_id for e in chunk],
            data=[orjson.dumps(e.data, option=orjson.OPT_UTC_Z).decode() for e in chunk],
        )
    unit.appended_events()


# The chain moves only through two functions that run as the schema's owner (migration
# 0021): the application role reads the log but cannot write it directly. The head's row
# lock is taken by the first and held until the pass commits.
_HEAD = "SELECT seq, hash FROM event_log_head()"
_OUTBOX = (
    "SELECT n, id, type, occurred_at, actor_organisation_id, actor_client_id, subject_type, "
    "subject_id, subject_version, child_id, data::text AS data FROM event_outbox "
    "WHERE n > :after ORDER BY n LIMIT :batch"
)
# A batch in one statement: these outbox rows into the chain after its head, in this
# order, with these hashes; out of the outbox; and the head moved on.
_SEAL = "SELECT event_log_seal(:moved::bigint[], :hashes::text[])"


async def seal_pass(connection: Any, batch: int = 5000) -> int:
    """Move committed outbox rows into the chain, in one transaction on this asyncpg
    connection; the count moved.

    The chain head's row lock makes this the only writer of the chain, and the pass
    commits before the next one can read the outbox, so `seq` order is commit order: a
    feed reader polling `after=seq` never misses an event that is sealed later with a
    lower number.
    """
    sealed = 0
    outbox_sql, seal_sql = compiled(_OUTBOX), compiled(_SEAL)
    # Each batch reads on from the last row the pass moved: the rows it deleted stay in
    # the index until the pass commits, and reading from the start again would step over
    # all of them (a pass over millions of events, a national concerns run, went
    # quadratic). A row with a lower `n` committing meanwhile waits for the next pass.
    after = 0
    async with connection.transaction():
        head = await connection.fetchrow(_HEAD)  # waits for any other pass to commit
        seq, prev = int(head["seq"]), str(head["hash"])
        while True:
            outbox = await connection.fetch(
                outbox_sql.sql, *outbox_sql.args({"batch": batch, "after": after})
            )
            if not outbox:
                break
            after = outbox[-1]["n"]
            hashes: list[str] = []
            for row in outbox:
                seq += 1
                fields = {k: row[k] for k in OUTBOX_COLUMNS}
                fields["data"] = orjson.loads(row["data"])
                prev = chain_hash(prev, hashed_fields(**fields, seq=seq))
                hashes.append(prev)
            # by key, never by range: a row with a lower `n` may commit after this read
            moved = [row["n"] for row in outbox]
            moved_to = await connection.fetchval(
                seal_sql.sql, *seal_sql.args({"moved": moved, "hashes": hashes})
            )
            if moved_to != seq:  # the head moved under the pass: its lock says it cannot
                raise RuntimeError("the event chain's head moved during a sealing pass")
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

    def __init__(
        self, connect: Callable[[], Awaitable[Any]], *, track_position: bool = False
    ) -> None:
        self._connect = connect  # opens an asyncpg connection
        self._connection: Any = None
        self._lock = asyncio.Lock()
        self._requested = 0
        self._done = 0
        # with read replicas: where the primary's WAL was after the last pass
        self._track_position = track_position
        self.position = 0

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                connection, self._connection = self._connection, None
                await connection.close()

    async def seal(self) -> int | None:
        """Wait until the events committed before this call are sealed; where the
        primary's WAL was then (when tracked), or None if they could not be sealed."""
        self._requested += 1
        ticket = self._requested
        async with self._lock:
            if self._done >= ticket:
                return self.position
            covers = self._requested
            try:
                if self._connection is None or self._connection.is_closed():
                    self._connection = await self._connect()
                await seal_pass(self._connection)
                if self._track_position:
                    self.position = int(await self._connection.fetchval(WAL_POSITION))
            except Exception:
                # the events are committed in the outbox; the next pass (any request's, or
                # the one at start-up) seals them. The caller's change has committed, so
                # this must not turn its success into an error.
                log.exception("sealing the event outbox failed; it is retried on the next pass")
                if self._connection is not None:
                    self._connection.terminate()  # a fresh one for the next pass
                    self._connection = None
                return None
            self._done = covers
            return self.position
