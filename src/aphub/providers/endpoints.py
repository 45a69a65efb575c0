"""REST for the provider directory: search, entries, offers and locations (quality
assurance is in `quality_endpoints`). Handlers only translate HTTP to the service
functions GraphQL calls too."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from aphub.api.endpoint import Endpoint
from aphub.api.requests import PageParams
from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.providers import directory, service
from aphub.providers.params import READ, TAGS, WRITE, WRITE_ERRORS, ProviderId, tagged
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

UPDATED = (directory.UPDATED,)


class ProviderSearchParams(PageParams, ProviderSearch):
    """The search criteria, then the page."""


async def search_providers(unit: ReadUnit, query: ProviderSearchParams) -> ProviderPage:
    entries, next_cursor = await service.search(unit, query.to_filter(), query.limit, query.cursor)
    entries = await service.with_details(unit, entries)
    return ProviderPage(
        items=[Provider.model_validate(e) for e in entries], next_cursor=next_cursor
    )


async def get_provider(unit: ReadUnit, provider_id: ProviderId) -> Response:
    (entry,) = await service.with_details(unit, [await service.get(unit, provider_id)])
    return tagged(Provider.model_validate(entry), entry.version)


async def _write_entry(
    unit: WriteUnit,
    principal: Principal,
    provider_id: ProviderId,
    changes: dict[str, object],
    if_match: int | None,
) -> Response:
    entry = await directory.update_entry(unit, principal, provider_id, changes, if_match)
    (entry,) = await service.with_details(unit, [entry])
    return tagged(Provider.model_validate(entry), entry.version)


async def replace_provider_entry(
    unit: WriteUnit,
    principal: Principal,
    provider_id: ProviderId,
    body: ProviderEntryInput,
    if_match: int | None,
) -> Response:
    return await _write_entry(unit, principal, provider_id, body.model_dump(), if_match)


async def update_provider_entry(
    unit: WriteUnit,
    principal: Principal,
    provider_id: ProviderId,
    body: ProviderEntryInput,
    if_match: int | None,
) -> Response:
    changes = body.model_dump(exclude_unset=True)
    return await _write_entry(unit, principal, provider_id, changes, if_match)


# --- offers ------------------------------------------------------------------------------------


async def list_provider_offers(
    unit: ReadUnit, provider_id: ProviderId, query: PageParams
) -> ProviderOfferPage:
    offers, next_cursor = await service.offers_page(unit, provider_id, query.limit, query.cursor)
    return ProviderOfferPage(
        items=[ProviderOffer.model_validate(o) for o in offers], next_cursor=next_cursor
    )


async def create_provider_offer(
    unit: WriteUnit, principal: Principal, provider_id: ProviderId, body: ProviderOfferInput
) -> Response:
    offer = await directory.create_offer(unit, principal, provider_id, body)
    return tagged(
        ProviderOffer.model_validate(offer),
        offer.version,
        status=201,
        location=f"/v1/providers/{provider_id}/offers/{offer.id}",
    )


async def get_provider_offer(
    unit: ReadUnit, provider_id: ProviderId, offer_id: uuid.UUID
) -> Response:
    offer = await service.get_offer(unit, provider_id, offer_id)
    return tagged(ProviderOffer.model_validate(offer), offer.version)


async def replace_provider_offer(
    unit: WriteUnit,
    principal: Principal,
    provider_id: ProviderId,
    offer_id: uuid.UUID,
    body: ProviderOfferInput,
    if_match: int | None,
) -> Response:
    offer = await directory.update_offer(
        unit, principal, provider_id, offer_id, body.model_dump(), if_match
    )
    return tagged(ProviderOffer.model_validate(offer), offer.version)


async def update_provider_offer(
    unit: WriteUnit,
    principal: Principal,
    provider_id: ProviderId,
    offer_id: uuid.UUID,
    body: ProviderOfferPatch,
    if_match: int | None,
) -> Response:
    changes = body.model_dump(exclude_unset=True)
    offer = await directory.update_offer(unit, principal, provider_id, offer_id, changes, if_match)
    return tagged(ProviderOffer.model_validate(offer), offer.version)


async def delete_provider_offer(
    unit: WriteUnit,
    principal: Principal,
    provider_id: ProviderId,
    offer_id: uuid.UUID,
    if_match: int | None,
) -> None:
    await directory.delete_offer(unit, principal, provider_id, offer_id, if_match)


# --- delivery locations ------------------------------------------------------------------------


async def list_provider_locations(
    unit: ReadUnit, provider_id: ProviderId, query: PageParams
) -> ProviderLocationPage:
    found, next_cursor = await service.locations_page(unit, provider_id, query.limit, query.cursor)
    return ProviderLocationPage(
        items=[ProviderLocation.model_validate(x) for x in found], next_cursor=next_cursor
    )


async def create_provider_location(
    unit: WriteUnit, principal: Principal, provider_id: ProviderId, body: ProviderLocationInput
) -> Response:
    created = await directory.create_location(unit, principal, provider_id, body)
    return tagged(
        ProviderLocation.model_validate(created),
        created.version,
        status=201,
        location=f"/v1/providers/{provider_id}/locations/{created.id}",
    )


async def get_provider_location(
    unit: ReadUnit, provider_id: ProviderId, location_id: uuid.UUID
) -> Response:
    found = await service.get_location(unit, provider_id, location_id)
    return tagged(ProviderLocation.model_validate(found), found.version)


async def replace_provider_location(
    unit: WriteUnit,
    principal: Principal,
    provider_id: ProviderId,
    location_id: uuid.UUID,
    body: ProviderLocationInput,
    if_match: int | None,
) -> Response:
    updated = await directory.update_location(
        unit, principal, provider_id, location_id, body.model_dump(), if_match
    )
    return tagged(ProviderLocation.model_validate(updated), updated.version)


async def update_provider_location(
    unit: WriteUnit,
    principal: Principal,
    provider_id: ProviderId,
    location_id: uuid.UUID,
    body: ProviderLocationPatch,
    if_match: int | None,
) -> Response:
    changes = body.model_dump(exclude_unset=True)
    updated = await directory.update_location(
        unit, principal, provider_id, location_id, changes, if_match
    )
    return tagged(ProviderLocation.model_validate(updated), updated.version)


async def delete_provider_location(
    unit: WriteUnit,
    principal: Principal,
    provider_id: ProviderId,
    location_id: uuid.UUID,
    if_match: int | None,
) -> None:
    await directory.delete_location(unit, principal, provider_id, location_id, if_match)


ENTRY = "/v1/providers/{provider_id}"
OFFERS = f"{ENTRY}/offers"
OFFER = f"{OFFERS}/{{offer_id}}"
LOCATIONS = f"{ENTRY}/locations"
LOCATION = f"{LOCATIONS}/{{location_id}}"

ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/providers",
        search_providers,
        "Search the AP provider directory",
        scope=READ,
        response=ProviderPage,
        description="Every criterion narrows the result. Offer criteria (offer_type, key_stage, "
        "age, send_specialism, qualification, time_basis, has_free_places) must all be met by "
        "one and the same offer. la_code matches the provider's own area or any delivery site's. "
        "Only active providers are listed. Ordered by id; with updated_since, by "
        "(updated_at, id) for delta sync.",
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        ENTRY,
        get_provider,
        "Read a provider's directory entry, with offers, locations and alerts",
        scope=READ,
        response=Provider,
        tags=TAGS,
    ),
    Endpoint(
        "PUT",
        ENTRY,
        replace_provider_entry,
        "Replace your own directory entry (absent fields are cleared)",
        scope=WRITE,
        response=Provider,
        errors=WRITE_ERRORS,
        tags=TAGS,
        events=UPDATED,
    ),
    Endpoint(
        "PATCH",
        ENTRY,
        update_provider_entry,
        "Change fields of your own directory entry (nested objects are merged)",
        scope=WRITE,
        response=Provider,
        errors=WRITE_ERRORS,
        tags=TAGS,
        events=UPDATED,
    ),
    # offers
    Endpoint(
        "GET",
        OFFERS,
        list_provider_offers,
        "List a provider's offers",
        scope=READ,
        response=ProviderOfferPage,
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        OFFERS,
        create_provider_offer,
        "Add an offer to your own directory entry",
        scope=WRITE,
        response=ProviderOffer,
        status=201,
        errors=WRITE_ERRORS,
        tags=TAGS,
        events=UPDATED,
    ),
    Endpoint(
        "GET",
        OFFER,
        get_provider_offer,
        "Read an offer",
        scope=READ,
        response=ProviderOffer,
        tags=TAGS,
    ),
    Endpoint(
        "PUT",
        OFFER,
        replace_provider_offer,
        "Replace one of your offers",
        scope=WRITE,
        response=ProviderOffer,
        errors=WRITE_ERRORS,
        tags=TAGS,
        events=UPDATED,
    ),
    Endpoint(
        "PATCH",
        OFFER,
        update_provider_offer,
        "Change fields of one of your offers (e.g. places_free)",
        scope=WRITE,
        response=ProviderOffer,
        errors=WRITE_ERRORS,
        tags=TAGS,
        events=UPDATED,
    ),
    Endpoint(
        "DELETE",
        OFFER,
        delete_provider_offer,
        "Withdraw one of your offers",
        scope=WRITE,
        status=204,
        errors=WRITE_ERRORS,
        tags=TAGS,
        events=UPDATED,
    ),
    # delivery locations
    Endpoint(
        "GET",
        LOCATIONS,
        list_provider_locations,
        "List a provider's delivery locations",
        scope=READ,
        response=ProviderLocationPage,
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        LOCATIONS,
        create_provider_location,
        "Add a delivery location to your own directory entry",
        scope=WRITE,
        response=ProviderLocation,
        status=201,
        errors=WRITE_ERRORS,
        tags=TAGS,
        events=UPDATED,
    ),
    Endpoint(
        "GET",
        LOCATION,
        get_provider_location,
        "Read a delivery location",
        scope=READ,
        response=ProviderLocation,
        tags=TAGS,
    ),
    Endpoint(
        "PUT",
        LOCATION,
        replace_provider_location,
        "Replace one of your delivery locations",
        scope=WRITE,
        response=ProviderLocation,
        errors=WRITE_ERRORS,
        tags=TAGS,
        events=UPDATED,
    ),
    Endpoint(
        "PATCH",
        LOCATION,
        update_provider_location,
        "Change fields of one of your delivery locations",
        scope=WRITE,
        response=ProviderLocation,
        errors=WRITE_ERRORS,
        tags=TAGS,
        events=UPDATED,
    ),
    Endpoint(
        "DELETE",
        LOCATION,
        delete_provider_location,
        "Remove one of your delivery locations (offers there lose it)",
        scope=WRITE,
        status=204,
        errors=WRITE_ERRORS,
        tags=TAGS,
        events=UPDATED,
    ),
]
