"""Unit tests for aphub.identifiers: pure functions, no database or fixtures."""

import pytest

from aphub.identifiers import (
    LA_CODES,
    IdentifierError,
    la_name,
    validate_charity_number,
    validate_companies_house_number,
    validate_la_code,
    validate_laestab,
    validate_nhs_number,
    validate_ukprn,
    validate_uln,
    validate_upn,
    validate_urn,
)

# --- UPN ---------------------------------------------------------------------


@pytest.mark.parametrize("upn", ["H801200001001", "B801200005001", "G80120000101A"])
def test_upn_accepts_valid_permanent_and_temporary_numbers(upn: str) -> None:
    assert validate_upn(upn) == upn


def test_upn_is_normalised_by_stripping_and_upper_casing() -> None:
    assert validate_upn("  g80120000101a \n") == "G80120000101A"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Z801200001001", "UPN invalid (wrong check letter at character 1)"),
        ("A801200001001", "UPN invalid (wrong check letter at character 1)"),
        ("H80120000101B", "UPN invalid (wrong check letter at character 1)"),
        ("H80120000100", "UPN invalid (not 13 characters)"),
        ("H8012000010011", "UPN invalid (not 13 characters)"),
        ("", "UPN invalid (not 13 characters)"),
        ("H8012X0001001", "UPN invalid (characters 2-12 not all numeric)"),
        ("H801200001A01", "UPN invalid (characters 2-12 not all numeric)"),
        ("H80120000100I", "UPN invalid (character 13 not a recognised value)"),
        ("H80120000100-", "UPN invalid (character 13 not a recognised value)"),
        ("I801200001001", "UPN invalid (character 1 not a recognised value)"),
        ("1801200001001", "UPN invalid (character 1 not a recognised value)"),
    ],
)
def test_upn_rejects_invalid_values_with_dfe_message(value: str, message: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        validate_upn(value)
    assert str(excinfo.value) == message


def test_upn_rejects_non_ascii_digits() -> None:
    with pytest.raises(IdentifierError, match=r"^UPN invalid \(characters 2-12 not all numeric\)$"):
        validate_upn("H\uff1801200001001")  # fullwidth eight


def test_identifier_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="UPN invalid"):
        validate_upn("nonsense")


# --- ULN ---------------------------------------------------------------------


@pytest.mark.parametrize("uln", ["1234567899", "1000000000", "4501234562", "9123456786"])
def test_uln_accepts_numbers_with_correct_check_digit(uln: str) -> None:
    assert validate_uln(f" {uln} ") == uln


@pytest.mark.parametrize(
    "uln",
    [
        "1234567890",  # check digit should be 9
        "9123456785",  # check digit should be 6
        "9876543210",  # weighted sum divisible by 11: no check digit is possible
        "2000000010",  # likewise remainder 0
    ],
)
def test_uln_rejects_wrong_check_digit(uln: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        validate_uln(uln)
    assert str(excinfo.value) == "ULN invalid (wrong check digit)"


@pytest.mark.parametrize("uln", ["123456789", "12345678999", "12345678X9", "123 456 7899", ""])
def test_uln_rejects_values_that_are_not_ten_digits(uln: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        validate_uln(uln)
    assert str(excinfo.value) == "ULN invalid (not 10 digits)"


# --- NHS number --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9434765919", "9434765919"),
        ("9434765870", "9434765870"),
        ("943 476 5919", "9434765919"),
        ("943-476-5870", "9434765870"),
        (" 9434765919 ", "9434765919"),
        ("2000000010", "2000000010"),  # computed check of 11 maps to 0
    ],
)
def test_nhs_number_accepts_valid_numbers_and_removes_separators(value: str, expected: str) -> None:
    assert validate_nhs_number(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "9434765918",
        "943 476 5871",
        "1000000010",  # computed check of 10: never issued
        "1000000019",
    ],
)
def test_nhs_number_rejects_wrong_check_digit(value: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        validate_nhs_number(value)
    assert str(excinfo.value) == "NHS number invalid (wrong check digit)"


@pytest.mark.parametrize("value", ["943476591", "94347659190", "94 3476 5919", "943.476.5919", ""])
def test_nhs_number_rejects_values_that_are_not_ten_digits(value: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        validate_nhs_number(value)
    assert str(excinfo.value) == "NHS number invalid (not 10 digits)"


# --- URN and UKPRN -----------------------------------------------------------


def test_urn_accepts_six_digits() -> None:
    assert validate_urn(" 100000 ") == "100000"


@pytest.mark.parametrize("value", ["10000", "1000000", "10000A", ""])
def test_urn_rejects_anything_but_six_digits(value: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        validate_urn(value)
    assert str(excinfo.value) == "URN must be 6 digits"


def test_ukprn_accepts_eight_digits_starting_with_one() -> None:
    assert validate_ukprn("10012345") == "10012345"


@pytest.mark.parametrize("value", ["20012345", "1001234", "100123456", "1001234X"])
def test_ukprn_rejects_other_values(value: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        validate_ukprn(value)
    assert str(excinfo.value) == "UKPRN must be 8 digits starting with 1"


# --- Local authorities and LAESTAB -------------------------------------------


def test_la_list_holds_current_english_authorities_only() -> None:
    assert 150 <= len(LA_CODES) <= 155
    for code in ("201", "202", "801", "940", "942"):
        assert code in LA_CODES
    for code in ("928", "909", "835", "836", "837"):
        assert code not in LA_CODES


def test_la_list_codes_are_three_digits_with_names() -> None:
    assert all(len(code) == 3 and code.isdigit() for code in LA_CODES)
    assert all(name.strip() == name and name for name in LA_CODES.values())


def test_la_list_is_read_only() -> None:
    with pytest.raises(TypeError):
        LA_CODES["999"] = "Nowhere"  # type: ignore[index]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("201", "City of London"),
        ("202", "Camden"),
        ("330", "Birmingham"),
        ("420", "Isles of Scilly"),
        ("801", "Bristol, City of"),
        ("812", "North East Lincolnshire"),
        ("815", "North Yorkshire"),
        ("838", "Dorset"),
        ("839", "Bournemouth, Christchurch and Poole"),
        ("933", "Somerset"),
        ("940", "North Northamptonshire"),
        ("941", "West Northamptonshire"),
        ("942", "Cumberland"),
        ("943", "Westmorland and Furness"),
    ],
)
def test_la_name_returns_authority_name(code: str, name: str) -> None:
    assert la_name(code) == name


def test_la_code_accepts_current_code() -> None:
    assert validate_la_code(" 940 ") == "940"


@pytest.mark.parametrize("code", ["928", "909", "999", "abc", "80"])
def test_la_code_rejects_codes_not_in_reference_list(code: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        validate_la_code(code)
    assert str(excinfo.value) == (
        f"LA code {code.upper()} is not a current English local authority code"
    )


def test_la_name_rejects_unknown_code() -> None:
    with pytest.raises(IdentifierError, match="LA code 928 is not a current"):
        la_name("928")


@pytest.mark.parametrize(("value", "expected"), [("8012000", "8012000"), ("801/2000", "8012000")])
def test_laestab_accepts_seven_digits_with_current_la(value: str, expected: str) -> None:
    assert validate_laestab(value) == expected


@pytest.mark.parametrize("value", ["801200", "80120001", "801200A", ""])
def test_laestab_rejects_values_that_are_not_seven_digits(value: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        validate_laestab(value)
    assert str(excinfo.value) == "LAESTAB must be 7 digits"


def test_laestab_rejects_abolished_la_code() -> None:
    with pytest.raises(IdentifierError) as excinfo:
        validate_laestab("9282000")
    assert str(excinfo.value) == "LA code 928 is not a current English local authority code"


# --- Companies House and charities -------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("01234567", "01234567"),
        ("SC123456", "SC123456"),
        ("ni123456", "NI123456"),
        ("OC123456", "OC123456"),
        ("R0123456", "R0123456"),
    ],
)
def test_companies_house_number_accepts_digits_or_two_character_prefix(
    value: str, expected: str
) -> None:
    assert validate_companies_house_number(value) == expected


@pytest.mark.parametrize("value", ["1234567", "123456789", "S1234567", "SC12345A", "SC 123456"])
def test_companies_house_number_rejects_other_shapes(value: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        validate_companies_house_number(value)
    assert str(excinfo.value) == (
        "Companies House number must be 8 characters (2 letters or digits then 6 digits)"
    )


@pytest.mark.parametrize("value", ["123456", "1234567", "1234567-1", "1234567-123"])
def test_charity_number_accepts_six_or_seven_digits_with_optional_subsidiary(value: str) -> None:
    assert validate_charity_number(f" {value} ") == value


@pytest.mark.parametrize("value", ["12345", "12345678", "1234567-", "1234567-1234", "SC012345"])
def test_charity_number_rejects_other_shapes(value: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        validate_charity_number(value)
    assert str(excinfo.value) == "Charity number must be 6 or 7 digits"
