"""approvals: how many approvers a request needs (two for the devices of one district), who has approved, and the
requester's API key (a person is their key, whatever role they act as)

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
        batch_op.add_column(sa.Column('requester_key', sa.String(length=40), nullable=True))
    # requests made before: the key is the actor's tail (`role:key id`; `role:local` had none)
    approvals = sa.table('approvals', sa.column('id', sa.String), sa.column('requester', sa.String),
                         sa.column('requester_key', sa.String))
    bind = op.get_bind()
    for approval_id, requester in bind.execute(sa.select(approvals.c.id, approvals.c.requester)).all():
        _, _, key = requester.partition(':')
        if key and key != 'local':
            bind.execute(approvals.update().where(approvals.c.id == approval_id).values(requester_key=key))


def downgrade() -> None:
    with op.batch_alter_table('approvals') as batch_op:
        batch_op.drop_column('requester_key')
        batch_op.drop_column('approved_by')
        batch_op.drop_column('approvals_needed')
