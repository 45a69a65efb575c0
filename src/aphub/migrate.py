"""Alembic, driven from the hub: `aphub migrate`, and on start unless disabled."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from aphub.db import Database


def migrations_dir() -> Path:
    """`APHUB_MIGRATIONS_DIR`, else `migrations/` of the source tree, else of the cwd."""
    configured = os.environ.get("APHUB_MIGRATIONS_DIR")
    candidates = [Path(configured)] if configured else []
    candidates += [Path(__file__).resolve().parents[2] / "migrations", Path.cwd() / "migrations"]
    for candidate in candidates:
        if (candidate / "env.py").exists():
            return candidate
    raise RuntimeError("Alembic migrations not found; set APHUB_MIGRATIONS_DIR")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


# Several workers or instances starting at once each migrate on start: one at a time, the
# later ones finding the schema at head already.
_MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('aphub:migrations', 0))"


def _upgrade(connection: Connection, config: Config) -> None:
    connection.execute(text(_MIGRATION_LOCK))
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")


async def migrate(engine_or_url: AsyncEngine | str) -> None:
    engine = create_async_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, alembic_config())
    finally:
        if isinstance(engine_or_url, str):
            await engine.dispose()


async def current_revisions(database: Database) -> set[str]:
    """The revisions the database is at (none before the first migration)."""
    async with database.reading() as unit:
        if not await unit.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL"):
            return set()
        return {
            r["version_num"] for r in await unit.fetch("SELECT version_num FROM alembic_version")
        }
