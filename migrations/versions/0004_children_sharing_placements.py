"""Children, enrolments, passports (versioned), involvements, consents, the access
audit, and placements with their intended outcomes (the relationships the sharing
layer computes visibility from).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("surface", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("rules", postgresql.ARRAY(sa.String(length=48)), nullable=False),
        sa.Column("categories", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    op.create_index("ix_access_log_child_id_at", "access_log", ["child_id", "at"], unique=False)
    op.create_table(
        "children",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("legal_first_name", sa.String(length=100), nullable=False),
        sa.Column("legal_last_name", sa.String(length=100), nullable=False),
        sa.Column("preferred_name", sa.String(length=100), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=True),
        sa.Column("year_group", sa.String(length=3), nullable=True),
        sa.Column("upn", sa.String(length=13), nullable=True),
        sa.Column(
            "former_upns",
            postgresql.ARRAY(sa.String(length=13)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("uln", sa.String(length=10), nullable=True),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("home_la_id", sa.UUID(), nullable=False),
        sa.Column(
            "sen_provision", sa.String(length=16), server_default=sa.text("'none'"), nullable=False
        ),
        sa.Column("primary_need", sa.String(length=8), nullable=True),
        sa.Column(
            "has_medical_needs", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("looked_after", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("looked_after_la_id", sa.UUID(), nullable=True),
        sa.Column("child_in_need", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "child_protection_plan", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("young_carer", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("youth_justice", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "free_school_meals", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by_id", sa.UUID(), nullable=True),
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
        sa.CheckConstraint(
            "sen_provision IN ('none', 'sen_support', 'ehcp')",
            name=op.f("ck_children_sen_provision"),
        ),
        sa.CheckConstraint("sex IN ('female', 'male')", name=op.f("ck_children_sex")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["organisations.id"],
            name=op.f("fk_children_created_by_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["home_la_id"],
            ["organisations.id"],
            name=op.f("fk_children_home_la_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["looked_after_la_id"],
            ["organisations.id"],
            name=op.f("fk_children_looked_after_la_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_children")),
    )
    op.create_index(
        "ix_children_former_upns", "children", ["former_upns"], unique=False, postgresql_using="gin"
    )
    op.create_index("ix_children_home_la_id_id", "children", ["home_la_id", "id"], unique=False)
    op.create_index(
        "ix_children_match",
        "children",
        ["home_la_id", "date_of_birth", "legal_last_name"],
        unique=False,
    )
    op.create_index("ix_children_nhs_number", "children", ["nhs_number"], unique=False)
    op.create_index(
        "uq_children_upn",
        "children",
        ["upn"],
        unique=True,
        postgresql_where=sa.text("upn IS NOT NULL"),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("given_by", sa.String(length=200), nullable=False),
        sa.Column("relationship_to_child", sa.String(length=32), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["children.id"],
            name=op.f("fk_consents_child_id_children"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["organisations.id"],
            name=op.f("fk_consents_recorded_by_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index("ix_consents_child_id", "consents", ["child_id"], unique=False)
    op.create_table(
        "enrolments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("school_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("status IN ('C', 'M', 'S')", name=op.f("ck_enrolments_status")),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name=op.f("ck_enrolments_dates")
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["children.id"],
            name=op.f("fk_enrolments_child_id_children"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["organisations.id"],
            name=op.f("fk_enrolments_school_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
    )
    op.create_index("ix_enrolments_child_id", "enrolments", ["child_id"], unique=False)
    op.create_index(
        "ix_enrolments_school_id_child_id", "enrolments", ["school_id", "child_id"], unique=False
    )
    op.create_table(
        "involvements",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("basis", sa.String(length=32), nullable=False),
        sa.Column("consent_reference", sa.String(length=100), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("categories", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("recorded_by_id", sa.UUID(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name=op.f("ck_involvements_dates")
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["children.id"],
            name=op.f("fk_involvements_child_id_children"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_involvements_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["organisations.id"],
            name=op.f("fk_involvements_recorded_by_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_involvements")),
    )
    op.create_index("ix_involvements_child_id", "involvements", ["child_id"], unique=False)
    op.create_index(
        "ix_involvements_organisation_id_child_id",
        "involvements",
        ["organisation_id", "child_id"],
        unique=False,
    )
    op.create_table(
        "passport_section_versions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("changed_fields", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("changed_by_id", sa.UUID(), nullable=True),
        sa.Column("changed_by_client", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["organisations.id"],
            name=op.f("fk_passport_section_versions_changed_by_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["children.id"],
            name=op.f("fk_passport_section_versions_child_id_children"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passport_section_versions")),
    )
    op.create_index(
        "uq_passport_section_versions_child_id_section_version",
        "passport_section_versions",
        ["child_id", "section", "version"],
        unique=True,
    )
    op.create_table(
        "passport_sections",
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_by_id", sa.UUID(), nullable=True),
        sa.Column("updated_by_client", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["children.id"],
            name=op.f("fk_passport_sections_child_id_children"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["organisations.id"],
            name=op.f("fk_passport_sections_updated_by_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("child_id", "section", name=op.f("pk_passport_sections")),
    )
    op.create_table(
        "placements",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("commissioner_id", sa.UUID(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("home_school_id", sa.UUID(), nullable=True),
        sa.Column("offer_id", sa.UUID(), nullable=True),
        sa.Column(
            "delivery_location_ids",
            postgresql.ARRAY(sa.UUID()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("legal_basis", sa.String(length=32), nullable=False),
        sa.Column("primary_reason", sa.String(length=32), nullable=False),
        sa.Column("dual_registered", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("planned_end_date", sa.Date(), nullable=False),
        sa.Column("actual_end_date", sa.Date(), nullable=True),
        sa.Column("hours_per_week", sa.Numeric(precision=4, scale=1), nullable=True),
        sa.Column(
            "pattern",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("part_time_justification", sa.Text(), nullable=True),
        sa.Column("exit_strategy", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("review_frequency_weeks", sa.Integer(), nullable=True),
        sa.Column("next_review_date", sa.Date(), nullable=True),
        sa.Column("funding", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("transport", sa.Text(), nullable=True),
        sa.Column("safeguarding_confirmed_on", sa.Date(), nullable=True),
        sa.Column("ehcp_caseworker_notified_on", sa.Date(), nullable=True),
        sa.Column("virtual_school_head_notified_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("destination", sa.String(length=32), nullable=True),
        sa.Column("closing_note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
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
        sa.CheckConstraint(
            "status IN ('requested', 'offered', 'active', 'ended', 'declined', 'cancelled')",
            name=op.f("ck_placements_status"),
        ),
        sa.CheckConstraint(
            "actual_end_date IS NULL OR actual_end_date >= start_date",
            name=op.f("ck_placements_actual_end_after_start"),
        ),
        sa.CheckConstraint(
            "hours_per_week IS NULL OR hours_per_week > 0",
            name=op.f("ck_placements_hours_positive"),
        ),
        sa.CheckConstraint(
            "planned_end_date >= start_date", name=op.f("ck_placements_planned_end_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["children.id"],
            name=op.f("fk_placements_child_id_children"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["commissioner_id"],
            ["organisations.id"],
            name=op.f("fk_placements_commissioner_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["home_school_id"],
            ["organisations.id"],
            name=op.f("fk_placements_home_school_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisations.id"],
            name=op.f("fk_placements_provider_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placements")),
    )
    op.create_index("ix_placements_child_id", "placements", ["child_id"], unique=False)
    op.create_index(
        "ix_placements_commissioner_id_child_id",
        "placements",
        ["commissioner_id", "child_id"],
        unique=False,
    )
    op.create_index(
        "ix_placements_commissioner_id_id", "placements", ["commissioner_id", "id"], unique=False
    )
    op.create_index(
        "ix_placements_provider_id_child_id",
        "placements",
        ["provider_id", "child_id"],
        unique=False,
    )
    op.create_index(
        "ix_placements_provider_id_id", "placements", ["provider_id", "id"], unique=False
    )
    op.create_index("ix_placements_status_id", "placements", ["status", "id"], unique=False)
    op.create_index("ix_placements_updated_at_id", "placements", ["updated_at", "id"], unique=False)
    op.create_table(
        "intended_outcomes",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("placement_id", sa.UUID(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("baseline", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["placements.id"],
            name=op.f("fk_intended_outcomes_placement_id_placements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intended_outcomes")),
    )
    op.create_index(
        "ix_intended_outcomes_placement_id", "intended_outcomes", ["placement_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_intended_outcomes_placement_id", table_name="intended_outcomes")
    op.drop_table("intended_outcomes")
    op.drop_index("ix_placements_updated_at_id", table_name="placements")
    op.drop_index("ix_placements_status_id", table_name="placements")
    op.drop_index("ix_placements_provider_id_id", table_name="placements")
    op.drop_index("ix_placements_provider_id_child_id", table_name="placements")
    op.drop_index("ix_placements_commissioner_id_id", table_name="placements")
    op.drop_index("ix_placements_commissioner_id_child_id", table_name="placements")
    op.drop_index("ix_placements_child_id", table_name="placements")
    op.drop_table("placements")
    op.drop_table("passport_sections")
    op.drop_index(
        "uq_passport_section_versions_child_id_section_version",
        table_name="passport_section_versions",
    )
    op.drop_table("passport_section_versions")
    op.drop_index("ix_involvements_organisation_id_child_id", table_name="involvements")
    op.drop_index("ix_involvements_child_id", table_name="involvements")
    op.drop_table("involvements")
    op.drop_index("ix_enrolments_school_id_child_id", table_name="enrolments")
    op.drop_index("ix_enrolments_child_id", table_name="enrolments")
    op.drop_table("enrolments")
    op.drop_index("ix_consents_child_id", table_name="consents")
    op.drop_table("consents")
    op.drop_index(
        "uq_children_upn", table_name="children", postgresql_where=sa.text("upn IS NOT NULL")
    )
    op.drop_index("ix_children_nhs_number", table_name="children")
    op.drop_index("ix_children_match", table_name="children")
    op.drop_index("ix_children_home_la_id_id", table_name="children")
    op.drop_index("ix_children_former_upns", table_name="children", postgresql_using="gin")
    op.drop_table("children")
    op.drop_index("ix_access_log_child_id_at", table_name="access_log")
    op.drop_table("access_log")
