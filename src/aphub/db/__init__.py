"""The database: where it is (`embedded`), how to reach it (`database`, `pool`), and the
units of work through which everything reaches it (`units`), in SQL with named
parameters (`sql`)."""

from aphub.db.database import Database
from aphub.db.embedded import (
    async_url,
    resolve_database_url,
    resolve_migration_url,
    start_embedded_postgres,
)
from aphub.db.pool import DatabaseUnavailable
from aphub.db.sql import Statement, with_ctes
from aphub.db.units import ReadUnit, WriteUnit

__all__ = [
    "Database",
    "DatabaseUnavailable",
    "ReadUnit",
    "Statement",
    "WriteUnit",
    "async_url",
    "resolve_database_url",
    "resolve_migration_url",
    "start_embedded_postgres",
    "with_ctes",
]
