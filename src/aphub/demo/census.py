"""What the statutory returns ask of the demo children beyond `aphub.demo.children`'s
table: ethnicity, middle names and home postcode (every name and unit invented)."""

from __future__ import annotations

from typing import Any

# By row of the children table: DfE ethnicity codes in
# turn (a spread of main and extended codes, one refused, one not yet obtained), middle
# names for every third child, and a home postcode in the home LA's districts (real
# districts, invented units).
ETHNICITIES = (
    "WBRI",
    "WENG",
    "MWBC",
    "BAFR",
    "APKN",
    "WIRI",
    "BCRB",
    "WOTH",
    "ABAN",
    "MWAS",
    "AIND",
    "WSCO",
    "CHNE",
    "WPOR",
    "MOTH",
    "REFU",
    "WROM",
    "BOTH",
    "WWEL",
    "NOBT",
)
MIDDLE_NAMES = ("Rose", "James", "Olu", "Marie Anne", "Lee", "Grace", "Tomasz")
POSTCODE_DISTRICTS = {"city": "EC2Y", "camden": "NW5", "bristol": "BS6"}


def census_details(serial: int, home: str) -> dict[str, Any]:
    """Ethnicity, middle names and home postcode of the demo child in row `serial`."""
    letters = "ABDEFGHJLNPQRSTUWXYZ"  # inward-code letters (no C, I, K, M, O, V)
    return {
        "ethnicity": ETHNICITIES[(serial - 1) % len(ETHNICITIES)],
        "middle_names": MIDDLE_NAMES[serial % len(MIDDLE_NAMES)] if serial % 3 == 0 else None,
        "home_postcode": f"{POSTCODE_DISTRICTS[home]} {serial % 9 + 1}"
        f"{letters[serial % 20]}{letters[(serial * 7) % 20]}",
    }
