"""Organisations (every party to the hub) and the API clients that act for them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from aphub.models.base import Base, created_at, updated_at, uuid_pk


class OrganisationType(StrEnum):
    local_authority = "local_authority"
    school = "school"
    trust = "trust"
    provider = "provider"
    health = "health"
    social_care = "social_care"
    dashboard = "dashboard"
    operator = "operator"


ORGANISATION_TYPES = tuple(t.value for t in OrganisationType)


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(
            "type IN (" + ", ".join(f"'{t}'" for t in ORGANISATION_TYPES) + ")", name="type"
        ),
        CheckConstraint("type <> 'local_authority' OR la_code IS NOT NULL", name="la_has_code"),
        Index("ix_organisations_type_id", "type", "id"),
        Index("ix_organisations_updated_at_id", "updated_at", "id"),
        Index("ix_organisations_local_authority_id", "local_authority_id"),
        Index("ix_organisations_trust_id", "trust_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    la_code: Mapped[str | None] = mapped_column(String(3), unique=True)
    urn: Mapped[str | None] = mapped_column(String(6), unique=True)
    ukprn: Mapped[str | None] = mapped_column(String(8), unique=True)
    laestab: Mapped[str | None] = mapped_column(String(7))
    companies_house_number: Mapped[str | None] = mapped_column(String(8))
    charity_number: Mapped[str | None] = mapped_column(String(11))
    ods_code: Mapped[str | None] = mapped_column(String(10))
    local_authority_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    trust_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    postcode: Mapped[str | None] = mapped_column(String(8))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class ClientAuthentication(StrEnum):
    """How a client proves itself (aphub.auth.service)."""

    client_secret = "client_secret"  # noqa: S105 - the method's name, not a secret
    private_key_jwt = "private_key_jwt"
    external_issuer = "external_issuer"


class ApiClient(Base):
    """Credentials for one organisation: a secret stored only as a hash, public keys
    (private_key_jwt), or the admission of an external OIDC issuer."""

    __tablename__ = "api_clients"
    __table_args__ = (
        Index("ix_api_clients_organisation_id", "organisation_id"),
        CheckConstraint(
            "(authentication = 'client_secret' AND secret_hash IS NOT NULL) OR "
            "(authentication = 'private_key_jwt' AND (jwks_uri IS NOT NULL OR jwks IS NOT NULL)) "
            "OR (authentication = 'external_issuer' AND issuer IS NOT NULL)",
            name="authentication",
        ),
        Index(
            "uq_api_clients_admitted_issuer",
            "issuer",
            "organisation_id",
            unique=True,
            postgresql_where=text("issuer IS NOT NULL AND revoked_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    client_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)
    authentication: Mapped[str] = mapped_column(
        String(24), nullable=False, server_default=text("'client_secret'"), default="client_secret"
    )
    jwks_uri: Mapped[str | None] = mapped_column(String(2000))
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    issuer: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # null while the client waits for its organisation's admin to approve it
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by_client_id: Mapped[str | None] = mapped_column(String(64))
    created_by_organisation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_by_client_id: Mapped[str | None] = mapped_column(String(64))

    @property
    def key_ids(self) -> list[str]:
        """The ids of the public keys registered inline (never the keys' own text)."""
        keys = (self.jwks or {}).get("keys", [])
        return [str(k.get("kid")) for k in keys if isinstance(k, dict) and k.get("kid")]


class ClientAssertion(Base):
    """A private_key_jwt assertion accepted, kept until it expires so it is accepted once."""

    __tablename__ = "client_assertions"
    __table_args__ = (Index("ix_client_assertions_expires_at", "expires_at"),)

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class OversightSession(Base):
    """Someone signed in to /oversight: bound to the client it was opened through (and so
    revoked with it), found by the hash of the secret its cookie holds."""

    __tablename__ = "oversight_sessions"
    __table_args__ = (
        CheckConstraint("method IN ('client_secret', 'oidc')", name="method"),
        Index("ix_oversight_sessions_expires_at", "expires_at"),
        Index("ix_oversight_sessions_client_id", "client_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False
    )
    method: Mapped[str] = mapped_column(String(24), nullable=False)
    issuer: Mapped[str | None] = mapped_column(String(500))
    subject: Mapped[str | None] = mapped_column(String(255))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
