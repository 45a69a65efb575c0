"""GraphQL object and input types of the provider directory. Inputs only carry values to
the REST pydantic models (`aphub.graphql.inputs.parse`), which hold every rule; the
`Provider` type, whose nested lists are batched, is in `graphql.py`."""

from __future__ import annotations

import inspect
import uuid
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

import strawberry
from strawberry.types.unset import UNSET

from aphub.models.provider_offers import (
    CostUnit,
    KeyStage,
    OfferDay,
    OfferType,
    Qualification,
    SendSpecialism,
    TimeBasis,
)
from aphub.models.provider_quality import ConcernCategory, ConcernSeverity, QAKind, QAOutcome
from aphub.models.providers import CensusSettingType, OfstedGrade, QAStatus, RegistrationStatus
from aphub.providers.alerts import Alert, ProviderAlertCode
from aphub.providers.views import (
    ConcernView,
    LocationView,
    OfferView,
    OfstedView,
    QARecordView,
    QAStatusChangeView,
    QualityAssuranceView,
    SafeguardingView,
)

E = TypeVar("E", bound=StrEnum)

for _enum in (
    RegistrationStatus,
    CensusSettingType,
    OfstedGrade,
    QAStatus,
    QAKind,
    QAOutcome,
    OfferType,
    KeyStage,
    TimeBasis,
    Qualification,
    SendSpecialism,
    OfferDay,
    CostUnit,
    ConcernCategory,
    ConcernSeverity,
    ProviderAlertCode,
):
    strawberry.enum(_enum, description=inspect.cleandoc(_enum.__doc__ or ""))


def _maybe(enum: type[E], value: str | None) -> E | None:
    return enum(value) if value is not None else None


def _each(enum: type[E], values: list[str]) -> list[E]:
    return [enum(v) for v in values]


# --- object types ------------------------------------------------------------------------------


@strawberry.type(name="ProviderOfsted")
class OfstedNode:
    last_inspection_date: date | None
    grade: OfstedGrade | None

    @classmethod
    def from_view(cls, view: OfstedView) -> OfstedNode:
        return cls(
            last_inspection_date=view.last_inspection_date,
            grade=_maybe(OfstedGrade, view.grade),
        )


@strawberry.type(name="ProviderSafeguarding")
class SafeguardingNode:
    designated_lead_name: str | None
    designated_lead_email: str | None
    designated_lead_phone: str | None
    staff_checks_confirmed_on: date | None
    policy_reviewed_on: date | None
    insurance_expires_on: date | None

    @classmethod
    def from_view(cls, view: SafeguardingView) -> SafeguardingNode:
        return cls(
            designated_lead_name=view.designated_lead_name,
            designated_lead_email=view.designated_lead_email,
            designated_lead_phone=view.designated_lead_phone,
            staff_checks_confirmed_on=view.staff_checks_confirmed_on,
            policy_reviewed_on=view.policy_reviewed_on,
            insurance_expires_on=view.insurance_expires_on,
        )


@strawberry.type(name="ProviderQualityAssurance")
class QualityAssuranceNode:
    status: QAStatus
    reason: str | None
    conditions: str | None
    status_changed_at: datetime | None
    assessor_organisation_id: uuid.UUID | None
    last_visit_on: date | None
    next_due_on: date | None

    @classmethod
    def from_view(cls, view: QualityAssuranceView) -> QualityAssuranceNode:
        return cls(
            status=QAStatus(view.status),
            reason=view.reason,
            conditions=view.conditions,
            status_changed_at=view.status_changed_at,
            assessor_organisation_id=view.assessor_organisation_id,
            last_visit_on=view.last_visit_on,
            next_due_on=view.next_due_on,
        )


@strawberry.type(name="ProviderAlert")
class AlertNode:
    code: ProviderAlertCode
    message: str
    since: date

    @classmethod
    def from_view(cls, alert: Alert) -> AlertNode:
        return cls(code=alert.code, message=alert.message, since=alert.since)


@strawberry.type(name="ProviderOffer")
class OfferNode:
    id: uuid.UUID
    provider_id: uuid.UUID
    type: OfferType
    name: str
    description: str | None
    key_stages: list[KeyStage]
    age_min: int | None
    age_max: int | None
    time_basis: TimeBasis | None
    qualifications: list[Qualification]
    send_specialisms: list[SendSpecialism]
    capacity: int | None
    places_free: int | None
    days: list[OfferDay]
    start_time: time | None
    end_time: time | None
    hours_per_week: Decimal | None
    cost_per_place: Decimal | None
    cost_unit: CostUnit | None
    location_ids: list[uuid.UUID]
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_view(cls, view: OfferView) -> OfferNode:
        return cls(
            id=view.id,
            provider_id=view.provider_id,
            type=OfferType(view.type),
            name=view.name,
            description=view.description,
            key_stages=_each(KeyStage, view.key_stages),
            age_min=view.age_min,
            age_max=view.age_max,
            time_basis=_maybe(TimeBasis, view.time_basis),
            qualifications=_each(Qualification, view.qualifications),
            send_specialisms=_each(SendSpecialism, view.send_specialisms),
            capacity=view.capacity,
            places_free=view.places_free,
            days=_each(OfferDay, view.days),
            start_time=view.start_time,
            end_time=view.end_time,
            hours_per_week=view.hours_per_week,
            cost_per_place=view.cost_per_place,
            cost_unit=_maybe(CostUnit, view.cost_unit),
            location_ids=view.location_ids,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


@strawberry.type(name="ProviderLocation")
class LocationNode:
    id: uuid.UUID
    provider_id: uuid.UUID
    name: str
    address_1: str
    address_2: str | None
    city: str | None
    postcode: str
    la_code: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_view(cls, view: LocationView) -> LocationNode:
        return cls(
            id=view.id,
            provider_id=view.provider_id,
            name=view.name,
            address_1=view.address_1,
            address_2=view.address_2,
            city=view.city,
            postcode=view.postcode,
            la_code=view.la_code,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


@strawberry.type(name="ProviderQaRecord")
class QARecordNode:
    id: uuid.UUID
    provider_id: uuid.UUID
    kind: QAKind
    conducted_on: date
    assessor_organisation_id: uuid.UUID
    assessor_name: str | None
    findings: str
    actions: str | None
    outcome: QAOutcome
    next_due_on: date | None
    created_at: datetime

    @classmethod
    def from_view(cls, view: QARecordView) -> QARecordNode:
        return cls(
            id=view.id,
            provider_id=view.provider_id,
            kind=QAKind(view.kind),
            conducted_on=view.conducted_on,
            assessor_organisation_id=view.assessor_organisation_id,
            assessor_name=view.assessor_name,
            findings=view.findings,
            actions=view.actions,
            outcome=QAOutcome(view.outcome),
            next_due_on=view.next_due_on,
            created_at=view.created_at,
        )


@strawberry.type(name="ProviderQaStatusChange")
class QAStatusChangeNode:
    id: uuid.UUID
    provider_id: uuid.UUID
    from_status: QAStatus
    to_status: QAStatus
    reason: str
    conditions: str | None
    next_due_on: date | None
    changed_by_organisation_id: uuid.UUID
    changed_at: datetime

    @classmethod
    def from_view(cls, view: QAStatusChangeView) -> QAStatusChangeNode:
        return cls(
            id=view.id,
            provider_id=view.provider_id,
            from_status=QAStatus(view.from_status),
            to_status=QAStatus(view.to_status),
            reason=view.reason,
            conditions=view.conditions,
            next_due_on=view.next_due_on,
            changed_by_organisation_id=view.changed_by_organisation_id,
            changed_at=view.changed_at,
        )


@strawberry.type(name="ProviderConcern")
class ConcernNode:
    id: uuid.UUID
    provider_id: uuid.UUID
    category: ConcernCategory
    severity: ConcernSeverity
    reason: str
    raised_by_organisation_id: uuid.UUID
    raised_at: datetime

    @classmethod
    def from_view(cls, view: ConcernView) -> ConcernNode:
        return cls(
            id=view.id,
            provider_id=view.provider_id,
            category=ConcernCategory(view.category),
            severity=ConcernSeverity(view.severity),
            reason=view.reason,
            raised_by_organisation_id=view.raised_by_organisation_id,
            raised_at=view.raised_at,
        )


# --- inputs ------------------------------------------------------------------------------------
# Fields left out keep their value; null clears an optional field.


@strawberry.input(name="ProviderOfstedInput")
class OfstedInput:
    last_inspection_date: date | None = UNSET
    grade: OfstedGrade | None = UNSET


@strawberry.input(name="ProviderSafeguardingInput")
class SafeguardingInput:
    designated_lead_name: str | None = UNSET
    designated_lead_email: str | None = UNSET
    designated_lead_phone: str | None = UNSET
    staff_checks_confirmed_on: date | None = UNSET
    policy_reviewed_on: date | None = UNSET
    insurance_expires_on: date | None = UNSET


@strawberry.input(
    name="ProviderEntryInput",
    description="Changes to your directory entry: fields left out keep their value",
)
class EntryInput:
    urn: str | None = UNSET
    ukprn: str | None = UNSET
    companies_house_number: str | None = UNSET
    charity_number: str | None = UNSET
    description: str | None = UNSET
    website: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    registration_status: RegistrationStatus | None = UNSET
    census_setting_type: CensusSettingType | None = UNSET
    ofsted: OfstedInput | None = UNSET
    safeguarding: SafeguardingInput | None = UNSET


@strawberry.input(name="ProviderOfferInput", description="A new offer")
class OfferInput:
    type: OfferType
    name: str
    description: str | None = UNSET
    key_stages: list[KeyStage] | None = UNSET
    age_min: int | None = UNSET
    age_max: int | None = UNSET
    time_basis: TimeBasis | None = UNSET
    qualifications: list[Qualification] | None = UNSET
    send_specialisms: list[SendSpecialism] | None = UNSET
    capacity: int | None = UNSET
    places_free: int | None = UNSET
    days: list[OfferDay] | None = UNSET
    start_time: time | None = UNSET
    end_time: time | None = UNSET
    hours_per_week: Decimal | None = UNSET
    cost_per_place: Decimal | None = UNSET
    cost_unit: CostUnit | None = UNSET
    location_ids: list[uuid.UUID] | None = UNSET


@strawberry.input(name="ProviderOfferPatchInput", description="Changes to an offer")
class OfferPatchInput:
    type: OfferType | None = UNSET
    name: str | None = UNSET
    description: str | None = UNSET
    key_stages: list[KeyStage] | None = UNSET
    age_min: int | None = UNSET
    age_max: int | None = UNSET
    time_basis: TimeBasis | None = UNSET
    qualifications: list[Qualification] | None = UNSET
    send_specialisms: list[SendSpecialism] | None = UNSET
    capacity: int | None = UNSET
    places_free: int | None = UNSET
    days: list[OfferDay] | None = UNSET
    start_time: time | None = UNSET
    end_time: time | None = UNSET
    hours_per_week: Decimal | None = UNSET
    cost_per_place: Decimal | None = UNSET
    cost_unit: CostUnit | None = UNSET
    location_ids: list[uuid.UUID] | None = UNSET


@strawberry.input(name="ProviderLocationInput", description="A new delivery location")
class LocationInput:
    name: str
    address_1: str
    postcode: str
    la_code: str
    address_2: str | None = UNSET
    city: str | None = UNSET


@strawberry.input(name="ProviderLocationPatchInput", description="Changes to a location")
class LocationPatchInput:
    name: str | None = UNSET
    address_1: str | None = UNSET
    address_2: str | None = UNSET
    city: str | None = UNSET
    postcode: str | None = UNSET
    la_code: str | None = UNSET


@strawberry.input(name="ProviderQaRecordInput", description="A QA visit or audit")
class QARecordInput:
    kind: QAKind
    conducted_on: date
    findings: str
    outcome: QAOutcome
    assessor_name: str | None = UNSET
    actions: str | None = UNSET
    next_due_on: date | None = UNSET


@strawberry.input(name="ProviderQaStatusInput", description="A new QA status and why")
class QAStatusInput:
    status: QAStatus
    reason: str
    conditions: str | None = UNSET
    next_due_on: date | None = UNSET


@strawberry.input(name="ProviderConcernInput", description="A quality concern; name no child")
class ConcernInput:
    category: ConcernCategory
    severity: ConcernSeverity
    reason: str
