"""Validation of England's national identifiers for pupils, learners, patients and bodies.

Each ``validate_*`` function returns the normalised value or raises ``IdentifierError``
whose message is safe to show to a user as it stands. The UPN and ULN messages follow
the wording of the DfE's own validation rules so that they match what schools and
local authorities already see in their MIS software.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from importlib.resources import files
from types import MappingProxyType

__all__ = [
    "LA_CODES",
    "IdentifierError",
    "la_name",
    "validate_charity_number",
    "validate_companies_house_number",
    "validate_la_code",
    "validate_laestab",
    "validate_nhs_number",
    "validate_ukprn",
    "validate_uln",
    "validate_upn",
    "validate_urn",
]


class IdentifierError(ValueError):
    """An identifier failed validation; ``str(error)`` is the user-facing message."""


# I, O and S are left out so check letters can't be misread as 1, 0 or 5.
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"

_TEN_DIGITS = re.compile(r"[0-9]{10}")
# Allow the 3-3-4 grouping printed on NHS cards and letters, with spaces or hyphens.
_NHS_NUMBER = re.compile(r"([0-9]{3})[ -]?([0-9]{3})[ -]?([0-9]{4})")
_URN = re.compile(r"[0-9]{6}")
_UKPRN = re.compile(r"1[0-9]{7}")
# Prefix is two letters (SC, NI, OC...), or R0 for pre-1922 Northern Ireland companies;
# other letter-digit mixes are never issued, so they are rejected.
_COMPANIES_HOUSE = re.compile(r"(?:[A-Z]{2}|R0|[0-9]{2})[0-9]{6}")
# The optional suffix identifies a linked charity registered under the main number.
_CHARITY = re.compile(r"[0-9]{6,7}(-[0-9]{1,3})?")
# LAESTAB is often written as 801/2000 in DfE publications.
_LAESTAB = re.compile(r"([0-9]{3})/?([0-9]{4})")


def _normalise(value: str) -> str:
    return value.strip().upper()


def _mod11_weighted_sum(digits: str) -> int:
    """Sum of the first nine digits weighted 10..2, shared by the ULN and NHS schemes."""
    return sum(
        int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True)
    )


def validate_upn(value: str) -> str:
    """Validate a Unique Pupil Number, including temporary UPNs ending in a letter."""
    upn = _normalise(value)
    if len(upn) != 13:
        raise IdentifierError("UPN invalid (not 13 characters)")
    if upn[0] not in _UPN_LETTERS:
        raise IdentifierError("UPN invalid (character 1 not a recognised value)")
    if not upn[1:12].isdigit() or not upn[1:12].isascii():
        raise IdentifierError("UPN invalid (characters 2-12 not all numeric)")
    last = upn[12]
    if last.isascii() and last.isdigit():
        last_value = int(last)
    elif last in _UPN_LETTERS:
        # A temporary UPN's final letter takes part in the check sum by table position.
        last_value = _UPN_LETTERS.index(last)
    else:
        raise IdentifierError("UPN invalid (character 13 not a recognised value)")
    values = [int(char) for char in upn[1:12]] + [last_value]
    total = sum(v * weight for v, weight in zip(values, range(2, 14), strict=True))
    if upn[0] != _UPN_LETTERS[total % 23]:
        raise IdentifierError("UPN invalid (wrong check letter at character 1)")
    return upn


def validate_uln(value: str) -> str:
    """Validate a Unique Learner Number (10 digits, modulus 11 check digit)."""
    uln = _normalise(value)
    if not _TEN_DIGITS.fullmatch(uln):
        raise IdentifierError("ULN invalid (not 10 digits)")
    remainder = _mod11_weighted_sum(uln) % 11
    # A remainder of 0 would need a check "digit" of 10, so no ULN is ever issued with it.
    if remainder == 0 or int(uln[9]) != 10 - remainder:
        raise IdentifierError("ULN invalid (wrong check digit)")
    return uln


def validate_nhs_number(value: str) -> str:
    """Validate an NHS number, returning it as 10 digits without separators."""
    match = _NHS_NUMBER.fullmatch(_normalise(value))
    if match is None:
        raise IdentifierError("NHS number invalid (not 10 digits)")
    nhs_number = "".join(match.groups())
    check = 11 - _mod11_weighted_sum(nhs_number) % 11
    if check == 11:
        check = 0
    # A computed check of 10 means the number was never issued.
    if check == 10 or int(nhs_number[9]) != check:
        raise IdentifierError("NHS number invalid (wrong check digit)")
    return nhs_number


def validate_urn(value: str) -> str:
    """Validate a Unique Reference Number for an establishment (GIAS)."""
    urn = _normalise(value)
    if not _URN.fullmatch(urn):
        raise IdentifierError("URN must be 6 digits")
    return urn


def validate_ukprn(value: str) -> str:
    """Validate a UK Provider Reference Number (UKRLP)."""
    ukprn = _normalise(value)
    if not _UKPRN.fullmatch(ukprn):
        raise IdentifierError("UKPRN must be 8 digits starting with 1")
    return ukprn


def _load_la_codes() -> Mapping[str, str]:
    text = files("aphub.reference").joinpath("la_codes.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return MappingProxyType({row["code"]: row["name"] for row in rows})


# Read-only so that no caller can quietly add or rename an authority at run time.
LA_CODES: Mapping[str, str] = _load_la_codes()


def validate_la_code(value: str) -> str:
    """Validate a 3-digit DfE local authority code against the shipped reference list.

    A pattern check alone would accept codes of abolished authorities such as 928
    Northamptonshire, which must no longer appear on new records.
    """
    code = _normalise(value)
    if code not in LA_CODES:
        raise IdentifierError(f"LA code {code} is not a current English local authority code")
    return code


def la_name(code: str) -> str:
    """Name of the local authority with the given DfE code."""
    return LA_CODES[validate_la_code(code)]


def validate_laestab(value: str) -> str:
    """Validate a 7-digit LAESTAB (LA code then establishment number)."""
    match = _LAESTAB.fullmatch(_normalise(value))
    if match is None:
        raise IdentifierError("LAESTAB must be 7 digits")
    la_code, establishment = match.groups()
    validate_la_code(la_code)
    return la_code + establishment


def validate_companies_house_number(value: str) -> str:
    """Validate a Companies House company registration number."""
    number = _normalise(value)
    if not _COMPANIES_HOUSE.fullmatch(number):
        raise IdentifierError(
            "Companies House number must be 8 characters (2 letters or digits then 6 digits)"
        )
    return number


def validate_charity_number(value: str) -> str:
    """Validate a Charity Commission for England and Wales registered charity number."""
    number = _normalise(value)
    if not _CHARITY.fullmatch(number):
        raise IdentifierError("Charity number must be 6 or 7 digits")
    return number
