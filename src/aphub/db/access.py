"""The access log's group commit: the audit rows of the child reads made in read units,
written together.

A read unit's statements stand alone. The audit row of what one read used to ride in the
statement that read, which made every child read a write transaction with a commit of
its own: at 100,000 children that was 0.25 ms of PostgreSQL's time per read, twice the
read itself. A read unit now hands its audit rows to the recorder when it ends and waits
until they are committed, so an answer still leaves only once the audit of what it shows
is durable (and a read whose audit cannot be written fails, as before). While one batch
is being written the next gathers: concurrent reads share one INSERT and one commit.

A write unit records its reads in its own transaction instead (`WriteUnit.record_access`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aphub.db.pool import ConnectionPool, DatabaseUnavailable, is_connection_error
from aphub.db.sql import compiled
from aphub.ids import uuid7


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One row of the access log: who read which children, how, with what outcome, under
    which rules and categories of which policy. `at` is when the read was decided."""

    organisation_id: uuid.UUID
    client_id: str
    child_ids: Sequence[uuid.UUID]
    action: str
    surface: str
    outcome: str
    rules: Sequence[str]
    categories: Sequence[str]
    policy_version: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


# Any number of rows in one prepared statement: an array per column, the array columns
# (children, rules, categories) as array literals cast back on the way in.
INSERT = (
    "INSERT INTO access_log (id, at, organisation_id, client_id, child_ids, action, surface, "
    "outcome, rules, categories, policy_version) "
    "SELECT r.id, r.at, r.org, r.client, r.children::uuid[], r.action, r.surface, r.outcome, "
    "r.rules::varchar[], r.categories::varchar[], r.policy "
    "FROM unnest(:ids::uuid[], :at::timestamptz[], :orgs::uuid[], :clients::text[], "
    ":children::text[], :actions::text[], :surfaces::text[], :outcomes::text[], "
    ":rules::text[], :categories::text[], :policies::text[]) "
    "AS r(id, at, org, client, children, action, surface, outcome, rules, categories, policy)"
)


def _literal(values: Iterable[object]) -> str:
    """A PostgreSQL array literal of `values` as text, each element quoted."""
    quoted = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def insert_params(records: Sequence[AccessRecord]) -> dict[str, list[Any]]:
    """The parameters of `INSERT` for `records`."""
    return {
        "ids": [uuid7() for _ in records],
        "at": [r.at for r in records],
        "orgs": [r.organisation_id for r in records],
        "clients": [r.client_id for r in records],
        "children": [_literal(r.child_ids) for r in records],
        "actions": [r.action for r in records],
        "surfaces": [r.surface for r in records],
        "outcomes": [r.outcome for r in records],
        "rules": [_literal(r.rules) for r in records],
        "categories": [_literal(r.categories) for r in records],
        "policies": [r.policy_version for r in records],
    }


def _retrieve(future: asyncio.Future[None]) -> None:
    # a request that stopped waiting (its client went away) leaves its future unread
    if not future.cancelled():
        future.exception()


class AccessRecorder:
    """Writes the access log's rows for read units, one batch at a time (see the module)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._queue: list[tuple[Sequence[AccessRecord], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # how many INSERTs have written rows (tests)

    async def record(self, records: Sequence[AccessRecord]) -> None:
        """Write `records` with whatever other reads are waiting; return once committed."""
        if not records:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)
        self._queue.append((records, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="aphub-access-log")
        # the rows are written even if this request is cancelled while it waits
        await asyncio.shield(future)

    async def _write_all(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self._write([r for records, _ in batch for r in records])
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(
                            exc if isinstance(exc, Exception) else RuntimeError("cancelled")
                        )
                if not isinstance(exc, Exception):
                    raise
            else:
                self.batches += 1
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    async def _write(self, records: list[AccessRecord]) -> None:
        statement = compiled(INSERT)
        connection = await self._pool.acquire()
        discard = True
        try:
            await connection.execute(statement.sql, *statement.args(insert_params(records)))
            discard = False
        except BaseException as exc:
            if is_connection_error(exc) or connection.is_closed():
                self._pool.expire_idle()
                raise DatabaseUnavailable() from exc
            raise
        finally:
            self._pool.release(connection, discard=discard)

    async def close(self) -> None:
        """Wait for the batch being written (the pools close next)."""
        writer, self._writer = self._writer, None
        if writer is not None and not writer.done():
            await asyncio.wait([writer])
