"""Configuration from `APHUB_*` environment variables (documented in the README)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# a plain lower-case identifier: role names are written into SQL
ROLE_NAME = r"^[a-z_][a-z0-9_]{0,62}$"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APHUB_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql://...). Unset: an embedded PostgreSQL "
        "is started from the pgserver package with its data under data_dir.",
    )
    data_dir: Path = Field(
        default=Path(".aphub"),
        description="Embedded database, signing keys and demo credentials live here.",
    )
    issuer: str = Field(default="aphub", description="`iss` of the tokens the hub issues.")
    audience: str = Field(default="aphub", description="`aud` every accepted token must carry.")
    token_ttl_seconds: int = Field(default=900, ge=60, le=86400)
    log_level: str = "INFO"
    graphql_introspection: bool = True
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 2000
    max_page_size: int = 500
    max_body_bytes: int = 1024 * 1024
    attendance_max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        description="Largest body of POST /v1/attendance (10,000 marks as JSON exceed 1 MiB).",
    )
    rate_limit_per_minute: int = Field(
        default=6000, description="Requests per client per minute before 429 (0 disables)."
    )
    metrics: bool = Field(default=True, description="Serve /metrics (to its scrapers only).")
    metrics_token: SecretStr | None = Field(
        default=None,
        description="A bearer token that may read /metrics besides the operator's tokens",
    )
    db_pool_size: int = Field(
        default=20, ge=1, le=500, description="Connections per worker, in each of its two pools"
    )
    database_read_role: str = Field(
        default="aphub_reader",
        pattern=ROLE_NAME,
        description="Role of the read pool's connections: reads everything, writes only the "
        "access log (created by the migrations)",
    )
    database_app_role: str = Field(
        default="aphub_app",
        pattern=ROLE_NAME,
        description="Role of the write connections: the DML the hub needs, append-only on the "
        "event log and the access log, no DDL (created by the migrations)",
    )
    migration_database_url: str | None = Field(
        default=None,
        description="Where the migrations run, as the role that owns the schema; unset: "
        "database_url (or the embedded server's owner role)",
    )
    database_read_url: str | None = Field(
        default=None,
        description="Where read units connect, when not database_url (a login that is the "
        "read role, for a pooler that drops the role startup parameter)",
    )
    database_replica_urls: str = Field(
        default="",
        description="Comma-separated URLs of streaming replicas that take read units",
    )
    database_prepared_statements: bool = Field(
        default=True,
        description="Named prepared statements and the statement caches; off for a pooler in "
        "transaction mode without prepared statement support (PgBouncer before 1.21)",
    )
    sharing_policy: Path | None = Field(
        default=None,
        description="Path to an information-sharing policy file replacing the default.",
    )
    migrate_on_start: bool = True
    jobs: bool = Field(default=True, description="Run the scheduled jobs in the app.")
    jobs_interval_minutes: int = Field(default=15, ge=1, le=1440)
    checkpoint_interval_minutes: int = Field(
        default=5, ge=1, le=1440, description="How often the event log's head is signed"
    )
    oidc_issuers: str | None = Field(
        default=None,
        description="External OIDC issuers whose tokens the hub accepts: JSON (a list of "
        "issuers), or the path of a file holding it (aphub.auth.issuers)",
    )
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#]+(/[^?#]*)?$",
        description="The hub's address as clients reach it (https://hub.example.org): the "
        "audience of private_key_jwt assertions and the base of the sign-in redirect. "
        "Unset: taken from each request.",
    )
    session_hours: int = Field(
        default=8, ge=1, le=24, description="How long an /oversight sign-in lasts"
    )
    webhook_allowlist: str = Field(
        default="",
        description="Comma-separated host names and IP networks webhooks may reach over "
        "plain http and at private addresses (internal receivers, tests)",
    )
    webhook_poll_seconds: float = Field(
        default=0.5, ge=0.05, le=60, description="How often the delivery job looks for work"
    )
    webhook_concurrency: int = Field(
        default=8, ge=1, le=200, description="Subscriptions one process delivers to at once"
    )
    webhook_timeout_seconds: float = Field(
        default=10, ge=1, le=60, description="Longest a delivery attempt may take"
    )
    webhook_disable_after_hours: float = Field(
        default=72, ge=24, le=24 * 30, description="Failing this long disables a subscription"
    )
    webhook_log_days: int = Field(
        default=30, ge=1, le=366, description="How long delivery attempts are listed"
    )

    @property
    def replica_urls(self) -> list[str]:
        return [url.strip() for url in self.database_replica_urls.split(",") if url.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
