"""What the directory reads into: plain views built straight from rows (no ORM objects on
the read path), shared by the REST documents and the GraphQL types."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from aphub import registration
from aphub.providers.alerts import Alert, alerts_for, today


@dataclass(slots=True)
class OfstedView:
    last_inspection_date: date | None
    grade: str | None


@dataclass(slots=True)
class SafeguardingView:
    designated_lead_name: str | None
    designated_lead_email: str | None
    designated_lead_phone: str | None
    staff_checks_confirmed_on: date | None
    policy_reviewed_on: date | None
    insurance_expires_on: date | None


@dataclass(slots=True)
class QualityAssuranceView:
    status: str
    reason: str | None
    conditions: str | None
    status_changed_at: datetime | None
    assessor_organisation_id: uuid.UUID | None
    last_visit_on: date | None
    next_due_on: date | None


@dataclass(slots=True)
class OfferView:
    id: uuid.UUID
    provider_id: uuid.UUID
    type: str
    name: str
    description: str | None
    key_stages: list[str]
    age_min: int | None
    age_max: int | None
    time_basis: str | None
    qualifications: list[str]
    send_specialisms: list[str]
    capacity: int | None
    places_free: int | None
    days: list[str]
    start_time: time | None
    end_time: time | None
    hours_per_week: Decimal | None
    cost_per_place: Decimal | None
    cost_unit: str | None
    location_ids: list[uuid.UUID]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class LocationView:
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


@dataclass(slots=True)
class ProviderEntry:
    """A provider's directory entry as read: organisation row, profile and LA code."""

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
    email: str | None
    description: str | None
    website: str | None
    phone: str | None
    registration_status: str | None
    census_setting_type: str | None
    ofsted: OfstedView
    safeguarding: SafeguardingView
    quality_assurance: QualityAssuranceView
    version: int
    created_at: datetime
    updated_at: datetime
    full_time_pupils: int = 0  # live: active placements of 18 hours a week or more
    full_time_flagged: int = 0  # of those, pupils with an EHC plan or looked after
    # filled by the REST surface's batched loads; GraphQL resolves them through loaders
    offers: list[OfferView] = field(default_factory=list)
    locations: list[LocationView] = field(default_factory=list)

    @property
    def alerts(self) -> list[Alert]:
        return alerts_for(
            qa_next_due_on=self.quality_assurance.next_due_on,
            staff_checks_confirmed_on=self.safeguarding.staff_checks_confirmed_on,
            insurance_expires_on=self.safeguarding.insurance_expires_on,
            on=today(),
            registration_breach=(
                registration.breach(self.full_time_pupils, self.full_time_flagged)
                if self.registration_status in (None, "unregistered")
                else None
            ),
        )


@dataclass(slots=True)
class QARecordView:
    id: uuid.UUID
    provider_id: uuid.UUID
    kind: str
    conducted_on: date
    assessor_organisation_id: uuid.UUID
    assessor_name: str | None
    findings: str
    actions: str | None
    outcome: str
    next_due_on: date | None
    created_at: datetime


@dataclass(slots=True)
class QAStatusChangeView:
    id: uuid.UUID
    provider_id: uuid.UUID
    from_status: str
    to_status: str
    reason: str
    conditions: str | None
    next_due_on: date | None
    changed_by_organisation_id: uuid.UUID
    changed_at: datetime


@dataclass(slots=True)
class ConcernView:
    id: uuid.UUID
    provider_id: uuid.UUID
    category: str
    severity: str
    reason: str
    raised_by_organisation_id: uuid.UUID
    raised_at: datetime
