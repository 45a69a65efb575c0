"""Validated national identifiers as pydantic field types (messages in DfE wording)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

from aphub import identifiers

UPN = Annotated[str, AfterValidator(identifiers.validate_upn), Field(examples=["H801200001001"])]
ULN = Annotated[str, AfterValidator(identifiers.validate_uln), Field(examples=["1234567899"])]
NHSNumber = Annotated[
    str, AfterValidator(identifiers.validate_nhs_number), Field(examples=["9434765919"])
]
URN = Annotated[str, AfterValidator(identifiers.validate_urn), Field(examples=["100000"])]
UKPRN = Annotated[str, AfterValidator(identifiers.validate_ukprn), Field(examples=["10012345"])]
LACode = Annotated[str, AfterValidator(identifiers.validate_la_code), Field(examples=["201"])]
LAESTAB = Annotated[str, AfterValidator(identifiers.validate_laestab), Field(examples=["2012000"])]
CompaniesHouseNumber = Annotated[
    str, AfterValidator(identifiers.validate_companies_house_number), Field(examples=["01234567"])
]
CharityNumber = Annotated[
    str, AfterValidator(identifiers.validate_charity_number), Field(examples=["1123456"])
]
Postcode = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z]{1,2}[0-9][0-9A-Za-z]? ?[0-9][A-Za-z]{2}$",
        examples=["SW1A 1AA"],
        max_length=8,
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]


_ISO_8601 = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _iso_8601_only(value: object) -> object:
    # pydantic would read a number ("0.5") as Unix time; the API speaks ISO 8601 only
    if isinstance(value, str | int | float) and not (
        isinstance(value, str) and _ISO_8601.match(value)
    ):
        raise ValueError("must be an ISO 8601 date and time with offset, like 2026-09-01T08:30:00Z")
    return value


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_date_only(value: object) -> object:
    # pydantic would read a number as a Unix time ("0" → 1970-01-01)
    if isinstance(value, str | int | float) and not (
        isinstance(value, str) and _ISO_DATE.match(value)
    ):
        raise ValueError("must be an ISO 8601 date, like 2026-09-01")
    return value


Day = Annotated[date, BeforeValidator(_iso_date_only), Field(examples=["2026-09-01"])]

Timestamp = Annotated[
    AwareDatetime, BeforeValidator(_iso_8601_only), Field(examples=["2026-09-01T08:30:00Z"])
]
