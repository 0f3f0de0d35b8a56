"""commands: commands to IoT actuators

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('iot_commands',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('device_id', sa.String(length=80), nullable=False),
    sa.Column('command', sa.String(length=20), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=14), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', _TZ, nullable=False),
    sa.Column('attempted_at', _TZ, nullable=False),
    sa.Column('acked_at', _TZ, nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_iot_commands'))
    )
    op.create_index(op.f('ix_iot_commands_status'), 'iot_commands', ['status'], unique=False)
    op.create_index('ix_iot_commands_device_status', 'iot_commands', ['device_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_table('iot_commands')
