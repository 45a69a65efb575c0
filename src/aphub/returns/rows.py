"""From the hub's records to a return's items: the code mappings (the hub's values to DfE
codes), the provider's identification (URN, else UKPRN, else AP setting type), and the
check that turns a row that cannot be completed into an exception with its reasons."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Any

from aphub import __version__
from aphub.returns.spec import Specification
from aphub.returns.validate import record_problems

# the hub's values -> DfE codes (sex: S2/S3; SEN provision: S21)
SEX = {"female": "F", "male": "M", None: "U"}
SEN_PROVISION = {"none": "N", "sen_support": "K", "ehcp": "E"}

# what the person completing the return can do about each rule the row breaks
ADVICE = {
    "UPN": "record the child's UPN",
    "Ethnicity": "record the child's DfE ethnicity code (REFU if refused, NOBT if not obtained)",
    "setting_identified": "record the provider's URN or UKPRN, or, for an unregistered "
    "provider, its AP census setting type, in the provider directory",
    "primary_need_with_sen": "record the child's SEN primary need",
    "SENprovision": "record the child's SEN provision",
}


def text(value: Any) -> str:
    return "" if value is None else str(value)


def setting_items(provider: Any, names: tuple[str, str, str]) -> dict[str, str]:
    """URN when the provider has one, else UKPRN, else the AP setting type (S11)."""
    urn, ukprn, setting = names
    if provider is None:
        return {}
    if provider["urn"]:
        return {urn: provider["urn"]}
    if provider["ukprn"]:
        return {ukprn: provider["ukprn"]}
    return {setting: text(provider["census_setting_type"])}


def child_items(child: dict[str, Any]) -> dict[str, str]:
    """The identifiers and characteristics the returns take from a child's record."""
    sen = SEN_PROVISION.get(child.get("sen_provision") or "", "")
    need = child.get("primary_need") if sen in ("E", "K") else None
    return {
        "UPN": text(child.get("upn")),
        "ULN": text(child.get("uln")),
        "Surname": text(child.get("legal_last_name")),
        "Forename": text(child.get("legal_first_name")),
        "MiddleNames": text(child.get("middle_names")),
        "DOB": text(child.get("date_of_birth")),
        "Sex": SEX.get(child.get("sex"), "U"),
        "Ethnicity": text(child.get("ethnicity")),
        "SENprovision": sen,
        "PrimaryNeed": text(need),
        "PostCode": text(child.get("home_postcode")),
    }


def finish(
    spec: Specification,
    items: dict[str, str],
    *,
    child_id: str,
    placement_id: str,
    others: list[str],
    rows: list[dict[str, Any]],
    exceptions: list[dict[str, Any]],
) -> None:
    """The row, when it passes the specification's checks; else an exception naming why."""
    record = {e: items.get(e, "") for e in spec.elements}
    problems = record_problems(spec, record)
    if problems:
        exceptions.append(
            {
                "child_id": child_id,
                "placement_id": placement_id,
                "kind": "incomplete",
                "reasons": problems,
                "actions": sorted(
                    {a for key, a in ADVICE.items() if any(p.startswith(key) for p in problems)}
                ),
            }
        )
        return
    rows.append(
        {
            "child_id": child_id,
            "placement_id": placement_id,
            "other_placement_ids": others,
            "items": record,
        }
    )


def in_period(placement: dict[str, Any], day: date) -> bool:
    ended = placement.get("actual_end_date")
    return date.fromisoformat(placement["start_date"]) <= day and (
        ended is None or date.fromisoformat(ended) >= day
    )


def provider_of(organisations: dict[uuid.UUID, Any], placement: dict[str, Any]) -> Any:
    return organisations.get(uuid.UUID(placement["provider_id"]))


def hidden(child_id: str, placement: dict[str, Any]) -> dict[str, Any]:
    """The exception for a placement whose child the caller may not read."""
    return {
        "child_id": child_id,
        "placement_id": placement["id"],
        "kind": "incomplete",
        "reasons": ["the child's record is not visible to you under the sharing agreement"],
        "actions": ["ask the child's home local authority"],
    }


def header_values(spec: Specification, caller: Any, census_date: date) -> dict[str, str]:
    """The header as the specification file says to fill it."""
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    laestab = text(caller["laestab"])
    sources = {
        "census_date": census_date.isoformat(),
        "census_year": str(census_date.year),
        "la_code": text(caller["la_code"]) or laestab[:3],
        "estab": laestab[3:],
        "urn": text(caller["urn"]),
        "now": now,
        "release": __version__,
    }
    return {h.path: sources.get(h.value, h.value) for h in spec.header}


def header_warnings(spec: Specification, header: dict[str, str]) -> list[str]:
    """Header fields the caller's own record cannot fill (a school without its URN or
    LAESTAB in the register): the message would not validate until they are recorded."""
    return [
        f"{h.path} is {header[h.path]!r}: record your organisation's identifiers in the register"
        for h in spec.header
        if not re.match(h.pattern, header[h.path])
    ]
