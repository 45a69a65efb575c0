"""The ORM on a unit's own connection.

Services that are clearer with the ORM (directory entries, the register) use a session
from their unit (`unit.session`). The session does not check out a connection of its own:
SQLAlchemy's pool here hands it the unit's connection (`borrowed`), in the unit's
transaction, so there is no second connection to forget and nothing the ORM writes can
commit apart from the unit. SQLAlchemy never begins, commits or rolls back: the engine is
in AUTOCOMMIT mode, and the unit owns the transaction.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import orjson
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, Pool
from sqlalchemy.pool.base import _ConnectionRecord

from aphub.db.pool import HubConnection

# The connection of the unit whose session is running a statement (set by `UnitSession`).
borrowed: ContextVar[HubConnection] = ContextVar("aphub.db.borrowed")


async def _borrow() -> HubConnection:
    return borrowed.get()


class BorrowedConnections(Pool):
    """SQLAlchemy's pool of the connection the asking unit holds. Each connection keeps
    its record (and with it SQLAlchemy's statement cache) for as long as it lives."""

    def _do_get(self) -> ConnectionPoolEntry:
        connection = borrowed.get()
        record = connection.orm_record
        if record is None or record.dbapi_connection is None:
            record = connection.orm_record = _ConnectionRecord(self)
        return record  # type: ignore[no-any-return]

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        """Nothing to do: the connection goes back to the hub's pool with its unit."""

    def dispose(self) -> None:
        """The connections belong to the hub's pools, which close them."""

    def recreate(self) -> BorrowedConnections:
        return self.__class__(
            creator=self._creator,
            reset_on_return=None,
            echo=self.echo,
            logging_name=self._orig_logging_name,
            _dispatch=self.dispatch,
            dialect=self._dialect,
        )

    def status(self) -> str:
        return "BorrowedConnections"


class HubDialect(PGDialect_asyncpg):
    """asyncpg's dialect, leaving `json` values as text as every hub connection does
    (`aphub.db.pool.set_codecs`); `jsonb` is decoded as SQLAlchemy expects."""

    supports_statement_cache = True

    async def setup_asyncpg_json_codec(self, conn: Any) -> None:
        return None


registry.register("postgresql.aphub_asyncpg", __name__, "HubDialect")


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def create_orm_engine(url: str, *, prepared_statements: bool = True) -> AsyncEngine:
    """The ORM's engine. Without `prepared_statements` (a pooler in transaction mode
    that does not support them) SQLAlchemy keeps no prepared statements of its own either:
    each is prepared unnamed just before it runs, since a kept unnamed one would be the
    next statement's by then."""
    engine: AsyncEngine

    def connect() -> Any:
        return engine.sync_engine.dialect.dbapi.connect(  # type: ignore[union-attr]
            async_creator_fn=_borrow,
            prepared_statement_cache_size=100 if prepared_statements else 0,
        )

    engine = create_async_engine(
        make_url(url).set(drivername="postgresql+aphub_asyncpg"),
        creator=connect,
        poolclass=BorrowedConnections,
        pool_reset_on_return=None,
        isolation_level="AUTOCOMMIT",
        # JSONB through the ORM with the JSON library the rest of the hub uses
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
        # SQL logging, if someone turns it on, shows statements but never their values:
        # children's names, dates of birth and identifiers travel as parameters
        hide_parameters=True,
    )
    return engine
