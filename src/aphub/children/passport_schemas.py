"""What each passport section holds: one content model per section.

A PATCH names only the fields it changes (null clears one), so every field is optional
here; the field names are exactly those of `aphub.sharing.fields.SECTION_FIELDS`, where
each has its sharing category (checked at import: a field added in one place and not the
other stops the hub). Every string and list is bounded, so no request can store an
unbounded document.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from aphub.errors import validation_problem
from aphub.sharing.fields import SECTION_FIELDS
from aphub.types import URN

Text = Annotated[str, Field(max_length=10_000, description="Free text, at most 10,000 characters")]
Item = Annotated[str, Field(min_length=1, max_length=2_000)]
Label = Annotated[str, Field(min_length=1, max_length=200)]
Phone = Annotated[
    str,
    Field(min_length=3, max_length=32, pattern=r"^\+?[0-9 ()-]{3,32}$", examples=["01632 960001"]),
]
Email = Annotated[EmailStr, Field(max_length=254)]
Items = Annotated[list[Item], Field(max_length=50)]


class Content(BaseModel):
    """Base of every section's content: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class Period(Content):
    start_date: date
    end_date: date | None = None

    @field_validator("end_date")
    @classmethod
    def _end_not_before_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if end is not None and start is not None and end < start:
            raise ValueError("end_date must not be before start_date")
        return end


# --- about me, needs, voice -------------------------------------------------------------


class AboutMeSection(Content):
    summary: Text | None = None
    what_works_for_me: Text | None = None
    what_does_not_work: Text | None = None
    communication: Text | None = None
    interests: Text | None = None


class NeedsAndStrategiesSection(Content):
    summary_of_needs: Text | None = None
    strategies: Items | None = Field(None, description="Strategies that help, one per item")
    triggers: Items | None = Field(None, description="Known triggers, one per item")
    support_in_place: Text | None = None


class ChildVoiceSection(Content):
    views: Text | None = None
    aspirations: Text | None = None
    what_i_want_adults_to_know: Text | None = None


class FamilyVoiceSection(Content):
    views: Text | None = None
    aspirations: Text | None = None
    concerns: Text | None = None


# --- risks and safeguarding ------------------------------------------------------------


class MissingEpisode(Period):
    """A missing-from-home or missing-from-care episode: when it began and ended."""

    note: Annotated[str, Field(max_length=2_000)] | None = None


class RisksAndSafeguardingSection(Content):
    risk_summary: Text | None = None
    exploitation_concerns: Text | None = None
    safety_plan: Text | None = None
    missing_episodes: Annotated[list[MissingEpisode], Field(max_length=100)] | None = None


# --- health ----------------------------------------------------------------------------


class Diagnosis(Content):
    name: Label
    diagnosed_on: date | None = None
    note: Annotated[str, Field(max_length=2_000)] | None = None


class Medication(Content):
    name: Label
    dose: Annotated[str, Field(max_length=200)] | None = None
    schedule: Annotated[str, Field(max_length=200)] | None = None
    note: Annotated[str, Field(max_length=2_000)] | None = None


class HealthSection(Content):
    health_summary: Text | None = None
    medical_needs: Text | None = Field(
        None, description="What adults must know to keep the child safe (shared with providers)"
    )
    diagnoses: Annotated[list[Diagnosis], Field(max_length=50)] | None = None
    medication: Annotated[list[Medication], Field(max_length=50)] | None = None


# --- education history -----------------------------------------------------------------


class ExclusionReason(StrEnum):
    """Reason codes for suspensions and permanent exclusions, as in the DfE school census:
    PP physical assault against a pupil; PA physical assault against an adult;
    VP verbal abuse or threatening behaviour against a pupil; VA verbal abuse or threatening
    behaviour against an adult; OW use or threat of use of an offensive weapon or prohibited
    item; BU bullying; RA racist abuse; LG abuse against sexual orientation or gender
    identity; DS abuse relating to disability; SM sexual misconduct; DA drug and alcohol
    related; DM damage; TH theft; MT inappropriate use of social media or online technology;
    PH wilful and repeated transgression of protective measures in place to protect public
    health; PD persistent or general disruptive behaviour; OT other (earlier records only)."""

    PP = "PP"
    PA = "PA"
    VP = "VP"
    VA = "VA"
    OW = "OW"
    BU = "BU"
    RA = "RA"
    LG = "LG"
    DS = "DS"
    SM = "SM"
    DA = "DA"
    DM = "DM"
    TH = "TH"
    MT = "MT"
    PH = "PH"
    PD = "PD"
    OT = "OT"


class PreviousSetting(Period):
    """A school or other setting the child attended; `end_date` null while still there."""

    name: Label
    urn: URN | None = None
    reason_left: Annotated[str, Field(max_length=2_000)] | None = None


class Suspension(Content):
    """A suspension (formerly fixed-period exclusion): at most 45 school days in a year."""

    start_date: date
    school_days: Annotated[int, Field(ge=1, le=45)]
    reason_code: ExclusionReason


class Exclusion(Content):
    """A permanent exclusion."""

    date: dt.date
    reason_code: ExclusionReason
    type: Literal["permanent"] = "permanent"


class AttainmentBaseline(Content):
    level: Annotated[str, Field(min_length=1, max_length=50, examples=["GCSE 3", "Entry 3"])]
    assessed_on: date


class AttainmentBaselines(Content):
    english: AttainmentBaseline | None = None
    maths: AttainmentBaseline | None = None


class EducationHistorySection(Content):
    settings: Annotated[list[PreviousSetting], Field(max_length=50)] | None = None
    suspensions: Annotated[list[Suspension], Field(max_length=100)] | None = None
    exclusions: Annotated[list[Exclusion], Field(max_length=20)] | None = None
    attainment_baselines: AttainmentBaselines | None = None


class Post16IntentionsSection(Content):
    intentions: Text | None = None
    careers_guidance: Text | None = None
    aspirations: Text | None = None


# --- contacts --------------------------------------------------------------------------


class ParentCarer(Content):
    name: Label
    relationship: Label
    parental_responsibility: bool
    phone: Phone | None = None
    email: Email | None = None
    address: Annotated[str, Field(max_length=500)] | None = None


class Professional(Content):
    name: Label
    role: Label
    organisation: Label | None = None
    phone: Phone | None = None
    email: Email | None = None


class ContactsSection(Content):
    parents_carers: Annotated[list[ParentCarer], Field(max_length=20)] | None = None
    professionals: Annotated[list[Professional], Field(max_length=50)] | None = None


SECTION_MODELS: dict[str, type[Content]] = {
    "about_me": AboutMeSection,
    "needs_and_strategies": NeedsAndStrategiesSection,
    "child_voice": ChildVoiceSection,
    "family_voice": FamilyVoiceSection,
    "risks_and_safeguarding": RisksAndSafeguardingSection,
    "health": HealthSection,
    "education_history": EducationHistorySection,
    "post16_intentions": Post16IntentionsSection,
    "contacts": ContactsSection,
}

for _section, _model in SECTION_MODELS.items():
    if set(_model.model_fields) != set(SECTION_FIELDS.get(_section, {})):
        raise RuntimeError(f"passport section {_section}: content model and field catalogue differ")
if set(SECTION_MODELS) != set(SECTION_FIELDS):
    raise RuntimeError("every passport section in the field catalogue needs a content model")


def parse_changes(section: str, changes: object) -> Content:
    """A section's changes validated from plain JSON (GraphQL), with the 422 REST gives."""
    try:
        return SECTION_MODELS[section].model_validate(changes)
    except ValidationError as exc:
        raise validation_problem(exc.errors()) from None
