"""Client credentials: creating them and checking them.

A client proves itself in one of three ways (`ApiClient.authentication`):
- `client_secret`: a secret the hub generates, shows once and keeps as a hash;
- `private_key_jwt`: an assertion signed with the client's private key, checked against
  public keys it registered inline (`jwks`) or publishes (`jwks_uri`): the hub holds no
  secret of the client's at all (aphub.auth.assertions);
- `external_issuer`: the organisation admits an external OIDC issuer configured on the
  hub (aphub.auth.issuers); that issuer's tokens then act for the organisation within this
  record's scopes, and stop when it is revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from aphub.auth.jwks import registered_keys, url_problem
from aphub.auth.scopes import CHILD_SCOPES, DEFAULT_SCOPES, beyond_bounds, unknown_scopes
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Conflict, Invalid, NotFound
from aphub.events.log import Actor, record
from aphub.models import ApiClient, ClientAuthentication, Organisation


def hash_secret(secret: str) -> str:
    # Secrets are 256 random bits chosen by the hub, so a slow password hash would add
    # latency without adding strength; SHA-256 is the usual choice for such API secrets.
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class PublicKeys:
    """A private_key_jwt client's public keys: published at a URL, or given inline."""

    jwks_uri: str | None = None
    jwks: dict[str, Any] | None = None


@dataclass(frozen=True)
class AdmittedIssuer:
    """An external issuer the organisation admits, by its `iss`."""

    issuer: str


# how a new client proves itself: None for a secret the hub generates
Credentials = PublicKeys | AdmittedIssuer | None


@dataclass(frozen=True)
class IssuedClient:
    client: ApiClient
    client_secret: str | None  # shown once; None for a client that holds no secret


def _checked_keys(keys: PublicKeys) -> PublicKeys:
    if (keys.jwks_uri is None) == (keys.jwks is None):
        raise Invalid.field("jwks", "Give the public keys inline (jwks) or their jwks_uri")
    if keys.jwks_uri is not None:
        problem = url_problem(keys.jwks_uri)
        if problem is not None:
            raise Invalid.field("jwks_uri", f"The jwks_uri is refused: {problem}")
        return keys
    try:
        return PublicKeys(jwks=registered_keys(keys.jwks))
    except ValueError as exc:
        raise Invalid.field("jwks", f"The public keys are refused: {exc}") from None


async def _admission_of(uow: WriteUnit, organisation_id: uuid.UUID, issuer: str) -> str | None:
    return await uow.fetchval(  # type: ignore[no-any-return]
        "SELECT client_id FROM api_clients WHERE organisation_id = :org AND issuer = :issuer "
        "AND revoked_at IS NULL",
        org=organisation_id,
        issuer=issuer,
    )


@dataclass(frozen=True)
class AuthenticatedClient:
    client_id: str
    organisation_id: uuid.UUID
    organisation_type: str
    scopes: list[str]


async def _has_admin_client(uow: WriteUnit, organisation_id: uuid.UUID) -> bool:
    row = await uow.fetchrow(
        "SELECT 1 FROM api_clients WHERE organisation_id = :org AND revoked_at IS NULL "
        "AND approved_at IS NOT NULL AND 'clients:admin' = ANY(scopes) LIMIT 1",
        org=organisation_id,
    )
    return row is not None


async def create_client(
    uow: WriteUnit,
    organisation_id: uuid.UUID,
    name: str,
    scopes: list[str] | None,
    actor: Actor,
    credentials: Credentials = None,
) -> IssuedClient:
    """Credentials for an organisation. Scopes default to its type's and are bounded by
    it (an operator or dashboard never holds a child scope). The operator creating child
    scopes or `clients:admin` for an organisation that has an admin client of its own
    creates them awaiting that admin's approval: separation of duties, so whoever runs the
    hub cannot give itself sight of a local area's children. That holds for every way of
    authenticating: admitting an external issuer is creating a client like any other."""
    organisation = await uow.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation")
    chosen = list(scopes) if scopes else list(DEFAULT_SCOPES.get(organisation.type, ()))
    unknown = unknown_scopes(chosen)
    if unknown:
        raise Invalid.field("scopes", f"Unknown scopes: {', '.join(unknown)}")
    refused = beyond_bounds(organisation.type, chosen)
    if refused:
        raise Invalid.field(
            "scopes",
            f"An organisation of type {organisation.type} may not hold: {', '.join(refused)}",
        )
    sensitive = bool(set(chosen) & (CHILD_SCOPES | {"clients:admin"}))
    by_operator = actor.organisation_id is not None and actor.organisation_id != organisation.id
    pending = by_operator and sensitive and await _has_admin_client(uow, organisation.id)
    secret: str | None = None
    client = ApiClient(
        client_id=f"{organisation.type[:3]}_{secrets.token_hex(10)}",
        organisation_id=organisation.id,
        name=name,
        scopes=sorted(set(chosen)),
        created_by_organisation_id=actor.organisation_id,
        created_by_client_id=actor.client_id,
    )
    if isinstance(credentials, PublicKeys):
        keys = _checked_keys(credentials)
        client.authentication = ClientAuthentication.private_key_jwt
        client.jwks_uri, client.jwks = keys.jwks_uri, keys.jwks
    elif isinstance(credentials, AdmittedIssuer):
        admitted = await _admission_of(uow, organisation.id, credentials.issuer)
        if admitted is not None:
            raise Conflict(f"This organisation admits that issuer already (client {admitted})")
        client.authentication = ClientAuthentication.external_issuer
        client.client_id = f"ext_{secrets.token_hex(10)}"
        client.issuer = credentials.issuer
    else:
        secret = secrets.token_urlsafe(32)
        client.secret_hash = hash_secret(secret)
    uow.session.add(client)
    await uow.session.flush()
    if not pending:
        client.approved_at = client.created_at
    await uow.session.flush()
    await uow.session.refresh(client)
    record(
        uow,
        type="client.created",
        subject_type="client",
        subject_id=client.id,
        actor=actor,
        data={
            "organisation_id": str(organisation.id),
            "client_id": client.client_id,
            "name": client.name,
            "scopes": client.scopes,
            "awaiting_approval": pending,
            "authentication": client.authentication,
            **({"issuer": client.issuer} if client.issuer else {}),
        },
    )
    return IssuedClient(client, secret)


async def approve_client(
    uow: WriteUnit, organisation_id: uuid.UUID, client_id: str, actor: Actor
) -> ApiClient:
    """The organisation's admin approves a client the operator created for it."""
    client = await uow.session.scalar(
        select(ApiClient)
        .where(
            ApiClient.organisation_id == organisation_id,
            ApiClient.client_id == client_id,
            ApiClient.revoked_at.is_(None),
        )
        .with_for_update()
    )
    if client is None:
        raise NotFound("No such active client for this organisation")
    if client.approved_at is not None:
        raise Conflict("This client is approved already")
    client.approved_at = func.now()
    client.approved_by_client_id = actor.client_id
    await uow.session.flush()
    await uow.session.refresh(client)
    record(
        uow,
        type="client.approved",
        subject_type="client",
        subject_id=client.id,
        actor=actor,
        data={"organisation_id": str(organisation_id), "client_id": client_id},
    )
    return client


async def authenticate_client(
    uow: ReadUnit, client_id: str, client_secret: str
) -> AuthenticatedClient | None:
    row = (
        await uow.session.execute(
            select(ApiClient, Organisation.type)
            .join(Organisation, Organisation.id == ApiClient.organisation_id)
            .where(
                ApiClient.client_id == client_id,
                ApiClient.authentication == ClientAuthentication.client_secret,
                ApiClient.revoked_at.is_(None),
                ApiClient.approved_at.is_not(None),
                Organisation.active.is_(True),
            )
        )
    ).first()
    # Compare against a dummy hash when the client is unknown, so timing does not tell.
    expected = (row[0].secret_hash if row else None) or hash_secret(secrets.token_hex(8))
    if not hmac.compare_digest(expected, hash_secret(client_secret)) or row is None:
        return None
    client, organisation_type = row
    return AuthenticatedClient(
        client_id=client.client_id,
        organisation_id=client.organisation_id,
        organisation_type=organisation_type,
        scopes=list(client.scopes),
    )


async def list_clients(uow: ReadUnit, organisation_id: uuid.UUID) -> list[ApiClient]:
    result = await uow.session.execute(
        select(ApiClient).where(ApiClient.organisation_id == organisation_id).order_by(ApiClient.id)
    )
    return list(result.scalars())


async def revoke_client(
    uow: WriteUnit, organisation_id: uuid.UUID, client_id: str, actor: Actor
) -> None:
    revoked = await uow.session.scalar(
        update(ApiClient)
        .where(
            ApiClient.organisation_id == organisation_id,
            ApiClient.client_id == client_id,
            ApiClient.revoked_at.is_(None),
        )
        .values(revoked_at=func.now())
        .returning(ApiClient.id)
    )
    if revoked is None:
        raise NotFound("No such active client for this organisation")
    record(
        uow,
        type="client.revoked",
        subject_type="client",
        subject_id=revoked,
        actor=actor,
        data={"organisation_id": str(organisation_id), "client_id": client_id},
    )
