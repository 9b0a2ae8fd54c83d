"""What each submission was read as (its neutral document's kind: docx, pdf, scan, …).

Revision ID: 20261204_0007
Revises: 20261202_0006
Create Date: 2026-12-04 22:00:00

Why: a body may send the stamped scan (盖章扫描件) beside its Word file. The two are compared
figure by figure (scan.word_mismatch), which needs to know which earlier version was a scan; an
image-only PDF is a scan under a .pdf name, so the file name cannot tell. Rows before this
revision stay NULL: read before OCR existed, none of them was a scan.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0007"
down_revision: str | None = "20261202_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("read_as", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_column("read_as")
