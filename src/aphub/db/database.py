"""The database of one process: its pools, the ORM engine that borrows from them, and the
sealer of the event log."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

from aphub.config import Settings
from aphub.db.embedded import libpq_url
from aphub.db.orm import create_orm_engine
from aphub.db.pool import ConnectionPool, DatabaseUnavailable, HubConnection
from aphub.db.units import ReadUnit, WriteUnit

if TYPE_CHECKING:
    from aphub.events.log import Sealer

log = logging.getLogger(__name__)

# The statements are fixed shapes whose plans do not depend on their parameters' values;
# re-planning them per call (custom plans for a large list statement take longer than
# running it) is waste.
_STATEMENT_SETTINGS = {"application_name": "aphub", "plan_cache_mode": "force_generic_plan"}


class Database:
    """Two pools of the same size: reads (the read role) and writes. A unit takes one
    connection from one of them for its whole life."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        dsn = libpq_url(url)
        self.reads = ConnectionPool(
            dsn,
            settings.db_pool_size,
            server_settings={**_STATEMENT_SETTINGS, "role": settings.database_read_role},
        )
        self.writes = ConnectionPool(
            dsn, settings.db_pool_size, server_settings=_STATEMENT_SETTINGS
        )
        self.orm = create_orm_engine(url)
        self._sealer: Sealer | None = None
        # called with the text of every statement any unit runs (tests count them)
        self.observers: list[Callable[[str], None]] = []
        # called after each sealing pass this process waited for (the webhook job wakes)
        self.sealed_listeners: list[Callable[[], None]] = []
        event.listen(self.orm.sync_engine, "before_cursor_execute", self._orm_statement)

    def _orm_statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        for observer in self.observers:
            observer(statement)

    @contextmanager
    def observing(self) -> Iterator[list[str]]:
        """Every statement run while the block runs, raw or through the ORM, in order."""
        seen: list[str] = []
        self.observers.append(seen.append)
        try:
            yield seen
        finally:
            self.observers.remove(seen.append)

    def connections_taken(self) -> int:
        """How many connections units have taken from the pools so far (tests: no SQL
        means no checkout)."""
        return self.reads.taken + self.writes.taken

    def reading(self) -> ReadUnit:
        """`async with database.reading() as unit:` statements that read, each on its own."""
        return ReadUnit(self, self.reads)

    def writing(self) -> WriteUnit:
        """`async with database.writing() as unit:` one transaction, committed at the end."""
        return WriteUnit(self, self.writes)

    async def connect(self) -> HubConnection:
        """A connection of its own, outside the pools (the sealer's, long reads)."""
        return await self.writes.connect()

    async def seal_events(self) -> None:
        """Seal committed outbox events into the hash chain, and wait until they are."""
        if self._sealer is None:
            from aphub.events.log import Sealer  # the event log builds on this package

            self._sealer = Sealer(self.connect)
        await self._sealer.seal()
        for listener in self.sealed_listeners:
            listener()

    async def ping(self) -> bool:
        try:
            async with self.reading() as unit:
                await unit.fetchval("SELECT 1")
            return True
        except DatabaseUnavailable:
            return False
        except Exception:  # any failure means "not ready"; the probe only reports it
            log.warning("database ping failed", exc_info=True)
            return False

    async def dispose(self) -> None:
        """Close every connection. The database opens new ones if used again (an ASGI
        server may run the lifespan more than once)."""
        if self._sealer is not None:
            sealer, self._sealer = self._sealer, None
            await sealer.close()
        await self.reads.close()
        await self.writes.close()
        await self.orm.dispose()

    def pools(self) -> dict[str, Any]:
        """What the pools hold now (for metrics)."""
        return {
            name: {"size": pool.size, "in_use": pool.in_use}
            for name, pool in (("reads", self.reads), ("writes", self.writes))
        }
