"""sim_jobs: simulation runs (flood on SWMM, …) from queued to their result

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-06 07:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sim_jobs',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('time_limit_s', sa.Float(), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sim_jobs'))
    )
    with op.batch_alter_table('sim_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sim_jobs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sim_jobs_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_sim_jobs_requested_by'), ['requested_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_sim_jobs_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sim_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sim_jobs_status'))
        batch_op.drop_index(batch_op.f('ix_sim_jobs_requested_by'))
        batch_op.drop_index(batch_op.f('ix_sim_jobs_kind'))
        batch_op.drop_index(batch_op.f('ix_sim_jobs_created_at'))
    op.drop_table('sim_jobs')
