"""A submission's `channel` becomes its `source`.

Revision ID: 20261202_0003
Revises: 20261121_0002
Create Date: 2026-12-02 05:00:00

Why: "channel" meant both how a report arrived (inbox, cli, mail, upload, import) and how a
notice leaves (a contact's mailto, dingtalk …). The mailbox and the upload page bring more of
both; one name per thing: a submission has a source, a notice a channel.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261202_0003"
down_revision: str | None = "20261121_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.alter_column("channel", new_column_name="source")


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.alter_column("source", new_column_name="channel")
