"""bus_handled: (event id, handler) of durable bus work, committed with that work

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 06:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bus_handled',
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('handler', sa.String(length=300), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'handler', name=op.f('pk_bus_handled'))
    )


def downgrade() -> None:
    op.drop_table('bus_handled')
