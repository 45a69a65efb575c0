"""GraphQL inputs for child mutations, validated by the same pydantic models as REST.

The inputs only carry values across: every enumeration is a String here and every rule
(identifier checks, dates, bounds) is the pydantic model's, so a GraphQL client gets the
same field errors (`extensions.errors`, snake_case field paths) as a REST client.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from typing import Any, TypeVar

import strawberry
from pydantic import BaseModel, ValidationError
from strawberry.types.unset import UNSET

from aphub.errors import validation_problem

ETHNICITY = "DfE ethnicity code (e.g. WBRI; REFU refused, NOBT not obtained)"

M = TypeVar("M", bound=BaseModel)


def present(value: Any, *, drop_null: bool = False) -> Any:
    """An input as plain data, without the fields the client did not send (and, when
    creating, without nulls: a null there means the same as leaving the field out)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {}
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if item is UNSET or (drop_null and item is None):
                continue
            data[field.name] = present(item, drop_null=drop_null)
        return data
    if isinstance(value, list):
        return [present(v, drop_null=drop_null) for v in value]
    return value


def parse(model: type[M], data: Any) -> M:
    """Validate with the REST model; a 422 problem with the same field errors if invalid."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc.errors()) from None


@strawberry.input(description="A school roll entry; status C single, M main dual, S subsidiary")
class EnrolmentInput:
    school_id: uuid.UUID
    status: str
    start_date: date
    end_date: date | None = UNSET
    hours_per_week: float | None = UNSET


@strawberry.input(description="Status flags; each belongs to a sharing category")
class ChildStatusInput:
    sen_provision: str | None = strawberry.field(
        default=UNSET, description="none, sen_support or ehcp"
    )
    primary_need: str | None = strawberry.field(
        default=UNSET, description="School census SEN primary need code"
    )
    has_medical_needs: bool | None = UNSET
    looked_after: bool | None = UNSET
    looked_after_la_id: uuid.UUID | None = UNSET
    child_in_need: bool | None = UNSET
    child_protection_plan: bool | None = UNSET
    young_carer: bool | None = UNSET
    youth_justice: bool | None = UNSET
    free_school_meals: bool | None = UNSET


@strawberry.input(description="A child to record (the REST ChildCreate schema)")
class ChildCreateInput(ChildStatusInput):
    legal_first_name: str
    legal_last_name: str
    date_of_birth: date
    home_la_id: uuid.UUID
    preferred_name: str | None = UNSET
    middle_names: str | None = UNSET
    sex: str | None = strawberry.field(default=UNSET, description="female or male")
    year_group: str | None = strawberry.field(default=UNSET, description="N1, N2, R, 1 ... 14")
    ethnicity: str | None = strawberry.field(default=UNSET, description=ETHNICITY)
    home_postcode: str | None = UNSET
    upn: str | None = UNSET
    former_upns: list[str] | None = UNSET
    uln: str | None = UNSET
    nhs_number: str | None = UNSET
    enrolments: list[EnrolmentInput] | None = UNSET


@strawberry.input(description="Fields to change (the REST ChildUpdate schema); null clears")
class ChildUpdateInput(ChildStatusInput):
    legal_first_name: str | None = UNSET
    legal_last_name: str | None = UNSET
    preferred_name: str | None = UNSET
    middle_names: str | None = UNSET
    date_of_birth: date | None = UNSET
    sex: str | None = UNSET
    year_group: str | None = UNSET
    ethnicity: str | None = strawberry.field(default=UNSET, description=ETHNICITY)
    home_postcode: str | None = UNSET
    upn: str | None = UNSET
    uln: str | None = UNSET
    nhs_number: str | None = UNSET


@strawberry.input(description="A health or social care involvement (REST InvolvementCreate)")
class InvolvementInput:
    organisation_id: uuid.UUID
    basis: str = strawberry.field(
        description="consent, looked_after, ehcp, youth_justice_order, child_protection, "
        "child_in_need or other_statutory"
    )
    start_date: date
    consent_reference: str | None = UNSET
    end_date: date | None = UNSET
    categories: list[str] | None = strawberry.field(
        default=UNSET, description="Sharing categories; default all the agreement grants"
    )


@strawberry.input(description="A consent given for the child (REST ConsentCreate)")
class ConsentInput:
    purpose: str
    given_by: str
    relationship_to_child: str = strawberry.field(
        description="child, parent, carer, guardian or local_authority"
    )
    given_on: date
    withdrawn_on: date | None = UNSET
