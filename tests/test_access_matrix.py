"""The access matrix: what every kind of organisation sees of every child in a small area.

This is the most important test of the hub. The truth table (`TRUTH`, `WRITES`) is written
by hand from the information-sharing rules (docs: design/sharing.md), not computed from
`policy.toml` by the code under test, so that a change to the policy or to the SQL that
disagrees with the agreed rules fails here. Every cell is proved on every read surface:
REST single reads and lists, GraphQL `child` and `children`, and the access log.

The area (one local area, built straight into the database):

    home_la            the home local authority of children A and B
    host_la            hosts the providers of A's current placements; home LA of D
    other_la           home LA of C and E; nothing else links it to A
    school_on_roll     A, B and E on roll now (member of trust_of_school), in home_la
    school_left_6m     A left it 6 months ago; C on roll now (member of other_trust)
    school_left_18m    A left it 18 months ago; commissioned a placement for D (declined)
    trust_of_school    the trust of school_on_roll
    other_trust        the trust of school_left_6m; commissioned a placement for D (cancelled)
    prov_requested     A's placement there is `requested`; D's was declined (in host_la)
    prov_active        A's placement there is `active`, E's is `offered` (in host_la)
    prov_ended_30d     A's placement there ended 30 days ago (in other_la)
    prov_ended_120d    A's placement there ended 120 days ago; D's was cancelled (other_la)
    prov_never         never involved with any child (in other_la)
    health_current     a current involvement with A (all its categories) and with C
                       (recorded for identity and health only)
    health_ended       its involvement with A ended yesterday
    health_unrecorded  a current involvement with A that records no categories
    social_care        a current involvement with A; one with C starting tomorrow
    dashboard          aggregates only
    operator           runs the hub

    A  Alfie: every relationship above, a full passport, looked after, child in need
    B  Bea: home_la and school_on_roll only
    C  Cal: home other_la, on roll at school_left_6m, narrow health involvement
    D  Dana: home host_la, no school; one declined and one cancelled placement
    E  Esme: home other_la, on roll at school_on_roll, which commissioned a placement
       at prov_active (offered)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy import text

from aphub.db import Database
from aphub.identifiers import IdentifierError, validate_nhs_number, validate_uln, validate_upn
from aphub.models import (
    Child,
    Consent,
    Enrolment,
    Involvement,
    Organisation,
    PassportSection,
    Placement,
)
from aphub.sharing.fields import FIELD_CATEGORY
from tests.factories import auth, client_record, token_for

# --- what each category holds (sharing.md "Field categories", field by field) ------------

FIELDS: dict[str, frozenset[str]] = {
    "identity": frozenset(
        {
            "legal_first_name",
            "legal_last_name",
            "preferred_name",
            "middle_names",
            "date_of_birth",
            "sex",
            "year_group",
            "ethnicity",
            "upn",
            "former_upns",
            "uln",
            "nhs_number",
        }
    ),
    "education": frozenset(
        {
            "enrolments",
            "sen_provision",
            "free_school_meals",
            "education_history.settings",
            "education_history.suspensions",
            "education_history.exclusions",
            "education_history.attainment_baselines",
            "post16_intentions.intentions",
            "post16_intentions.careers_guidance",
        }
    ),
    "needs": frozenset(
        {
            "primary_need",
            "about_me.summary",
            "about_me.what_works_for_me",
            "about_me.what_does_not_work",
            "about_me.communication",
            "needs_and_strategies.summary_of_needs",
            "needs_and_strategies.strategies",
            "needs_and_strategies.triggers",
            "needs_and_strategies.support_in_place",
        }
    ),
    "health": frozenset(
        {
            "has_medical_needs",
            "health.health_summary",
            "health.medical_needs",
            "health.diagnoses",
            "health.medication",
            "involvements.health",
        }
    ),
    "social_care": frozenset(
        {
            "looked_after",
            "looked_after_la_id",
            "child_in_need",
            "child_protection_plan",
            "young_carer",
            "involvements.social_care",
        }
    ),
    "safeguarding": frozenset(
        {
            "youth_justice",
            "risks_and_safeguarding.risk_summary",
            "risks_and_safeguarding.exploitation_concerns",
            "risks_and_safeguarding.safety_plan",
            "risks_and_safeguarding.missing_episodes",
        }
    ),
    "voice": frozenset(
        {
            "about_me.interests",
            "child_voice.views",
            "child_voice.aspirations",
            "child_voice.what_i_want_adults_to_know",
            "family_voice.views",
            "family_voice.aspirations",
            "family_voice.concerns",
            "post16_intentions.aspirations",
        }
    ),
    "contacts": frozenset({"home_postcode", "contacts.parents_carers", "contacts.professionals"}),
    "placement": frozenset(),  # lives on placements, not on the child record
}
CORE_FIELDS = sorted(f for fields in FIELDS.values() for f in fields if "." not in f)


def in_passport(field_id: str) -> bool:
    """Passport fields are `section.field`; `involvements.*` are listed beside the record."""
    return "." in field_id and not field_id.startswith("involvements.")


ALWAYS = {"id", "version", "home_la_id", "updated_at", "access"}


# --- the truth table -----------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """The categories one relationship may read; `only` narrows a category to some fields."""

    categories: frozenset[str]
    only: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def fields(self) -> frozenset[str]:
        return frozenset().union(*(self.only.get(c, FIELDS[c]) for c in self.categories))


def view(*categories: str, **only: set[str]) -> View:
    return View(frozenset(categories), {c: frozenset(f) for c, f in only.items()})


# The columns of sharing.md's default sharing agreement.
ALL = view(*FIELDS)
LA_HOST = view("identity", "education", "safeguarding", "placement")
SCHOOL = view(*FIELDS, health={"has_medical_needs"})  # the health summary flag only
TRUST = view("identity", "education", "needs", "safeguarding", "voice", "contacts", "placement")
PROVIDER_REQUESTED = view(
    "identity",
    "education",
    "needs",
    "health",
    "safeguarding",
    "voice",
    "placement",
    identity={
        "legal_first_name",
        "legal_last_name",
        "preferred_name",
        "date_of_birth",
        "year_group",
    },
    health={"health.medical_needs"},  # for safety only
)
PROVIDER_PLACED = view(
    *FIELDS,
    health={"health.medical_needs"},  # for safety only
    social_care={"looked_after"},  # the looked-after flag only
)
HEALTH = view("identity", "needs", "health", "safeguarding", "voice", "contacts", "placement")
HEALTH_IDENTITY_AND_HEALTH_ONLY = view("identity", "health")  # what C's involvement records
NOTHING = view()  # sees that the child exists, and no field of it
SOCIAL_CARE = view(
    "identity",
    "education",
    "needs",
    "social_care",
    "safeguarding",
    "voice",
    "contacts",
    "placement",
)


@dataclass(frozen=True)
class Sees:
    rules: tuple[str, ...]  # the rules of the policy that let the organisation see the child
    view: View


def sees(*rules: str, view: View) -> Sees:
    return Sees(tuple(sorted(rules)), view)


NO_SCOPE = "no scope"  # the client may not read child records at all: 403 on every route
CHILDREN = ("A", "B", "C", "D", "E")

# organisation: {child: what it sees}. A child not named in a row is hidden from it (404).
TRUTH: dict[str, dict[str, Sees] | str] = {
    "home_la": {
        "A": sees("la_home", view=ALL),
        "B": sees("la_home", view=ALL),
        # a school in its area commissioned E's current placement
        "E": sees("la_host", view=LA_HOST),
    },
    "host_la": {
        "A": sees("la_host", view=LA_HOST),  # A's current placements are with its providers
        "D": sees("la_home", view=ALL),
        "E": sees("la_host", view=LA_HOST),
    },
    "other_la": {"C": sees("la_home", view=ALL), "E": sees("la_home", view=ALL)},
    "school_on_roll": {
        "A": sees("school_on_roll", view=SCHOOL),
        "B": sees("school_on_roll", view=SCHOOL),
        "E": sees("school_on_roll", "school_commissioner", view=SCHOOL),
    },
    "school_left_6m": {
        "A": sees("school_left_roll", view=SCHOOL),
        "C": sees("school_on_roll", view=SCHOOL),
    },
    "school_left_18m": {"D": sees("school_commissioner", view=SCHOOL)},
    "trust_of_school": {
        "A": sees("trust_school_roll", view=TRUST),
        "B": sees("trust_school_roll", view=TRUST),
        "E": sees(
            "trust_commissioner", "trust_school_roll", view=TRUST
        ),  # its academy commissioned
    },
    "other_trust": {
        "C": sees("trust_school_roll", view=TRUST),
        "D": sees("trust_commissioner", view=TRUST),
    },
    "prov_requested": {"A": sees("provider_requested", view=PROVIDER_REQUESTED)},
    "prov_active": {
        "A": sees("provider_placement", view=PROVIDER_PLACED),
        "E": sees("provider_placement", view=PROVIDER_PLACED),  # offered
    },
    "prov_ended_30d": {"A": sees("provider_placement", view=PROVIDER_PLACED)},
    "prov_ended_120d": {},
    "prov_never": {},
    "health_current": {
        "A": sees("health_involvement", view=HEALTH),
        "C": sees("health_involvement", view=HEALTH_IDENTITY_AND_HEALTH_ONLY),
    },
    "health_ended": {},
    "health_unrecorded": {"A": sees("health_involvement", view=NOTHING)},
    "social_care": {"A": sees("social_care_involvement", view=SOCIAL_CARE)},
    "dashboard": NO_SCOPE,
    "operator": NO_SCOPE,
}

# What each organisation may change of child A, by category (sharing.md, the `w` cells),
# probed with one core field per category. Absent from a row: 403. Hidden: 404.
PROBES = {
    "identity": {"preferred_name": "Alf"},
    "education": {"free_school_meals": False},
    "needs": {"primary_need": "SLCN"},
    "health": {"has_medical_needs": False},
    "social_care": {"child_in_need": False},
    "safeguarding": {"youth_justice": False},
}
HIDDEN = "hidden"
WRITES: dict[str, set[str] | str] = {
    "home_la": {"identity", "education", "needs", "safeguarding"},
    "host_la": set(),
    "other_la": HIDDEN,
    "school_on_roll": {"identity", "education", "needs", "safeguarding"},
    "school_left_6m": {"identity", "education", "needs", "safeguarding"},
    "school_left_18m": HIDDEN,
    "trust_of_school": set(),
    "other_trust": HIDDEN,
    "prov_requested": set(),
    "prov_active": {"needs", "safeguarding"},
    "prov_ended_30d": {"needs", "safeguarding"},
    "prov_ended_120d": HIDDEN,
    "prov_never": HIDDEN,
    "health_current": {"health"},
    "health_ended": HIDDEN,
    "health_unrecorded": set(),
    "social_care": {"social_care", "safeguarding"},
    "dashboard": NO_SCOPE,
    "operator": NO_SCOPE,
}


def cell(org: str, child: str) -> Sees | str | None:
    """What `org` sees of `child`: `Sees`, NO_SCOPE, or None (hidden)."""
    row = TRUTH[org]
    return row if isinstance(row, str) else row.get(child)


def test_field_catalogue_is_the_one_this_matrix_was_written_for() -> None:
    """A field added to the hub needs a category decided here too, before it is shared."""
    hand = {f: c for c, fields in FIELDS.items() for f in fields}
    assert hand == FIELD_CATEGORY, (
        "aphub.sharing.fields and this matrix disagree; decide the field's category with "
        "the sharing rules and add it to FIELDS here"
    )


# --- the area ---------------------------------------------------------------------------


def _with_check(candidates: list[str], validate: Any) -> str:
    for candidate in candidates:
        try:
            return str(validate(candidate))
        except IdentifierError:
            continue
    raise AssertionError(f"no valid identifier among {candidates}")


def upn(body: str) -> str:
    return _with_check([letter + body for letter in "ABCDEFGHJKLMNPQRTUVWXYZ"], validate_upn)


def ten_digits(first9: str, validate: Any) -> str:
    return _with_check([first9 + str(d) for d in range(10)], validate)


ORGANISATIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("home_la", "local_authority", {"la_code": "801"}),
    ("host_la", "local_authority", {"la_code": "802"}),
    ("other_la", "local_authority", {"la_code": "803"}),
    ("trust_of_school", "trust", {}),
    ("other_trust", "trust", {}),
    ("school_on_roll", "school", {"la": "home_la", "trust": "trust_of_school", "urn": "900001"}),
    ("school_left_6m", "school", {"la": "home_la", "trust": "other_trust", "urn": "900002"}),
    ("school_left_18m", "school", {"la": "home_la", "urn": "900003"}),
    ("prov_requested", "provider", {"la": "host_la"}),
    ("prov_active", "provider", {"la": "host_la"}),
    ("prov_ended_30d", "provider", {"la": "other_la"}),
    ("prov_ended_120d", "provider", {"la": "other_la"}),
    ("prov_never", "provider", {"la": "other_la"}),
    ("health_current", "health", {}),
    ("health_ended", "health", {}),
    ("health_unrecorded", "health", {}),
    ("social_care", "social_care", {}),
    ("dashboard", "dashboard", {}),
    ("operator", "operator", {}),
]
assert {key for key, _, _ in ORGANISATIONS} == set(TRUTH) == set(WRITES)


def passport_content(name: str, sections: list[str]) -> dict[str, dict[str, Any]]:
    """Every field of the named sections filled with text that says what it is."""
    by_section: dict[str, dict[str, Any]] = {}
    for field_id in sorted(f for fields in FIELDS.values() for f in fields if in_passport(f)):
        section, name_in_section = field_id.split(".")
        if section in sections:
            by_section.setdefault(section, {})[name_in_section] = f"{name}: {field_id}"
    return by_section


ALL_SECTIONS = sorted(
    {f.split(".")[0] for fields in FIELDS.values() for f in fields if in_passport(f)}
)


@dataclass
class Area:
    today: date
    orgs: dict[str, Organisation] = field(default_factory=dict)
    children: dict[str, Child] = field(default_factory=dict)
    enrolments: dict[str, list[tuple[str, str, str, str | None]]] = field(default_factory=dict)
    passports: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    consents: dict[str, int] = field(default_factory=dict)

    def child_id(self, key: str) -> str:
        return str(self.children[key].id)

    def child_key(self, child_id: str) -> str:
        return next(k for k, c in self.children.items() if str(c.id) == child_id)

    def org_key(self, org_id: uuid.UUID) -> str:
        return next(k for k, o in self.orgs.items() if o.id == org_id)

    def headers(self, app: FastAPI, org: str) -> dict[str, str]:
        return auth(token_for(app, self.orgs[org]))

    def core(self, child: str, seen: View) -> dict[str, Any]:
        """The core fields `seen` allows, as JSON, from what the area stored."""
        row = self.children[child]
        values: dict[str, Any] = {}
        for name in CORE_FIELDS:
            if name not in seen.fields():
                continue
            if name == "enrolments":
                values[name] = sorted(self.enrolments[child])
                continue
            value = getattr(row, name)
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, uuid.UUID):
                value = str(value)
            values[name] = value
        return values

    def passport(self, child: str, seen: View) -> dict[str, dict[str, Any]]:
        """Sections with at least one readable field, each with exactly those fields."""
        stored = self.passports.get(child, {})
        shaped: dict[str, dict[str, Any]] = {}
        for field_id in sorted(f for f in seen.fields() if in_passport(f)):
            section, name = field_id.split(".")
            shaped.setdefault(section, {})[name] = stored.get(section, {}).get(name)
        return shaped


async def build_area(database: Database) -> Area:
    async with database.writing() as uow:
        s = uow.session
        # "today" as the sharing rules count it: the date in England
        today = await s.scalar(text("SELECT (now() AT TIME ZONE 'Europe/London')::date"))
        area = Area(today=today)
        for key, org_type, extra in ORGANISATIONS:
            values = dict(extra)
            la, trust = values.pop("la", None), values.pop("trust", None)
            org = Organisation(
                type=org_type,
                name=key.replace("_", " ").title(),
                local_authority_id=area.orgs[la].id if la else None,
                trust_id=area.orgs[trust].id if trust else None,
                **values,
            )
            s.add(org)
            await s.flush()
            s.add(client_record(org))
            area.orgs[key] = org
        o = {k: v.id for k, v in area.orgs.items()}

        def days(n: int) -> date:
            return today + timedelta(days=n)

        people = [
            # key, first, last, preferred, born, sex, year group, home LA, flags set
            ("A", "Alfie", "Ashdown", "Alf", date(2011, 5, 2), "male", "9", "home_la", True),
            ("B", "Beatrice", "Bright", "Bea", date(2012, 1, 9), "female", "8", "home_la", False),
            ("C", "Calum", "Cole", "Cal", date(2010, 11, 23), "male", "10", "other_la", True),
            ("D", "Dana", "Dunmore", None, date(2013, 3, 14), "female", "7", "host_la", False),
            ("E", "Esme", "Eastwood", "Ez", date(2011, 8, 30), "female", "9", "other_la", False),
        ]
        for n, (key, first, last, preferred, born, sex, year, home, flagged) in enumerate(people):
            child = Child(
                legal_first_name=first,
                legal_last_name=last,
                preferred_name=preferred,
                middle_names="Quinn",
                date_of_birth=born,
                sex=sex,
                year_group=year,
                ethnicity="WBRI",
                home_postcode="NW5 1AA",
                upn=upn(f"801200011{n:03d}"),
                former_upns=[upn(f"801200010{n:03d}")] if flagged else [],
                uln=ten_digits(f"70000000{n}", validate_uln),
                nhs_number=ten_digits(f"99900002{n}", validate_nhs_number),  # test range
                home_la_id=o[home],
                sen_provision="ehcp" if flagged else "sen_support",
                primary_need="SEMH",
                has_medical_needs=flagged,
                looked_after=flagged,
                looked_after_la_id=o[home] if flagged else None,
                child_in_need=flagged,
                child_protection_plan=False,
                young_carer=key == "B",
                youth_justice=key == "A",
                free_school_meals=True,
            )
            s.add(child)
            area.children[key] = child
        await s.flush()
        c = {k: v.id for k, v in area.children.items()}

        for key, school, status, start, end in [
            ("A", "school_left_18m", "C", days(-1500), days(-548)),  # left 18 months ago
            ("A", "school_left_6m", "C", days(-547), days(-183)),  # left 6 months ago
            ("A", "school_on_roll", "C", days(-182), None),
            ("B", "school_on_roll", "C", days(-700), None),
            ("C", "school_left_6m", "C", days(-100), None),
            ("E", "school_on_roll", "C", days(-400), None),
        ]:
            enrolment = Enrolment(child_id=c[key], school_id=o[school], status=status)
            enrolment.start_date, enrolment.end_date = start, end
            s.add(enrolment)
            area.enrolments.setdefault(key, []).append(
                (str(o[school]), status, start.isoformat(), end.isoformat() if end else None)
            )
        for key in CHILDREN:
            area.enrolments.setdefault(key, [])

        for key, commissioner, provider, status, start, end in [
            ("A", "home_la", "prov_requested", "requested", days(14), None),
            ("A", "home_la", "prov_active", "active", days(-60), None),
            ("A", "home_la", "prov_ended_30d", "ended", days(-200), days(-30)),
            ("A", "home_la", "prov_ended_120d", "ended", days(-300), days(-120)),
            ("D", "school_left_18m", "prov_requested", "declined", days(-20), None),
            ("D", "other_trust", "prov_ended_120d", "cancelled", days(-40), None),
            ("E", "school_on_roll", "prov_active", "offered", days(7), None),
        ]:
            s.add(
                Placement(
                    child_id=c[key],
                    commissioner_id=o[commissioner],
                    provider_id=o[provider],
                    status=status,
                    legal_basis="s19",
                    primary_reason="semh",
                    start_date=start,
                    planned_end_date=days(120),
                    actual_end_date=end,
                    hours_per_week=15,
                )
            )

        for key, org, start, end, categories in [
            ("A", "health_current", days(-100), None, HEALTH.categories),
            ("A", "health_ended", days(-300), days(-1), HEALTH.categories),
            ("A", "health_unrecorded", days(-10), None, NOTHING.categories),
            ("A", "social_care", days(-500), None, SOCIAL_CARE.categories),
            ("C", "health_current", days(-50), None, HEALTH_IDENTITY_AND_HEALTH_ONLY.categories),
            ("C", "social_care", days(1), None, SOCIAL_CARE.categories),  # starts tomorrow
        ]:
            s.add(
                Involvement(
                    child_id=c[key],
                    organisation_id=o[org],
                    basis="consent",
                    consent_reference=f"CONSENT-{key}-{org}",
                    start_date=start,
                    end_date=end,
                    categories=sorted(categories),
                )
            )

        s.add(
            Consent(
                child_id=c["A"],
                purpose="Sharing with CAMHS",
                given_by="Jo Ashdown",
                relationship_to_child="parent",
                given_on=days(-100),
            )
        )
        area.consents = {key: int(key == "A") for key in CHILDREN}
        area.passports = {
            "A": passport_content("Alfie", ALL_SECTIONS),
            "B": passport_content("Bea", ["about_me", "health"]),
            "C": passport_content("Cal", ["health", "child_voice"]),
        }
        for key, sections in area.passports.items():
            for section, content in sections.items():
                s.add(PassportSection(child_id=c[key], section=section, version=1, content=content))
    return area


# --- checking one shaped child ------------------------------------------------------------


def rest_mismatches(body: dict[str, Any], area: Area, child: str, seen: Sees) -> list[str]:
    problems = []
    access = body.get("access", {})
    if access.get("rules") != list(seen.rules):
        problems.append(f"rules {access.get('rules')} != {list(seen.rules)}")
    if access.get("categories") != sorted(seen.view.categories):
        problems.append(f"categories {access.get('categories')} != {sorted(seen.view.categories)}")
    core = {k: v for k, v in body.items() if k not in ALWAYS and k != "passport"}
    if "enrolments" in core:
        core["enrolments"] = sorted(
            (e["school_id"], e["status"], e["start_date"], e["end_date"])
            for e in core["enrolments"]
        )
    expected = area.core(child, seen.view)
    if set(core) != set(expected):
        problems.append(
            f"fields present {sorted(core)}: unexpected {sorted(set(core) - set(expected))}, "
            f"missing {sorted(set(expected) - set(core))}"
        )
    problems += [
        f"{k}={core[k]!r}, stored {v!r}" for k, v in expected.items() if k in core and core[k] != v
    ]
    expected_passport = area.passport(child, seen.view)
    if not expected_passport and "passport" in body:
        problems.append(f"passport present: {sorted(body['passport'])}")
    passport = {
        section: {k: v for k, v in content.items() if k not in ("version", "updated_at")}
        for section, content in body.get("passport", {}).items()
    }
    if passport != expected_passport:
        problems.append(f"passport {passport} != {expected_passport}")
    return problems


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


CHILD_SELECTION = (
    "id "
    + " ".join(camel(f) for f in CORE_FIELDS if f != "enrolments")
    + " enrolments { schoolId status startDate endDate }"
    + " passport { section content } access { rules categories }"
    + " consents { purpose }"
)


def graphql_mismatches(node: dict[str, Any], area: Area, child: str, seen: Sees) -> list[str]:
    """GraphQL cannot omit a selected field: outside the categories it is null."""
    problems = []
    if node["access"]["rules"] != list(seen.rules):
        problems.append(f"rules {node['access']['rules']} != {list(seen.rules)}")
    if node["access"]["categories"] != sorted(seen.view.categories):
        problems.append(f"categories {node['access']['categories']} != {seen.view.categories}")
    expected = area.core(child, seen.view)
    for name in CORE_FIELDS:
        got = node[camel(name)]
        if name == "enrolments" and got is not None:
            got = sorted((e["schoolId"], e["status"], e["startDate"], e["endDate"]) for e in got)
        if got != expected.get(name):
            problems.append(f"{camel(name)}={got!r}, expected {expected.get(name)!r}")
    passport = {s["section"]: s["content"] for s in node["passport"] or []}
    if passport != area.passport(child, seen.view):
        problems.append(f"passport {passport} != {area.passport(child, seen.view)}")
    # consents (who gave them, and for what) are contacts; for involvements see
    # test_involvements_are_hidden_from_callers_without_contacts_health_or_social_care
    want = area.consents[child] if "contacts" in seen.view.categories else None
    got = None if node["consents"] is None else len(node["consents"])
    if got != want:
        problems.append(f"consents: {node['consents']}, expected {want} of them")
    return problems


def is_problem(r: httpx.Response, status: int) -> bool:
    return (
        r.status_code == status
        and r.headers["content-type"].startswith("application/problem+json")
        and r.json()["status"] == status
    )


async def access_log(
    superuser: asyncpg.Connection, area: Area, surface: str, action: str
) -> dict[tuple[str, str], list[asyncpg.Record]]:
    rows = await superuser.fetch(
        "SELECT organisation_id, child_id, outcome, rules, categories FROM access_log_entries "
        "WHERE surface = $1 AND action = $2",
        surface,
        action,
    )
    logged: dict[tuple[str, str], list[asyncpg.Record]] = {}
    for row in rows:
        key = (area.org_key(row["organisation_id"]), area.child_key(str(row["child_id"])))
        logged.setdefault(key, []).append(row)
    return logged


def audit_mismatches(
    logged: dict[tuple[str, str], list[asyncpg.Record]], *, denied_logged: bool
) -> list[str]:
    """One row per read: allowed with the rules and categories, or denied (single reads)."""
    problems = []
    for org in TRUTH:
        for child in CHILDREN:
            rows = logged.get((org, child), [])
            expected = cell(org, child)
            if expected == NO_SCOPE or (expected is None and not denied_logged):
                if rows:
                    problems.append(f"{org} / {child}: {len(rows)} access_log rows, expected none")
                continue
            if len(rows) != 1:
                problems.append(f"{org} / {child}: {len(rows)} access_log rows, expected one")
                continue
            row = rows[0]
            if isinstance(expected, Sees):
                want = ("allowed", list(expected.rules), sorted(expected.view.categories))
            else:
                want = ("denied", [], [])
            got = (row["outcome"], sorted(row["rules"]), sorted(row["categories"]))
            if got != want:
                problems.append(f"{org} / {child}: access_log {got}, expected {want}")
    return problems


def report(failures: list[str]) -> str:
    return "the hub disagrees with the sharing rules:\n  " + "\n  ".join(failures)


# --- REST ---------------------------------------------------------------------------------


async def test_rest_child_reads_follow_the_matrix(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await build_area(db)
    failures: list[str] = []
    nobody = await client.get(f"/v1/children/{uuid.uuid4()}", headers=area.headers(app, "home_la"))
    for org in TRUTH:
        headers = area.headers(app, org)
        for child in CHILDREN:
            r = await client.get(f"/v1/children/{area.child_id(child)}", headers=headers)
            expected = cell(org, child)
            where = f"{org} reads {child}"
            if expected == NO_SCOPE:
                if not is_problem(r, 403):
                    failures.append(f"{where}: {r.status_code}, expected 403 (no scope)")
            elif expected is None:
                # hidden and non-existent children are indistinguishable
                same = r.json().get("detail") == nobody.json()["detail"]
                if not is_problem(r, 404) or not same:
                    failures.append(f"{where}: {r.status_code} {r.text[:200]}, expected 404")
            elif isinstance(expected, Sees):
                if r.status_code != 200:
                    failures.append(f"{where}: {r.status_code} {r.text[:200]}, expected 200")
                    continue
                failures += [
                    f"{where}: {p}" for p in rest_mismatches(r.json(), area, child, expected)
                ]
    assert not failures, report(failures)

    logged = await access_log(superuser, area, "rest", "read")
    assert not (audit := audit_mismatches(logged, denied_logged=True)), report(audit)


async def test_rest_child_lists_follow_the_matrix(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await build_area(db)
    failures: list[str] = []
    for org, row in TRUTH.items():
        r = await client.get(
            "/v1/children",
            params={"limit": 500, "include": "passport"},
            headers=area.headers(app, org),
        )
        if isinstance(row, str):
            if not is_problem(r, 403):
                failures.append(f"{org} lists: {r.status_code}, expected 403 (no scope)")
            continue
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        listed = [area.child_key(item["id"]) for item in items]
        if sorted(listed) != sorted(row) or len(items) != len(row):
            failures.append(f"{org} lists {sorted(listed)}, expected {sorted(row)}")
        for item, child in zip(items, listed, strict=True):
            if child in row:
                problems = rest_mismatches(item, area, child, row[child])
                failures += [f"{org} lists {child}: {p}" for p in problems]
    assert not failures, report(failures)

    logged = await access_log(superuser, area, "rest", "list")
    assert not (audit := audit_mismatches(logged, denied_logged=False)), report(audit)


async def test_a_list_without_passports_is_the_same_page_less_the_passports(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """The default page leaves the passports out and is audited like any list; asked for
    (`include=passport`), they come in the same items. Unknown values are 422."""
    area = await build_area(db)
    lean: dict[str, list[dict[str, Any]]] = {}
    for org, row in TRUTH.items():
        if isinstance(row, dict):
            r = await client.get("/v1/children", headers=area.headers(app, org))
            assert r.status_code == 200, r.text
            lean[org] = r.json()["items"]
            assert not [i["id"] for i in lean[org] if "passport" in i], org
    logged = await access_log(superuser, area, "rest", "list")
    assert not (audit := audit_mismatches(logged, denied_logged=False)), report(audit)
    for org, items in lean.items():
        r = await client.get(
            "/v1/children", params={"include": "passport"}, headers=area.headers(app, org)
        )
        full = r.json()["items"]
        assert [{k: v for k, v in i.items() if k != "passport"} for i in full] == items, org
        row = TRUTH[org]
        assert isinstance(row, dict)
        sees_passport = [
            child
            for child, sees in row.items()
            if isinstance(sees, Sees) and any(in_passport(f) for f in sees.view.fields())
        ]
        assert sorted(area.child_key(i["id"]) for i in full if "passport" in i) == sorted(
            sees_passport
        ), org
    r = await client.get(
        "/v1/children", params={"include": "everything"}, headers=area.headers(app, "home_la")
    )
    assert is_problem(r, 422), r.text


async def test_rest_identifier_search_follows_the_matrix(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """Finding a child by UPN, former UPN or NHS number confirms that identifier: only a
    caller that may read it finds the child (a provider asked to take A does not)."""
    area = await build_area(db)
    a = area.children["A"]
    searches = [("upn", a.upn, "upn"), ("upn", a.former_upns[0], "former_upns")]
    searches.append(("nhs_number", a.nhs_number, "nhs_number"))
    failures: list[str] = []
    found: dict[str, int] = {}
    for org in TRUTH:
        expected = cell(org, "A")
        for param, value, field_id in searches:
            r = await client.get(
                "/v1/children",
                params={param: value, "include": "passport"},
                headers=area.headers(app, org),
            )
            where = f"{org} searches {field_id} of A"
            if expected == NO_SCOPE:
                if not is_problem(r, 403):
                    failures.append(f"{where}: {r.status_code}, expected 403 (no scope)")
                continue
            assert r.status_code == 200, r.text
            listed = [area.child_key(item["id"]) for item in r.json()["items"]]
            findable = isinstance(expected, Sees) and field_id in expected.view.fields()
            if listed != (["A"] if findable else []):
                failures.append(f"{where}: found {listed}, expected {['A'] if findable else []}")
            elif findable and isinstance(expected, Sees):
                found[org] = found.get(org, 0) + 1
                problems = rest_mismatches(r.json()["items"][0], area, "A", expected)
                failures += [f"{where}: {p}" for p in problems]
    assert not failures, report(failures)

    logged = await access_log(superuser, area, "rest", "match")
    counts = {org: len(rows) for (org, child), rows in logged.items() if child == "A"}
    assert counts == found, "every child found is audited once per search"
    assert all(child == "A" for _, child in logged)


UPDATE = (
    "mutation($id: UUID!, $input: ChildUpdateInput!) "
    "{ updateChild(id: $id, input: $input) { version } }"
)
CODES = {200: None, 403: "FORBIDDEN", 404: "NOT_FOUND"}


async def test_child_updates_follow_the_matrix_over_rest_and_graphql(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """PATCH /v1/children/{id}, GraphQL `updateChild` and the enrolment routes, on child A
    (whom every organisation of the area but the unrelated ones may know)."""
    area = await build_area(db)
    a = area.child_id("A")
    failures: list[str] = []
    for org, writable in WRITES.items():
        headers = area.headers(app, org)
        for category, change in PROBES.items():
            if writable == NO_SCOPE:
                want = 403
            elif writable == HIDDEN:
                want = 404
            else:
                want = 200 if category in writable else 403
            r = await client.patch(f"/v1/children/{a}", json=change, headers=headers)
            if r.status_code != want:
                failures.append(f"{org} changes {category} of A: {r.status_code}, expected {want}")
            changes = {camel(k): v for k, v in change.items()}
            result = await graphql(client, headers, UPDATE, id=a, input=changes)
            if error_code(result) != CODES[want]:
                failures.append(
                    f"{org} changes {category} of A (GraphQL): {result}, expected {CODES[want]}"
                )
        # a roll entry long past changes nobody's view of the child
        enrolment = {
            "school_id": str(area.orgs["school_left_18m"].id),
            "status": "C",
            "start_date": (area.today - timedelta(days=3000)).isoformat(),
            "end_date": (area.today - timedelta(days=2900)).isoformat(),
        }
        r = await client.post(f"/v1/children/{a}/enrolments", json=enrolment, headers=headers)
        if isinstance(writable, str):
            want = 403 if writable == NO_SCOPE else 404
        else:
            want = 201 if "education" in writable else 403
        if r.status_code != want:
            failures.append(f"{org} adds an enrolment of A: {r.status_code}, expected {want}")
        elif r.status_code == 201:
            end = {"end_date": enrolment["end_date"]}
            url = f"/v1/children/{a}/enrolments/{r.json()['id']}/end"
            r = await client.post(url, json=end, headers=headers)
            if r.status_code != 204:
                failures.append(f"{org} ends an enrolment of A: {r.status_code}, expected 204")
        if isinstance(writable, str) or "education" not in writable:
            url = f"/v1/children/{a}/enrolments/{uuid.uuid4()}/end"
            r = await client.post(url, json={"end_date": area.today.isoformat()}, headers=headers)
            want = 404 if writable == HIDDEN else 403
            if r.status_code != want:
                failures.append(f"{org} ends an enrolment of A: {r.status_code}, expected {want}")
    assert not failures, report(failures)


# --- GraphQL -------------------------------------------------------------------------------


async def graphql(
    client: httpx.AsyncClient, headers: dict[str, str], query: str, **variables: Any
) -> dict[str, Any]:
    r = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def error_code(result: dict[str, Any]) -> str | None:
    errors = result.get("errors") or []
    return str(errors[0]["extensions"]["code"]) if errors else None


async def test_graphql_child_and_children_follow_the_matrix(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await build_area(db)
    one = f"query($id: UUID!) {{ child(id: $id) {{ {CHILD_SELECTION} }} }}"
    many = f"{{ children(first: 500) {{ items {{ {CHILD_SELECTION} }} nextCursor }} }}"
    failures: list[str] = []
    for org, row in TRUTH.items():
        headers = area.headers(app, org)
        for child in CHILDREN:
            result = await graphql(client, headers, one, id=area.child_id(child))
            expected = cell(org, child)
            where = f"{org} reads {child} (GraphQL)"
            if isinstance(expected, Sees):
                if error_code(result) is not None:
                    failures.append(f"{where}: {result['errors']}")
                    continue
                problems = graphql_mismatches(result["data"]["child"], area, child, expected)
                failures += [f"{where}: {p}" for p in problems]
            else:
                want = "FORBIDDEN" if expected == NO_SCOPE else "NOT_FOUND"
                if error_code(result) != want or result.get("data") is not None:
                    failures.append(f"{where}: {result}, expected {want}")

        result = await graphql(client, headers, many)
        if isinstance(row, str):
            if error_code(result) != "FORBIDDEN":
                failures.append(f"{org} lists (GraphQL): {result}, expected FORBIDDEN")
            continue
        if error_code(result) is not None:
            failures.append(f"{org} lists (GraphQL): {result['errors']}")
            continue
        items = result["data"]["children"]["items"]
        listed = [area.child_key(item["id"]) for item in items]
        if sorted(listed) != sorted(row) or len(items) != len(row):
            failures.append(f"{org} lists {sorted(listed)} (GraphQL), expected {sorted(row)}")
        for item, child in zip(items, listed, strict=True):
            if child in row:
                problems = graphql_mismatches(item, area, child, row[child])
                failures += [f"{org} lists {child} (GraphQL): {p}" for p in problems]
    assert not failures, report(failures)

    logged = await access_log(superuser, area, "graphql", "read")
    assert not (audit := audit_mismatches(logged, denied_logged=True)), report(audit)
    logged = await access_log(superuser, area, "graphql", "list")
    assert not (audit := audit_mismatches(logged, denied_logged=False)), report(audit)


async def test_involvements_are_hidden_from_callers_without_contacts_health_or_social_care(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await build_area(db)
    a = area.child_id("A")
    query = "query($id: UUID!) { child(id: $id) { involvements { organisationId basis } } }"
    leaks = []
    for org in ("prov_requested", "host_la", "health_unrecorded"):
        headers = area.headers(app, org)
        r = await client.get(f"/v1/children/{a}/involvements", headers=headers)
        if r.status_code == 200:
            leaks.append(f"{org}: REST {r.json()['items']}")
        result = await graphql(client, headers, query, id=a)
        if (result.get("data") or {}).get("child", {}).get("involvements") is not None:
            leaks.append(f"{org}: GraphQL {result['data']['child']['involvements']}")
    assert not leaks, report(leaks)
