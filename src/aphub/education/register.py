"""The home LA's part of its register of children not in school, so it need not re-key it.

Education Act 1996 ss436B-436C, inserted by the Children's Wellbeing and Schools Act 2026
(c. 21) s38, enacted 29 April 2026 and not yet commenced in England; the regulations
(including the prescribed amount of time above which providers are recorded) are not yet
made. Followed here: s436B(5)(b) (children of compulsory school age whose education is
arranged otherwise than at a school, which covers children in alternative provision) and
the content of s436C(1) as the Act was amended on Lords Report (Lords Amendments 49-58:
addresses, estimated time educated by others, and each provider's name, type, address
and time). What the hub does not hold (home and previous addresses, what parents teach)
is given as null for the LA to complete, never guessed; every provider is listed
whatever its hours, as the threshold is not yet prescribed.

Which children: the caller's residents of compulsory school age who today have an active
placement, or no school roll and no placement after leaving one, or an open
out-of-education flag. Read through the sharing layer (audited like any read) as the
home LA, which the sharing rules let read all of it.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import orjson

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.education import duty
from aphub.education.exclusions import england_today
from aphub.errors import Forbidden
from aphub.placements import repository as placements
from aphub.sharing import gate

LEGISLATION = (
    "Education Act 1996 ss436B-436C as inserted by the Children's Wellbeing and Schools "
    "Act 2026 (c. 21) s38 (enacted 29 April 2026, as amended on Lords Report; not yet "
    "commenced; regulations not yet made)"
)
# residents (the home LA's own relationship, `la_home`) who may belong on the register
_CANDIDATES = (
    "SELECT c.id FROM children c WHERE c.home_la_id = :org AND c.merged_into_id IS NULL "
    "AND c.date_of_birth BETWEEN :born_after AND :born_before AND ("
    "EXISTS (SELECT 1 FROM placements p WHERE p.child_id = c.id AND p.status = 'active') "
    "OR EXISTS (SELECT 1 FROM education_flags f WHERE f.child_id = c.id "
    "AND f.cleared_on IS NULL) "
    "OR (NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.child_id = c.id "
    "AND e.start_date <= :today AND (e.end_date IS NULL OR e.end_date >= :today)) "
    "AND EXISTS (SELECT 1 FROM enrolments e WHERE e.child_id = c.id AND e.end_date < :today)))"
    " ORDER BY c.id"
)
_ORGANISATIONS = (
    "SELECT o.id, o.name, o.type, o.postcode, pp.registration_status FROM organisations o "
    "LEFT JOIN provider_profiles pp ON pp.organisation_id = o.id WHERE o.id = ANY(:ids::uuid[])"
)
_FLAGS = (
    "SELECT child_id, kind FROM education_flags WHERE child_id = ANY(:ids::uuid[]) "
    "AND cleared_on IS NULL ORDER BY kind"
)

CSV_COLUMNS = (
    "child_id",
    "legal_first_name",
    "legal_last_name",
    "date_of_birth",
    "home_address",
    "previous_address",
    "additional_address",
    "parents",
    "eligibility",
    "on_school_roll",
    "estimated_hours_educated_by_others",
    "providers",
    "open_flags",
    "sen_provision",
    "looked_after",
    "child_in_need",
)


async def register(
    uow: ReadUnit, principal: Principal, *, as_of: date | None = None
) -> dict[str, Any]:
    if principal.organisation_type != "local_authority":
        raise Forbidden("Only a local authority keeps a register of children not in school")
    today = as_of or england_today()
    # compulsory school age spans at most ages 4 to 17 on any day: narrowed per child below
    born_after = date(today.year - 17, 1, 1)
    born_before = today.replace(year=today.year - 4)
    ids = [
        r["id"]
        for r in await uow.fetch(
            _CANDIDATES,
            org=principal.organisation_id,
            today=today,
            born_after=born_after,
            born_before=born_before,
        )
    ]
    children = await gate.read_children_by_ids(uow, principal, ids, surface="export")
    shown = [c for c in ids if c in children]
    by_child = await placements.of_children(uow, principal, shown)
    placed = {c: [orjson.loads(p) for p in by_child[c]] for c in shown}
    organisation_ids = {
        uuid.UUID(str(p[k]))
        for ps in placed.values()
        for p in ps
        for k in ("provider_id", "commissioner_id")
    } | {
        uuid.UUID(str(e["school_id"]))
        for c in shown
        for e in _plain(children[c].get("enrolments")) or []
    }
    organisations = {
        r["id"]: r for r in await uow.fetch(_ORGANISATIONS, ids=sorted(organisation_ids))
    }
    flags: dict[uuid.UUID, list[str]] = {c: [] for c in shown}
    for r in await uow.fetch(_FLAGS, ids=shown):
        flags[r["child_id"]].append(r["kind"])
    rows = []
    for child_id in shown:
        child = children[child_id]
        born = date.fromisoformat(str(child["date_of_birth"]))
        if not duty.compulsory_school_age(born, today):
            continue
        rows.append(_row(child, placed[child_id], organisations, flags[child_id], today))
    return {"as_of": today, "legislation": LEGISLATION, "items": rows}


def _plain(value: Any) -> Any:
    """A value of a shaped child as Python (JSON the statement built is passed through
    to responses as a fragment)."""
    return orjson.loads(orjson.dumps(value)) if isinstance(value, orjson.Fragment) else value


def _row(
    child: dict[str, Any],
    placed: list[dict[str, Any]],
    organisations: dict[uuid.UUID, Any],
    flags: list[str],
    today: date,
) -> dict[str, Any]:
    active = [p for p in placed if p["status"] == "active"]
    on_roll = [
        organisations[uuid.UUID(str(e["school_id"]))]["name"]
        for e in _plain(child.get("enrolments")) or []
        if date.fromisoformat(str(e["start_date"])) <= today
        and (e.get("end_date") is None or date.fromisoformat(str(e["end_date"])) >= today)
        and uuid.UUID(str(e["school_id"])) in organisations
    ]
    contacts = _plain((_plain(child.get("passport")) or {}).get("contacts")) or {}
    parents = [
        {"name": p.get("name"), "relationship": p.get("relationship")}
        for p in contacts.get("parents_carers") or []
        if p.get("parental_responsibility")
    ]
    eligibility = (
        "education_arranged_otherwise_than_at_school"
        if active
        else "no_school_or_placement"
        if not on_roll
        else "out_of_education"
    )
    providers = []
    for p in active:
        provider = organisations.get(uuid.UUID(str(p["provider_id"])))
        arranged = organisations.get(uuid.UUID(str(p["commissioner_id"])))
        providers.append(
            {
                "provider_id": p["provider_id"],
                "name": provider["name"] if provider else None,
                "type": (provider["registration_status"] if provider else None) or "unregistered",
                "postcode": provider["postcode"] if provider else None,
                "hours_per_week": p.get("hours_per_week"),
                "arranged_by_id": p["commissioner_id"],
                "arranged_by_name": arranged["name"] if arranged else None,
                "arranged_by_type": arranged["type"] if arranged else None,
                "placement_id": p["id"],
            }
        )
    hours = sum(
        (Decimal(str(p["hours_per_week"])) for p in providers if p["hours_per_week"]), Decimal(0)
    )
    return {
        "child_id": child["id"],
        "legal_first_name": child.get("legal_first_name"),
        "legal_last_name": child.get("legal_last_name"),
        "date_of_birth": child.get("date_of_birth"),
        "home_address": None,  # not held by the hub
        "previous_address": None,
        "additional_address": None,
        "parents": parents,
        "eligibility": eligibility,
        "on_school_roll": on_roll,
        "estimated_hours_educated_by_others": hours,
        "providers": providers,
        "open_flags": flags,
        "sen_provision": child.get("sen_provision"),
        "looked_after": child.get("looked_after"),
        "child_in_need": child.get("child_in_need"),
    }


def _cell(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting =, +, - or @ is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def as_csv(document: dict[str, Any]) -> str:
    """One row per child; lists joined with "; " (a provider as name (type, postcode,
    hours a week, arranged by))."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in document["items"]:
        values = {
            **row,
            "parents": "; ".join(f"{p['name']} ({p['relationship']})" for p in row["parents"]),
            "on_school_roll": "; ".join(row["on_school_roll"]),
            "providers": "; ".join(
                f"{p['name']} ({p['type']}, {p['postcode'] or 'no postcode'}, "
                f"{p['hours_per_week'] or '?'} h/week, arranged by {p['arranged_by_name']})"
                for p in row["providers"]
            ),
            "open_flags": "; ".join(row["open_flags"]),
        }
        writer.writerow([_cell(values[c]) for c in CSV_COLUMNS])
    return out.getvalue()
