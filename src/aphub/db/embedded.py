"""Where the database is: a URL from the settings, or the embedded PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.engine import make_url

from aphub.config import Settings

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
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    return f"postgresql://postgres@/{EMBEDDED_DATABASE}?host={socket_dir}"


def async_url(url: str) -> str:
    """Turn any postgres URL into one SQLAlchemy drives through asyncpg."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same database as a plain `postgresql://` URL (asyncpg's own form)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return async_url(settings.database_url)
    return async_url(start_embedded_postgres(settings.data_dir))
