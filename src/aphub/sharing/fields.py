"""Every field of a child's record and passport, and the sharing category it belongs to.

Field ids are what a policy file names when it grants less than a whole category
(`health.medical_needs`): core fields by name, passport fields as `section.field`.
"""

from __future__ import annotations

CATEGORIES = (
    "identity",
    "education",
    "needs",
    "health",
    "social_care",
    "safeguarding",
    "voice",
    "contacts",
    "placement",
)

CORE_FIELDS: dict[str, str] = {
    "legal_first_name": "identity",
    "legal_last_name": "identity",
    "preferred_name": "identity",
    "middle_names": "identity",
    "date_of_birth": "identity",
    "sex": "identity",
    "year_group": "identity",
    # a pupil characteristic the statutory returns carry (UK GDPR special category: racial
    # or ethnic origin); identity, as DfE's census modules and schools' MIS hold it
    "ethnicity": "identity",
    "upn": "identity",
    "former_upns": "identity",
    "uln": "identity",
    "nhs_number": "identity",
    # where the child lives: with the family's contact details, not identity, so a host LA
    # or a provider asked to take the child does not learn it
    "home_postcode": "contacts",
    "enrolments": "education",
    "sen_provision": "education",
    "free_school_meals": "education",
    "primary_need": "needs",
    "has_medical_needs": "health",
    "looked_after": "social_care",
    "looked_after_la_id": "social_care",
    "child_in_need": "social_care",
    "child_protection_plan": "social_care",
    "young_carer": "social_care",
    "youth_justice": "safeguarding",
}

SECTION_FIELDS: dict[str, dict[str, str]] = {
    "about_me": {
        "summary": "needs",
        "what_works_for_me": "needs",
        "what_does_not_work": "needs",
        "communication": "needs",
        "interests": "voice",
    },
    "needs_and_strategies": {
        "summary_of_needs": "needs",
        "strategies": "needs",
        "triggers": "needs",
        "support_in_place": "needs",
    },
    "child_voice": {
        "views": "voice",
        "aspirations": "voice",
        "what_i_want_adults_to_know": "voice",
    },
    "family_voice": {"views": "voice", "aspirations": "voice", "concerns": "voice"},
    "risks_and_safeguarding": {
        "risk_summary": "safeguarding",
        "exploitation_concerns": "safeguarding",
        "safety_plan": "safeguarding",
        "missing_episodes": "safeguarding",
    },
    "health": {
        "health_summary": "health",
        "medical_needs": "health",
        "diagnoses": "health",
        "medication": "health",
    },
    "education_history": {
        "settings": "education",
        "suspensions": "education",
        "exclusions": "education",
        "attainment_baselines": "education",
    },
    "post16_intentions": {
        "intentions": "education",
        "careers_guidance": "education",
        "aspirations": "voice",
    },
    "contacts": {"parents_carers": "contacts", "professionals": "contacts"},
}

SECTIONS = tuple(SECTION_FIELDS)

# Facts held beside the record: that a health or social care body works with the child
# says as much as the category itself, so each involvement is shown only to callers who
# may read its organisation's category in full (not to a school that sees only the
# medical-needs flag, nor to a provider that sees only the looked-after flag).
RELATED_FIELDS: dict[str, str] = {
    "involvements.health": "health",
    "involvements.social_care": "social_care",
}


def field_category() -> dict[str, str]:
    """Every field id with its category."""
    mapping = dict(CORE_FIELDS) | RELATED_FIELDS
    for section, fields in SECTION_FIELDS.items():
        for name, category in fields.items():
            mapping[f"{section}.{name}"] = category
    return mapping


FIELD_CATEGORY = field_category()


def fields_in(category: str) -> frozenset[str]:
    return frozenset(f for f, c in FIELD_CATEGORY.items() if c == category)
