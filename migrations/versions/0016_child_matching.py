"""Children matched as a master person index does: possible duplicates and merges.

A UPN is no longer unique: a record created for a child whose UPN another record holds
(a partial match) is kept, and the pair flagged to the home LA (`child_duplicates`) to
merge or mark distinct; a merged record points to its survivor (`merged_into_id`).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("uq_children_upn", table_name="children")
    op.create_index(
        "ix_children_upn", "children", ["upn"], postgresql_where=sa.text("upn IS NOT NULL")
    )
    op.add_column(
        "children",
        sa.Column(
            "merged_into_id",
            UUID(as_uuid=True),
            sa.ForeignKey(
                "children.id",
                ondelete="RESTRICT",
                name=op.f("fk_children_merged_into_id_children"),
            ),
        ),
    )
    op.drop_index("ix_children_home_la_id_id", table_name="children")
    op.create_index(
        "ix_children_home_la_id_id",
        "children",
        ["home_la_id", "id"],
        postgresql_where=sa.text("merged_into_id IS NULL"),
    )
    op.create_table(
        "child_duplicates",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("child_id", UUID(as_uuid=True), nullable=False),
        sa.Column("other_child_id", UUID(as_uuid=True), nullable=False),
        sa.Column("reasons", ARRAY(sa.String(32)), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column(
            "flagged_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_by_id", UUID(as_uuid=True)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_duplicates")),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["children.id"],
            ondelete="CASCADE",
            name=op.f("fk_child_duplicates_child_id_children"),
        ),
        sa.ForeignKeyConstraint(
            ["other_child_id"],
            ["children.id"],
            ondelete="CASCADE",
            name=op.f("fk_child_duplicates_other_child_id_children"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["organisations.id"],
            ondelete="RESTRICT",
            name=op.f("fk_child_duplicates_resolved_by_id_organisations"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'merged', 'distinct')", name=op.f("ck_child_duplicates_status")
        ),
        sa.CheckConstraint("child_id < other_child_id", name=op.f("ck_child_duplicates_ordered")),
    )
    op.create_index(
        "uq_child_duplicates_pair", "child_duplicates", ["child_id", "other_child_id"], unique=True
    )
    op.create_index("ix_child_duplicates_other_child_id", "child_duplicates", ["other_child_id"])


def downgrade() -> None:
    op.drop_table("child_duplicates")
    op.drop_index("ix_children_home_la_id_id", table_name="children")
    op.create_index("ix_children_home_la_id_id", "children", ["home_la_id", "id"])
    op.drop_column("children", "merged_into_id")
    op.drop_index("ix_children_upn", table_name="children")
    op.create_index(
        "uq_children_upn",
        "children",
        ["upn"],
        unique=True,
        postgresql_where=sa.text("upn IS NOT NULL"),
    )
