"""model gateway: keys and metered usage

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gateway_keys',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('groups', sa.JSON(), nullable=False),
    sa.Column('rpm', sa.Integer(), nullable=True),
    sa.Column('tpm', sa.Integer(), nullable=True),
    sa.Column('monthly_token_budget', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_gateway_keys_key_hash'))
    )
    op.create_index(op.f('ix_gateway_keys_prefix'), 'gateway_keys', ['prefix'], unique=False)
    op.create_table('gateway_usage',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('agent', sa.String(length=80), nullable=False),
    sa.Column('group_name', sa.String(length=64), nullable=False),
    sa.Column('deployment', sa.String(length=64), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('prompt_tokens', sa.Integer(), nullable=False),
    sa.Column('completion_tokens', sa.Integer(), nullable=False),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_usage')),
    sa.UniqueConstraint('day', 'key_id', 'agent', 'group_name', 'deployment',
                        name=op.f('uq_gateway_usage_day'))
    )
    op.create_index(op.f('ix_gateway_usage_day'), 'gateway_usage', ['day'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_gateway_usage_day'), table_name='gateway_usage')
    op.drop_table('gateway_usage')
    op.drop_index(op.f('ix_gateway_keys_prefix'), table_name='gateway_keys')
    op.drop_table('gateway_keys')
