"""notifications that stay true: a 待我处理 entry is done once the report moved on;
secretaries may follow approvals

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 10:40:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "follows_approvals", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("follows_approvals")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("done_at")
