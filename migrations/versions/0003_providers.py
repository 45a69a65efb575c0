"""The AP provider directory: profiles, offers, delivery locations, and local quality
assurance (QA records, QA status history, concerns).

Every list the API serves has an index matching its filter and its order: per provider
`(provider_id, id)`; the directory search's area filter `(la_code, provider_id)` on
locations, its offer-type filter `(type, provider_id)` on offers, and its QA and
registration filters `(qa_status | registration_status, organisation_id)` on profiles.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REGISTRATION = (
    "'pru', 'ap_academy', 'hospital_school', 'independent_school', 'fe_college', 'unregistered'"
)
CENSUS = "'NFE', 'OOT', 'OTH', 'WBP'"
OFSTED = "'outstanding', 'good', 'requires_improvement', 'inadequate'"
QA_STATUS = "'not_assessed', 'approved', 'approved_with_conditions', 'suspended', 'removed'"
OFFER_TYPE = (
    "'medical', 'exclusion', 'vocational', 'intervention_assessment', 'ks1_3_full_time', "
    "'ks4_full_time', 'step_out', 'engagement', 'outreach', 'tuition', 'therapeutic'"
)
KEY_STAGES = "'ks1', 'ks2', 'ks3', 'ks4', 'post_16'"
TIME_BASIS = "'full_time', 'part_time', 'either'"
QUALIFICATIONS = "'gcse', 'functional_skills', 'vocational', 'entry_level', 'other'"
SEND = (
    "'specific_learning_difficulty', 'moderate_learning_difficulty', "
    "'severe_learning_difficulty', 'profound_multiple_learning_difficulty', "
    "'social_emotional_mental_health', 'speech_language_communication', "
    "'hearing_impairment', 'visual_impairment', 'multi_sensory_impairment', "
    "'physical_disability', 'autism', 'other'"
)
DAYS = "'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'"
COST_UNIT = "'per_hour', 'per_session', 'per_day', 'per_week', 'per_term', 'per_year'"
QA_KIND = "'visit', 'audit'"
QA_OUTCOME = "'meets_standards', 'meets_standards_with_actions', 'does_not_meet_standards'"
CONCERN_CATEGORY = (
    "'safeguarding', 'quality_of_education', 'attendance_reporting', 'health_and_safety', "
    "'staffing', 'premises', 'leadership', 'communication', 'other'"
)
CONCERN_SEVERITY = "'low', 'medium', 'high'"


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    ]


def _org_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["organisations.id"],
        name=op.f(f"fk_{table}_{column}_organisations"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    op.create_table(
        "provider_profiles",
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("registration_status", sa.String(length=32), nullable=True),
        sa.Column("census_setting_type", sa.String(length=3), nullable=True),
        sa.Column("ofsted_last_inspection_date", sa.Date(), nullable=True),
        sa.Column("ofsted_grade", sa.String(length=32), nullable=True),
        sa.Column("dsl_name", sa.String(length=200), nullable=True),
        sa.Column("dsl_email", sa.String(length=254), nullable=True),
        sa.Column("dsl_phone", sa.String(length=30), nullable=True),
        sa.Column("staff_checks_confirmed_on", sa.Date(), nullable=True),
        sa.Column("safeguarding_policy_reviewed_on", sa.Date(), nullable=True),
        sa.Column("insurance_expires_on", sa.Date(), nullable=True),
        sa.Column(
            "qa_status",
            sa.String(length=32),
            server_default=sa.text("'not_assessed'"),
            nullable=False,
        ),
        sa.Column("qa_status_reason", sa.String(length=2000), nullable=True),
        sa.Column("qa_conditions", sa.String(length=2000), nullable=True),
        sa.Column("qa_status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("qa_assessor_organisation_id", sa.UUID(), nullable=True),
        sa.Column("qa_last_visit_on", sa.Date(), nullable=True),
        sa.Column("qa_next_due_on", sa.Date(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            f"registration_status IN ({REGISTRATION})",
            name=op.f("ck_provider_profiles_registration"),
        ),
        sa.CheckConstraint(
            f"census_setting_type IN ({CENSUS})", name=op.f("ck_provider_profiles_census_type")
        ),
        sa.CheckConstraint(
            "census_setting_type IS NULL OR registration_status = 'unregistered'",
            name=op.f("ck_provider_profiles_census_type_only_unregistered"),
        ),
        sa.CheckConstraint(
            f"ofsted_grade IN ({OFSTED})", name=op.f("ck_provider_profiles_ofsted_grade")
        ),
        sa.CheckConstraint(
            "(ofsted_grade IS NULL AND ofsted_last_inspection_date IS NULL) "
            "OR registration_status <> 'unregistered'",
            name=op.f("ck_provider_profiles_ofsted_only_registered"),
        ),
        sa.CheckConstraint(
            f"qa_status IN ({QA_STATUS})", name=op.f("ck_provider_profiles_qa_status")
        ),
        _org_fk("provider_profiles", "organisation_id"),
        _org_fk("provider_profiles", "qa_assessor_organisation_id"),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_provider_profiles")),
    )
    op.create_index(
        "ix_provider_profiles_qa_status_organisation_id",
        "provider_profiles",
        ["qa_status", "organisation_id"],
    )
    op.create_index(
        "ix_provider_profiles_registration_status_organisation_id",
        "provider_profiles",
        ["registration_status", "organisation_id"],
    )

    op.create_table(
        "provider_offers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=True),
        sa.Column(
            "key_stages",
            postgresql.ARRAY(sa.String(length=16)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("age_min", sa.Integer(), nullable=True),
        sa.Column("age_max", sa.Integer(), nullable=True),
        sa.Column("time_basis", sa.String(length=16), nullable=True),
        sa.Column(
            "qualifications",
            postgresql.ARRAY(sa.String(length=32)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "send_specialisms",
            postgresql.ARRAY(sa.String(length=64)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("places_free", sa.Integer(), nullable=True),
        sa.Column(
            "days",
            postgresql.ARRAY(sa.String(length=16)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("end_time", sa.Time(), nullable=True),
        sa.Column("hours_per_week", sa.Numeric(precision=4, scale=1), nullable=True),
        sa.Column("cost_per_place", sa.Numeric(precision=9, scale=2), nullable=True),
        sa.Column("cost_unit", sa.String(length=16), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(f"type IN ({OFFER_TYPE})", name=op.f("ck_provider_offers_type")),
        sa.CheckConstraint(
            f"time_basis IN ({TIME_BASIS})", name=op.f("ck_provider_offers_time_basis")
        ),
        sa.CheckConstraint(
            f"cost_unit IN ({COST_UNIT})", name=op.f("ck_provider_offers_cost_unit")
        ),
        sa.CheckConstraint(
            f"key_stages <@ ARRAY[{KEY_STAGES}]::varchar[]",
            name=op.f("ck_provider_offers_key_stages"),
        ),
        sa.CheckConstraint(
            f"qualifications <@ ARRAY[{QUALIFICATIONS}]::varchar[]",
            name=op.f("ck_provider_offers_qualifications"),
        ),
        sa.CheckConstraint(
            f"send_specialisms <@ ARRAY[{SEND}]::varchar[]",
            name=op.f("ck_provider_offers_send_specialisms"),
        ),
        sa.CheckConstraint(
            f"days <@ ARRAY[{DAYS}]::varchar[]", name=op.f("ck_provider_offers_days")
        ),
        sa.CheckConstraint(
            "age_min IS NULL OR age_max IS NULL OR age_min <= age_max",
            name=op.f("ck_provider_offers_ages"),
        ),
        sa.CheckConstraint(
            "capacity IS NULL OR capacity >= 0", name=op.f("ck_provider_offers_capacity")
        ),
        sa.CheckConstraint(
            "places_free IS NULL OR (capacity IS NOT NULL AND places_free BETWEEN 0 AND capacity)",
            name=op.f("ck_provider_offers_places_free"),
        ),
        _org_fk("provider_offers", "provider_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_offers")),
    )
    op.create_index("ix_provider_offers_provider_id_id", "provider_offers", ["provider_id", "id"])
    op.create_index(
        "ix_provider_offers_type_provider_id", "provider_offers", ["type", "provider_id"]
    )

    op.create_table(
        "provider_locations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address_1", sa.String(length=200), nullable=False),
        sa.Column("address_2", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("la_code", sa.String(length=3), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        *_timestamps(),
        _org_fk("provider_locations", "provider_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_locations")),
    )
    op.create_index(
        "ix_provider_locations_provider_id_id", "provider_locations", ["provider_id", "id"]
    )
    op.create_index(
        "ix_provider_locations_la_code_provider_id",
        "provider_locations",
        ["la_code", "provider_id"],
    )

    op.create_table(
        "provider_offer_locations",
        sa.Column("offer_id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["provider_offers.id"],
            name=op.f("fk_provider_offer_locations_offer_id_provider_offers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["provider_locations.id"],
            name=op.f("fk_provider_offer_locations_location_id_provider_locations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "offer_id", "location_id", name=op.f("pk_provider_offer_locations")
        ),
    )
    op.create_index(
        "ix_provider_offer_locations_location_id", "provider_offer_locations", ["location_id"]
    )

    op.create_table(
        "provider_qa_records",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("conducted_on", sa.Date(), nullable=False),
        sa.Column("assessor_organisation_id", sa.UUID(), nullable=False),
        sa.Column("assessor_name", sa.String(length=200), nullable=True),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_client_id", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(f"kind IN ({QA_KIND})", name=op.f("ck_provider_qa_records_kind")),
        sa.CheckConstraint(
            f"outcome IN ({QA_OUTCOME})", name=op.f("ck_provider_qa_records_outcome")
        ),
        sa.CheckConstraint(
            "next_due_on IS NULL OR next_due_on > conducted_on",
            name=op.f("ck_provider_qa_records_next_due"),
        ),
        _org_fk("provider_qa_records", "provider_id"),
        _org_fk("provider_qa_records", "assessor_organisation_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_qa_records")),
    )
    op.create_index(
        "ix_provider_qa_records_provider_id_id", "provider_qa_records", ["provider_id", "id"]
    )

    op.create_table(
        "provider_qa_history",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=False),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("conditions", sa.String(length=2000), nullable=True),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("changed_by_organisation_id", sa.UUID(), nullable=False),
        sa.Column("changed_by_client_id", sa.String(length=64), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            f"from_status IN ({QA_STATUS})", name=op.f("ck_provider_qa_history_from_status")
        ),
        sa.CheckConstraint(
            f"to_status IN ({QA_STATUS})", name=op.f("ck_provider_qa_history_to_status")
        ),
        _org_fk("provider_qa_history", "provider_id"),
        _org_fk("provider_qa_history", "changed_by_organisation_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_qa_history")),
    )
    op.create_index(
        "ix_provider_qa_history_provider_id_id", "provider_qa_history", ["provider_id", "id"]
    )

    op.create_table(
        "provider_concerns",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=4000), nullable=False),
        sa.Column("raised_by_organisation_id", sa.UUID(), nullable=False),
        sa.Column("raised_by_client_id", sa.String(length=64), nullable=True),
        sa.Column(
            "raised_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            f"category IN ({CONCERN_CATEGORY})", name=op.f("ck_provider_concerns_category")
        ),
        sa.CheckConstraint(
            f"severity IN ({CONCERN_SEVERITY})", name=op.f("ck_provider_concerns_severity")
        ),
        _org_fk("provider_concerns", "provider_id"),
        _org_fk("provider_concerns", "raised_by_organisation_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_concerns")),
    )
    op.create_index(
        "ix_provider_concerns_provider_id_id", "provider_concerns", ["provider_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_provider_concerns_provider_id_id", table_name="provider_concerns")
    op.drop_table("provider_concerns")
    op.drop_index("ix_provider_qa_history_provider_id_id", table_name="provider_qa_history")
    op.drop_table("provider_qa_history")
    op.drop_index("ix_provider_qa_records_provider_id_id", table_name="provider_qa_records")
    op.drop_table("provider_qa_records")
    op.drop_index("ix_provider_offer_locations_location_id", table_name="provider_offer_locations")
    op.drop_table("provider_offer_locations")
    op.drop_index("ix_provider_locations_la_code_provider_id", table_name="provider_locations")
    op.drop_index("ix_provider_locations_provider_id_id", table_name="provider_locations")
    op.drop_table("provider_locations")
    op.drop_index("ix_provider_offers_type_provider_id", table_name="provider_offers")
    op.drop_index("ix_provider_offers_provider_id_id", table_name="provider_offers")
    op.drop_table("provider_offers")
    op.drop_index(
        "ix_provider_profiles_registration_status_organisation_id",
        table_name="provider_profiles",
    )
    op.drop_index("ix_provider_profiles_qa_status_organisation_id", table_name="provider_profiles")
    op.drop_table("provider_profiles")
