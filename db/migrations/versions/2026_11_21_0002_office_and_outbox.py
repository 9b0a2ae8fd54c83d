"""The county's code and office contacts; the outbox's backoff, attachments and channel.

Revision ID: 20261121_0002
Revises: 20261121_0001
Create Date: 2026-11-21 21:57:04

Why: the yearly cycle runs as Prefect flows that tell the bodies and the county office what
is due and what was found. Artifacts and tags need a slug for the county (cycle-julu-2024),
the office needs its own contacts, and a notice that could not be delivered must wait and be
retried with backoff (next_attempt_at), know which of the recipient's URLs it is for without
storing the URL (url_hash), and carry its files (attachments).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261121_0002"
down_revision: str | None = "20261121_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("county", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("office", JSON, nullable=True))
    # counties imported before this revision get a placeholder code; re-importing the roster
    # (which now names county_code) replaces it
    op.execute("UPDATE county SET code = 'county-' || id WHERE code IS NULL")
    op.execute("UPDATE county SET office = '{}' WHERE office IS NULL")
    with op.batch_alter_table("county", schema=None) as batch_op:
        batch_op.alter_column("code", existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column("office", existing_type=JSON, nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_county_code"), ["code"])

    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachments", JSON, nullable=True))
        batch_op.add_column(sa.Column("url_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE notice SET attachments = '[]' WHERE attachments IS NULL")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.alter_column("attachments", existing_type=JSON, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("url_hash")
        batch_op.drop_column("attachments")

    with op.batch_alter_table("county", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_county_code"), type_="unique")
        batch_op.drop_column("office")
        batch_op.drop_column("code")
