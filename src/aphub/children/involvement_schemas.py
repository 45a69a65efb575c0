"""Involvements: what integrations send to record that a health or social care body is
involved with a child, on what basis and for which sharing categories, and the shape of
what they get back.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)


class SharingCategory(StrEnum):
    """A sharing category (sharing.md): what a field of the record is about."""

    identity = "identity"
    education = "education"
    needs = "needs"
    health = "health"
    social_care = "social_care"
    safeguarding = "safeguarding"
    voice = "voice"
    contacts = "contacts"
    placement = "placement"


class InvolvementBasis(StrEnum):
    """Why a health or social care body is involved: the family's or child's consent (give
    its reference), or a statutory basis: `looked_after` (a looked-after child), `ehcp` (EHC
    needs assessment or plan), `youth_justice_order`, `child_protection` (a child protection
    plan or enquiry), `child_in_need` (a child-in-need plan), `other_statutory`."""

    consent = "consent"
    looked_after = "looked_after"
    ehcp = "ehcp"
    youth_justice_order = "youth_justice_order"
    child_protection = "child_protection"
    child_in_need = "child_in_need"
    other_statutory = "other_statutory"


Reference = Annotated[str, Field(min_length=1, max_length=100)]


class InvolvementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation_id: uuid.UUID = Field(description="A health or social care organisation")
    basis: InvolvementBasis
    consent_reference: Reference | None = Field(
        None, description="Required when basis is consent: where the consent is recorded"
    )
    start_date: date
    end_date: date | None = Field(None, description="The last day of the involvement")
    categories: Annotated[list[SharingCategory], Field(min_length=1, max_length=9)] | None = Field(
        None,
        description="What the organisation may see: a subset of what the sharing agreement "
        "grants its kind of involvement (default: all of that)",
    )

    @field_validator("end_date")
    @classmethod
    def _end_not_before_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if end is not None and start is not None and end < start:
            raise ValueError("end_date must not be before start_date")
        return end

    @model_validator(mode="after")
    def _consent_has_reference(self) -> InvolvementCreate:
        if self.basis == InvolvementBasis.consent and not self.consent_reference:
            raise ValueError("consent_reference is required when basis is consent")
        return self


class InvolvementEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_date: date | None = Field(
        None,
        description="The involvement's last day. Omitted: it ends now (its last day is "
        "recorded as yesterday, so the organisation's access stops with this request); one "
        "that started today or has not started is withdrawn (its last day is recorded as "
        "the day before its start, and it is never current again)",
    )


class Involvement(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_name: str
    organisation_type: str
    basis: InvolvementBasis
    consent_reference: str | None = None
    start_date: date
    end_date: date | None = None
    current: bool = Field(description="The involvement gives the organisation access today")
    categories: list[str]
    recorded_by_id: uuid.UUID | None = None
    version: int
    created_at: datetime


class InvolvementPage(BaseModel):
    items: list[Involvement]
    next_cursor: str | None = None
