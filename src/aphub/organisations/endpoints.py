"""REST for the register of organisations and their API clients (the operator's).
Every change is an event: metadata only, seen by the operator and the organisation
concerned."""

from __future__ import annotations

import uuid

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from aphub.api.endpoint import Endpoint
from aphub.api.requests import PageParams
from aphub.api.serve import respond
from aphub.auth import service as clients
from aphub.auth.issuers import Issuers
from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Forbidden, Invalid
from aphub.events.log import Actor
from aphub.http import etag
from aphub.models.organisations import OrganisationType
from aphub.organisations import service
from aphub.organisations.schemas import (
    Client,
    ClientCreate,
    IssuedClient,
    Organisation,
    OrganisationCreate,
    OrganisationPage,
    OrganisationUpdate,
)
from aphub.types import Timestamp

ADMIN = "organisations:admin"
CLIENTS_ADMIN = "clients:admin"


def _actor(principal: Principal) -> Actor:
    return Actor(principal.organisation_id, principal.client_id)


class OrganisationQuery(PageParams):
    type: OrganisationType | None = None
    la_code: str | None = Field(None, max_length=3)
    local_authority_id: uuid.UUID | None = None
    trust_id: uuid.UUID | None = None
    urn: str | None = Field(None, max_length=6)
    ukprn: str | None = Field(None, max_length=8)
    name: str | None = Field(None, max_length=200, description="Part of the name")
    updated_since: Timestamp | None = Field(
        None, description="Only organisations changed at or after this time"
    )


async def list_organisations(
    unit: ReadUnit, principal: Principal, query: OrganisationQuery
) -> OrganisationPage:
    criteria = query.model_dump(exclude={"limit", "cursor"})
    rows, next_cursor = await service.search(
        unit, service.OrganisationFilter(**criteria), query.limit, query.cursor
    )
    return OrganisationPage(
        items=[Organisation.model_validate(r) for r in rows], next_cursor=next_cursor
    )


async def create_organisation(
    unit: WriteUnit, principal: Principal, body: OrganisationCreate
) -> Response:
    created = Organisation.model_validate(await service.create(unit, body, _actor(principal)))
    headers = {"ETag": etag(created.version), "Location": f"/v1/organisations/{created.id}"}
    return respond(created, status=201, headers=headers)


async def get_organisation(
    unit: ReadUnit, principal: Principal, organisation_id: uuid.UUID
) -> Response:
    found = Organisation.model_validate(await service.get(unit, organisation_id))
    return respond(found, headers={"ETag": etag(found.version)})


async def update_organisation(
    unit: WriteUnit,
    principal: Principal,
    organisation_id: uuid.UUID,
    body: OrganisationUpdate,
    if_match: int | None,
) -> Response:
    changed = await service.update(unit, organisation_id, body, if_match, _actor(principal))
    updated = Organisation.model_validate(changed)
    return respond(updated, headers={"ETag": etag(updated.version)})


def require_client_admin(principal: Principal, organisation_id: uuid.UUID) -> None:
    """The operator (`organisations:admin`), or the organisation's own admin client
    (`clients:admin`), manages an organisation's clients; nobody else."""
    if principal.has(ADMIN):
        return
    if principal.organisation_id == organisation_id and principal.has(CLIENTS_ADMIN):
        return
    raise Forbidden(
        "Only the operator or the organisation's own admin client (clients:admin) "
        "manages its API clients"
    )


async def list_organisation_clients(
    unit: ReadUnit, principal: Principal, organisation_id: uuid.UUID
) -> list[Client]:
    require_client_admin(principal, organisation_id)
    await service.get(unit, organisation_id)
    return [Client.model_validate(c) for c in await clients.list_clients(unit, organisation_id)]


def credentials_of(body: ClientCreate, issuers: Issuers) -> clients.Credentials:
    """How the new client will authenticate, as the request asks."""
    if body.issuer is not None:
        issuer = issuers.find(body.issuer)
        if issuer is None:
            raise Invalid.field("issuer", "No external issuer of that name is configured")
        return clients.AdmittedIssuer(issuer.issuer)
    if body.jwks_uri is not None or body.jwks is not None:
        jwks = body.jwks.model_dump() if body.jwks is not None else None
        return clients.PublicKeys(jwks_uri=body.jwks_uri, jwks=jwks)
    return None


async def create_organisation_client(
    unit: WriteUnit,
    principal: Principal,
    organisation_id: uuid.UUID,
    body: ClientCreate,
    request: Request,
) -> IssuedClient:
    require_client_admin(principal, organisation_id)
    credentials = credentials_of(body, request.app.state.external.issuers)
    issued = await clients.create_client(
        unit, organisation_id, body.name, body.scopes, _actor(principal), credentials
    )
    return IssuedClient(
        **Client.model_validate(issued.client).model_dump(), client_secret=issued.client_secret
    )


async def approve_organisation_client(
    unit: WriteUnit, principal: Principal, organisation_id: uuid.UUID, client_id: str
) -> Client:
    if not (principal.organisation_id == organisation_id and principal.has(CLIENTS_ADMIN)):
        raise Forbidden("Only the organisation's own admin client (clients:admin) approves")
    approved = await clients.approve_client(unit, organisation_id, client_id, _actor(principal))
    return Client.model_validate(approved)


async def revoke_organisation_client(
    unit: WriteUnit, principal: Principal, organisation_id: uuid.UUID, client_id: str
) -> None:
    require_client_admin(principal, organisation_id)
    await clients.revoke_client(unit, organisation_id, client_id, _actor(principal))


TAGS = ("organisations",)
ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/organisations",
        list_organisations,
        "List organisations",
        response=OrganisationPage,
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        "/v1/organisations",
        create_organisation,
        "Register an organisation",
        scope=ADMIN,
        response=Organisation,
        status=201,
        tags=TAGS,
        events=("organisation.created",),
    ),
    Endpoint(
        "GET",
        "/v1/organisations/{organisation_id}",
        get_organisation,
        "Read an organisation",
        response=Organisation,
        tags=TAGS,
    ),
    Endpoint(
        "PATCH",
        "/v1/organisations/{organisation_id}",
        update_organisation,
        "Change an organisation",
        scope=ADMIN,
        response=Organisation,
        errors=(409,),
        tags=TAGS,
        events=("organisation.updated",),
    ),
    Endpoint(
        "GET",
        "/v1/organisations/{organisation_id}/clients",
        list_organisation_clients,
        "List an organisation's API clients and who created each (never their secrets)",
        description="By the operator, or the organisation's own admin client (clients:admin).",
        response=list[Client],
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        "/v1/organisations/{organisation_id}/clients",
        create_organisation_client,
        "Issue client credentials; the secret is shown once",
        description=(
            "By the operator or the organisation's own admin client. Scopes default to the "
            "organisation type's and may not exceed what the type may hold (an operator or "
            "a dashboard never holds a child scope). A client the operator creates with "
            "child scopes or clients:admin for an organisation that has an admin client of "
            "its own awaits that admin's approval (`approved_at` null, tokens refused). "
            "With `jwks` or `jwks_uri` the client holds no secret and authenticates at "
            "/v1/oauth/token with a private_key_jwt assertion; with `issuer` the "
            "organisation admits an external OIDC issuer, whose tokens then act for it."
        ),
        response=IssuedClient,
        status=201,
        errors=(409,),
        tags=TAGS,
        events=("client.created",),
    ),
    Endpoint(
        "POST",
        "/v1/organisations/{organisation_id}/clients/{client_id}/approve",
        approve_organisation_client,
        "Approve a client the operator created for your organisation",
        description="By the organisation's own admin client (clients:admin) only.",
        response=Client,
        errors=(409,),
        tags=TAGS,
        events=("client.approved",),
    ),
    Endpoint(
        "DELETE",
        "/v1/organisations/{organisation_id}/clients/{client_id}",
        revoke_organisation_client,
        "Revoke client credentials (their tokens stop within seconds)",
        description="By the operator, or the organisation's own admin client.",
        status=204,
        tags=TAGS,
        events=("client.revoked",),
    ),
]
