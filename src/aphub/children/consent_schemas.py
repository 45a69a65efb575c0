"""Consents: what integrations send to record a consent given (and withdrawn) about a
child, by whom and for what purpose, and the shape of what they get back.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class ConsentRelationship(StrEnum):
    """Who gave the consent, in relation to the child."""

    child = "child"
    parent = "parent"
    carer = "carer"
    guardian = "guardian"
    local_authority = "local_authority"


class ConsentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: Annotated[str, Field(min_length=1, max_length=2_000)]
    given_by: Annotated[str, Field(min_length=1, max_length=200)]
    relationship_to_child: ConsentRelationship
    given_on: date
    withdrawn_on: date | None = None

    @field_validator("given_on")
    @classmethod
    def _not_in_future(cls, given_on: date) -> date:
        if given_on > date.today():
            raise ValueError("given_on must not be in the future")
        return given_on

    @field_validator("withdrawn_on")
    @classmethod
    def _withdrawn_after_given(cls, withdrawn: date | None, info: ValidationInfo) -> date | None:
        given = info.data.get("given_on")
        if withdrawn is not None and given is not None and withdrawn < given:
            raise ValueError("withdrawn_on must not be before given_on")
        return withdrawn


class ConsentWithdraw(BaseModel):
    model_config = ConfigDict(extra="forbid")

    withdrawn_on: date | None = Field(None, description="Omitted: today")


class Consent(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    purpose: str
    given_by: str
    relationship_to_child: ConsentRelationship
    given_on: date
    withdrawn_on: date | None = None
    recorded_by_id: uuid.UUID | None = None
    created_at: datetime


class ConsentPage(BaseModel):
    items: list[Consent]
    next_cursor: str | None = None
