"""ops_feedback: thumbs up or down, and a reason, on an assistant answer

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ops_feedback',
    sa.Column('trace_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rating', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('trace_id', name=op.f('pk_ops_feedback'))
    )
    op.create_index(op.f('ix_ops_feedback_created_at'), 'ops_feedback', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ops_feedback_created_at'), table_name='ops_feedback')
    op.drop_table('ops_feedback')
