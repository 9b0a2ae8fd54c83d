"""A finding keeps every place it names.

Revision ID: 20261202_0004
Revises: 20261202_0003
Create Date: 2026-12-02 07:00:00

Why: the same rule at many cells or rows of one table (every 法人或其他组织 cell left blank: 25
rows) is now one finding a clerk can read at a glance; its location says what the places have in
common and `places` keeps each of them, for the notice, the upload page and the annotated .docx.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_0004"
down_revision: str | None = "20261202_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.add_column(sa.Column("places", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.drop_column("places")
