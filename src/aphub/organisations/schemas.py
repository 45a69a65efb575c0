from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from aphub.models.organisations import OrganisationType
from aphub.types import (
    LAESTAB,
    UKPRN,
    URN,
    CharityNumber,
    CompaniesHouseNumber,
    LACode,
    Name,
    Postcode,
)


class OrganisationFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    la_code: LACode | None = None
    urn: URN | None = None
    ukprn: UKPRN | None = None
    laestab: LAESTAB | None = None
    companies_house_number: CompaniesHouseNumber | None = None
    charity_number: CharityNumber | None = None
    ods_code: str | None = None
    local_authority_id: uuid.UUID | None = None
    trust_id: uuid.UUID | None = None
    postcode: Postcode | None = None
    contact_email: EmailStr | None = None


class OrganisationCreate(OrganisationFields):
    type: OrganisationType
    name: Name

    @model_validator(mode="after")
    def _identifiers_fit_the_type(self) -> OrganisationCreate:
        if self.type == OrganisationType.local_authority and not self.la_code:
            raise ValueError("a local authority needs its la_code")
        if self.type != OrganisationType.local_authority and self.la_code:
            raise ValueError("only a local authority has an la_code")
        if self.type == OrganisationType.school and not self.local_authority_id:
            raise ValueError("a school needs local_authority_id (its LA area)")
        if self.trust_id and self.type != OrganisationType.school:
            raise ValueError("only a school belongs to a trust")
        return self


class OrganisationUpdate(OrganisationFields):
    name: Name | None = None
    active: bool | None = None


class Organisation(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    type: OrganisationType
    name: str
    la_code: str | None
    urn: str | None
    ukprn: str | None
    laestab: str | None
    companies_house_number: str | None
    charity_number: str | None
    ods_code: str | None
    local_authority_id: uuid.UUID | None
    trust_id: uuid.UUID | None
    postcode: str | None
    contact_email: str | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class OrganisationPage(BaseModel):
    items: list[Organisation]
    next_cursor: str | None = None


class JsonWebKeySet(BaseModel):
    """Public keys (RFC 7517 JWK Set): RSA of 2048 bits or more, or EC P-256."""

    keys: list[dict[str, Any]] = Field(min_length=1, max_length=20)


class ClientCreate(BaseModel):
    """A client authenticates with a secret the hub generates (the default); with
    private_key_jwt, by registering its public keys (`jwks`) or where it publishes them
    (`jwks_uri`); or it is an organisation admitting an external OIDC issuer
    configured on the hub (`issuer`), whose tokens then act for it within `scopes`."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    scopes: list[str] | None = None
    jwks_uri: str | None = Field(
        None, max_length=2000, description="https URL of the client's public keys (JWKS)"
    )
    jwks: JsonWebKeySet | None = Field(None, description="the client's public keys, inline")
    issuer: str | None = Field(
        None,
        max_length=500,
        description="name or `iss` of an external issuer configured on the hub, to admit",
    )

    @model_validator(mode="after")
    def _one_method(self) -> ClientCreate:
        given = [n for n in ("jwks_uri", "jwks", "issuer") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"give one way to authenticate, not {' and '.join(given)}")
        return self


class Client(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    client_id: str
    name: str
    organisation_id: uuid.UUID
    scopes: list[str]
    authentication: Literal["client_secret", "private_key_jwt", "external_issuer"] = Field(
        description="How the client proves itself: a secret; an assertion signed with its "
        "private key; or tokens of the external issuer it admits"
    )
    jwks_uri: str | None = Field(description="Where its public keys are published")
    key_ids: list[str] = Field(description="The ids of its public keys registered inline")
    issuer: str | None = Field(description="The external issuer it admits (`iss`)")
    created_at: datetime
    revoked_at: datetime | None
    approved_at: datetime | None = Field(
        description="When its organisation's admin approved it (null: awaiting approval, "
        "its tokens refused)"
    )
    created_by_organisation_id: uuid.UUID | None = Field(
        description="Who created it (null: the hub's own command line)"
    )
    created_by_client_id: str | None


class IssuedClient(Client):
    client_secret: str | None = Field(
        description="Shown once; null for a client that holds no secret (private_key_jwt, "
        "external issuer)"
    )
