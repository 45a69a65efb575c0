"""Changing a directory entry, its offers and its delivery locations (the provider's own).

Every change is judged on the state it would leave: the current values merged with the
change are validated with the full input model and its cross-field rules, so a PATCH of
one field cannot leave the entry inconsistent. Nothing changes, no version moves and no
event is logged when the result equals what is stored.
"""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from aphub.auth.principal import Principal
from aphub.db import WriteUnit
from aphub.errors import Conflict, FieldError, NotFound
from aphub.ids import uuid7
from aphub.models import (
    Organisation,
    ProviderLocation,
    ProviderOffer,
    ProviderOfferLocation,
    ProviderProfile,
)
from aphub.providers import lists, repository
from aphub.providers.alerts import today
from aphub.providers.schemas import (
    ProviderEntryInput,
    ProviderLocationInput,
    ProviderOfferInput,
    entry_rule_errors,
    invalid,
    offer_rule_errors,
    validated,
)
from aphub.providers.service import (
    check_version,
    get,
    get_location,
    get_offer,
    own_entry_for_update,
    provider_changed,
)
from aphub.providers.views import LocationView, OfferView, ProviderEntry

UPDATED = "provider.updated"

# API field (dotted path) -> (row, column) of the directory entry
_ENTRY_COLUMNS: dict[str, tuple[str, str]] = {
    "urn": ("organisation", "urn"),
    "ukprn": ("organisation", "ukprn"),
    "companies_house_number": ("organisation", "companies_house_number"),
    "charity_number": ("organisation", "charity_number"),
    "email": ("organisation", "contact_email"),
    "description": ("profile", "description"),
    "website": ("profile", "website"),
    "phone": ("profile", "phone"),
    "registration_status": ("profile", "registration_status"),
    "census_setting_type": ("profile", "census_setting_type"),
    "ofsted.last_inspection_date": ("profile", "ofsted_last_inspection_date"),
    "ofsted.grade": ("profile", "ofsted_grade"),
    "safeguarding.designated_lead_name": ("profile", "dsl_name"),
    "safeguarding.designated_lead_email": ("profile", "dsl_email"),
    "safeguarding.designated_lead_phone": ("profile", "dsl_phone"),
    "safeguarding.staff_checks_confirmed_on": ("profile", "staff_checks_confirmed_on"),
    "safeguarding.policy_reviewed_on": ("profile", "safeguarding_policy_reviewed_on"),
    "safeguarding.insurance_expires_on": ("profile", "insurance_expires_on"),
}
_UNIQUE_IDENTIFIERS = ("urn", "ukprn")
_OFFER_COLUMNS = tuple(f for f in ProviderOfferInput.model_fields if f != "location_ids")
_LOCATION_COLUMNS = tuple(ProviderLocationInput.model_fields)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _merged(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        *parents, leaf = path.split(".")
        target = nested
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return nested


def _flat(nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in nested.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = _plain(value)
    return flat


# --- the entry ---------------------------------------------------------------------------------


async def _check_identifiers_free(
    uow: WriteUnit, provider_id: uuid.UUID, values: dict[str, Any]
) -> None:
    for name in _UNIQUE_IDENTIFIERS:
        value = values.get(name)
        if not value:
            continue
        column = getattr(Organisation, name)
        taken = await uow.session.scalar(
            select(Organisation.id).where(column == value, Organisation.id != provider_id)
        )
        if taken is not None:
            raise Conflict(f"Another organisation already has {name} {value}")


async def update_entry(
    uow: WriteUnit,
    principal: Principal,
    provider_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: int | None,
) -> ProviderEntry:
    """Apply `changes` (a PATCH's fields, or a PUT's whole body) to the caller's entry."""
    provider = await own_entry_for_update(uow, principal, provider_id)
    check_version(provider.version, if_match, "directory entry")
    profile = await repository.profile_for_update(uow, provider_id)
    rows: dict[str, Organisation | ProviderProfile] = {
        "organisation": provider,
        "profile": profile,
    }
    current = {path: getattr(rows[row], col) for path, (row, col) in _ENTRY_COLUMNS.items()}
    entry = validated(ProviderEntryInput, _merged(_nested(current), changes))
    errors = entry_rule_errors(entry, today())
    if errors:
        raise invalid(errors)
    wanted = _flat(entry.model_dump())
    changed = [path for path in _ENTRY_COLUMNS if wanted[path] != current[path]]
    if not changed:
        return await get(uow, provider_id)
    await _check_identifiers_free(uow, provider_id, {p: wanted[p] for p in changed})
    for path in changed:
        row, column = _ENTRY_COLUMNS[path]
        setattr(rows[row], column, wanted[path])
    provider_changed(
        uow,
        principal,
        provider,
        UPDATED,
        {"reason": "directory entry updated", "changed": changed},
    )
    try:
        await uow.session.flush()
    except IntegrityError:
        # a concurrent registration took the identifier between the check and the write
        raise Conflict("Another organisation already has one of these identifiers") from None
    return await get(uow, provider_id)


# --- offers ------------------------------------------------------------------------------------


async def _valid_offer(uow: WriteUnit, provider_id: uuid.UUID, offer: ProviderOfferInput) -> None:
    errors = offer_rule_errors(offer)
    foreign = await lists.foreign_locations(uow, provider_id, offer.location_ids)
    if foreign:
        errors.append(
            FieldError(
                "location_ids",
                "not delivery locations of this provider: " + ", ".join(map(str, foreign)),
            )
        )
    if errors:
        raise invalid(errors)


async def _link_locations(
    uow: WriteUnit, offer_id: uuid.UUID, location_ids: list[uuid.UUID]
) -> None:
    await uow.session.execute(
        delete(ProviderOfferLocation).where(ProviderOfferLocation.offer_id == offer_id)
    )
    if location_ids:
        await uow.session.execute(
            insert(ProviderOfferLocation),
            [{"offer_id": offer_id, "location_id": i} for i in location_ids],
        )


async def _offer_for_update(
    uow: WriteUnit, provider_id: uuid.UUID, offer_id: uuid.UUID
) -> ProviderOffer:
    offer = await uow.session.get(ProviderOffer, offer_id, with_for_update=True)
    if offer is None or offer.provider_id != provider_id:
        raise NotFound("No such offer")
    return offer


async def create_offer(
    uow: WriteUnit, principal: Principal, provider_id: uuid.UUID, data: ProviderOfferInput
) -> OfferView:
    provider = await own_entry_for_update(uow, principal, provider_id)
    await _valid_offer(uow, provider_id, data)
    columns = {name: _plain(getattr(data, name)) for name in _OFFER_COLUMNS}
    offer = ProviderOffer(id=uuid7(), provider_id=provider_id, version=1, **columns)
    uow.session.add(offer)
    await uow.session.flush()
    await _link_locations(uow, offer.id, data.location_ids)
    provider_changed(
        uow,
        principal,
        provider,
        UPDATED,
        {"reason": "offer added", "offer_id": str(offer.id), "changed": ["offers"]},
    )
    await uow.session.flush()
    return await get_offer(uow, provider_id, offer.id)


async def update_offer(
    uow: WriteUnit,
    principal: Principal,
    provider_id: uuid.UUID,
    offer_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: int | None,
) -> OfferView:
    provider = await own_entry_for_update(uow, principal, provider_id)
    offer = await _offer_for_update(uow, provider_id, offer_id)
    check_version(offer.version, if_match, "offer")
    current = {name: getattr(offer, name) for name in _OFFER_COLUMNS}
    current["location_ids"] = await lists.offer_location_ids(uow, offer_id)
    data = validated(ProviderOfferInput, {**current, **changes})
    await _valid_offer(uow, provider_id, data)
    wanted = {name: _plain(getattr(data, name)) for name in _OFFER_COLUMNS}
    changed = [name for name in _OFFER_COLUMNS if wanted[name] != current[name]]
    if sorted(data.location_ids) != sorted(current["location_ids"]):
        changed.append("location_ids")
        await _link_locations(uow, offer_id, data.location_ids)
    if not changed:
        return await get_offer(uow, provider_id, offer_id)
    for name in changed:
        if name != "location_ids":
            setattr(offer, name, wanted[name])
    offer.version += 1
    provider_changed(
        uow,
        principal,
        provider,
        UPDATED,
        {"reason": "offer updated", "offer_id": str(offer_id), "changed": changed},
    )
    await uow.session.flush()
    return await get_offer(uow, provider_id, offer_id)


async def delete_offer(
    uow: WriteUnit,
    principal: Principal,
    provider_id: uuid.UUID,
    offer_id: uuid.UUID,
    if_match: int | None,
) -> None:
    provider = await own_entry_for_update(uow, principal, provider_id)
    offer = await _offer_for_update(uow, provider_id, offer_id)
    check_version(offer.version, if_match, "offer")
    await uow.session.delete(offer)
    provider_changed(
        uow,
        principal,
        provider,
        UPDATED,
        {"reason": "offer withdrawn", "offer_id": str(offer_id), "changed": ["offers"]},
    )
    try:
        await uow.session.flush()
    except IntegrityError:
        raise Conflict("The offer is referenced by other records and cannot be deleted") from None


# --- delivery locations ------------------------------------------------------------------------


async def _location_for_update(
    uow: WriteUnit, provider_id: uuid.UUID, location_id: uuid.UUID
) -> ProviderLocation:
    location = await uow.session.get(ProviderLocation, location_id, with_for_update=True)
    if location is None or location.provider_id != provider_id:
        raise NotFound("No such location")
    return location


async def create_location(
    uow: WriteUnit, principal: Principal, provider_id: uuid.UUID, data: ProviderLocationInput
) -> LocationView:
    provider = await own_entry_for_update(uow, principal, provider_id)
    columns = {name: getattr(data, name) for name in _LOCATION_COLUMNS}
    location = ProviderLocation(id=uuid7(), provider_id=provider_id, version=1, **columns)
    uow.session.add(location)
    provider_changed(
        uow,
        principal,
        provider,
        UPDATED,
        {"reason": "location added", "location_id": str(location.id), "changed": ["locations"]},
    )
    await uow.session.flush()
    return await get_location(uow, provider_id, location.id)


async def update_location(
    uow: WriteUnit,
    principal: Principal,
    provider_id: uuid.UUID,
    location_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: int | None,
) -> LocationView:
    provider = await own_entry_for_update(uow, principal, provider_id)
    location = await _location_for_update(uow, provider_id, location_id)
    check_version(location.version, if_match, "location")
    current = {name: getattr(location, name) for name in _LOCATION_COLUMNS}
    data = validated(ProviderLocationInput, {**current, **changes})
    wanted = {name: getattr(data, name) for name in _LOCATION_COLUMNS}
    changed = [name for name in _LOCATION_COLUMNS if wanted[name] != current[name]]
    if not changed:
        return await get_location(uow, provider_id, location_id)
    for name in changed:
        setattr(location, name, wanted[name])
    location.version += 1
    provider_changed(
        uow,
        principal,
        provider,
        UPDATED,
        {"reason": "location updated", "location_id": str(location_id), "changed": changed},
    )
    await uow.session.flush()
    return await get_location(uow, provider_id, location_id)


async def delete_location(
    uow: WriteUnit,
    principal: Principal,
    provider_id: uuid.UUID,
    location_id: uuid.UUID,
    if_match: int | None,
) -> None:
    """Delete a delivery site; offers delivered there simply lose it from their list."""
    provider = await own_entry_for_update(uow, principal, provider_id)
    location = await _location_for_update(uow, provider_id, location_id)
    check_version(location.version, if_match, "location")
    await uow.session.delete(location)
    provider_changed(
        uow,
        principal,
        provider,
        UPDATED,
        {"reason": "location removed", "location_id": str(location_id), "changed": ["locations"]},
    )
    try:
        await uow.session.flush()
    except IntegrityError:
        raise Conflict(
            "The location is referenced by other records and cannot be deleted"
        ) from None
