"""A request example for every body the API takes, shown in the OpenAPI document (and so
in Swagger UI and ReDoc) beside the operations that take it.

Keyed by body model: the example says what a valid body of that model looks like, and
every operation taking the model shows it. `tests/test_contract_client.py` checks that
every operation with a body has one and that each is accepted by its model, so an
example cannot drift from what the hub takes. The ids are placeholders: use ids from
your own reads.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from aphub.attendance.schemas import HolidayIn
from aphub.children.consent_schemas import ConsentCreate, ConsentWithdraw
from aphub.children.endpoints import EnrolmentEnd
from aphub.children.involvement_schemas import InvolvementCreate, InvolvementEnd
from aphub.children.passport_schemas import (
    AboutMeSection,
    ChildVoiceSection,
    ContactsSection,
    EducationHistorySection,
    FamilyVoiceSection,
    HealthSection,
    NeedsAndStrategiesSection,
    Post16IntentionsSection,
    RisksAndSafeguardingSection,
)
from aphub.children.record_endpoints import DuplicateOf
from aphub.children.schemas import ChildCreate, ChildUpdate, EnrolmentIn
from aphub.education.schemas import ExclusionCreate, ExclusionStatusChange
from aphub.organisations.schemas import ClientCreate, OrganisationCreate, OrganisationUpdate
from aphub.outcomes.schemas import AccreditationIn, FollowUpIn, ProgressIn
from aphub.placements.schemas import (
    EndAction,
    ExtendAction,
    OfferAction,
    PlacementCreate,
    PlacementVary,
    ProposeEndAction,
    ReasonAction,
    ReviewCreate,
    StartAction,
)
from aphub.providers.schemas import (
    ProviderConcernInput,
    ProviderEntryInput,
    ProviderLocationInput,
    ProviderLocationPatch,
    ProviderOfferInput,
    ProviderOfferPatch,
    ProviderQARecordInput,
    ProviderQAStatusInput,
)
from aphub.webhooks.schemas import (
    ReplayRequest,
    WebhookSubscriptionCreate,
    WebhookSubscriptionUpdate,
)

LA_ID = "0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b01"
SCHOOL_ID = "0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b02"
PROVIDER_ID = "0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b03"
HEALTH_ID = "0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b04"
CHILD_ID = "0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b05"
OTHER_CHILD_ID = "0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b06"
REVIEW_ID = "0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b07"
LOCATION_ID = "0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b08"
OUTCOME_ID = "0190c2a4-8c1e-7f3a-9d2b-5c6e7f8a9b09"

_OFFER = {
    "type": "vocational",
    "name": "Motor vehicle (KS4)",
    "description": "Level 1 motor vehicle with English and maths",
    "key_stages": ["ks4"],
    "age_min": 14,
    "age_max": 16,
    "time_basis": "part_time",
    "capacity": 12,
    "places_free": 3,
    "days": ["monday", "wednesday", "friday"],
    "start_time": "09:00:00",
    "end_time": "14:30:00",
    "cost_per_place": "65.00",
    "cost_unit": "per_session",
    "location_ids": [LOCATION_ID],
}
_LOCATION = {
    "name": "Workshop",
    "address_1": "4 Bartholomew Close",
    "city": "London",
    "postcode": "EC1A 7BL",
    "la_code": "201",
}

REQUEST_EXAMPLES: dict[type[BaseModel], Any] = {
    OrganisationCreate: {
        "type": "school",
        "name": "Oak Academy",
        "urn": "100000",
        "local_authority_id": LA_ID,
        "postcode": "N1 9GU",
        "contact_email": "office@oak.example.org",
    },
    OrganisationUpdate: {
        "name": "Oak Academy (Islington)",
        "contact_email": "data@oak.example.org",
    },
    ClientCreate: {
        "name": "MIS attendance sync",
        "scopes": ["placements:read", "attendance:write"],
    },
    ChildCreate: {
        "legal_first_name": "Amira",
        "legal_last_name": "Khan",
        "date_of_birth": "2012-03-14",
        "sex": "female",
        "year_group": "9",
        "upn": "H801200001001",
        "home_la_id": LA_ID,
        "sen_provision": "sen_support",
        "primary_need": "SEMH",
        "enrolments": [{"school_id": SCHOOL_ID, "status": "C", "start_date": "2023-09-04"}],
    },
    ChildUpdate: {"preferred_name": "Ami", "year_group": "9"},
    EnrolmentIn: {"school_id": SCHOOL_ID, "status": "C", "start_date": "2026-09-03"},
    EnrolmentEnd: {"end_date": "2026-11-27"},
    AboutMeSection: {
        "summary": "Loves football and fixing bikes",
        "what_works_for_me": "Short tasks with a clear end; a quiet start to the day",
    },
    NeedsAndStrategiesSection: {"strategies": ["Movement breaks", "Check-in at 10:00"]},
    ChildVoiceSection: {"views": "I like the workshop mornings"},
    FamilyVoiceSection: {"views": "Mum wants a full timetable by Easter"},
    RisksAndSafeguardingSection: {"risk_summary": "Vulnerable on the walk home"},
    HealthSection: {
        "health_summary": "Type 1 diabetes; insulin pump",
        "medication": [{"name": "Insulin", "schedule": "With meals"}],
    },
    EducationHistorySection: {
        "settings": [
            {
                "name": "Oak Academy",
                "urn": "100000",
                "start_date": "2019-09-01",
                "end_date": "2025-02-03",
                "reason_left": "Permanently excluded",
            }
        ],
        "exclusions": [{"date": "2025-02-03", "reason_code": "PD"}],
    },
    Post16IntentionsSection: {"intentions": "College: motor vehicle level 1"},
    ContactsSection: {
        "parents_carers": [
            {"name": "Sara Khan", "relationship": "mother", "parental_responsibility": True}
        ],
        "professionals": [{"name": "Dan Ellis", "role": "Social worker"}],
    },
    DuplicateOf: {"other_child_id": OTHER_CHILD_ID},
    InvolvementCreate: {
        "organisation_id": HEALTH_ID,
        "basis": "consent",
        "consent_reference": "CAMHS referral 2026-114",
        "start_date": "2026-10-01",
        "categories": ["health", "needs"],
    },
    InvolvementEnd: {"end_date": "2026-11-30"},
    ConsentCreate: {
        "purpose": "Share the health summary with the AP provider",
        "given_by": "Sara Khan",
        "relationship_to_child": "parent",
        "given_on": "2026-09-01",
    },
    ConsentWithdraw: {"withdrawn_on": "2026-11-30"},
    PlacementCreate: {
        "child_id": CHILD_ID,
        "provider_id": PROVIDER_ID,
        "legal_basis": "s19_education_act_1996",
        "primary_reason": "permanent_exclusion",
        "start_date": "2027-01-06",
        "planned_end_date": "2027-03-31",
        "hours_per_week": 25,
        "pattern": [
            {"day": day, "sessions": ["am", "pm"]}
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
        ],
        "intended_outcomes": [
            {
                "description": "Attend every morning session",
                "baseline": "Attendance 40% in the last term at school",
                "target": "Attendance 90%",
                "measure": "Registers returned to the hub",
                "target_date": "2027-03-19",
            }
        ],
        "exit_strategy": {
            "intended_destination": "new_mainstream_school",
            "readiness_criteria": "Attendance above 90% for four weeks; managed move agreed",
            "planned_date": "2027-03-31",
        },
        "review_frequency_weeks": 6,
        "next_review_date": "2027-02-17",
        "funding": {"source": "local_authority", "rate": "65.00", "unit": "per_session"},
    },
    PlacementVary: {"hours_per_week": 20, "next_review_date": "2027-02-24"},
    OfferAction: {"delivery_location_ids": [LOCATION_ID], "note": "Start with mornings"},
    ReasonAction: {"reason": "A school place was found"},
    StartAction: {"start_date": "2027-01-06"},
    ExtendAction: {"review_id": REVIEW_ID, "planned_end_date": "2027-07-16"},
    EndAction: {
        "end_reason": "reintegrated",
        "destination": "new_mainstream_school",
        "actual_end_date": "2027-03-26",
        "closing_note": "Managed move to Elm School agreed",
    },
    ProposeEndAction: {
        "reason": "Ready to return to school",
        "proposed_end_date": "2027-03-26",
        "destination": "reintegrated_home_school",
    },
    ReviewCreate: {
        "held_on": "2026-11-25",
        "attendees": ["child", "parent_carer", "commissioner", "provider"],
        "progress": [{"outcome_id": OUTCOME_ID, "rating": "developing"}],
        "attendance_percent": 84.5,
        "child_views": "Mornings are better now",
        "decision": "continue",
        "actions": [
            {"description": "Trial a full day", "owner": "Provider", "due_date": "2027-01-15"}
        ],
        "next_review_date": "2027-01-20",
    },
    ProviderEntryInput: {
        "description": "Vocational AP for 14 to 16 year olds: motor vehicle and construction",
        "website": "https://workshop.example.org",
        "phone": "020 7946 0000",
        "registration_status": "unregistered",
        "census_setting_type": "OTH",
        "safeguarding": {"designated_lead_name": "Jo Patel"},
    },
    ProviderOfferInput: _OFFER,
    ProviderOfferPatch: {"places_free": 0},
    ProviderLocationInput: _LOCATION,
    ProviderLocationPatch: {"city": "London"},
    ProviderQARecordInput: {
        "kind": "visit",
        "conducted_on": "2026-11-18",
        "assessor_name": "R. Osei",
        "findings": "Registers kept; safeguarding lead known to staff and learners",
        "outcome": "meets_standards",
        "next_due_on": "2027-05-18",
    },
    ProviderQAStatusInput: {"status": "approved", "reason": "Satisfactory QA visit"},
    ProviderConcernInput: {
        "category": "attendance_reporting",
        "severity": "medium",
        "reason": "Attendance returns two weeks late this term",
    },
    HolidayIn: {"from_date": "2027-02-15", "to_date": "2027-02-19", "name": "Half term"},
    ProgressIn: {"rating": "developing", "evidence": "Attended 4 of 5 mornings"},
    AccreditationIn: {
        "qualification": "Functional Skills English",
        "level": "entry_3",
        "grade": "Pass",
        "awarding_body": "City & Guilds",
        "awarded_on": "2026-11-20",
    },
    FollowUpIn: {"kind": "six_weeks", "sustained": True, "note": "Settled back in Year 9"},
    ExclusionCreate: {
        "kind": "suspension",
        "first_day": "2026-11-16",
        "school_days": 3,
        "reasons": ["DB"],
    },
    ExclusionStatusChange: {"status": "upheld", "on": "2026-11-30"},
    WebhookSubscriptionCreate: {
        "url": "https://mis.example.org/aphub/hooks",
        "event_types": ["placement.*", "attendance.concern_raised"],
        "description": "MIS connector",
    },
    WebhookSubscriptionUpdate: {"event_types": ["*"], "enabled": True},
    ReplayRequest: {"from_seq": 1200},
}


def request_example(model: type[BaseModel]) -> Any | None:
    return REQUEST_EXAMPLES.get(model)
