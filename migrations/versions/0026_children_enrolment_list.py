"""The child's enrolments kept on its row, as the JSON its record shows.

Every read of a child showed its enrolments by aggregating them in a sub-select: an index
probe and a JSON build per child, half of what PostgreSQL spent on a page of 50 children
(~0.35 of ~0.8 ms). The list is now kept in `children.enrolment_list`, maintained by
statement triggers on `enrolments` (insert, update, delete; a COPY too), so a read takes
it as it is. The JSON is built exactly as the sub-select built it (same keys, order and
formatting), so no answer changes.

Concurrent changes to one child's enrolments: the trigger locks the children it rebuilds
(in id order) before reading their enrolments, and each statement of a PL/pgSQL function
takes a fresh snapshot under READ COMMITTED, so the second writer rebuilds from a list
that includes the first writer's row.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the children.enrolment_list of child `c` (the sub-select reads used to carry)
LIST = (
    "(SELECT coalesce(json_agg(json_build_object('id', e.id, 'school_id', e.school_id, "
    "'status', e.status, 'start_date', e.start_date, 'end_date', e.end_date, "
    "'hours_per_week', e.hours_per_week) "
    "ORDER BY e.start_date, e.id), '[]'::json) FROM enrolments e WHERE e.child_id = c.id)"
)

FUNCTION = f"""
CREATE FUNCTION children_enrolment_list_rebuild() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    touched uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT child_id) INTO touched FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT child_id) INTO touched FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT child_id) INTO touched
        FROM (SELECT child_id FROM new_rows UNION SELECT child_id FROM old_rows) t;
    END IF;
    IF touched IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM children c WHERE c.id = ANY(touched) ORDER BY c.id FOR NO KEY UPDATE;
    UPDATE children c SET enrolment_list = {LIST} WHERE c.id = ANY(touched);
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute("ALTER TABLE children ADD COLUMN enrolment_list json NOT NULL DEFAULT '[]'")
    op.execute(
        f"UPDATE children c SET enrolment_list = {LIST} "
        "WHERE EXISTS (SELECT 1 FROM enrolments e WHERE e.child_id = c.id)"
    )
    op.execute(FUNCTION)
    op.execute(
        "CREATE TRIGGER enrolments_list_insert AFTER INSERT ON enrolments "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION children_enrolment_list_rebuild()"
    )
    op.execute(
        "CREATE TRIGGER enrolments_list_update AFTER UPDATE ON enrolments "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION children_enrolment_list_rebuild()"
    )
    op.execute(
        "CREATE TRIGGER enrolments_list_delete AFTER DELETE ON enrolments "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION children_enrolment_list_rebuild()"
    )


def downgrade() -> None:
    for trigger in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER enrolments_list_{trigger} ON enrolments")
    op.execute("DROP FUNCTION children_enrolment_list_rebuild()")
    op.execute("ALTER TABLE children DROP COLUMN enrolment_list")
