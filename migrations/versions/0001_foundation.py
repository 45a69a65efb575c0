"""Foundation: organisations and their API clients.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("la_code", sa.String(length=3), nullable=True),
        sa.Column("urn", sa.String(length=6), nullable=True),
        sa.Column("ukprn", sa.String(length=8), nullable=True),
        sa.Column("laestab", sa.String(length=7), nullable=True),
        sa.Column("companies_house_number", sa.String(length=8), nullable=True),
        sa.Column("charity_number", sa.String(length=11), nullable=True),
        sa.Column("ods_code", sa.String(length=10), nullable=True),
        sa.Column("local_authority_id", sa.UUID(), nullable=True),
        sa.Column("trust_id", sa.UUID(), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "type <> 'local_authority' OR la_code IS NOT NULL",
            name=op.f("ck_organisations_la_has_code"),
        ),
        sa.CheckConstraint(
            "type IN ('local_authority', 'school', 'trust', 'provider', 'health', 'social_care', 'dashboard', 'operator')",
            name=op.f("ck_organisations_type"),
        ),
        sa.ForeignKeyConstraint(
            ["local_authority_id"],
            ["organisations.id"],
            name=op.f("fk_organisations_local_authority_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"],
            ["organisations.id"],
            name=op.f("fk_organisations_trust_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("la_code", name=op.f("uq_organisations_la_code")),
        sa.UniqueConstraint("ukprn", name=op.f("uq_organisations_ukprn")),
        sa.UniqueConstraint("urn", name=op.f("uq_organisations_urn")),
    )
    op.create_index(
        "ix_organisations_local_authority_id", "organisations", ["local_authority_id"], unique=False
    )
    op.create_index("ix_organisations_trust_id", "organisations", ["trust_id"], unique=False)
    op.create_index("ix_organisations_type_id", "organisations", ["type", "id"], unique=False)
    op.create_index(
        "ix_organisations_updated_at_id", "organisations", ["updated_at", "id"], unique=False
    )
    op.create_table(
        "api_clients",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_api_clients_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_clients_client_id")),
    )
    op.create_index(
        "ix_api_clients_organisation_id", "api_clients", ["organisation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_api_clients_organisation_id", table_name="api_clients")
    op.drop_table("api_clients")
    op.drop_index("ix_organisations_updated_at_id", table_name="organisations")
    op.drop_index("ix_organisations_type_id", table_name="organisations")
    op.drop_index("ix_organisations_trust_id", table_name="organisations")
    op.drop_index("ix_organisations_local_authority_id", table_name="organisations")
    op.drop_table("organisations")
