"""assistant_unserved: requests the catalog could not serve (honest gaps)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assistant_unserved',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('text', sa.String(length=2000), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=30), nullable=False),
    sa.Column('department', sa.String(length=40), nullable=True),
    sa.Column('law', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistant_unserved'))
    )
    op.create_index(op.f('ix_assistant_unserved_created_at'), 'assistant_unserved', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('assistant_unserved')
