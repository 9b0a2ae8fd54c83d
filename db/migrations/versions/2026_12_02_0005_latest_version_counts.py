"""The same bytes may come back as a new version.

Revision ID: 20261202_0005
Revises: 20261202_0004
Create Date: 2026-12-02 17:00:00

Why: the latest version counts. A body whose v1 was accepted and whose v2 was rejected sends v1's
file again to make it count: that is version 3 (same SHA-256 as version 1). Only the same bytes as
the body's latest version are a duplicate now, which a unique constraint cannot say.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261202_0005"
down_revision: str | None = "20261202_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_constraint("uq_submission_cycle_id_body_id_sha256", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_submission_cycle_id_body_id_sha256", ["cycle_id", "body_id", "sha256"])
