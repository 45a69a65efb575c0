"""The hub's connection pools: plain asyncpg connections, handed to one unit at a time.

A pool of our own rather than asyncpg's: it hands out the connections themselves (the ORM
borrows a unit's connection, `aphub.db.orm`, and keeps its state on it), it costs less per
checkout than asyncpg's proxies, and it turns a database that cannot be reached into
`DatabaseUnavailable` (503) in one place.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

import asyncpg
import orjson

from aphub.errors import Problem

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class DatabaseUnavailable(Problem):
    """The database cannot be reached, or every connection is busy: 503, retry shortly."""

    status = 503

    def __init__(self, detail: str = "The database is unavailable; retry shortly") -> None:
        super().__init__(detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class HubConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection that can carry the ORM's record of it (`aphub.db.orm`)."""

    __slots__ = ("orm_record",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.orm_record: Any = None


def _jsonb_encoder(text: str) -> bytes:
    return b"\x01" + text.encode()  # the binary jsonb format's version byte, then the text


def _jsonb_decoder(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def set_codecs(connection: asyncpg.Connection) -> None:
    """The same on every connection, whoever uses it: `jsonb` values as Python objects
    (what the ORM expects; parameters are JSON text), `json` left as text (what the
    statements that build a response's JSON in PostgreSQL pass straight through)."""
    await connection.set_type_codec(
        "jsonb",
        encoder=_jsonb_encoder,
        decoder=_jsonb_decoder,
        schema="pg_catalog",
        format="binary",
    )


# asyncpg's and the OS's ways of saying the server is not there (or went away)
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    ConnectionError,
)


def is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.InterfaceError):
        # misuse (another operation in progress) is the hub's fault, not an outage
        return "connection is closed" in str(exc) or "connection was closed" in str(exc)
    return isinstance(exc, CONNECTION_ERRORS)


class ConnectionPool:
    """At most `size` connections to `dsn`, opened when first needed and kept open."""

    def __init__(
        self,
        dsn: str,
        size: int,
        *,
        server_settings: dict[str, str],
        statement_cache_size: int = 100,
        acquire_timeout: float = 10.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self._dsn = dsn
        self._settings = server_settings
        # 0: no named prepared statements at all (asyncpg then uses the unnamed one, which
        # a pooler in transaction mode keeps on one server connection: it is parsed and
        # run before the Sync that ends the exchange)
        self._statement_cache_size = statement_cache_size
        self._slots = asyncio.Semaphore(size)
        self._idle: deque[HubConnection] = deque()
        self._acquire_timeout = acquire_timeout
        self._connect_timeout = connect_timeout
        self.size = size
        self.in_use = 0
        self.taken = 0  # checkouts since the pool was made

    @property
    def idle(self) -> int:
        return len(self._idle)

    async def connect(self) -> HubConnection:
        """A connection of its own, set up as the pool's are (not counted in the pool)."""
        try:
            connection: HubConnection = await asyncpg.connect(
                self._dsn,
                server_settings=self._settings,
                statement_cache_size=self._statement_cache_size,
                connection_class=HubConnection,
                timeout=self._connect_timeout,
            )
            await set_codecs(connection)
        except BaseException as exc:
            # at start-up any refusal by the server (not accepting connections, starting up,
            # shutting down, too many clients) means the database is not there for us now
            if isinstance(exc, (*CONNECTION_ERRORS, TimeoutError, asyncpg.PostgresError)):
                log.warning("cannot connect to the database: %s", type(exc).__name__)
                raise DatabaseUnavailable() from exc
            raise
        return connection

    async def acquire(self) -> HubConnection:
        self.taken += 1
        if self._slots.locked():
            try:  # a deadline, not `wait_for`: no task of its own for every waiter
                async with asyncio.timeout(self._acquire_timeout):
                    await self._slots.acquire()
            except TimeoutError:
                raise DatabaseUnavailable(
                    "Every database connection is busy; retry shortly"
                ) from None
        else:
            await self._slots.acquire()
        try:
            while self._idle:
                connection = self._idle.pop()  # the most recently used: its caches are warm
                if not connection.is_closed():
                    self.in_use += 1
                    return connection
            connection = await self.connect()
        except BaseException:
            self._slots.release()
            raise
        self.in_use += 1
        return connection

    def release(self, connection: HubConnection, *, discard: bool = False) -> None:
        """Back into the pool, or closed if `discard` (its state is unknown: a statement
        was interrupted) or if it is closed already."""
        self.in_use -= 1
        if discard or connection.is_closed() or connection.is_in_transaction():
            connection.terminate()
        else:
            self._idle.append(connection)
        self._slots.release()

    def expire_idle(self) -> None:
        """Close the idle connections: after a connection failed, the others to the same
        server are likely dead too, and each would fail one more request."""
        while self._idle:
            self._idle.pop().terminate()

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().close()


def ended_while_idle(exc: BaseException) -> bool:
    """A connection the server ended while it sat idle in the pool (a restart,
    `pg_terminate_backend`) can leave asyncpg's protocol still consuming the server's
    error: the next statement fails with an internal client error, not a closed
    connection. A unit runs one statement at a time, so on its connection this means the
    connection is lost, not misused."""
    return isinstance(exc, asyncpg.exceptions._base.InternalClientError) and (
        "cannot switch to state" in str(exc)
    )
