"""What the directory accepts (what it returns is in `responses.py`). Per-field rules are
pydantic types, shared by REST bodies and GraphQL inputs (which are validated through these
same models); rules that compare fields live in the `*_rule_errors` functions, which the
service applies to the state after a change, so a PATCH is judged on the whole result, not
just its own fields."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    WithJsonSchema,
)

from aphub.errors import FieldError, Invalid, validation_problem
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
from aphub.models.providers import (
    REGISTERED_STATUSES,
    CensusSettingType,
    OfstedGrade,
    QAStatus,
    RegistrationStatus,
)
from aphub.providers.search import SearchFilter
from aphub.types import UKPRN, URN, CharityNumber, CompaniesHouseNumber, LACode, Postcode

M = TypeVar("M", bound=BaseModel)


# --- field types ---------------------------------------------------------------------------


def _printable(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the driver
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _local_time(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("give a local time without a UTC offset, like 09:30")
    return value


def _iso_datetime(value: Any) -> Any:
    # lax parsing would take "0.5" as a Unix time; the contract says ISO 8601
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("give an ISO 8601 date and time, like 2026-09-01T08:30:00Z") from None
    return value


def _utc(value: datetime) -> datetime:
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise ValueError("date and time out of range") from None


def _postcode(value: str) -> str:
    compact = value.replace(" ", "").upper()
    return f"{compact[:-3]} {compact[-3:]}"


Line = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable)]
ShortLine = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_printable)]
Reason = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_printable)]
Prose = Annotated[str, Field(min_length=1, max_length=4000), AfterValidator(_printable)]
LongProse = Annotated[str, Field(min_length=1, max_length=10000), AfterValidator(_printable)]
Phone = Annotated[
    str, Field(pattern=r"^\+?[0-9][0-9 ()-]{5,28}$", max_length=30, examples=["020 7946 0000"])
]
Website = Annotated[
    str,
    Field(pattern=r"^https?://[^\s/?#]+[^\s]*$", max_length=500, examples=["https://example.org"]),
]
UKPostcode = Annotated[Postcode, AfterValidator(_postcode)]
Since = Annotated[datetime, BeforeValidator(_iso_datetime), AfterValidator(_utc)]
SearchText = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
Age = Annotated[int, Field(ge=4, le=25, description="Age in years")]
Places = Annotated[int, Field(ge=0, le=10_000)]
# A wall-clock time in England, never with an offset. JSON Schema's `time` format is
# RFC 3339's, which requires one: the contract describes the string itself instead.
LOCAL_TIME_SCHEMA = {
    "type": "string",
    "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
    "description": "Local time, HH:MM or HH:MM:SS, without a UTC offset",
    "examples": ["09:30"],
}
LocalTime = Annotated[time, AfterValidator(_local_time), WithJsonSchema(LOCAL_TIME_SCHEMA)]
HoursPerWeek = Annotated[Decimal, Field(ge=0, le=60, max_digits=3, decimal_places=1)]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("9999999.99"), max_digits=9, decimal_places=2)]
KeyStages = Annotated[list[KeyStage], Field(max_length=len(KeyStage)), AfterValidator(_unique)]
Qualifications = Annotated[
    list[Qualification], Field(max_length=len(Qualification)), AfterValidator(_unique)
]
SendSpecialisms = Annotated[
    list[SendSpecialism], Field(max_length=len(SendSpecialism)), AfterValidator(_unique)
]
Days = Annotated[list[OfferDay], Field(max_length=len(OfferDay)), AfterValidator(_unique)]
LocationIds = Annotated[
    list[uuid.UUID],
    Field(max_length=100, description="Delivery locations (of this provider) of the offer"),
    AfterValidator(_unique),
]


def validated(model: type[M], data: Any) -> M:
    """Validate `data` with `model`, reporting failures as a 422 with field errors (the
    same document FastAPI's own body validation produces)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc.errors()) from None


def invalid(errors: list[FieldError]) -> Invalid:
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
    return Invalid(f"The request is not valid: {summary}", errors=errors)


# --- directory entry -------------------------------------------------------------------------


class ProviderOfstedInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    last_inspection_date: date | None = Field(
        default=None, description="Registered settings only; not in the future"
    )
    grade: OfstedGrade | None = Field(default=None, description="Registered settings only")


class ProviderSafeguardingInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    designated_lead_name: Line | None = None
    designated_lead_email: EmailStr | None = None
    designated_lead_phone: Phone | None = None
    staff_checks_confirmed_on: date | None = Field(
        default=None,
        description="When written confirmation that staff checks (KCSIE) were carried out "
        "was received; an alert is raised once it is over 12 months old",
    )
    policy_reviewed_on: date | None = Field(
        default=None, description="When the safeguarding policy was last reviewed"
    )
    insurance_expires_on: date | None = Field(
        default=None, description="Last day of insurance cover; an alert is raised after it"
    )


class ProviderEntryInput(BaseModel):
    """The directory entry a provider maintains. PUT replaces it whole (absent fields are
    cleared); PATCH changes only the fields sent (nested objects are merged). The name,
    the local authority area and the QA status are not part of it: the operator registers
    the first two, local authorities decide the third."""

    model_config = ConfigDict(extra="forbid")

    urn: URN | None = None
    ukprn: UKPRN | None = None
    companies_house_number: CompaniesHouseNumber | None = None
    charity_number: CharityNumber | None = None
    description: Prose | None = None
    website: Website | None = None
    email: EmailStr | None = None
    phone: Phone | None = None
    registration_status: RegistrationStatus | None = None
    census_setting_type: CensusSettingType | None = Field(
        default=None, description="Unregistered providers only"
    )
    ofsted: ProviderOfstedInput = Field(default_factory=ProviderOfstedInput)
    safeguarding: ProviderSafeguardingInput = Field(default_factory=ProviderSafeguardingInput)


def entry_rule_errors(entry: ProviderEntryInput, today: date) -> list[FieldError]:
    errors: list[FieldError] = []
    status = entry.registration_status
    registered = status is not None and status.value in REGISTERED_STATUSES
    if entry.census_setting_type is not None and status != RegistrationStatus.unregistered:
        errors.append(
            FieldError(
                "census_setting_type",
                "only an unregistered provider has an AP census setting type",
            )
        )
    if not registered:
        for name in ("grade", "last_inspection_date"):
            if getattr(entry.ofsted, name) is not None:
                errors.append(
                    FieldError(
                        f"ofsted.{name}",
                        "only a registered setting has an Ofsted inspection "
                        "(set registration_status to a registered status)",
                    )
                )
    past_dates = {
        "ofsted.last_inspection_date": entry.ofsted.last_inspection_date,
        "safeguarding.staff_checks_confirmed_on": entry.safeguarding.staff_checks_confirmed_on,
        "safeguarding.policy_reviewed_on": entry.safeguarding.policy_reviewed_on,
    }
    for field, value in past_dates.items():
        if value is not None and value > today:
            errors.append(FieldError(field, "must not be in the future"))
    return errors


# --- offers and locations ----------------------------------------------------------------------


class ProviderOfferInput(BaseModel):
    """An offer (HSDS service). PUT replaces it whole; PATCH takes any subset of fields."""

    model_config = ConfigDict(extra="forbid")

    type: OfferType
    name: Line
    description: Prose | None = None
    key_stages: KeyStages = []
    age_min: Age | None = None
    age_max: Age | None = None
    time_basis: TimeBasis | None = None
    qualifications: Qualifications = []
    send_specialisms: SendSpecialisms = []
    capacity: Places | None = Field(default=None, description="Places in total")
    places_free: Places | None = Field(
        default=None, description="Places free now; needs capacity, at most capacity"
    )
    days: Days = []
    start_time: LocalTime | None = None
    end_time: LocalTime | None = None
    hours_per_week: HoursPerWeek | None = None
    cost_per_place: Money | None = Field(default=None, description="In pounds, per cost_unit")
    cost_unit: CostUnit | None = None
    location_ids: LocationIds = []


class ProviderOfferPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: OfferType | None = None
    name: Line | None = None
    description: Prose | None = None
    key_stages: KeyStages | None = None
    age_min: Age | None = None
    age_max: Age | None = None
    time_basis: TimeBasis | None = None
    qualifications: Qualifications | None = None
    send_specialisms: SendSpecialisms | None = None
    capacity: Places | None = None
    places_free: Places | None = None
    days: Days | None = None
    start_time: LocalTime | None = None
    end_time: LocalTime | None = None
    hours_per_week: HoursPerWeek | None = None
    cost_per_place: Money | None = None
    cost_unit: CostUnit | None = None
    location_ids: LocationIds | None = None


def offer_rule_errors(offer: ProviderOfferInput) -> list[FieldError]:
    errors: list[FieldError] = []
    if offer.age_min is not None and offer.age_max is not None and offer.age_min > offer.age_max:
        errors.append(FieldError("age_max", "age_max must not be less than age_min"))
    if offer.places_free is not None:
        if offer.capacity is None:
            errors.append(FieldError("places_free", "places_free needs capacity"))
        elif offer.places_free > offer.capacity:
            errors.append(FieldError("places_free", "places_free must not exceed capacity"))
    if offer.start_time and offer.end_time and offer.start_time >= offer.end_time:
        errors.append(FieldError("end_time", "end_time must be after start_time"))
    if offer.cost_per_place is not None and offer.cost_unit is None:
        errors.append(FieldError("cost_unit", "say what cost_per_place is charged per"))
    return errors


class ProviderLocationInput(BaseModel):
    """A delivery site (HSDS location). PUT replaces it whole; PATCH takes any subset."""

    model_config = ConfigDict(extra="forbid")

    name: Line
    address_1: Line
    address_2: Line | None = None
    city: ShortLine | None = None
    postcode: UKPostcode
    la_code: LACode = Field(description="Local authority area the site lies in")


class ProviderLocationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line | None = None
    address_1: Line | None = None
    address_2: Line | None = None
    city: ShortLine | None = None
    postcode: UKPostcode | None = None
    la_code: LACode | None = None


# --- quality assurance -------------------------------------------------------------------------


class ProviderQARecordInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: QAKind
    conducted_on: date = Field(description="Date of the visit or audit; not in the future")
    assessor_name: Line | None = Field(default=None, description="Who carried it out")
    findings: LongProse
    actions: LongProse | None = Field(default=None, description="Actions agreed, if any")
    outcome: QAOutcome
    next_due_on: date | None = Field(
        default=None, description="When the next QA is due; sets the provider's next due date"
    )


def qa_record_rule_errors(record: ProviderQARecordInput, today: date) -> list[FieldError]:
    errors: list[FieldError] = []
    if record.conducted_on > today:
        errors.append(FieldError("conducted_on", "must not be in the future"))
    if record.next_due_on is not None and record.next_due_on <= record.conducted_on:
        errors.append(FieldError("next_due_on", "must be after conducted_on"))
    return errors


class ProviderQAStatusInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: QAStatus
    reason: Reason = Field(description="Why the status is set; kept in the history and log")
    conditions: Reason | None = Field(
        default=None, description="Required for (and only for) approved_with_conditions"
    )
    next_due_on: date | None = Field(default=None, description="When the next QA is due")


def qa_status_rule_errors(change: ProviderQAStatusInput, today: date) -> list[FieldError]:
    errors: list[FieldError] = []
    if change.status == QAStatus.not_assessed:
        errors.append(FieldError("status", "not_assessed is only the initial status"))
    with_conditions = change.status == QAStatus.approved_with_conditions
    if with_conditions and not change.conditions:
        errors.append(FieldError("conditions", "approved_with_conditions needs the conditions"))
    if not with_conditions and change.conditions:
        errors.append(FieldError("conditions", "only approved_with_conditions has conditions"))
    if change.next_due_on is not None and change.next_due_on <= today:
        errors.append(FieldError("next_due_on", "must be in the future"))
    return errors


class ProviderConcernInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: ConcernCategory
    severity: ConcernSeverity
    reason: Prose = Field(
        description="What the concern is; shared with the provider and the local authorities "
        "whose area it is in, so do not name children"
    )


# --- directory search ----------------------------------------------------------------------------


class ProviderSearch(BaseModel):
    """Directory search criteria; each one given narrows the result. The offer criteria
    (offer_type, key_stage, age, send_specialism, qualification, time_basis,
    has_free_places) must all be met by one and the same offer."""

    la_code: LACode | None = Field(
        default=None, description="LA area: the provider's own, or any delivery site's"
    )
    offer_type: list[OfferType] = Field(
        default_factory=list, max_length=len(OfferType), description="Any of these offer types"
    )
    key_stage: KeyStage | None = None
    age: int | None = Field(
        default=None, ge=0, le=25, description="Within an offer's stated age range"
    )
    registration_status: list[RegistrationStatus] = Field(
        default_factory=list, max_length=len(RegistrationStatus), description="Any of these"
    )
    census_setting_type: CensusSettingType | None = None
    qa_status: list[QAStatus] = Field(
        default_factory=list, max_length=len(QAStatus), description="Any of these"
    )
    send_specialism: SendSpecialism | None = None
    has_free_places: bool | None = Field(
        default=None, description="true: places_free above 0; false: none free or not stated"
    )
    qualification: Qualification | None = None
    time_basis: TimeBasis | None = Field(
        default=None, description="full_time or part_time; offers of `either` match both"
    )
    name: SearchText | None = Field(default=None, description="Part of the provider's name")
    urn: URN | None = None
    ukprn: UKPRN | None = None
    updated_since: Since | None = Field(
        default=None,
        description="Only entries changed at or after this time, in (updated_at, id) order",
    )

    def to_filter(self) -> SearchFilter:
        return SearchFilter(
            la_code=self.la_code,
            offer_types=tuple(t.value for t in self.offer_type),
            key_stage=self.key_stage,
            age=self.age,
            registration_statuses=tuple(r.value for r in self.registration_status),
            census_setting_type=self.census_setting_type,
            qa_statuses=tuple(q.value for q in self.qa_status),
            send_specialism=self.send_specialism,
            has_free_places=self.has_free_places,
            qualification=self.qualification,
            time_basis=self.time_basis,
            name=self.name,
            urn=self.urn,
            ukprn=self.ukprn,
            updated_since=self.updated_since,
        )
