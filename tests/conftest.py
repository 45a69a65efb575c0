"""One embedded PostgreSQL and one migrated database per test run; each test starts from
empty tables (rows deleted after it, as superuser, so even the append-only event log is
reset between tests)."""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from aphub.config import Settings
from aphub.db import Database, async_url, start_embedded_postgres
from aphub.main import create_app
from aphub.migrate import migrate
from aphub.models import Base
from aphub.models.events import GENESIS_HASH
from aphub.webhooks.delivery import Deliverer
from tests.response_schemas import CheckingTransport
from tests.webhook_network import Receiver, SimulatedClock, loopback_only, verifying_at

TEST_DATABASE = "aphub_test"


@pytest.fixture(scope="session", autouse=True)
def no_packet_beyond_loopback() -> Iterator[None]:
    """Webhook name resolution is stubbed and the connector refuses anything but
    loopback, for every test (see tests/webhook_network.py)."""
    with loopback_only():
        yield


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="aphub-test-") as path:
        yield Path(path)


@pytest.fixture(scope="session")
def superuser_dsn(data_dir: Path) -> str:
    """libpq URL of a fresh test database, as the server's superuser."""
    external = os.environ.get("APHUB_TEST_DATABASE_URL")
    base = external or start_embedded_postgres(data_dir)
    return with_database(base, TEST_DATABASE)


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
async def database_url(superuser_dsn: str) -> str:
    admin_dsn = with_database(superuser_dsn, "postgres")
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEST_DATABASE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {TEST_DATABASE}")
    finally:
        await admin.close()
    url = async_url(superuser_dsn)
    await migrate(url)
    return url


@pytest.fixture(scope="session")
def settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        rate_limit_per_minute=0,
        migrate_on_start=False,
        jobs=False,
        # the tests' webhook receivers listen on 127.0.0.1 over plain http
        webhook_allowlist="127.0.0.1",
    )


@pytest.fixture(scope="session")
async def database(settings: Settings, database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, settings)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database=database)


@pytest.fixture
async def client(app: FastAPI, clean_db: None) -> AsyncIterator[httpx.AsyncClient]:
    # every 2xx answer a test receives is checked against the committed contract
    transport = CheckingTransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
        yield c


@pytest.fixture(scope="session")
async def superuser(superuser_dsn: str, database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(superuser_dsn)
    yield conn
    await conn.close()


@pytest.fixture
async def clean_db(superuser: asyncpg.Connection) -> AsyncIterator[None]:
    """Any test that touches the database depends on this (via `client` or `db`)."""
    yield
    await empty_all_tables(superuser)


async def empty_all_tables(superuser: asyncpg.Connection) -> None:
    """Every table back to empty, and the event chain back to its genesis head."""
    # DELETE of a few rows costs milliseconds where TRUNCATE of every table costs a third
    # of a second; replica mode skips triggers (foreign keys, and the event log's refusal
    # to delete), so the order of tables does not matter.
    deletes = "; ".join(f"DELETE FROM {t.name}" for t in Base.metadata.sorted_tables)
    await superuser.execute(
        f"SET session_replication_role = replica; {deletes}; "
        "SET session_replication_role = DEFAULT; "
        f"INSERT INTO event_chain_head (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}')"
    )


@pytest.fixture
def db(database: Database, clean_db: None) -> Database:
    return database


# --- webhooks (tests/webhook_network.py, tests/webhook_fixtures.py) ------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver().start()
    yield started
    await started.stop()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
async def deliverer(
    db: Database, settings: Settings, clock: SimulatedClock
) -> AsyncIterator[Deliverer]:
    job = Deliverer(db, settings, clock=clock, jitter=random.Random(7).random)
    with verifying_at(clock):
        yield job
    await job.close()
