"""Demo provider directory: entries, offers, delivery sites, QA visits and statuses for the
twelve demo providers, written through the directory's own services (so every change is
checked and logged as the provider or the local authority that would make it).

Among them, a search for KS4 vocational places, unregistered but QA approved, with places
free, in City of London (201) finds two: Motor Skills Workshop (in the City) and Build Up
Construction Academy (Bristol, with a site in the City). The near misses each fail one
criterion: Thames Independent School is registered, Street League is full, Green Shoots'
horticulture is for KS3, Brightside offers tuition, Hoofbeats is suspended and elsewhere.
Alerts: Hoofbeats' insurance has lapsed, Green Shoots' safeguarding confirmation is over
12 months old, Street League's QA is overdue. Open Door has never been assessed.

Every name, person and address is invented (postcodes are real districts); dates are
relative to today, so the alerts hold whenever the demo is loaded.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aphub.auth.principal import Principal
from aphub.db import WriteUnit
from aphub.models import Organisation
from aphub.providers import directory, quality
from aphub.providers.alerts import today
from aphub.providers.schemas import (
    ProviderConcernInput,
    ProviderLocationInput,
    ProviderOfferInput,
    ProviderQARecordInput,
    ProviderQAStatusInput,
)

if TYPE_CHECKING:
    from aphub.demo import DemoArea

CLIENT = "demo"
SCHOOL_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]


def _ago(days: int) -> date:
    return today() - timedelta(days=days)


def _ahead(days: int) -> date:
    return today() + timedelta(days=days)


def _acting_as(organisation: Organisation) -> Principal:
    return Principal(organisation.id, organisation.type, CLIENT, frozenset())


# key -> directory entry (the PUT body), then sites and offers by short name
ENTRIES: dict[str, dict[str, Any]] = {
    "prov_pru": {
        "registration_status": "pru",
        "description": "The City's pupil referral unit for pupils permanently excluded or at "
        "risk of exclusion, with outreach to mainstream schools.",
        "ofsted": {"last_inspection_date": _ago(420), "grade": "good"},
        "lead": ("Helen Marsh", 60, 240),
    },
    "prov_ap_academy": {
        "registration_status": "ap_academy",
        "description": "Alternative provision academy for Camden: full-time places at key "
        "stages 2 to 4 and short assessment placements.",
        "ofsted": {"last_inspection_date": _ago(700), "grade": "outstanding"},
        "lead": ("Dev Patel", 90, 300),
    },
    "prov_hospital": {
        "registration_status": "hospital_school",
        "description": "Education for children and young people in hospital or too unwell "
        "to attend school.",
        "ofsted": {"last_inspection_date": _ago(900), "grade": "good"},
        "lead": ("Sarah O'Neill", 45, 180),
    },
    "prov_independent": {
        "registration_status": "independent_school",
        "description": "Small independent school with vocational pathways at key stage 4.",
        "ofsted": {"last_inspection_date": _ago(300), "grade": "requires_improvement"},
        "lead": ("Marcus Webb", 120, 200),
    },
    "prov_fe": {
        "registration_status": "fe_college",
        "description": "14-16 direct-entry and school-link vocational programmes.",
        "ofsted": {"last_inspection_date": _ago(500), "grade": "good"},
        "lead": ("Priya Shah", 100, 330),
    },
    "prov_tuition": {
        "registration_status": "unregistered",
        "census_setting_type": "OOT",
        "companies_house_number": "09876543",
        "description": "One-to-one and small-group tuition in English, maths and science.",
        "lead": ("Tom Fairley", 150, 150),
    },
    "prov_vocational": {
        "registration_status": "unregistered",
        "census_setting_type": "WBP",
        "companies_house_number": "11223344",
        "description": "Community interest company teaching motor vehicle maintenance "
        "in a working garage.",
        "lead": ("Jo Brennan", 80, 260),
    },
    "prov_therapeutic": {
        "registration_status": "unregistered",
        "census_setting_type": "OTH",
        "charity_number": "1187654",
        "description": "Therapeutic education for pupils with social, emotional and mental "
        "health needs, including horticulture on a City community garden.",
        "lead": ("Amina Yusuf", 400, 120),  # confirmation over 12 months old
    },
    "prov_online": {
        "registration_status": "unregistered",
        "census_setting_type": "OOT",
        "description": "Live online lessons for pupils unable to attend in person.",
        "lead": ("Chris Lane", 30, 90),
    },
    "prov_construction": {
        "registration_status": "unregistered",
        "census_setting_type": "WBP",
        "companies_house_number": "10293847",
        "description": "Construction skills on real sites, leading to CSCS and Level 1 "
        "qualifications.",
        "lead": ("Gary Holt", 70, 210),
    },
    "prov_equine": {
        "registration_status": "unregistered",
        "census_setting_type": "OTH",
        "charity_number": "1165432",
        "description": "Equine-assisted learning and stable management on a working farm.",
        "lead": ("Rachel Dunn", 200, -20),  # insurance lapsed 20 days ago
    },
    "prov_sport": {
        "registration_status": "unregistered",
        "census_setting_type": "OTH",
        "charity_number": "1134567",
        "description": "Sport-based mentoring and sports leadership qualifications.",
        "lead": ("Kwame Mensah", 110, 160),
    },
}

# key -> sites: (name, address, city, postcode, LA code)
SITES: dict[str, list[tuple[str, str, str, str, str]]] = {
    "prov_pru": [("Golden Lane site", "10 Golden Lane", "London", "EC1Y 0TZ", "201")],
    "prov_ap_academy": [("Kentish Town centre", "2 Grafton Road", "London", "NW5 1TL", "202")],
    "prov_hospital": [("Royal Free Hospital", "Pond Street", "London", "NW3 2QG", "202")],
    "prov_independent": [("Tower Hill", "4 Crutched Friars", "London", "EC3N 2AE", "201")],
    "prov_fe": [("St Philips campus", "Glass Wharf", "Bristol", "BS2 0JA", "801")],
    "prov_tuition": [
        ("Moorgate tuition rooms", "25 Moorgate", "London", "EC2R 6AY", "201"),
        ("Bloomsbury tuition rooms", "8 Gordon Square", "London", "WC1H 0PD", "202"),
    ],
    "prov_vocational": [("Workshop", "Unit 4, Bartholomew Close", "London", "EC1A 7BL", "201")],
    "prov_therapeutic": [
        ("Camden Town centre", "15 Pratt Street", "London", "NW1 0BG", "202"),
        ("Barbican community garden", "Fann Street", "London", "EC2Y 8DS", "201"),
    ],
    "prov_online": [("Registered office", "90 Judd Street", "London", "WC1H 9NE", "202")],
    "prov_construction": [
        ("Fishponds training yard", "Filwood Road", "Bristol", "BS16 3RY", "801"),
        ("City of London training site", "1 Paternoster Row", "London", "EC4M 7DX", "201"),
    ],
    "prov_equine": [("Hill Farm stables", "Hill Farm Lane", "Winford", "BS40 8AA", "802")],
    "prov_sport": [("Golden Lane sports hall", "Fann Street", "London", "EC1Y 0SH", "201")],
}

# key -> offers; "sites" are indexes into SITES[key]
OFFERS: dict[str, list[dict[str, Any]]] = {
    "prov_pru": [
        {
            "type": "exclusion",
            "name": "Key stage 3 and 4 full-time places",
            "key_stages": ["ks3", "ks4"],
            "age_min": 11,
            "age_max": 16,
            "time_basis": "full_time",
            "qualifications": ["gcse", "functional_skills"],
            "send_specialisms": ["social_emotional_mental_health"],
            "capacity": 48,
            "places_free": 4,
            "cost_per_place": Decimal("95.00"),
            "cost_unit": "per_day",
        },
        {
            "type": "outreach",
            "name": "Behaviour outreach to mainstream schools",
            "key_stages": ["ks2", "ks3"],
            "age_min": 7,
            "age_max": 14,
            "time_basis": "part_time",
            "capacity": 20,
            "places_free": 6,
        },
    ],
    "prov_ap_academy": [
        {
            "type": "ks1_3_full_time",
            "name": "Primary and key stage 3 full-time places",
            "key_stages": ["ks2", "ks3"],
            "age_min": 7,
            "age_max": 14,
            "time_basis": "full_time",
            "capacity": 30,
            "places_free": 2,
        },
        {
            "type": "ks4_full_time",
            "name": "Key stage 4 GCSE programme",
            "key_stages": ["ks4"],
            "age_min": 14,
            "age_max": 16,
            "time_basis": "full_time",
            "qualifications": ["gcse", "functional_skills"],
            "capacity": 40,
            "places_free": 0,
        },
        {
            "type": "intervention_assessment",
            "name": "Twelve-week assessment placements",
            "key_stages": ["ks2", "ks3"],
            "age_min": 7,
            "age_max": 14,
            "time_basis": "either",
            "capacity": 12,
            "places_free": 3,
        },
    ],
    "prov_hospital": [
        {
            "type": "medical",
            "name": "Hospital and home teaching",
            "key_stages": ["ks1", "ks2", "ks3", "ks4"],
            "age_min": 5,
            "age_max": 16,
            "time_basis": "part_time",
            "qualifications": ["gcse"],
            "capacity": 30,
            "places_free": 8,
        }
    ],
    "prov_independent": [
        {
            "type": "vocational",
            "name": "Construction and hospitality pathway",
            "key_stages": ["ks4"],
            "age_min": 14,
            "age_max": 16,
            "time_basis": "full_time",
            "qualifications": ["gcse", "vocational"],
            "capacity": 24,
            "places_free": 5,
            "cost_per_place": Decimal("32000.00"),
            "cost_unit": "per_year",
        }
    ],
    "prov_fe": [
        {
            "type": "vocational",
            "name": "14-16 engineering and motor vehicle pathway",
            "key_stages": ["ks4"],
            "age_min": 14,
            "age_max": 16,
            "time_basis": "part_time",
            "qualifications": ["vocational", "functional_skills"],
            "capacity": 40,
            "places_free": 12,
        }
    ],
    "prov_tuition": [
        {
            "type": "tuition",
            "name": "English, maths and science tuition",
            "key_stages": ["ks2", "ks3", "ks4"],
            "age_min": 7,
            "age_max": 16,
            "time_basis": "part_time",
            "qualifications": ["gcse", "functional_skills"],
            "capacity": 30,
            "places_free": 10,
            "cost_per_place": Decimal("45.00"),
            "cost_unit": "per_hour",
            "sites": [0, 1],
        }
    ],
    "prov_vocational": [
        {
            "type": "vocational",
            "name": "Motor vehicle maintenance (key stage 4)",
            "key_stages": ["ks4"],
            "age_min": 14,
            "age_max": 16,
            "time_basis": "part_time",
            "qualifications": ["vocational", "functional_skills"],
            "send_specialisms": ["social_emotional_mental_health"],
            "capacity": 12,
            "places_free": 3,
            "days": ["monday", "tuesday", "wednesday", "thursday"],
            "hours_per_week": Decimal("18.0"),
            "cost_per_place": Decimal("70.00"),
            "cost_unit": "per_day",
            "sites": [0],
        },
        {
            "type": "engagement",
            "name": "Bike workshop re-engagement (key stage 3)",
            "key_stages": ["ks3"],
            "age_min": 11,
            "age_max": 14,
            "time_basis": "part_time",
            "capacity": 8,
            "places_free": 2,
            "days": ["friday"],
            "sites": [0],
        },
    ],
    "prov_therapeutic": [
        {
            "type": "therapeutic",
            "name": "Therapeutic education",
            "key_stages": ["ks2", "ks3"],
            "age_min": 8,
            "age_max": 14,
            "time_basis": "either",
            "send_specialisms": ["social_emotional_mental_health", "autism"],
            "capacity": 16,
            "places_free": 1,
            "sites": [0],
        },
        {
            "type": "vocational",
            "name": "Horticulture (key stage 3)",
            "key_stages": ["ks3"],
            "age_min": 11,
            "age_max": 14,
            "time_basis": "part_time",
            "qualifications": ["vocational"],
            "capacity": 10,
            "places_free": 2,
            "sites": [1],
        },
    ],
    "prov_online": [
        {
            "type": "tuition",
            "name": "Live online GCSE lessons",
            "key_stages": ["ks3", "ks4"],
            "age_min": 11,
            "age_max": 16,
            "time_basis": "either",
            "qualifications": ["gcse"],
            "capacity": 60,
            "places_free": 25,
        }
    ],
    "prov_construction": [
        {
            "type": "vocational",
            "name": "CSCS construction skills (key stage 4)",
            "key_stages": ["ks4"],
            "age_min": 14,
            "age_max": 16,
            "time_basis": "part_time",
            "qualifications": ["vocational", "functional_skills"],
            "capacity": 16,
            "places_free": 5,
            "days": ["tuesday", "wednesday", "thursday"],
            "cost_per_place": Decimal("85.00"),
            "cost_unit": "per_day",
            "sites": [0, 1],
        }
    ],
    "prov_equine": [
        {
            "type": "therapeutic",
            "name": "Equine-assisted learning",
            "key_stages": ["ks2", "ks3"],
            "age_min": 8,
            "age_max": 14,
            "time_basis": "part_time",
            "send_specialisms": ["social_emotional_mental_health", "autism"],
            "capacity": 8,
            "places_free": 3,
            "sites": [0],
        },
        {
            "type": "vocational",
            "name": "Stable management (key stage 4)",
            "key_stages": ["ks4"],
            "age_min": 14,
            "age_max": 16,
            "time_basis": "part_time",
            "qualifications": ["vocational"],
            "capacity": 6,
            "places_free": 4,
            "sites": [0],
        },
    ],
    "prov_sport": [
        {
            "type": "engagement",
            "name": "Sport mentoring",
            "key_stages": ["ks3", "ks4"],
            "age_min": 11,
            "age_max": 16,
            "time_basis": "part_time",
            "capacity": 20,
            "places_free": 6,
            "sites": [0],
        },
        {
            "type": "vocational",
            "name": "Sports leadership level 1 (key stage 4)",
            "key_stages": ["ks4"],
            "age_min": 14,
            "age_max": 16,
            "time_basis": "part_time",
            "qualifications": ["vocational"],
            "capacity": 15,
            "places_free": 0,  # full
            "sites": [0],
        },
    ],
}

# key -> (assessing LA, visit days ago, outcome, next due in days, status); None: never assessed
QA: dict[str, tuple[str, int, str, int, str] | None] = {
    "prov_pru": ("la_city", 120, "meets_standards", 245, "approved"),
    "prov_ap_academy": ("la_camden", 200, "meets_standards", 165, "approved"),
    "prov_hospital": ("la_camden", 250, "meets_standards", 115, "approved"),
    "prov_independent": ("la_city", 90, "meets_standards_with_actions", 180, "approved"),
    "prov_fe": ("la_bristol", 150, "meets_standards", 215, "approved"),
    "prov_tuition": ("la_city", 60, "meets_standards", 300, "approved"),
    "prov_vocational": ("la_city", 90, "meets_standards", 275, "approved"),
    "prov_therapeutic": ("la_camden", 100, "meets_standards", 265, "approved"),
    "prov_online": None,
    "prov_construction": ("la_bristol", 75, "meets_standards", 290, "approved"),
    "prov_equine": ("la_bristol", 10, "does_not_meet_standards", 60, "suspended"),
    "prov_sport": ("la_city", 400, "meets_standards", -35, "approved"),  # QA overdue
}


def _entry(key: str) -> dict[str, Any]:
    spec = dict(ENTRIES[key])
    name, confirmed_days_ago, insurance_days_ahead = spec.pop("lead")
    first = name.split()[0].lower().replace("'", "")
    spec["safeguarding"] = {
        "designated_lead_name": name,
        "designated_lead_email": f"{first}.dsl@example.org",
        "designated_lead_phone": "020 7946 0" + str(100 + len(name)),
        "staff_checks_confirmed_on": _ago(confirmed_days_ago),
        "policy_reviewed_on": _ago(confirmed_days_ago + 30),
        "insurance_expires_on": _ahead(insurance_days_ahead),
    }
    spec["website"] = f"https://{key.removeprefix('prov_').replace('_', '-')}.example.org"
    return spec


async def _directory_entry(uow: WriteUnit, area: DemoArea, key: str) -> None:
    provider = area.orgs[key]
    me = _acting_as(provider)
    await directory.update_entry(uow, me, provider.id, _entry(key), None)
    sites = []
    for name, address, city, postcode, la_code in SITES[key]:
        site = ProviderLocationInput(
            name=name, address_1=address, city=city, postcode=postcode, la_code=la_code
        )
        sites.append(await directory.create_location(uow, me, provider.id, site))
    for spec in OFFERS[key]:
        values = dict(spec)
        indexes = values.pop("sites", [0])
        values.setdefault("days", SCHOOL_DAYS)
        values["location_ids"] = [sites[i].id for i in indexes]
        offer = ProviderOfferInput.model_validate(values)
        await directory.create_offer(uow, me, provider.id, offer)


async def _quality_assurance(uow: WriteUnit, area: DemoArea, key: str) -> None:
    plan = QA[key]
    if plan is None:
        return
    la_key, visited_days_ago, outcome, next_due_in, status = plan
    authority = _acting_as(area.orgs[la_key])
    provider_id = area.orgs[key].id
    visit = ProviderQARecordInput.model_validate(
        {
            "kind": "visit",
            "conducted_on": _ago(visited_days_ago),
            "assessor_name": "Quality assurance officer",
            "findings": "Safeguarding, attendance reporting, curriculum and premises reviewed "
            "with the provider's leaders; records sampled.",
            "actions": None
            if outcome == "meets_standards"
            else "Renew insurance and evidence safer recruitment checks before reinstatement.",
            "outcome": outcome,
            "next_due_on": _ahead(next_due_in),
        }
    )
    await quality.record_quality_assurance(uow, authority, provider_id, visit)
    reason = {
        "approved": "Approved following a satisfactory quality-assurance visit",
        "suspended": "Suspended: insurance lapsed and safer recruitment evidence missing",
    }[status]
    change = ProviderQAStatusInput.model_validate({"status": status, "reason": reason})
    await quality.set_qa_status(uow, authority, provider_id, change, None)


async def load_provider_directory(uow: WriteUnit, area: DemoArea) -> None:
    for key in ENTRIES:
        await _directory_entry(uow, area, key)
        await _quality_assurance(uow, area, key)
    concern = ProviderConcernInput.model_validate(
        {
            "category": "safeguarding",
            "severity": "high",
            "reason": "Pupils were left unsupervised in the yard during a visit, and the "
            "provider could not show current insurance.",
        }
    )
    school = _acting_as(area.orgs["school_redland"])
    await quality.raise_concern(uow, school, area.orgs["prov_equine"].id, concern)
