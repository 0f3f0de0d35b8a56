"""trace_and_session_owners: the API key that made a trace or a session (only it may read them)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 02:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('traces', 'assistant_sessions'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('owner', sa.String(length=40), nullable=True))
            batch.create_index(batch.f(f'ix_{table}_owner'), ['owner'], unique=False)


def downgrade() -> None:
    for table in ('traces', 'assistant_sessions'):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(batch.f(f'ix_{table}_owner'))
            batch.drop_column('owner')
