"""Child records: what integrations send, and the shape of what they get back.

Responses are shaped by the sharing layer: every field below except `id`, `version`,
`home_la_id`, `updated_at` and `access` is present only when the caller's categories
allow it (absent, never null-filled). The passport's history and the data controller's
access audit and export are here too; involvements and consents have modules of their own
(`involvement_schemas`, `consent_schemas`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from aphub.returns.spec import code_set
from aphub.types import ULN, UPN, NHSNumber, Postcode

ShortText = Annotated[str, Field(min_length=1, max_length=100)]
MiddleNames = Annotated[
    str,
    Field(min_length=1, max_length=200, description="All middle names in full, space-separated"),
]


def _ethnicity(value: str) -> str:
    code = value.strip().upper()
    if code not in code_set("ethnicity").codes:
        raise ValueError(
            "not a DfE ethnicity code (main or extended, e.g. WBRI; REFU when refused, "
            "NOBT when not obtained)"
        )
    return code


def _postcode(value: str) -> str:
    compact = value.replace(" ", "").upper()
    return f"{compact[:-3]} {compact[-3:]}"


Ethnicity = Annotated[
    str,
    AfterValidator(_ethnicity),
    Field(
        description="DfE ethnicity code, as the AP census and school census take it",
        json_schema_extra={"enum": sorted(code_set("ethnicity").codes)},
        examples=["WBRI"],
    ),
]
HomePostcode = Annotated[Postcode, AfterValidator(_postcode)]
LongText = Annotated[str, Field(max_length=10_000)]


class Sex(StrEnum):
    female = "female"
    male = "male"


class YearGroup(StrEnum):
    N1 = "N1"
    N2 = "N2"
    R = "R"
    Y1 = "1"
    Y2 = "2"
    Y3 = "3"
    Y4 = "4"
    Y5 = "5"
    Y6 = "6"
    Y7 = "7"
    Y8 = "8"
    Y9 = "9"
    Y10 = "10"
    Y11 = "11"
    Y12 = "12"
    Y13 = "13"
    Y14 = "14"


class SenProvision(StrEnum):
    none = "none"
    sen_support = "sen_support"
    ehcp = "ehcp"


class PrimaryNeed(StrEnum):
    """SEN primary need codes of the school census."""

    SPLD = "SPLD"
    MLD = "MLD"
    SLD = "SLD"
    PMLD = "PMLD"
    SEMH = "SEMH"
    SLCN = "SLCN"
    HI = "HI"
    VI = "VI"
    MSI = "MSI"
    PD = "PD"
    ASD = "ASD"
    OTH = "OTH"
    NSA = "NSA"


class EnrolmentStatus(StrEnum):
    C = "C"
    M = "M"
    S = "S"


class EnrolmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    school_id: uuid.UUID
    status: EnrolmentStatus
    start_date: date
    end_date: date | None = None
    hours_per_week: Annotated[Decimal, Field(gt=0, le=40, decimal_places=1)] | None = Field(
        None,
        description="The school's own hours for a child on its roll part time (absent: "
        "full time); counted with the child's placements towards full-time education",
    )

    @model_validator(mode="after")
    def _end_after_start(self) -> EnrolmentIn:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class ChildStatusFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sen_provision: SenProvision | None = None
    primary_need: PrimaryNeed | None = None
    has_medical_needs: bool | None = None
    looked_after: bool | None = None
    looked_after_la_id: uuid.UUID | None = None
    child_in_need: bool | None = None
    child_protection_plan: bool | None = None
    young_carer: bool | None = None
    youth_justice: bool | None = None
    free_school_meals: bool | None = None


class ChildCreate(ChildStatusFields):
    legal_first_name: ShortText
    legal_last_name: ShortText
    preferred_name: ShortText | None = None
    middle_names: MiddleNames | None = None
    date_of_birth: date
    sex: Sex | None = None
    year_group: YearGroup | None = None
    ethnicity: Ethnicity | None = None
    home_postcode: HomePostcode | None = None
    upn: UPN | None = None
    former_upns: Annotated[list[UPN], Field(max_length=20)] = []
    uln: ULN | None = None
    nhs_number: NHSNumber | None = None
    home_la_id: uuid.UUID
    enrolments: Annotated[list[EnrolmentIn], Field(max_length=20)] = []

    @model_validator(mode="after")
    def _plausible(self) -> ChildCreate:
        today = date.today()
        if self.date_of_birth > today:
            raise ValueError("date_of_birth must not be in the future")
        if (today - self.date_of_birth).days > 26 * 366:
            raise ValueError("date_of_birth is more than 25 years ago: not a child of the hub")
        return self


# Fields every child has: a PATCH may change them but not clear them (null).
NOT_CLEARABLE = (
    "legal_first_name",
    "legal_last_name",
    "date_of_birth",
    "sen_provision",
    "has_medical_needs",
    "looked_after",
    "child_in_need",
    "child_protection_plan",
    "young_carer",
    "youth_justice",
    "free_school_meals",
)


class ChildUpdate(ChildStatusFields):
    """Fields present are set; null clears an optional field."""

    legal_first_name: ShortText | None = None
    legal_last_name: ShortText | None = None
    preferred_name: ShortText | None = None
    middle_names: MiddleNames | None = None
    date_of_birth: date | None = None
    sex: Sex | None = None
    year_group: YearGroup | None = None
    ethnicity: Ethnicity | None = None
    home_postcode: HomePostcode | None = None
    upn: UPN | None = None
    uln: ULN | None = None
    nhs_number: NHSNumber | None = None

    @field_validator(*NOT_CLEARABLE)
    @classmethod
    def _not_cleared(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            raise ValueError(f"{info.field_name} cannot be cleared; send a value")
        return value

    @field_validator("date_of_birth")
    @classmethod
    def _plausible(cls, value: date | None) -> date | None:
        if value is not None and value > date.today():
            raise ValueError("date_of_birth must not be in the future")
        return value


class Enrolment(BaseModel):
    id: uuid.UUID
    school_id: uuid.UUID
    status: EnrolmentStatus
    start_date: date
    end_date: date | None = None
    hours_per_week: Decimal | None = None


class Access(BaseModel):
    rules: list[str] = Field(description="The sharing rules that let you see this child")
    categories: list[str] = Field(description="The categories you may read")
    policy_version: str


class SectionView(BaseModel):
    model_config = ConfigDict(extra="allow")

    version: int
    updated_at: datetime | None = None


class ChildView(BaseModel):
    """A child as one caller may see it; fields outside its categories are absent."""

    id: uuid.UUID
    version: int
    home_la_id: uuid.UUID
    updated_at: datetime
    legal_first_name: str | None = None
    legal_last_name: str | None = None
    preferred_name: str | None = None
    middle_names: str | None = None
    date_of_birth: date | None = None
    sex: Sex | None = None
    year_group: YearGroup | None = None
    ethnicity: str | None = None
    home_postcode: str | None = None
    upn: str | None = None
    former_upns: list[str] | None = None
    uln: str | None = None
    nhs_number: str | None = None
    enrolments: list[Enrolment] | None = None
    sen_provision: SenProvision | None = None
    free_school_meals: bool | None = None
    primary_need: PrimaryNeed | None = None
    has_medical_needs: bool | None = None
    looked_after: bool | None = None
    looked_after_la_id: uuid.UUID | None = None
    child_in_need: bool | None = None
    child_protection_plan: bool | None = None
    young_carer: bool | None = None
    youth_justice: bool | None = None
    passport: dict[str, SectionView] | None = None
    access: Access


class ChildPage(BaseModel):
    items: list[ChildView]
    next_cursor: str | None = None


class ChildConflict(BaseModel):
    """409 body when the child is already recorded."""

    existing_id: uuid.UUID | None = None
    detail: str


# --- passport history ------------------------------------------------------------------


class ChangedBy(BaseModel):
    organisation_id: uuid.UUID | None = None
    organisation_name: str | None = None
    client_id: str | None = None


class SectionVersion(BaseModel):
    """One version of a passport section, redacted to the fields you may read."""

    version: int
    changed_at: datetime
    changed_by: ChangedBy
    changed_fields: list[str] = Field(description="Fields this version changed (that you may read)")
    content: dict[str, Any] = Field(description="The section as it stood after this version")


class SectionHistoryPage(BaseModel):
    items: list[SectionVersion]
    next_cursor: str | None = None


# --- access audit and subject access export ---------------------------------------------


class AccessLogEntry(BaseModel):
    """One access to the child's record: who, when, how, with what outcome and why."""

    id: uuid.UUID
    at: datetime
    organisation_id: uuid.UUID
    organisation_name: str | None = None
    client_id: str
    action: str = Field(
        description="read, list, match (reads of the record); history, involvements, "
        "consents (reads beside it); access_log, export (the controller's own)"
    )
    surface: str = Field(description="rest, graphql or export")
    outcome: str = Field(description="allowed or denied")
    rules: list[str] = Field(description="The sharing rules that decided it")
    categories: list[str] = Field(description="The categories the access could read")
    policy_version: str


class AccessLogPage(BaseModel):
    items: list[AccessLogEntry]
    next_cursor: str | None = None


class ChildExport(BaseModel):
    """Everything the hub holds about one child, for the data controller (the home LA)."""

    exported_at: datetime
    policy_version: str
    child: dict[str, Any]
    enrolments: list[dict[str, Any]]
    passport: dict[str, Any] = Field(description="Each section with its full version history")
    involvements: list[dict[str, Any]]
    consents: list[dict[str, Any]]
    placements: list[dict[str, Any]] = Field(
        description="Each with the rows hung on it, by table: intended_outcomes, reviews ..."
    )
    events: list[dict[str, Any]] = Field(description="Every event about the child, by seq")
    access_log: list[dict[str, Any]] = Field(description="Every access, oldest first")
