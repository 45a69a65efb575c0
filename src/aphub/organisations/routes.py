from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from aphub.auth import service as clients
from aphub.deps import AnyPrincipal, UoW, principal_with
from aphub.errors import problem_responses
from aphub.http import IfMatch, etag, parse_if_match
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
from aphub.pagination import DEFAULT_LIMIT, Cursor, Limit
from aphub.types import Timestamp

router = APIRouter(prefix="/v1/organisations", tags=["organisations"])
Admin = Annotated[object, principal_with("organisations:admin")]


@router.get(
    "",
    response_model=OrganisationPage,
    summary="List organisations",
    responses=problem_responses(401, 422, 429),
)
async def list_organisations(
    uow: UoW,
    _principal: AnyPrincipal,
    type: OrganisationType | None = None,
    la_code: Annotated[str | None, Query(max_length=3)] = None,
    local_authority_id: uuid.UUID | None = None,
    trust_id: uuid.UUID | None = None,
    urn: Annotated[str | None, Query(max_length=6)] = None,
    ukprn: Annotated[str | None, Query(max_length=8)] = None,
    name: Annotated[str | None, Query(max_length=200, description="Part of the name")] = None,
    updated_since: Annotated[
        Timestamp | None, Query(description="Only organisations changed at or after this time")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> OrganisationPage:
    f = service.OrganisationFilter(
        type=type,
        la_code=la_code,
        local_authority_id=local_authority_id,
        trust_id=trust_id,
        urn=urn,
        ukprn=ukprn,
        name=name,
        updated_since=updated_since,
    )
    rows, next_cursor = await service.search(uow, f, limit, cursor)
    return OrganisationPage(
        items=[Organisation.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.post(
    "",
    response_model=Organisation,
    status_code=201,
    summary="Register an organisation",
    responses=problem_responses(401, 403, 409, 413, 415, 422),
)
async def create_organisation(
    body: OrganisationCreate, uow: UoW, _principal: Admin, response: Response
) -> Organisation:
    created = Organisation.model_validate(await service.create(uow, body))
    response.headers["ETag"] = etag(created.version)
    response.headers["Location"] = f"/v1/organisations/{created.id}"
    return created


@router.get(
    "/{organisation_id}",
    response_model=Organisation,
    summary="Read an organisation",
    responses=problem_responses(401, 404, 422),
)
async def get_organisation(
    organisation_id: uuid.UUID, uow: UoW, _principal: AnyPrincipal, response: Response
) -> Organisation:
    found = Organisation.model_validate(await service.get(uow, organisation_id))
    response.headers["ETag"] = etag(found.version)
    return found


@router.patch(
    "/{organisation_id}",
    response_model=Organisation,
    summary="Change an organisation",
    responses=problem_responses(401, 403, 404, 409, 412, 413, 415, 422),
)
async def update_organisation(
    organisation_id: uuid.UUID,
    body: OrganisationUpdate,
    uow: UoW,
    _principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> Organisation:
    updated = Organisation.model_validate(
        await service.update(uow, organisation_id, body, parse_if_match(if_match))
    )
    response.headers["ETag"] = etag(updated.version)
    return updated


@router.get(
    "/{organisation_id}/clients",
    response_model=list[Client],
    summary="List an organisation's API clients (never their secrets)",
    responses=problem_responses(401, 403, 404),
)
async def list_organisation_clients(
    organisation_id: uuid.UUID, uow: UoW, _principal: Admin
) -> list[Client]:
    await service.get(uow, organisation_id)
    return [Client.model_validate(c) for c in await clients.list_clients(uow, organisation_id)]


@router.post(
    "/{organisation_id}/clients",
    response_model=IssuedClient,
    status_code=201,
    summary="Issue client credentials; the secret is shown once",
    responses=problem_responses(401, 403, 404, 413, 415, 422),
)
async def create_organisation_client(
    organisation_id: uuid.UUID, body: ClientCreate, uow: UoW, _principal: Admin
) -> IssuedClient:
    issued = await clients.create_client(uow, organisation_id, body.name, body.scopes)
    return IssuedClient(
        **Client.model_validate(issued.client).model_dump(), client_secret=issued.client_secret
    )


@router.delete(
    "/{organisation_id}/clients/{client_id}",
    status_code=204,
    summary="Revoke client credentials",
    responses=problem_responses(401, 403, 404),
)
async def revoke_organisation_client(
    organisation_id: uuid.UUID, client_id: str, uow: UoW, _principal: Admin
) -> Response:
    await clients.revoke_client(uow, organisation_id, client_id)
    return Response(status_code=204)
