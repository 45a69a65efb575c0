"""GraphQL for the provider directory: the same service functions as REST.

Nested lists of a provider (offers, locations, QA records, QA status history, concerns)
are resolved through per-request DataLoaders keyed by provider id: a page of providers
costs one statement for the page and one per nested list asked for, whatever its size.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar, cast

import strawberry
from strawberry.dataloader import DataLoader

from aphub.db import ReadUnit
from aphub.graphql.context import HubInfo
from aphub.graphql.inputs import parse, present
from aphub.graphql.pages import checked_page_size
from aphub.models.provider_offers import (
    KeyStage,
    OfferType,
    Qualification,
    SendSpecialism,
    TimeBasis,
)
from aphub.models.providers import CensusSettingType, QAStatus, RegistrationStatus
from aphub.providers import directory, quality, service
from aphub.providers.graphql_types import (
    AlertNode,
    ConcernInput,
    ConcernNode,
    EntryInput,
    LocationInput,
    LocationNode,
    LocationPatchInput,
    OfferInput,
    OfferNode,
    OfferPatchInput,
    OfstedNode,
    QARecordInput,
    QARecordNode,
    QAStatusChangeNode,
    QAStatusInput,
    QualityAssuranceNode,
    SafeguardingNode,
)
from aphub.providers.schemas import (
    ProviderConcernInput,
    ProviderEntryInput,
    ProviderLocationInput,
    ProviderLocationPatch,
    ProviderOfferInput,
    ProviderOfferPatch,
    ProviderQARecordInput,
    ProviderQAStatusInput,
    ProviderSearch,
)
from aphub.providers.views import ProviderEntry

READ, WRITE = "providers:read", "providers:write"
V = TypeVar("V")
Batch = Callable[[ReadUnit, Sequence[uuid.UUID]], Awaitable[dict[uuid.UUID, list[V]]]]


def _loader(info: HubInfo, name: str, batch: Batch[V]) -> DataLoader[uuid.UUID, list[V]]:
    """The request's loader `name`: every provider id asked for in one tick, one batch."""
    loader = info.context.loaders.get(name)
    if loader is None:
        uow = info.context.unit

        async def load(ids: list[uuid.UUID]) -> list[list[V]]:
            found = await batch(uow, ids)
            return [found[i] for i in ids]

        loader = info.context.loaders[name] = DataLoader(load_fn=load)
    return cast(DataLoader[uuid.UUID, list[V]], loader)


@strawberry.type(name="Provider", description="An AP provider's directory entry")
class ProviderNode:
    id: uuid.UUID
    name: str
    active: bool
    local_authority_id: uuid.UUID | None
    la_code: str | None
    postcode: str | None
    urn: str | None
    ukprn: str | None
    companies_house_number: str | None
    charity_number: str | None
    description: str | None
    website: str | None
    email: str | None
    phone: str | None
    registration_status: RegistrationStatus | None
    census_setting_type: CensusSettingType | None
    ofsted: OfstedNode
    safeguarding: SafeguardingNode
    quality_assurance: QualityAssuranceNode
    alerts: list[AlertNode] = strawberry.field(description="Derived when read")
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_entry(cls, entry: ProviderEntry) -> ProviderNode:
        return cls(
            id=entry.id,
            name=entry.name,
            active=entry.active,
            local_authority_id=entry.local_authority_id,
            la_code=entry.la_code,
            postcode=entry.postcode,
            urn=entry.urn,
            ukprn=entry.ukprn,
            companies_house_number=entry.companies_house_number,
            charity_number=entry.charity_number,
            description=entry.description,
            website=entry.website,
            email=entry.email,
            phone=entry.phone,
            registration_status=(
                RegistrationStatus(entry.registration_status) if entry.registration_status else None
            ),
            census_setting_type=(
                CensusSettingType(entry.census_setting_type) if entry.census_setting_type else None
            ),
            ofsted=OfstedNode.from_view(entry.ofsted),
            safeguarding=SafeguardingNode.from_view(entry.safeguarding),
            quality_assurance=QualityAssuranceNode.from_view(entry.quality_assurance),
            alerts=[AlertNode.from_view(a) for a in entry.alerts],
            version=entry.version,
            created_at=entry.created_at,
            updated_at=entry.updated_at,
        )

    @strawberry.field(description="What the provider offers (HSDS services)")
    async def offers(self, info: HubInfo) -> list[OfferNode]:
        found = await _loader(info, "provider_offers", service.offers_of).load(self.id)
        return [OfferNode.from_view(o) for o in found]

    @strawberry.field(description="Where the provider delivers (HSDS locations)")
    async def locations(self, info: HubInfo) -> list[LocationNode]:
        found = await _loader(info, "provider_locations", service.locations_of).load(self.id)
        return [LocationNode.from_view(x) for x in found]

    @strawberry.field(description="QA visits and audits, oldest first")
    async def quality_assurance_records(self, info: HubInfo) -> list[QARecordNode]:
        found = await _loader(info, "provider_qa_records", quality.qa_records_of).load(self.id)
        return [QARecordNode.from_view(r) for r in found]

    @strawberry.field(description="Every change of the QA status, oldest first")
    async def qa_status_history(self, info: HubInfo) -> list[QAStatusChangeNode]:
        found = await _loader(info, "provider_qa_history", quality.qa_history_of).load(self.id)
        return [QAStatusChangeNode.from_view(c) for c in found]

    @strawberry.field(description="The concerns about the provider that you may see")
    async def concerns(self, info: HubInfo) -> list[ConcernNode]:
        principal = info.context.principal(READ)

        async def visible(uow: ReadUnit, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
            return await quality.concerns_of(uow, principal, ids)

        found = await _loader(info, "provider_concerns", visible).load(self.id)
        return [ConcernNode.from_view(c) for c in found]


@strawberry.type(name="ProviderPage")
class ProviderPageNode:
    items: list[ProviderNode]
    next_cursor: str | None


@strawberry.type
class ProviderQuery:
    @strawberry.field(
        description="Search the AP provider directory. Offer criteria (offerType, keyStage, "
        "age, sendSpecialism, qualification, timeBasis, hasFreePlaces) must all be met by one "
        "and the same offer; laCode matches the provider's own area or any delivery site's."
    )
    async def providers(
        self,
        info: HubInfo,
        la_code: str | None = None,
        offer_type: list[OfferType] | None = None,
        key_stage: KeyStage | None = None,
        age: int | None = None,
        registration_status: list[RegistrationStatus] | None = None,
        census_setting_type: CensusSettingType | None = None,
        qa_status: list[QAStatus] | None = None,
        send_specialism: SendSpecialism | None = None,
        has_free_places: bool | None = None,
        qualification: Qualification | None = None,
        time_basis: TimeBasis | None = None,
        name: str | None = None,
        urn: str | None = None,
        ukprn: str | None = None,
        updated_since: datetime | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> ProviderPageNode:
        info.context.principal(READ)
        limit = checked_page_size(first)
        arguments = {
            "la_code": la_code,
            "offer_type": offer_type,
            "key_stage": key_stage,
            "age": age,
            "registration_status": registration_status,
            "census_setting_type": census_setting_type,
            "qa_status": qa_status,
            "send_specialism": send_specialism,
            "has_free_places": has_free_places,
            "qualification": qualification,
            "time_basis": time_basis,
            "name": name,
            "urn": urn,
            "ukprn": ukprn,
            "updated_since": updated_since,
        }
        criteria = parse(ProviderSearch, {k: v for k, v in arguments.items() if v is not None})
        entries, next_cursor = await service.search(
            info.context.unit, criteria.to_filter(), limit, after
        )
        return ProviderPageNode(
            items=[ProviderNode.from_entry(e) for e in entries], next_cursor=next_cursor
        )

    @strawberry.field(description="One provider's directory entry")
    async def provider(self, info: HubInfo, id: uuid.UUID) -> ProviderNode:
        info.context.principal(READ)
        return ProviderNode.from_entry(await service.get(info.context.unit, id))


IfMatch = Annotated[
    int | None, strawberry.argument(description="The version you read; refused if it moved on")
]


@strawberry.type
class ProviderMutation:
    @strawberry.mutation(description="Change your own directory entry (fields sent only)")
    async def update_provider_entry(
        self, info: HubInfo, id: uuid.UUID, input: EntryInput, if_match: IfMatch = None
    ) -> ProviderNode:
        principal = info.context.principal(WRITE)
        changes = parse(ProviderEntryInput, present(input)).model_dump(exclude_unset=True)
        entry = await directory.update_entry(info.context.writer, principal, id, changes, if_match)
        return ProviderNode.from_entry(entry)

    @strawberry.mutation(description="Add an offer to your own directory entry")
    async def create_provider_offer(
        self, info: HubInfo, provider_id: uuid.UUID, input: OfferInput
    ) -> OfferNode:
        principal = info.context.principal(WRITE)
        data = parse(ProviderOfferInput, present(input, drop_null=True))
        offer = await directory.create_offer(info.context.writer, principal, provider_id, data)
        return OfferNode.from_view(offer)

    @strawberry.mutation(description="Change one of your offers (fields sent only)")
    async def update_provider_offer(
        self,
        info: HubInfo,
        provider_id: uuid.UUID,
        offer_id: uuid.UUID,
        input: OfferPatchInput,
        if_match: IfMatch = None,
    ) -> OfferNode:
        principal = info.context.principal(WRITE)
        changes = parse(ProviderOfferPatch, present(input)).model_dump(exclude_unset=True)
        offer = await directory.update_offer(
            info.context.writer, principal, provider_id, offer_id, changes, if_match
        )
        return OfferNode.from_view(offer)

    @strawberry.mutation(description="Withdraw one of your offers; returns its id")
    async def delete_provider_offer(
        self,
        info: HubInfo,
        provider_id: uuid.UUID,
        offer_id: uuid.UUID,
        if_match: IfMatch = None,
    ) -> uuid.UUID:
        principal = info.context.principal(WRITE)
        unit = info.context.writer
        await directory.delete_offer(unit, principal, provider_id, offer_id, if_match)
        return offer_id

    @strawberry.mutation(description="Add a delivery location to your own directory entry")
    async def create_provider_location(
        self, info: HubInfo, provider_id: uuid.UUID, input: LocationInput
    ) -> LocationNode:
        principal = info.context.principal(WRITE)
        data = parse(ProviderLocationInput, present(input, drop_null=True))
        created = await directory.create_location(info.context.writer, principal, provider_id, data)
        return LocationNode.from_view(created)

    @strawberry.mutation(description="Change one of your delivery locations (fields sent only)")
    async def update_provider_location(
        self,
        info: HubInfo,
        provider_id: uuid.UUID,
        location_id: uuid.UUID,
        input: LocationPatchInput,
        if_match: IfMatch = None,
    ) -> LocationNode:
        principal = info.context.principal(WRITE)
        changes = parse(ProviderLocationPatch, present(input)).model_dump(exclude_unset=True)
        updated = await directory.update_location(
            info.context.writer, principal, provider_id, location_id, changes, if_match
        )
        return LocationNode.from_view(updated)

    @strawberry.mutation(description="Remove one of your delivery locations; returns its id")
    async def delete_provider_location(
        self,
        info: HubInfo,
        provider_id: uuid.UUID,
        location_id: uuid.UUID,
        if_match: IfMatch = None,
    ) -> uuid.UUID:
        principal = info.context.principal(WRITE)
        await directory.delete_location(
            info.context.writer, principal, provider_id, location_id, if_match
        )
        return location_id

    @strawberry.mutation(
        description="Record a QA visit or audit (a local authority whose area the provider is in)"
    )
    async def record_provider_quality_assurance(
        self, info: HubInfo, provider_id: uuid.UUID, input: QARecordInput
    ) -> QARecordNode:
        principal = info.context.principal(WRITE)
        data = parse(ProviderQARecordInput, present(input, drop_null=True))
        created = await quality.record_quality_assurance(
            info.context.writer, principal, provider_id, data
        )
        return QARecordNode.from_view(created)

    @strawberry.mutation(
        description="Set a provider's QA status with the reason (a local authority whose area "
        "the provider is in; never the provider itself)"
    )
    async def set_provider_qa_status(
        self,
        info: HubInfo,
        provider_id: uuid.UUID,
        input: QAStatusInput,
        if_match: IfMatch = None,
    ) -> ProviderNode:
        principal = info.context.principal(WRITE)
        data = parse(ProviderQAStatusInput, present(input, drop_null=True))
        entry = await quality.set_qa_status(
            info.context.writer, principal, provider_id, data, if_match
        )
        return ProviderNode.from_entry(entry)

    @strawberry.mutation(
        description="Raise a quality concern about a provider (a school, trust or local authority)"
    )
    async def raise_provider_concern(
        self, info: HubInfo, provider_id: uuid.UUID, input: ConcernInput
    ) -> ConcernNode:
        principal = info.context.principal(WRITE)
        data = parse(ProviderConcernInput, present(input))
        concern = await quality.raise_concern(info.context.writer, principal, provider_id, data)
        return ConcernNode.from_view(concern)
