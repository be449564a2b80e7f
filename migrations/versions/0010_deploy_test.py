"""compile jobs: a heartbeat, so that a job whose process died is not shown running forever

Revision ID: 0010_deploy_test
Revises: 0009_phrasebook_admin
Create Date: 2026-12-06 11:10:00

The process running a compilation (an ``rq worker``'s work horse, or a gunicorn worker's
thread) writes ``heartbeat_at`` every few seconds; a job still ``running`` whose heartbeat
stopped is marked failed (生成中断，请重新生成) the next time anyone looks at it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_deploy_test'
down_revision = '0009_phrasebook_admin'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compile_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('compile_jobs', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
