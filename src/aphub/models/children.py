"""Children, their school enrolments, passport sections (versioned), involvements of
health and social care, consent records, and the audit of every access."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from aphub.models.base import Base, created_at, updated_at, uuid_pk


def _org_fk(nullable: bool = True) -> Any:
    return mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=nullable
    )


class Child(Base):
    __tablename__ = "children"
    __table_args__ = (
        CheckConstraint("sex IN ('female', 'male')", name="sex"),
        CheckConstraint("sen_provision IN ('none', 'sen_support', 'ehcp')", name="sen_provision"),
        # not unique: a record created for a child whose UPN another record holds (a
        # partial match, `aphub.children.matching`) waits for its home LA to merge them;
        # former UPNs are searched through their own GIN index
        Index("ix_children_upn", "upn", postgresql_where=text("upn IS NOT NULL")),
        Index("ix_children_nhs_number", "nhs_number"),
        # the home LA's residents in id order (merged records answer as their survivor)
        Index(
            "ix_children_home_la_id_id",
            "home_la_id",
            "id",
            postgresql_where=text("merged_into_id IS NULL"),
        ),
        Index("ix_children_match", "home_la_id", "date_of_birth", "legal_last_name"),
        Index("ix_children_former_upns", "former_upns", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    legal_first_name: Mapped[str] = mapped_column(String(100), nullable=False)
    legal_last_name: Mapped[str] = mapped_column(String(100), nullable=False)
    preferred_name: Mapped[str | None] = mapped_column(String(100))
    middle_names: Mapped[str | None] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date, nullable=False)
    sex: Mapped[str | None] = mapped_column(String(8))
    year_group: Mapped[str | None] = mapped_column(String(3))
    # DfE ethnicity code (the statutory returns' code set); special category data
    ethnicity: Mapped[str | None] = mapped_column(String(4))
    home_postcode: Mapped[str | None] = mapped_column(String(8))
    upn: Mapped[str | None] = mapped_column(String(13))
    former_upns: Mapped[list[str]] = mapped_column(
        ARRAY(String(13)), nullable=False, server_default=text("'{}'")
    )
    uln: Mapped[str | None] = mapped_column(String(10))
    nhs_number: Mapped[str | None] = mapped_column(String(10))
    home_la_id: Mapped[uuid.UUID] = _org_fk(nullable=False)
    sen_provision: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default=text("'none'")
    )
    primary_need: Mapped[str | None] = mapped_column(String(8))
    has_medical_needs: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    looked_after: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    looked_after_la_id: Mapped[uuid.UUID | None] = _org_fk()
    child_in_need: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    child_protection_plan: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    young_carer: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    youth_justice: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    free_school_meals: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    # Not mapped: `enrolment_list` (json), the enrolments as the record shows them,
    # rebuilt by triggers on `enrolments` (migration 0026) and read by the sharing
    # layer's statements only.
    created_by_id: Mapped[uuid.UUID | None] = _org_fk()
    # a record merged into another: its id keeps answering with the survivor
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("children.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class ChildDuplicate(Base):
    """Two records that may be the same child (a partial match when one was created):
    open until the home LA merges them or marks them distinct."""

    __tablename__ = "child_duplicates"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'merged', 'distinct')", name="status"),
        CheckConstraint("child_id < other_child_id", name="ordered"),
        Index("uq_child_duplicates_pair", "child_id", "other_child_id", unique=True),
        Index("ix_child_duplicates_other_child_id", "other_child_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("children.id", ondelete="CASCADE"), nullable=False
    )
    other_child_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("children.id", ondelete="CASCADE"), nullable=False
    )
    reasons: Mapped[list[str]] = mapped_column(ARRAY(String(32)), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="open")
    flagged_at: Mapped[datetime] = created_at()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_id: Mapped[uuid.UUID | None] = _org_fk()


class Enrolment(Base):
    """A school roll entry: C single registration, M main dual, S subsidiary dual."""

    __tablename__ = "enrolments"
    __table_args__ = (
        CheckConstraint("status IN ('C', 'M', 'S')", name="status"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        Index("ix_enrolments_child_id", "child_id"),
        Index("ix_enrolments_school_id_child_id", "school_id", "child_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("children.id", ondelete="CASCADE"), nullable=False
    )
    school_id: Mapped[uuid.UUID] = _org_fk(nullable=False)
    status: Mapped[str] = mapped_column(String(1), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date)
    # a school's own hours for a child on its roll part-time (null: full time on roll)
    hours_per_week: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    created_at: Mapped[datetime] = created_at()


class PassportSection(Base):
    """The current content of one passport section; every change also writes a version."""

    __tablename__ = "passport_sections"

    child_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("children.id", ondelete="CASCADE"), primary_key=True
    )
    section: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    updated_at: Mapped[datetime] = updated_at()
    updated_by_id: Mapped[uuid.UUID | None] = _org_fk()
    updated_by_client: Mapped[str | None] = mapped_column(String(64))


class PassportSectionVersion(Base):
    __tablename__ = "passport_section_versions"
    __table_args__ = (
        Index(
            "uq_passport_section_versions_child_id_section_version",
            "child_id",
            "section",
            "version",
            unique=True,
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("children.id", ondelete="CASCADE"), nullable=False
    )
    section: Mapped[str] = mapped_column(String(32), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    changed_fields: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)
    changed_at: Mapped[datetime] = created_at()
    changed_by_id: Mapped[uuid.UUID | None] = _org_fk()
    changed_by_client: Mapped[str | None] = mapped_column(String(64))


class Involvement(Base):
    """A health or social-care organisation's link to a child: its basis, period, and the
    categories it may read and write (never more than the sharing policy allows)."""

    __tablename__ = "involvements"
    __table_args__ = (
        # the day before the start: withdrawn before or on its first day, never current
        CheckConstraint("end_date IS NULL OR end_date >= start_date - 1", name="dates"),
        Index("ix_involvements_organisation_id_child_id", "organisation_id", "child_id"),
        Index("ix_involvements_child_id", "child_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("children.id", ondelete="CASCADE"), nullable=False
    )
    organisation_id: Mapped[uuid.UUID] = _org_fk(nullable=False)
    basis: Mapped[str] = mapped_column(String(32), nullable=False)
    consent_reference: Mapped[str | None] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date)
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(32)), nullable=False)
    recorded_by_id: Mapped[uuid.UUID | None] = _org_fk()
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = created_at()


class Consent(Base):
    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_child_id", "child_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("children.id", ondelete="CASCADE"), nullable=False
    )
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    given_by: Mapped[str] = mapped_column(String(200), nullable=False)
    relationship_to_child: Mapped[str] = mapped_column(String(32), nullable=False)
    given_on: Mapped[date] = mapped_column(Date, nullable=False)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[uuid.UUID | None] = _org_fk()
    created_at: Mapped[datetime] = created_at()


class AccessLog(Base):
    """Every read of children's records, allowed or denied, with the rules that decided it."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_child_ids", "child_ids", postgresql_using="gin"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    # Every child the read covered under this one decision: a page of a list is one row
    # per distinct decision on it, not one per child. No foreign key: the audit outlives
    # nothing it records, and logs denied ids too. `access_log_entries` (a view) is the
    # same rows one per child.
    child_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    surface: Mapped[str] = mapped_column(String(16), nullable=False)
    outcome: Mapped[str] = mapped_column(String(8), nullable=False)
    rules: Mapped[list[str]] = mapped_column(ARRAY(String(48)), nullable=False)
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(32)), nullable=False)
    policy_version: Mapped[str] = mapped_column(String(64), nullable=False)
