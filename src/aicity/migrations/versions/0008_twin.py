"""twin: NGSI-LD entities, attribute history, subscriptions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('twin_entities',
    sa.Column('id', sa.String(length=256), nullable=False),
    sa.Column('type', sa.String(length=256), nullable=False),
    sa.Column('attrs', sa.JSON(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('geometry', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_twin_entities'))
    )
    for column in ('type', 'lat', 'modified_at'):
        op.create_index(op.f(f'ix_twin_entities_{column}'), 'twin_entities', [column], unique=False)
    op.create_table('twin_attribute_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('entity_id', sa.String(length=256), nullable=False),
    sa.Column('attr', sa.String(length=256), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_twin_attribute_history'))
    )
    for column in ('entity_id', 'observed_at'):
        op.create_index(op.f(f'ix_twin_attribute_history_{column}'), 'twin_attribute_history', [column],
                        unique=False)
    op.create_table('twin_subscriptions',
    sa.Column('id', sa.String(length=256), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('times_sent', sa.Integer(), nullable=False),
    sa.Column('times_failed', sa.Integer(), nullable=False),
    sa.Column('last_notification', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_twin_subscriptions'))
    )


def downgrade() -> None:
    op.drop_table('twin_subscriptions')
    op.drop_table('twin_attribute_history')
    op.drop_table('twin_entities')
