"""Where the database is: URLs from the settings, or the embedded PostgreSQL.

The embedded server (development and `make run`) is set up as production should be: its
superuser creates an owner role, which runs the migrations and owns every table, and the
application role the hub's processes log in as, which has only the DML they need
(`migrations/versions/0021_least_privilege.py`). Nothing the web process can do reaches
the superuser or the owner.
"""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.engine import make_url

from aphub.config import Settings

EMBEDDED_DATABASE = "aphub"
EMBEDDED_OWNER = "aphub_owner"


def _server(data_dir: Path) -> object:
    import pgserver  # imported lazily: production never starts an embedded server

    # it logs its server's paths and state at INFO on every start; only problems matter
    logging.getLogger("pgserver").setLevel(logging.WARNING)

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(str(pgdata), cleanup_mode="stop")  # type: ignore[attr-defined]


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL under `data_dir`; return a libpq URL of
    its `aphub` database as the server's superuser.

    pgserver keeps one server per data directory and reference-counts its users, so a
    second process on the same directory joins the running server instead of failing.
    """
    server: object = _server(data_dir)
    socket_dir = parse_qs(urlsplit(server.get_uri()).query)["host"][0]  # type: ignore[attr-defined]
    exists = server.psql(  # type: ignore[attr-defined]
        f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';"
    )
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")  # type: ignore[attr-defined]
    return f"postgresql://postgres@/{EMBEDDED_DATABASE}?host={socket_dir}"


def _roles_script(settings: Settings) -> str:
    """The superuser's part, idempotent: the three roles, the database's owner, and the
    ownership of whatever a superuser created in it before these roles existed (a data
    directory from an earlier version of the hub). Several workers starting at once run
    it one at a time (catalog rows updated concurrently would fail)."""
    owner, app, reader = EMBEDDED_OWNER, settings.database_app_role, settings.database_read_role
    return f"""
SELECT pg_advisory_lock(hashtextextended('aphub:embedded-roles', 0));
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{owner}') THEN
    CREATE ROLE {owner} LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{app}') THEN
    CREATE ROLE {app} LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{reader}') THEN
    CREATE ROLE {reader} NOLOGIN; END IF;
END $$;
DO $$ BEGIN
  IF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = '{app}') THEN
    ALTER ROLE {app} LOGIN; END IF;
  IF NOT pg_has_role('{app}', '{reader}', 'MEMBER') THEN GRANT {reader} TO {app}; END IF;
  IF NOT pg_has_role('{owner}', '{app}', 'USAGE WITH ADMIN OPTION')
      OR NOT pg_has_role('{owner}', '{reader}', 'USAGE WITH ADMIN OPTION') THEN
    GRANT {app}, {reader} TO {owner} WITH ADMIN OPTION; END IF;
  IF (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database())
      <> '{owner}' THEN
    ALTER DATABASE {EMBEDDED_DATABASE} OWNER TO {owner}; END IF;
END $$;
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT c.oid::regclass AS name FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
      AND pg_get_userbyid(c.relowner) <> '{owner}' LOOP
    EXECUTE format('ALTER TABLE %s OWNER TO {owner}', r.name);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '{owner}' LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO {owner}', r.name);
  END LOOP;
END $$;
"""


@dataclass(frozen=True)
class EmbeddedUrls:
    app: str  # the application role's login: the web and jobs processes
    owner: str  # the owner role's login: the migrations


def embedded_urls(settings: Settings) -> EmbeddedUrls:
    """Start (or join) the embedded server and set up its roles (as its superuser)."""
    superuser = start_embedded_postgres(settings.data_dir)
    subprocess.run(  # noqa: S603 - the embedded server's own psql, a fixed script
        [_psql_path(), "-q", "-v", "ON_ERROR_STOP=1", superuser],
        input=_roles_script(settings).encode(),
        check=True,
        capture_output=True,
        env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
    )
    return EmbeddedUrls(
        app=as_user(superuser, settings.database_app_role),
        owner=as_user(superuser, EMBEDDED_OWNER),
    )


def _psql_path() -> str:
    from pgserver._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / "psql")


def as_user(url: str, user: str) -> str:
    return make_url(url).set(username=user).render_as_string(hide_password=False)


def async_url(url: str) -> str:
    """Turn any postgres URL into one SQLAlchemy drives through asyncpg."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same database as a plain `postgresql://` URL (asyncpg's own form)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def resolve_database_url(settings: Settings) -> str:
    """Where the hub's processes connect: `APHUB_DATABASE_URL`, or the embedded server as
    the application role."""
    if settings.database_url:
        return async_url(settings.database_url)
    return async_url(embedded_urls(settings).app)


def resolve_migration_url(settings: Settings) -> str:
    """Where the migrations run: `APHUB_MIGRATION_DATABASE_URL`, else `APHUB_DATABASE_URL`
    (one login for both, as before roles were split), else the embedded server as the
    owner role."""
    if settings.migration_database_url:
        return async_url(settings.migration_database_url)
    if settings.database_url:
        return async_url(settings.database_url)
    return async_url(embedded_urls(settings).owner)
