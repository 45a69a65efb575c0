"""Appending to the event log.

Services call `record(...)` next to the change it describes; the events are sealed into
the hash chain by a hook that runs last in the same transaction, just before commit. The
chain head row is locked only for that final step, so appends are serialised (the chain
never forks, and `seq` order is commit order: a feed reader polling `after=seq` can
never miss an event that commits later with a lower number) while the rest of each
transaction runs concurrently.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import insert, text

from aphub.db import UnitOfWork
from aphub.ids import uuid7
from aphub.models.events import Event


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
    uow.before_commit(seal)
    return event


def pending_events(uow: UnitOfWork) -> list[PendingEvent]:
    return list(uow.state.get("pending_events", []))


async def seal(uow: UnitOfWork) -> None:
    pending: list[PendingEvent] = uow.state.pop("pending_events", [])
    if not pending:
        return
    session = uow.session
    head = (
        await session.execute(
            text("SELECT seq, hash FROM event_chain_head WHERE id = 1 FOR UPDATE")
        )
    ).one()
    seq, prev = int(head.seq), str(head.hash)
    rows = []
    for event in pending:
        seq += 1
        columns: dict[str, Any] = {
            "id": event.id,
            "seq": seq,
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
        digest = chain_hash(prev, hashed_fields(**columns))
        rows.append({**columns, "prev_hash": prev, "hash": digest})
        prev = digest
    await session.execute(insert(Event), rows)
    await session.execute(
        text("UPDATE event_chain_head SET seq = :seq, hash = :hash WHERE id = 1"),
        {"seq": seq, "hash": prev},
    )
