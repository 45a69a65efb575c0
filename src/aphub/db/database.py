"""The database of one process: its pools (writes, reads, and reads on each replica), the
ORM engine that borrows from them, and the sealer of the event log.

Each pool's connections take their role when they open (`SET ROLE` as a startup
parameter): the application role for writes, the read role for reads, whoever the login
is. A pooler in transaction mode cannot keep a session's role: there the logins must be
the roles themselves (`APHUB_DATABASE_URL` the application role's, `APHUB_DATABASE_READ_URL`
the read role's) and the pooler told to ignore the parameter; `check_roles` refuses to
start a hub whose connections would act as anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

from aphub.config import Settings
from aphub.db.access import AccessRecorder
from aphub.db.embedded import libpq_url
from aphub.db.orm import create_orm_engine
from aphub.db.pool import ConnectionPool, DatabaseUnavailable, HubConnection
from aphub.db.replicas import Replicas
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
        self.app_role = settings.database_app_role
        self.read_role = settings.database_read_role
        prepared = settings.database_prepared_statements
        cache = 100 if prepared else 0
        reading = {**_STATEMENT_SETTINGS, "role": self.read_role}

        def read_pool(read_url: str) -> ConnectionPool:
            return ConnectionPool(
                libpq_url(read_url),
                settings.db_pool_size,
                server_settings=reading,
                statement_cache_size=cache,
            )

        self.reads = read_pool(settings.database_read_url or url)
        self.writes = ConnectionPool(
            libpq_url(url),
            settings.db_pool_size,
            server_settings={**_STATEMENT_SETTINGS, "role": self.app_role},
            statement_cache_size=cache,
        )
        replica_urls = settings.replica_urls
        self.replicas = Replicas([read_pool(u) for u in replica_urls]) if replica_urls else None
        self.orm = create_orm_engine(url, prepared_statements=prepared)
        # the audit rows of read units, written in batches on the primary (as the read role)
        self.access_log = AccessRecorder(self.reads)
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

    def reading(self, client: str | None = None) -> ReadUnit:
        """`async with database.reading() as unit:` statements that read, each on its own.
        With read replicas, a unit for an API `client` reads one of them unless that
        client's last write is not there yet; other units read the primary."""
        return ReadUnit(self, self.reads, client)

    def writing(self, client: str | None = None) -> WriteUnit:
        """`async with database.writing() as unit:` one transaction, committed at the end
        (for an API `client`: remembered, so that its next reads see it)."""
        return WriteUnit(self, self.writes, client)

    async def connect(self) -> HubConnection:
        """A connection of its own, outside the pools (the sealer's, long reads)."""
        return await self.writes.connect()

    async def seal_events(self) -> int | None:
        """Seal committed outbox events into the hash chain, and wait until they are;
        with replicas, where the primary's WAL was after the sealing."""
        if self._sealer is None:
            from aphub.events.log import Sealer  # the event log builds on this package

            self._sealer = Sealer(self.connect, track_position=self.replicas is not None)
        sealed = await self._sealer.seal()
        for listener in self.sealed_listeners:
            listener()
        return sealed

    async def check_roles(self) -> None:
        """Refuse to serve unless writes act as the application role and reads (on the
        primary and every replica) as the read role: a pooler that dropped the role
        parameter for a login that is neither would otherwise go unnoticed."""
        pools = [(self.writes, self.app_role), (self.reads, self.read_role)]
        if self.replicas is not None:
            pools += [(pool, self.read_role) for pool in self.replicas.pools]
        for pool, role in pools:
            connection = await pool.acquire()
            try:
                acting = await connection.fetchval("SELECT current_user")
            finally:
                pool.release(connection)
            if acting != role:
                raise RuntimeError(
                    f"database connections act as role {acting!r} where {role!r} is needed: "
                    "log in as that role, or let its SET ROLE startup parameter through"
                )

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
        await self.access_log.close()
        if self._sealer is not None:
            sealer, self._sealer = self._sealer, None
            await sealer.close()
        await self.reads.close()
        await self.writes.close()
        if self.replicas is not None:
            await self.replicas.close()
        await self.orm.dispose()

    def pools(self) -> dict[str, Any]:
        """What the pools hold now (for metrics)."""
        return {
            name: {"size": pool.size, "in_use": pool.in_use}
            for name, pool in (("reads", self.reads), ("writes", self.writes))
        }
