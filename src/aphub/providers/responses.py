"""What the directory returns over REST: documents built from the read views (the GraphQL
types in `graphql_types.py` carry the same fields)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

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
from aphub.providers.alerts import ProviderAlertCode
from aphub.providers.schemas import LocalTime


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ProviderOfsted(_Out):
    last_inspection_date: date | None
    grade: OfstedGrade | None


class ProviderSafeguarding(_Out):
    designated_lead_name: str | None
    designated_lead_email: str | None
    designated_lead_phone: str | None
    staff_checks_confirmed_on: date | None
    policy_reviewed_on: date | None
    insurance_expires_on: date | None


class ProviderQualityAssurance(_Out):
    status: QAStatus
    reason: str | None = Field(description="Why the current status was set")
    conditions: str | None
    status_changed_at: datetime | None
    assessor_organisation_id: uuid.UUID | None = Field(
        description="The local authority that last assessed the provider or set its status"
    )
    last_visit_on: date | None
    next_due_on: date | None


class ProviderAlert(_Out):
    code: ProviderAlertCode
    message: str
    since: date = Field(description="When the condition began")


class ProviderOffer(_Out):
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
    start_time: LocalTime | None
    end_time: LocalTime | None
    hours_per_week: Decimal | None
    cost_per_place: Decimal | None = Field(description="In pounds, as a decimal string")
    cost_unit: CostUnit | None
    location_ids: list[uuid.UUID]
    version: int
    created_at: datetime
    updated_at: datetime


class ProviderLocation(_Out):
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


class Provider(_Out):
    id: uuid.UUID
    name: str
    active: bool
    local_authority_id: uuid.UUID | None = Field(description="The provider's own LA area")
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
    ofsted: ProviderOfsted
    safeguarding: ProviderSafeguarding
    quality_assurance: ProviderQualityAssurance
    alerts: list[ProviderAlert] = Field(description="Derived when read: QA overdue and the like")
    offers: list[ProviderOffer]
    locations: list[ProviderLocation]
    version: int
    created_at: datetime
    updated_at: datetime


class ProviderQARecord(_Out):
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


class ProviderQAStatusChange(_Out):
    id: uuid.UUID
    provider_id: uuid.UUID
    from_status: QAStatus
    to_status: QAStatus
    reason: str
    conditions: str | None
    next_due_on: date | None
    changed_by_organisation_id: uuid.UUID
    changed_at: datetime


class ProviderConcern(_Out):
    id: uuid.UUID
    provider_id: uuid.UUID
    category: ConcernCategory
    severity: ConcernSeverity
    reason: str
    raised_by_organisation_id: uuid.UUID
    raised_at: datetime


class ProviderPage(BaseModel):
    items: list[Provider]
    next_cursor: str | None = None


class ProviderOfferPage(BaseModel):
    items: list[ProviderOffer]
    next_cursor: str | None = None


class ProviderLocationPage(BaseModel):
    items: list[ProviderLocation]
    next_cursor: str | None = None


class ProviderQARecordPage(BaseModel):
    items: list[ProviderQARecord]
    next_cursor: str | None = None


class ProviderQAStatusChangePage(BaseModel):
    items: list[ProviderQAStatusChange]
    next_cursor: str | None = None


class ProviderConcernPage(BaseModel):
    items: list[ProviderConcern]
    next_cursor: str | None = None
