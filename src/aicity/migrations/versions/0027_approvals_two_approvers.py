"""approvals: how many approvers a request needs (two for the devices of one district) and who has approved

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 05:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('approvals') as batch_op:
        batch_op.add_column(sa.Column('approvals_needed', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('approved_by', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('approvals') as batch_op:
        batch_op.drop_column('approved_by')
        batch_op.drop_column('approvals_needed')
