"""Units of work: the only way a request, job or command reaches the database.

A unit's mode is fixed when it opens:

- a `ReadUnit` runs each statement on its own (autocommit) on a connection of the read
  pool, whose role may read every table and write nothing but the access log
  (migration 0014): a write through a read unit fails loudly. The audit rows of the
  children it read (`record_access`) are written when it ends, together with other
  units' (`aphub.db.access`), and the unit waits until they are committed. With read
  replicas (`aphub.db.replicas`) a read unit for an API client reads a replica, unless
  that client has just written; a statement that writes (an audited read whose
  access-log row rides in it) still runs on the primary, on a second connection the
  unit takes when it first needs it;
- a `WriteUnit` is one transaction on a connection of the write pool. It begins with its
  first statement, commits when its block ends without error (writing its events to the
  outbox and any Idempotency-Key answer first) and rolls back otherwise, then runs the
  statements that must hold whatever happened (`after_rollback`: the audit of child reads,
  which `record_access` writes in the transaction).

Statements name their parameters (`aphub.db.sql`). An ORM session, where one is clearer,
is the unit's own (`unit.session`), on the unit's connection and in its transaction.
Statements never overlap on a connection: GraphQL resolves fields concurrently, so every
statement and ORM call holds the unit's lock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from aphub.db.access import INSERT as ACCESS_INSERT
from aphub.db.access import AccessRecord, insert_params
from aphub.db.orm import borrowed
from aphub.db.pool import (
    ConnectionPool,
    DatabaseUnavailable,
    HubConnection,
    ended_while_idle,
    is_connection_error,
)
from aphub.db.session import TaskLock, UnitSession
from aphub.db.sql import Statement, compiled, one_row_select, riding_claim

# where the primary's WAL is now (`aphub.db.replicas`)
WAL_POSITION = "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint"

if TYPE_CHECKING:
    from aphub.db.database import Database
    from aphub.events.log import PendingEvent
    from aphub.idempotency import KeyClaim

log = logging.getLogger(__name__)

Record = Mapping[str, Any]


class ReadUnit:
    """Reads, each statement standing alone, on a read-pool connection (see the module)."""

    # whether statements run in a transaction that may yet roll back
    transactional = False

    def __init__(self, database: Database, pool: ConnectionPool, client: str | None = None) -> None:
        self.database = database
        self.client = client  # the API client the unit works for (replicas: read-your-writes)
        self._pool = pool
        self._connection: HubConnection | None = None
        # on a replica: the primary's read connection for statements that write
        self._primary: HubConnection | None = None
        self.lock = TaskLock()
        self._session: UnitSession | None = None
        self._discard = False
        self._accesses: list[AccessRecord] = []

    async def __aenter__(self) -> ReadUnit:
        replicas = self.database.replicas
        if replicas is not None and self.client is not None and not self.transactional:
            taken = await replicas.acquire(self.client)
            if taken is not None:
                self._pool, self._connection = taken
                return self
        self._connection = await self._pool.acquire()
        return self

    @property
    def on_replica(self) -> bool:
        return self._pool is not self.database.reads and not self.transactional

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._release()
        finally:
            # denied reads too: the block may have ended with a 404
            accesses, self._accesses = self._accesses, []
            if accesses:
                await self.database.access_log.record(accesses)

    @property
    def connection(self) -> HubConnection:
        if self._connection is None:
            raise RuntimeError("the unit is not open")
        return self._connection

    @property
    def session(self) -> AsyncSession:
        """The unit's ORM session (created when first used)."""
        if self._session is None:
            self._session = UnitSession(self)
        return self._session

    # --- statements --------------------------------------------------------------------

    async def fetch(self, sql: str, /, **params: Any) -> list[asyncpg.Record]:
        async with self.lock:
            await self._before_statement()
            rows: list[asyncpg.Record] = await self._run("fetch", sql, params)
            return rows

    async def fetchrow(self, sql: str, /, **params: Any) -> Any:
        async with self.lock:
            await self._before_statement()
            return await self._run("fetchrow", sql, params)

    async def fetchval(self, sql: str, /, **params: Any) -> Any:
        async with self.lock:
            await self._before_statement()
            return await self._run("fetchval", sql, params)

    async def execute(self, sql: str, /, **params: Any) -> str:
        async with self.lock:
            await self._before_statement()
            status: str = await self._run("execute", sql, params)
            return status

    def after_rollback(self, sql: str, /, **params: Any) -> None:
        """A statement that must hold even if the unit's work is undone. Nothing to keep
        here: a read unit's statements stand alone, and each is durable as it returns."""

    async def record_access(self, records: Sequence[AccessRecord]) -> None:
        """The audit of children this unit read: written when the unit ends, with other
        read units' rows, before the unit's block is left (see the module)."""
        self._accesses.extend(records)

    # --- machinery ---------------------------------------------------------------------

    async def _run(self, method: str, sql: str, params: Mapping[str, Any]) -> Any:
        """Run `sql` with asyncpg's `method` (fetch, fetchrow, ...) on the unit's
        connection, or on the primary if the unit reads a replica and `sql` writes."""
        statement = compiled(sql)
        for observer in self.database.observers:
            observer(statement.sql)
        try:
            connection = self.connection
            if statement.writes and self.on_replica:
                connection = await self._primary_connection()
            return await getattr(connection, method)(statement.sql, *statement.args(params))
        except BaseException as exc:
            self._failed_with(exc)
            raise

    async def _primary_connection(self) -> HubConnection:
        if self._primary is None:
            self._primary = await self.database.reads.acquire()
        return self._primary

    def _failed_with(self, exc: BaseException) -> None:
        """A statement failed: a lost connection is a 503 (and the pool's other idle
        connections go too); anything but a database error leaves the connection in a
        state nobody knows, so it is closed rather than reused."""
        if isinstance(exc, asyncpg.PostgresError) and not is_connection_error(exc):
            return
        self._discard = True
        # a connection the server ended can fail with a client error of asyncpg's own
        # (another operation in progress) rather than a connection error, before it knows
        # it is closed. A unit runs one statement at a time on a connection of its own (its
        # lock), and an interrupted statement's connection is never reused: so here that
        # error can only mean the connection is gone
        lost = (self._connection is not None and self._connection.is_closed()) or (
            isinstance(exc, asyncpg.InterfaceError) and "another operation" in str(exc)
        )
        if is_connection_error(exc) or lost or ended_while_idle(exc):
            self._pool.expire_idle()
            if self._primary is not None:
                self.database.reads.expire_idle()
            raise DatabaseUnavailable() from exc

    async def _flush_orm(self) -> None:
        session = self._session
        if session is not None and (session.new or session.dirty or session.deleted):
            await session.flush()

    async def _before_statement(self) -> None:
        await self._flush_orm()

    async def _ready_for_orm(self) -> None:
        """What must happen before the ORM runs a statement (a write unit begins)."""

    async def _release(self) -> None:
        primary, self._primary = self._primary, None
        if primary is not None:
            self.database.reads.release(primary, discard=self._discard)
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if self._session is not None:
                session, self._session = self._session, None
                token = borrowed.set(connection)
                try:
                    await AsyncSession.close(session)
                finally:
                    borrowed.reset(token)
        finally:
            self._pool.release(connection, discard=self._discard)


BeforeCommit = Callable[["WriteUnit"], Awaitable[None]]


class WriteUnit(ReadUnit):
    """One transaction (see the module)."""

    transactional = True

    def __init__(self, database: Database, pool: ConnectionPool, client: str | None = None) -> None:
        super().__init__(database, pool, client)
        self._begun = False
        self._failed = False
        self._claim: KeyClaim | None = None
        self._before_commit: list[BeforeCommit] = []
        self._after_rollback: list[tuple[str, Mapping[str, Any]]] = []
        self.pending_events: list[PendingEvent] = []
        self.events_appended = False
        self.committed = False

    async def __aenter__(self) -> WriteUnit:
        await super().__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        position = 0
        try:
            if exc_info[1] is None:
                try:
                    await self.commit()
                except BaseException:
                    await self._rollback()
                    raise
            else:
                await self._rollback()
            if self.committed and self._remembered():
                position = await self._wal_position()
        finally:
            await self._release()
        if self.committed and self.events_appended:
            sealed_at = await self.database.seal_events()
            position = max(position, sealed_at or 0)
        replicas = self.database.replicas
        if position and replicas is not None and self.client is not None:
            replicas.wrote(self.client, position)

    async def _wal_position(self) -> int:
        """Where the primary's WAL is, just after this unit committed (0 if it cannot be
        said: the change is committed whatever happens here)."""
        try:
            return int(await self.connection.fetchval(WAL_POSITION))
        except Exception:
            log.warning("the WAL position after a commit is unknown", exc_info=True)
            self._discard = True
            return 0

    def _remembered(self) -> bool:
        """Whether where this write left the WAL is kept, for read-your-writes."""
        return self.client is not None and self.database.replicas is not None

    # --- what a change needs of its unit -------------------------------------------------

    def fail(self) -> None:
        """Roll back instead of committing when the block ends (a GraphQL request whose
        execution raised an error still returns normally)."""
        self._failed = True

    def before_commit(self, hook: BeforeCommit) -> None:
        """Run `hook` last in the transaction, before it commits (once, however often
        it is asked for)."""
        if hook not in self._before_commit:
            self._before_commit.append(hook)

    def after_rollback(self, sql: str, /, **params: Any) -> None:
        """A statement that must hold even if this transaction rolls back (the audit of a
        child read), run on its own after the rollback."""
        self._after_rollback.append((sql, params))

    async def record_access(self, records: Sequence[AccessRecord]) -> None:
        """The audit of children this unit read, in its transaction; written again on its
        own if the transaction rolls back (a read is audited whatever the write did)."""
        if records:
            params = insert_params(records)
            await self.execute(ACCESS_INSERT, **params)
            self.after_rollback(ACCESS_INSERT, **params)

    def appended_events(self) -> None:
        """The unit's own statements wrote outbox rows: seal them once it commits."""
        self.events_appended = True

    async def copy_records(
        self, table: str, records: Iterable[Sequence[Any]], columns: Sequence[str]
    ) -> None:
        """Rows by COPY, in the unit's transaction (bulk attendance returns)."""
        async with self.lock:
            await self._before_statement()
            try:
                await self.connection.copy_records_to_table(
                    table, records=records, columns=list(columns)
                )
            except BaseException as exc:
                self._failed_with(exc)
                raise

    # --- Idempotency-Key -------------------------------------------------------------------

    def claim_idempotency_key(self, claim: KeyClaim) -> None:
        """Claim the request's key in this transaction. The claim rides on the unit's first
        statement when that is a one-row SELECT (a transition's row lock), else it runs on
        its own first; it replays or refuses what an earlier request left under the key."""
        self._claim = claim

    def keep_response(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        """The answer to keep under the request's key when the unit commits, unless a
        statement kept it already (`answer`)."""
        if self._claim is not None:
            self._claim.answer(status, body, headers)

    async def answer(
        self,
        statement: Statement,
        *,
        status: int,
        body: str = "body",
        etag: bool = False,
        **params: Any,
    ) -> Any:
        """Run `statement`, whose row is the request's answer (its JSON text in column
        `body`, and `version` for the ETag when `etag`). With an Idempotency-Key, the same
        statement keeps that answer under it: no round trip of its own."""
        claim = self._claim
        if claim is None or claim.kept:
            return await self.fetchrow(statement.sql, **params)
        keeping = claim.keeping(statement, status=status, body=body, etag=etag)
        row = await self.fetchrow(keeping.sql, **params, **claim.params())
        claim.kept_by_statement(row)
        return row

    # --- machinery ---------------------------------------------------------------------------

    async def fetchrow(self, sql: str, /, **params: Any) -> Any:
        claim = self._claim
        if claim is None or claim.checked or not one_row_select(sql):
            return await super().fetchrow(sql, **params)
        async with self.lock:
            await self._flush_orm()
            await self._begin()
            if claim.checked:  # another task's statement carried it meanwhile
                return await self._run("fetchrow", sql, params)
            row = await self._run(
                "fetchrow", riding_claim(sql, claim.sql), {**params, **claim.params()}
            )
            claim.check(row)
            if not row["target_found"]:
                return None
            skip = {*claim.columns, "target_found"}
            return {name: value for name, value in row.items() if name not in skip}

    async def _begin(self) -> None:
        if not self._begun:
            self._begun = True
            try:
                await self.connection.execute("BEGIN")
            except BaseException as exc:
                self._begun = False
                self._failed_with(exc)
                raise

    async def _check_claim(self) -> None:
        claim = self._claim
        if claim is not None and not claim.checked:
            claim.check(await self._run("fetchrow", claim.sql, claim.params()))

    async def _before_statement(self) -> None:
        await self._flush_orm()
        await self._begin()
        await self._check_claim()

    async def _ready_for_orm(self) -> None:
        await self._begin()
        await self._check_claim()

    async def commit(self) -> None:
        if self._failed:
            await self._rollback()
            return
        async with self.lock:
            await self._flush_orm()
            if self._claim is not None:
                await self._before_statement()
            for hook in list(self._before_commit):
                await hook(self)
            await self._flush_orm()  # what the hooks added through the ORM
            claim = self._claim
            if claim is not None and not claim.kept:
                await claim.keep(self)
            if self._begun:
                try:
                    await self.connection.execute("COMMIT")
                except BaseException as exc:
                    self._failed_with(exc)
                    raise
            self.committed = True

    async def _rollback(self) -> None:
        connection = self._connection
        if connection is None:
            return
        if self._begun and not connection.is_closed() and connection.is_in_transaction():
            try:
                await connection.execute("ROLLBACK")
            except BaseException:
                log.warning("rollback failed; the connection is closed", exc_info=True)
                self._discard = True
                return
        self._begun = False
        pending, self._after_rollback = self._after_rollback, []
        for sql, params in pending:
            statement = compiled(sql)
            try:
                await connection.execute(statement.sql, *statement.args(params))
            except BaseException:
                log.error("a statement kept after a rollback failed", exc_info=True)
                self._discard = True
                return
