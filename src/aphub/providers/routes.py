"""REST for the provider directory: search, entries, offers, locations (this module) and
quality assurance (`quality_routes`, included below). Handlers only translate HTTP to the
service functions GraphQL calls too."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from aphub.auth.principal import Principal
from aphub.deps import UoW
from aphub.errors import problem_responses
from aphub.http import IfMatch, etag, parse_if_match
from aphub.idempotency import HubRoute
from aphub.pagination import DEFAULT_LIMIT, Cursor, Limit
from aphub.providers import directory, service
from aphub.providers.params import READ, WRITE, ProviderId, Reader, Writer
from aphub.providers.quality_routes import router as quality_router
from aphub.providers.responses import (
    Provider,
    ProviderLocation,
    ProviderLocationPage,
    ProviderOffer,
    ProviderOfferPage,
    ProviderPage,
)
from aphub.providers.schemas import (
    ProviderEntryInput,
    ProviderLocationInput,
    ProviderLocationPatch,
    ProviderOfferInput,
    ProviderOfferPatch,
    ProviderSearch,
)

router = APIRouter(prefix="/v1/providers", tags=["providers"], route_class=HubRoute)


@router.get(
    "",
    response_model=ProviderPage,
    summary="Search the AP provider directory",
    description="Every criterion narrows the result. Offer criteria (offer_type, key_stage, "
    "age, send_specialism, qualification, time_basis, has_free_places) must all be met by "
    "one and the same offer. la_code matches the provider's own area or any delivery site's. "
    "Only active providers are listed. Ordered by id; with updated_since, by "
    "(updated_at, id) for delta sync.",
    responses=problem_responses(401, 403, 422, 429),
)
async def search_providers(
    uow: UoW,
    _principal: Reader,
    criteria: Annotated[ProviderSearch, Query()],
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ProviderPage:
    entries, next_cursor = await service.search(uow, criteria.to_filter(), limit, cursor)
    entries = await service.with_details(uow, entries)
    return ProviderPage(
        items=[Provider.model_validate(e) for e in entries], next_cursor=next_cursor
    )


@router.get(
    "/{provider_id}",
    response_model=Provider,
    summary="Read a provider's directory entry, with offers, locations and alerts",
    responses=READ,
)
async def get_provider(
    provider_id: ProviderId, uow: UoW, _principal: Reader, response: Response
) -> Provider:
    (entry,) = await service.with_details(uow, [await service.get(uow, provider_id)])
    response.headers["ETag"] = etag(entry.version)
    return Provider.model_validate(entry)


async def _write_entry(
    uow: UoW,
    principal: Principal,
    provider_id: uuid.UUID,
    changes: dict[str, object],
    if_match: str | None,
    response: Response,
) -> Provider:
    entry = await directory.update_entry(
        uow, principal, provider_id, changes, parse_if_match(if_match)
    )
    (entry,) = await service.with_details(uow, [entry])
    response.headers["ETag"] = etag(entry.version)
    return Provider.model_validate(entry)


@router.put(
    "/{provider_id}",
    response_model=Provider,
    summary="Replace your own directory entry (absent fields are cleared)",
    responses=WRITE,
)
async def replace_provider_entry(
    provider_id: ProviderId,
    body: ProviderEntryInput,
    uow: UoW,
    principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> Provider:
    return await _write_entry(uow, principal, provider_id, body.model_dump(), if_match, response)


@router.patch(
    "/{provider_id}",
    response_model=Provider,
    summary="Change fields of your own directory entry (nested objects are merged)",
    responses=WRITE,
)
async def update_provider_entry(
    provider_id: ProviderId,
    body: ProviderEntryInput,
    uow: UoW,
    principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> Provider:
    changes = body.model_dump(exclude_unset=True)
    return await _write_entry(uow, principal, provider_id, changes, if_match, response)


# --- offers ------------------------------------------------------------------------------------


@router.get(
    "/{provider_id}/offers",
    response_model=ProviderOfferPage,
    summary="List a provider's offers",
    responses=READ,
)
async def list_provider_offers(
    provider_id: ProviderId,
    uow: UoW,
    _principal: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ProviderOfferPage:
    offers, next_cursor = await service.offers_page(uow, provider_id, limit, cursor)
    return ProviderOfferPage(
        items=[ProviderOffer.model_validate(o) for o in offers], next_cursor=next_cursor
    )


@router.post(
    "/{provider_id}/offers",
    response_model=ProviderOffer,
    status_code=201,
    summary="Add an offer to your own directory entry",
    responses=WRITE,
)
async def create_provider_offer(
    provider_id: ProviderId,
    body: ProviderOfferInput,
    uow: UoW,
    principal: Writer,
    response: Response,
) -> ProviderOffer:
    offer = await directory.create_offer(uow, principal, provider_id, body)
    response.headers["ETag"] = etag(offer.version)
    response.headers["Location"] = f"/v1/providers/{provider_id}/offers/{offer.id}"
    return ProviderOffer.model_validate(offer)


@router.get(
    "/{provider_id}/offers/{offer_id}",
    response_model=ProviderOffer,
    summary="Read an offer",
    responses=READ,
)
async def get_provider_offer(
    provider_id: ProviderId,
    offer_id: uuid.UUID,
    uow: UoW,
    _principal: Reader,
    response: Response,
) -> ProviderOffer:
    offer = await service.get_offer(uow, provider_id, offer_id)
    response.headers["ETag"] = etag(offer.version)
    return ProviderOffer.model_validate(offer)


@router.put(
    "/{provider_id}/offers/{offer_id}",
    response_model=ProviderOffer,
    summary="Replace one of your offers",
    responses=WRITE,
)
async def replace_provider_offer(
    provider_id: ProviderId,
    offer_id: uuid.UUID,
    body: ProviderOfferInput,
    uow: UoW,
    principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> ProviderOffer:
    offer = await directory.update_offer(
        uow, principal, provider_id, offer_id, body.model_dump(), parse_if_match(if_match)
    )
    response.headers["ETag"] = etag(offer.version)
    return ProviderOffer.model_validate(offer)


@router.patch(
    "/{provider_id}/offers/{offer_id}",
    response_model=ProviderOffer,
    summary="Change fields of one of your offers (e.g. places_free)",
    responses=WRITE,
)
async def update_provider_offer(
    provider_id: ProviderId,
    offer_id: uuid.UUID,
    body: ProviderOfferPatch,
    uow: UoW,
    principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> ProviderOffer:
    changes = body.model_dump(exclude_unset=True)
    offer = await directory.update_offer(
        uow, principal, provider_id, offer_id, changes, parse_if_match(if_match)
    )
    response.headers["ETag"] = etag(offer.version)
    return ProviderOffer.model_validate(offer)


@router.delete(
    "/{provider_id}/offers/{offer_id}",
    status_code=204,
    summary="Withdraw one of your offers",
    responses=WRITE,
)
async def delete_provider_offer(
    provider_id: ProviderId,
    offer_id: uuid.UUID,
    uow: UoW,
    principal: Writer,
    if_match: IfMatch = None,
) -> Response:
    await directory.delete_offer(uow, principal, provider_id, offer_id, parse_if_match(if_match))
    return Response(status_code=204)


# --- delivery locations ------------------------------------------------------------------------


@router.get(
    "/{provider_id}/locations",
    response_model=ProviderLocationPage,
    summary="List a provider's delivery locations",
    responses=READ,
)
async def list_provider_locations(
    provider_id: ProviderId,
    uow: UoW,
    _principal: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ProviderLocationPage:
    found, next_cursor = await service.locations_page(uow, provider_id, limit, cursor)
    return ProviderLocationPage(
        items=[ProviderLocation.model_validate(x) for x in found], next_cursor=next_cursor
    )


@router.post(
    "/{provider_id}/locations",
    response_model=ProviderLocation,
    status_code=201,
    summary="Add a delivery location to your own directory entry",
    responses=WRITE,
)
async def create_provider_location(
    provider_id: ProviderId,
    body: ProviderLocationInput,
    uow: UoW,
    principal: Writer,
    response: Response,
) -> ProviderLocation:
    created = await directory.create_location(uow, principal, provider_id, body)
    response.headers["ETag"] = etag(created.version)
    response.headers["Location"] = f"/v1/providers/{provider_id}/locations/{created.id}"
    return ProviderLocation.model_validate(created)


@router.get(
    "/{provider_id}/locations/{location_id}",
    response_model=ProviderLocation,
    summary="Read a delivery location",
    responses=READ,
)
async def get_provider_location(
    provider_id: ProviderId,
    location_id: uuid.UUID,
    uow: UoW,
    _principal: Reader,
    response: Response,
) -> ProviderLocation:
    found = await service.get_location(uow, provider_id, location_id)
    response.headers["ETag"] = etag(found.version)
    return ProviderLocation.model_validate(found)


@router.put(
    "/{provider_id}/locations/{location_id}",
    response_model=ProviderLocation,
    summary="Replace one of your delivery locations",
    responses=WRITE,
)
async def replace_provider_location(
    provider_id: ProviderId,
    location_id: uuid.UUID,
    body: ProviderLocationInput,
    uow: UoW,
    principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> ProviderLocation:
    updated = await directory.update_location(
        uow, principal, provider_id, location_id, body.model_dump(), parse_if_match(if_match)
    )
    response.headers["ETag"] = etag(updated.version)
    return ProviderLocation.model_validate(updated)


@router.patch(
    "/{provider_id}/locations/{location_id}",
    response_model=ProviderLocation,
    summary="Change fields of one of your delivery locations",
    responses=WRITE,
)
async def update_provider_location(
    provider_id: ProviderId,
    location_id: uuid.UUID,
    body: ProviderLocationPatch,
    uow: UoW,
    principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> ProviderLocation:
    changes = body.model_dump(exclude_unset=True)
    updated = await directory.update_location(
        uow, principal, provider_id, location_id, changes, parse_if_match(if_match)
    )
    response.headers["ETag"] = etag(updated.version)
    return ProviderLocation.model_validate(updated)


@router.delete(
    "/{provider_id}/locations/{location_id}",
    status_code=204,
    summary="Remove one of your delivery locations (offers there lose it)",
    responses=WRITE,
)
async def delete_provider_location(
    provider_id: ProviderId,
    location_id: uuid.UUID,
    uow: UoW,
    principal: Writer,
    if_match: IfMatch = None,
) -> Response:
    await directory.delete_location(
        uow, principal, provider_id, location_id, parse_if_match(if_match)
    )
    return Response(status_code=204)


router.include_router(quality_router)
