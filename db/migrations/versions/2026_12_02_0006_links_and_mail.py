"""Upload links, the mailbox's messages, replies to mail, and one submission per arrival.

Revision ID: 20261202_0006
Revises: 20261202_0005
Create Date: 2026-12-02 19:30:00

Why: reports now arrive by mail and through a per-body upload page. A body's link is a secret
token of which only the hash is kept (access_token); each message taken from the mailbox is a row
(mail_message), so a re-run or a crash takes nothing twice; a submission may carry its origin (a
mail's part), unique, so a part re-read after a crash is not a second version; and a notice may
be a threaded reply to a mail (notice.reply: addresses and the In-Reply-To/References).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "20261202_0006"
down_revision: str | None = "20261202_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(120), nullable=True))
        batch_op.create_unique_constraint("uq_submission_origin", ["origin"])
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply", Json, nullable=True))
    op.create_table(
        "access_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=True),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"], name="fk_access_token_cycle_id_cycle", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["body_id"], ["body.id"], name="fk_access_token_body_id_body", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_access_token"),
        sa.UniqueConstraint("cycle_id", "body_id", "serial", name="uq_access_token_cycle_id_body_id_serial"),
        sa.UniqueConstraint("token_hash", name="uq_access_token_token_hash"),
    )
    op.create_table(
        "mail_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(64), nullable=False),
        sa.Column("message_key", sa.String(64), nullable=False),
        sa.Column("uidvalidity", sa.Integer(), nullable=True),
        sa.Column("uid", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("body_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", Json, nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"], name="fk_mail_message_cycle_id_cycle", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["body_id"], ["body.id"], name="fk_mail_message_body_id_body", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_mail_message"),
        sa.UniqueConstraint("mailbox", "message_key", name="uq_mail_message_mailbox_message_key"),
    )


def downgrade() -> None:
    op.drop_table("mail_message")
    op.drop_table("access_token")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_column("reply")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_constraint("uq_submission_origin", type_="unique")
        batch_op.drop_column("origin")
