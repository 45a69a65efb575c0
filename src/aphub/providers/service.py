"""The provider directory: reads, and who may change what.

The directory holds no child data, so every organisation with `providers:read` may read
all of it except concerns (see `quality.visible_concerns`). Writes are decided here:
- the directory entry, offers and locations: only the provider itself. Any other caller
  is told the entry does not exist (404), as it would be for any object outside the set
  it may write;
- QA records and QA status: a local authority whose area contains the provider (its own
  LA, or the LA of one of its delivery sites). Anyone else gets 403, the provider itself
  included: the directory entry is visible to them, so there is nothing to hide;
- concerns: any commissioner (school, trust, local authority).
Writes live in `directory.py` and `quality.py`; REST routes and GraphQL resolvers call
these functions and nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Forbidden, NotFound, PreconditionFailed
from aphub.events.log import Actor, record
from aphub.models import Organisation
from aphub.models.organisations import OrganisationType
from aphub.providers import lists, repository
from aphub.providers.search import SearchFilter
from aphub.providers.search import search as search_providers
from aphub.providers.views import LocationView, OfferView, ProviderEntry

SUBJECT = "provider"
COMMISSIONERS = frozenset(
    {
        OrganisationType.school.value,
        OrganisationType.trust.value,
        OrganisationType.local_authority.value,
    }
)


class ProviderNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such provider, or not one you may change")


# --- reads -------------------------------------------------------------------------------------


async def search(
    uow: ReadUnit, f: SearchFilter, limit: int, cursor: str | None
) -> tuple[list[ProviderEntry], str | None]:
    """A page of directory entries (without offers and locations: see `with_details`)."""
    return await search_providers(uow, f, limit, cursor)


async def get(uow: ReadUnit, provider_id: uuid.UUID) -> ProviderEntry:
    found = await repository.entry(uow, provider_id)
    if found is None:
        raise NotFound("No such provider")
    return found


async def with_details(uow: ReadUnit, entries: Sequence[ProviderEntry]) -> list[ProviderEntry]:
    """Attach offers and locations to entries: two statements whatever their number."""
    ids = [e.id for e in entries]
    if ids:
        offers = await lists.offers_by_provider(uow, ids)
        locations = await lists.locations_by_provider(uow, ids)
        for e in entries:
            e.offers, e.locations = offers[e.id], locations[e.id]
    return list(entries)


async def offers_of(uow: ReadUnit, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[OfferView]]:
    return await lists.offers_by_provider(uow, ids)


async def locations_of(
    uow: ReadUnit, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[LocationView]]:
    return await lists.locations_by_provider(uow, ids)


async def require_provider(uow: ReadUnit, provider_id: uuid.UUID) -> None:
    if not await repository.provider_exists(uow, provider_id):
        raise NotFound("No such provider")


async def offers_page(
    uow: ReadUnit, provider_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[OfferView], str | None]:
    await require_provider(uow, provider_id)
    return await lists.offers_page(uow, provider_id, limit, cursor)


async def get_offer(uow: ReadUnit, provider_id: uuid.UUID, offer_id: uuid.UUID) -> OfferView:
    found = await lists.offer(uow, provider_id, offer_id)
    if found is None:
        raise NotFound("No such offer")
    return found


async def locations_page(
    uow: ReadUnit, provider_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[LocationView], str | None]:
    await require_provider(uow, provider_id)
    return await lists.locations_page(uow, provider_id, limit, cursor)


async def get_location(
    uow: ReadUnit, provider_id: uuid.UUID, location_id: uuid.UUID
) -> LocationView:
    found = await lists.location(uow, provider_id, location_id)
    if found is None:
        raise NotFound("No such location")
    return found


# --- who may change what -----------------------------------------------------------------------


async def own_entry_for_update(
    uow: WriteUnit, principal: Principal, provider_id: uuid.UUID
) -> Organisation:
    """The caller's own provider row, locked; 404 for anyone else's."""
    if principal.organisation_id != provider_id:
        raise ProviderNotFound()
    organisation = await repository.lock_provider(uow, provider_id)
    if organisation is None:
        raise ProviderNotFound()
    return organisation


async def provider_for_quality_assurance(
    uow: WriteUnit, principal: Principal, provider_id: uuid.UUID
) -> Organisation:
    """The provider's row, locked, if the caller is a local authority whose area it is in."""
    organisation = await repository.lock_provider(uow, provider_id)
    if organisation is None:
        raise NotFound("No such provider")
    if principal.organisation_id == provider_id:
        raise Forbidden("A provider cannot record its own quality assurance or set its status")
    if principal.organisation_type != OrganisationType.local_authority or not (
        await repository.is_in_area(uow, provider_id, principal.organisation_id)
    ):
        raise Forbidden(
            "Only a local authority whose area contains the provider (its own area or one of "
            "its delivery sites) may record its quality assurance or set its status"
        )
    return organisation


def require_commissioner(principal: Principal) -> None:
    if principal.organisation_type not in COMMISSIONERS:
        raise Forbidden("Only a commissioner (school, trust or local authority) may do this")


def check_version(current: int, if_match: int | None, what: str) -> None:
    if if_match is not None and if_match != current:
        raise PreconditionFailed(f"The {what} is at version {current}, not {if_match}")


# --- events ------------------------------------------------------------------------------------


def actor(principal: Principal) -> Actor:
    return Actor(principal.organisation_id, principal.client_id)


def provider_changed(
    uow: WriteUnit,
    principal: Principal,
    provider: Organisation,
    event_type: str,
    data: dict[str, Any],
) -> None:
    """Move the entry to its next version and log why, in the same transaction. The
    version is the organisation row's: a provider is an organisation with directory data,
    so its ETag covers both (and `updated_since` sees every change)."""
    provider.version += 1
    record(
        uow,
        type=event_type,
        subject_type=SUBJECT,
        subject_id=provider.id,
        actor=actor(principal),
        data=data,
        subject_version=provider.version,
    )
