"""What the statutory returns need of a child that the hub did not hold: middle names,
ethnicity (a DfE code) and home postcode.

Revision ID: 0023
Revises: 0018
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("children", sa.Column("middle_names", sa.String(200)))
    op.add_column("children", sa.Column("ethnicity", sa.String(4)))
    op.add_column("children", sa.Column("home_postcode", sa.String(8)))


def downgrade() -> None:
    op.drop_column("children", "home_postcode")
    op.drop_column("children", "ethnicity")
    op.drop_column("children", "middle_names")
