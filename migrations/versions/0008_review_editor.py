"""comments: the words a reviewer selected in the paragraph (评论所选原文)

Revision ID: 0008_review_editor
Revises: 0007
Create Date: 2026-12-06 09:50:00

``quote`` stays the whole paragraph: re-anchoring compares it with the paragraphs of each new
version. ``excerpt`` is the part of it the reviewer selected on the report page, shown with the
comment and found again in the editor.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_review_editor"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("excerpt", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("excerpt")
