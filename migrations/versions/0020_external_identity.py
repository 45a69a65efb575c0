"""External identity: clients without a shared secret, assertions seen, oversight sessions.

- `api_clients.authentication`: how a client proves itself. `client_secret` (the secret's
  hash, as before), `private_key_jwt` (a signed assertion checked against the public keys
  registered inline, `jwks`, or published at `jwks_uri`), or `external_issuer` (the
  organisation admits an external OIDC issuer, `issuer`, whose tokens then act for it).
  An organisation admits one issuer once at a time.
- `client_assertions`: the `jti` of every private_key_jwt assertion accepted, kept until
  it expires, so none is accepted twice. The token endpoint reads through a read unit,
  whose role writes only records of access: it may insert here as it inserts into the
  access log.
- `oversight_sessions`: people signed in to /oversight, each bound to the client it was
  opened through (so it dies with it) and kept by the hash of its cookie's secret.

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from aphub.config import get_settings

revision: str = "0020"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "api_clients",
        sa.Column(
            "authentication",
            sa.String(24),
            nullable=False,
            server_default="client_secret",
        ),
    )
    op.add_column("api_clients", sa.Column("jwks_uri", sa.String(2000)))
    op.add_column("api_clients", sa.Column("jwks", JSONB))
    op.add_column("api_clients", sa.Column("issuer", sa.String(500)))
    op.alter_column("api_clients", "secret_hash", nullable=True)
    op.create_check_constraint(
        op.f("ck_api_clients_authentication"),
        "api_clients",
        "(authentication = 'client_secret' AND secret_hash IS NOT NULL) OR "
        "(authentication = 'private_key_jwt' AND (jwks_uri IS NOT NULL OR jwks IS NOT NULL)) "
        "OR (authentication = 'external_issuer' AND issuer IS NOT NULL)",
    )
    op.create_index(
        "uq_api_clients_admitted_issuer",
        "api_clients",
        ["issuer", "organisation_id"],
        unique=True,
        postgresql_where=sa.text("issuer IS NOT NULL AND revoked_at IS NULL"),
    )

    op.create_table(
        "client_assertions",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("jti", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "jti", name=op.f("pk_client_assertions")),
    )
    op.create_index("ix_client_assertions_expires_at", "client_assertions", ["expires_at"])
    role = get_settings().database_read_role  # validated: a plain lower-case identifier
    op.execute(f"GRANT INSERT ON client_assertions TO {role}")

    op.create_table(
        "oversight_sessions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column(
            "organisation_id",
            UUID(as_uuid=True),
            sa.ForeignKey("organisations.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("method", sa.String(24), nullable=False),
        sa.Column("issuer", sa.String(500)),
        sa.Column("subject", sa.String(255)),
        sa.Column("scopes", ARRAY(sa.String(64)), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "method IN ('client_secret', 'oidc')", name=op.f("ck_oversight_sessions_method")
        ),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_oversight_sessions_secret_hash")),
    )
    op.create_index("ix_oversight_sessions_expires_at", "oversight_sessions", ["expires_at"])
    op.create_index("ix_oversight_sessions_client_id", "oversight_sessions", ["client_id"])


def downgrade() -> None:
    op.drop_table("oversight_sessions")
    op.drop_table("client_assertions")
    op.drop_index("uq_api_clients_admitted_issuer", table_name="api_clients")
    op.drop_constraint("ck_api_clients_authentication", "api_clients", type_="check")
    op.execute("DELETE FROM api_clients WHERE secret_hash IS NULL")
    op.alter_column("api_clients", "secret_hash", nullable=False)
    for column in ("issuer", "jwks", "jwks_uri", "authentication"):
        op.drop_column("api_clients", column)
