"""`aphub verify-log`: recompute the hash chain and name the first event that breaks it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aphub.db import Database
from aphub.events.log import chain_hash, hashed_fields
from aphub.models.events import GENESIS_HASH

_BATCH = 5000
_EVENTS = (
    "SELECT id, seq, type, occurred_at, actor_organisation_id, actor_client_id, subject_type, "
    "subject_id, subject_version, child_id, data, prev_hash, hash FROM events "
    "WHERE seq > :after ORDER BY seq LIMIT :batch"
)


@dataclass(frozen=True)
class Verification:
    checked: int
    first_bad_seq: int | None = None
    first_bad_id: str | None = None
    reason: str | None = None
    # committed events not yet sealed into the chain (the sealer's next pass takes them)
    unsealed: int = 0

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


async def verify_chain(
    database: Database, after: int = 0, progress: Callable[[int], None] | None = None
) -> Verification:
    """Recompute the chain from the start, or from the event `after` (trusting its stored
    hash: a check of what was appended since a point already verified), streaming it in
    batches; `progress` hears the count checked every million events."""
    prev, checked, last_seq = GENESIS_HASH, 0, after
    async with database.reading() as unit:
        if after:
            stored = await unit.fetchval("SELECT hash FROM events WHERE seq = :seq", seq=after)
            if stored is None:
                return Verification(0, after, None, "no event has that sequence number")
            prev = str(stored)
        while True:
            rows = await unit.fetch(_EVENTS, after=last_seq, batch=_BATCH)
            if not rows:
                break
            for row in rows:
                fields = {k: v for k, v in row.items() if k not in ("prev_hash", "hash")}
                if row["prev_hash"] != prev:
                    return Verification(
                        checked, row["seq"], str(row["id"]), "prev_hash does not match the chain"
                    )
                if chain_hash(prev, hashed_fields(**fields)) != row["hash"]:
                    return Verification(
                        checked, row["seq"], str(row["id"]), "content does not match its hash"
                    )
                prev, last_seq, checked = row["hash"], row["seq"], checked + 1
                if progress is not None and checked % 1_000_000 == 0:
                    progress(checked)
        head = await unit.fetchrow("SELECT seq, hash FROM event_chain_head")
        unsealed = int(await unit.fetchval("SELECT count(*) FROM event_outbox") or 0)
    if head is not None and (head["seq"] != last_seq or head["hash"] != prev):
        return Verification(
            checked, last_seq + 1, None, "events are missing from the end", unsealed
        )
    return Verification(checked, unsealed=unsealed)
