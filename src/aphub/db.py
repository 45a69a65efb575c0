"""The database: where it is, how to reach it, and the unit of work a request owns.

There is one way to get a session: `UnitOfWork`. A request opens one, services
`flush()` through it, and only the unit of work commits, after the handler returned.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import asyncpg
import orjson
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from aphub.config import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "aphub"


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL under `data_dir`; return a libpq URL.

    pgserver keeps one server per data directory and reference-counts its users, so a
    second process on the same directory joins the running server instead of failing.
    """
    import pgserver  # imported lazily: production never starts an embedded server

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(pgdata), cleanup_mode="stop")  # type: ignore[attr-defined]
    socket_dir = parse_qs(urlsplit(server.get_uri()).query)["host"][0]
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';")  # noqa: S608 - a constant
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    return f"postgresql://postgres@/{EMBEDDED_DATABASE}?host={socket_dir}"


def async_url(url: str) -> str:
    """Turn any postgres URL into one SQLAlchemy drives through asyncpg."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return async_url(settings.database_url)
    return async_url(start_embedded_postgres(settings.data_dir))


def create_engine(url: str, settings: Settings) -> AsyncEngine:
    return create_async_engine(
        url,
        # A fixed pool: overflow connections are closed on return, and under load that
        # churn (a new backend, codecs, re-planned statements) cost more than the queries.
        pool_size=settings.db_pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        connect_args={"server_settings": {"application_name": "aphub"}},
        # JSONB through the ORM (event data, outbox rows, stored responses) with the JSON
        # library the rest of the hub uses: the standard library's costs several times more
        # on the large payloads of a bulk return's event
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
    )


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class TaskLock:
    """A lock the holding task may re-enter (AsyncSession's methods call one another)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        if self._owner is task and task is not None:
            self._depth += 1
            return
        await self._lock.acquire()
        self._owner, self._depth = task, 1

    async def __aexit__(self, *_exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


class SerialSession(AsyncSession):
    """A session whose statements never overlap: GraphQL resolves sibling fields (and
    DataLoader batches) concurrently, but one transaction has one connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hub_lock = TaskLock()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        async with self.hub_lock:
            return await super().execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        async with self.hub_lock:
            return await super().scalar(*args, **kwargs)

    async def scalars(self, *args: Any, **kwargs: Any) -> Any:
        async with self.hub_lock:
            return await super().scalars(*args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        async with self.hub_lock:
            return await super().get(*args, **kwargs)

    async def flush(self, *args: Any, **kwargs: Any) -> None:
        async with self.hub_lock:
            await super().flush(*args, **kwargs)

    async def refresh(self, *args: Any, **kwargs: Any) -> None:
        async with self.hub_lock:
            await super().refresh(*args, **kwargs)

    async def delete(self, *args: Any, **kwargs: Any) -> None:
        async with self.hub_lock:
            await super().delete(*args, **kwargs)

    async def commit(self) -> None:
        async with self.hub_lock:
            await super().commit()

    async def rollback(self) -> None:
        async with self.hub_lock:
            await super().rollback()


# The statements run on plain asyncpg connections are fixed shapes whose plans do not
# depend on their parameters' values; re-planning them per call (custom plans for the
# large list statement take longer than running it) is waste.
_STATEMENT_SETTINGS = {"application_name": "aphub", "plan_cache_mode": "force_generic_plan"}


async def _reset_read_connection(connection: Any) -> None:
    """Read-pool connections run autocommit statements or one transaction and change no
    session state, so asyncpg's default reset (RESET ALL, UNLISTEN, CLOSE ALL: a round trip
    on every release) has nothing to undo; only an interrupted transaction is rolled back."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


class Database:
    """The engine and session factory for one process."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.engine = create_engine(url, settings)
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, class_=SerialSession
        )
        self._pool_size = settings.db_pool_size
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._read_pool: Any = None
        self._read_pool_lock = asyncio.Lock()
        self._sealer: Any = None

    async def read_pool(self) -> Any:
        """A plain asyncpg pool for statements that need no ORM session: reads that need no
        transaction of their own (a read with its audit row is one atomic statement), and
        the transactions of `write_unit`. Checking a connection out of it costs a fraction
        of an ORM session's checkout, the largest fixed cost of a read."""
        if self._read_pool is None:
            async with self._read_pool_lock:
                if self._read_pool is None:
                    self._read_pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=1,
                        max_size=self._pool_size,
                        server_settings=_STATEMENT_SETTINGS,
                        reset=_reset_read_connection,
                    )
        return self._read_pool

    async def connect(self) -> Any:
        """A connection of its own, set up as the statement pool's are."""
        return await asyncpg.connect(self._dsn, server_settings=_STATEMENT_SETTINGS)

    async def dispose(self) -> None:
        """Close every connection. Like the engine, the database opens new ones if used
        again (an ASGI server may run the lifespan more than once)."""
        if self._sealer is not None:
            sealer, self._sealer = self._sealer, None
            await sealer.close()
        if self._read_pool is not None:
            pool, self._read_pool = self._read_pool, None
            await pool.close()
        await self.engine.dispose()

    async def seal_events(self) -> None:
        """Seal committed outbox events into the hash chain, and wait until they are."""
        if self._sealer is None:
            from aphub.events.log import Sealer  # the event log builds on this module

            self._sealer = Sealer(self.connect)
        await self._sealer.seal()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        async with self.sessions() as session:
            uow = UnitOfWork(session, self)
            try:
                yield uow
                await uow.commit()
            except BaseException:
                await session.rollback()
                await uow.run_after_rollback()
                raise
            finally:
                await uow.release()
        if uow.state.get("events_written"):
            await self.seal_events()

    @asynccontextmanager
    async def write_unit(self) -> AsyncIterator[WriteUnit]:
        """A `WriteUnit` on a statement-pool connection: it commits when the block ends,
        rolls back if it raises, and the events it wrote are sealed before this returns,
        as `unit_of_work` does."""
        pool = await self.read_pool()
        connection = await pool.acquire()
        unit = WriteUnit(connection)
        try:
            await connection.execute("BEGIN")
            yield unit
            await unit.commit()
        except BaseException:
            await unit.rollback()
            raise
        finally:
            await pool.release(connection)
        if unit.state.get("events_written"):
            await self.seal_events()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # any failure means "not ready"; the probe only reports it
            log.warning("database ping failed", exc_info=True)
            return False


class Reads(Protocol):
    """What a read through the sharing layer needs of its unit: statements, and whether
    they run inside a transaction that may yet roll back."""

    async def fetch(self, sql: str, *args: Any) -> list[Any]: ...

    async def fetchrow(self, sql: str, *args: Any) -> Any: ...

    async def in_transaction(self) -> bool: ...

    def after_rollback(self, sql: str, *args: Any) -> None: ...


class Writes(Reads, Protocol):
    """What a change made in SQL needs of its unit (a placement transition, a review):
    statements in the unit's transaction, state its hooks share, and hooks that run last
    inside the transaction (the kept Idempotency-Key response). `UnitOfWork` is one; a
    `WriteUnit` is the other, for changes that need no ORM session."""

    state: dict[str, Any]

    def before_commit(self, hook: BeforeCommit) -> None: ...

    async def fetchrow_in_transaction(self, sql: str, *args: Any) -> Any:
        """One row of a statement that must run inside the transaction (a row lock)."""
        ...


BeforeCommit = Callable[[Writes], Awaitable[None]]


class ReadUnit:
    """A unit for the hot single-row reads: one read-pool connection in autocommit, no
    session, no transaction (each read and its audit row are one atomic statement)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._conn: Any = None

    async def _connection(self) -> Any:
        if self._conn is None:
            self._conn = await (await self.database.read_pool()).acquire()
        return self._conn

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(await (await self._connection()).fetch(sql, *args))

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return await (await self._connection()).fetchrow(sql, *args)

    async def in_transaction(self) -> bool:
        return False

    def after_rollback(self, sql: str, *args: Any) -> None:
        raise RuntimeError("a read unit has no transaction to roll back")

    async def release(self) -> None:
        if self._conn is not None:
            connection, self._conn = self._conn, None
            await (await self.database.read_pool()).release(connection)


class UnitOfWork:
    """A transaction owned by its caller (a request, a CLI command, a job).

    Services add and flush; hooks registered with `before_commit` (the event log
    writes its outbox there) run last, inside the transaction, so a change and its
    events commit together or not at all.
    """

    def __init__(self, session: AsyncSession, database: Database | None = None) -> None:
        self.session = session
        self.database = database
        self._autocommit: Any = None  # a read-pool connection, until the ORM is used
        self._begun = False
        self.lock = session.hub_lock if isinstance(session, SerialSession) else TaskLock()
        self._before_commit: list[Callable[[UnitOfWork], Awaitable[None]]] = []
        self.state: dict[str, Any] = {}
        self.failed = False
        self._after_rollback: list[tuple[str, tuple[Any, ...]]] = []

    def fail(self) -> None:
        """Roll back instead of committing when the caller finishes (a GraphQL request
        whose execution raised an error still returns normally)."""
        self.failed = True

    def before_commit(self, hook: Callable[[UnitOfWork], Awaitable[None]]) -> None:
        if hook not in self._before_commit:
            self._before_commit.append(hook)

    async def raw(self) -> Any:
        """The asyncpg connection beneath the session, inside this transaction.

        Hot read paths execute prepared SQL on it and build JSON from the rows
        (see performance.md: the ORM round trip costs more than half the budget).
        Until the unit of work's session starts its transaction, that is a connection of
        the read pool in autocommit: each statement stands alone (a read and its audit row
        are one statement). Once the session is in a transaction, it is the session's own
        connection, so raw reads see the unit's pending changes. Hold `uow.lock` while
        using it.
        """
        async with self.lock:
            if self.database is not None and not self.session.in_transaction():
                if self._autocommit is None:
                    pool = await self.database.read_pool()
                    self._autocommit = await pool.acquire()
                return self._autocommit
            conn = await self.session.connection()
            raw = await conn.get_raw_connection()
            return raw.driver_connection

    async def begin(self) -> None:
        """Open the unit's transaction now, for raw statements that write or take
        transaction-scoped locks: they must commit or roll back with everything else."""
        async with self.lock:
            if not self._begun:
                conn = await self.session.connection()
                # SQLAlchemy sends BEGIN before the first statement it executes itself
                await conn.exec_driver_sql("SELECT 1")
                self._begun = True

    async def release(self) -> None:
        if self._autocommit is not None and self.database is not None:
            connection, self._autocommit = self._autocommit, None
            await (await self.database.read_pool()).release(connection)

    async def _flushed(self) -> None:
        # raw reads see the session's pending changes, as an ORM query would (autoflush)
        if self.session.new or self.session.dirty or self.session.deleted:
            await self.session.flush()

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        async with self.lock:
            await self._flushed()
            conn = await self.raw()
            return list(await conn.fetch(sql, *args))

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        async with self.lock:
            await self._flushed()
            conn = await self.raw()
            return await conn.fetchrow(sql, *args)

    async def fetchrow_in_transaction(self, sql: str, *args: Any) -> Any:
        """One row of a statement that must run inside the unit's transaction (a row lock
        lasts until commit). `fetchrow` would run a statement that comes before any other
        in autocommit; here the first statement goes through SQLAlchemy, which sends BEGIN
        ahead of it (no separate round trip), and later ones straight to asyncpg."""
        async with self.lock:
            await self._flushed()  # what the unit has changed so far, as any read sees it
            connection = await self.session.connection()
            driver: Any = (await connection.get_raw_connection()).driver_connection
            if driver.is_in_transaction():
                return await driver.fetchrow(sql, *args)
            rows = (await connection.exec_driver_sql(sql, args)).mappings().all()
            return rows[0] if rows else None

    def after_rollback(self, sql: str, *args: Any) -> None:
        """A statement that must hold even if this transaction rolls back (a denied read is
        audited whether or not the request that attempted it succeeds)."""
        self._after_rollback.append((sql, args))

    async def in_transaction(self) -> bool:
        async with self.lock:
            conn = await self.raw()
            return bool(conn.is_in_transaction())

    async def run_after_rollback(self) -> None:
        pending, self._after_rollback = self._after_rollback, []
        if not pending:
            return
        engine = self.session.bind
        async with engine.connect() as conn:  # type: ignore[union-attr]
            raw: Any = (await conn.get_raw_connection()).driver_connection
            for sql, args in pending:
                await raw.execute(sql, *args)  # autocommit: outside any transaction

    async def commit(self) -> None:
        if self.failed:
            await self.session.rollback()
            await self.run_after_rollback()
            return
        self._after_rollback.clear()  # committed with the transaction itself
        for hook in list(self._before_commit):
            await hook(self)
        await self.session.commit()


@dataclass(frozen=True, slots=True)
class Carried:
    """A statement that rides on a unit's first one, in the same round trip (the
    Idempotency-Key claim on a transition's row lock): a SELECT of one row, its
    parameters, the names of its columns, and the check its row must pass (it raises)."""

    sql: str
    args: tuple[Any, ...]
    check: Callable[[Mapping[str, Any]], None]
    columns: tuple[str, ...]


_FOUND = "carried_target_found"
_JOINED = (
    "SELECT carried.*, EXISTS (SELECT 1 FROM target) AS carried_target_found, target.* "
    "FROM carried LEFT JOIN target ON true"
)


@functools.cache
def _carrying(carried: str, sql: str, shift: int) -> str:
    """`carried` and `sql` as one statement: the carried row, and `sql`'s row if any."""
    shifted = re.sub(r"\$(\d+)", lambda m: f"${int(m.group(1)) + shift}", sql)
    return f"WITH carried AS ({carried}), target AS ({shifted}) {_JOINED}"


class WriteUnit:
    """A transaction on a plain asyncpg connection, for changes made wholly in SQL (the
    placement transitions and reviews): no ORM session, whose checkout, greenlets and
    commit cost more than the statements of such a change. It gives services the same
    statements as `UnitOfWork` (`Writes`); `Database.write_unit` opens and commits it.

    A statement given to `carry` runs with the unit's first statement when that is a
    `fetchrow_in_transaction` (as a transition's row lock is), in one round trip; else on
    its own, before the first."""

    def __init__(self, connection: Any) -> None:
        self._conn = connection
        self.state: dict[str, Any] = {}
        self._before_commit: list[Callable[[WriteUnit], Awaitable[None]]] = []
        self._after_rollback: list[tuple[str, tuple[Any, ...]]] = []
        self._carried: Carried | None = None

    def carry(self, statement: Carried) -> None:
        self._carried = statement

    async def _run_carried(self) -> None:
        statement, self._carried = self._carried, None
        if statement is not None:
            statement.check(await self._conn.fetchrow(statement.sql, *statement.args))

    def before_commit(self, hook: Callable[[WriteUnit], Awaitable[None]]) -> None:
        if hook not in self._before_commit:
            self._before_commit.append(hook)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        await self._run_carried()
        return list(await self._conn.fetch(sql, *args))

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        await self._run_carried()
        return await self._conn.fetchrow(sql, *args)

    async def fetchrow_in_transaction(self, sql: str, *args: Any) -> Any:
        # in the transaction: the unit begins with it
        statement, self._carried = self._carried, None
        if statement is None:
            return await self._conn.fetchrow(sql, *args)
        row = await self._conn.fetchrow(
            _carrying(statement.sql, sql, len(statement.args)), *statement.args, *args
        )
        statement.check(row)
        if not row[_FOUND]:
            return None
        skip = {*statement.columns, _FOUND}
        return {name: value for name, value in row.items() if name not in skip}

    async def in_transaction(self) -> bool:
        return True

    def after_rollback(self, sql: str, *args: Any) -> None:
        """A statement that must hold even if this transaction rolls back."""
        self._after_rollback.append((sql, args))

    async def commit(self) -> None:
        await self._run_carried()
        for hook in list(self._before_commit):
            await hook(self)
        await self._conn.execute("COMMIT")

    async def rollback(self) -> None:
        if self._conn.is_in_transaction():
            await self._conn.execute("ROLLBACK")
        pending, self._after_rollback = self._after_rollback, []
        for sql, args in pending:
            await self._conn.execute(sql, *args)  # autocommit, after the rollback
