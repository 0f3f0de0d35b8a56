"""devices: IoT devices, readings, rules and alarms

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('iot_devices',
    sa.Column('id', sa.String(length=80), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('district', sa.String(length=40), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('credential_hash', sa.String(length=64), nullable=False),
    sa.Column('provisioned_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', _TZ, nullable=False),
    sa.Column('last_seen', _TZ, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_iot_devices')),
    sa.UniqueConstraint('credential_hash', name=op.f('uq_iot_devices_credential_hash'))
    )
    op.create_index(op.f('ix_iot_devices_type'), 'iot_devices', ['type'], unique=False)
    op.create_index(op.f('ix_iot_devices_district'), 'iot_devices', ['district'], unique=False)
    op.create_table('iot_readings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('device_id', sa.String(length=80), nullable=False),
    sa.Column('attribute', sa.String(length=60), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('observed_at', _TZ, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_iot_readings'))
    )
    op.create_index('ix_iot_readings_device_attr_time', 'iot_readings', ['device_id', 'attribute', 'observed_at'],
                    unique=False)
    op.create_table('iot_rules',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('device_type', sa.String(length=40), nullable=True),
    sa.Column('device_id', sa.String(length=80), nullable=True),
    sa.Column('attribute', sa.String(length=60), nullable=True),
    sa.Column('direction', sa.String(length=6), nullable=False),
    sa.Column('limit', sa.Float(), nullable=True),
    sa.Column('seconds', sa.Integer(), nullable=True),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', _TZ, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_iot_rules'))
    )
    op.create_table('iot_alarms',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('rule_id', sa.String(length=40), nullable=False),
    sa.Column('device_id', sa.String(length=80), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=14), nullable=False),
    sa.Column('open_key', sa.String(length=130), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('first_seen', _TZ, nullable=False),
    sa.Column('last_seen', _TZ, nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=120), nullable=True),
    sa.Column('cleared_at', _TZ, nullable=True),
    sa.Column('cleared_by', sa.String(length=120), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_iot_alarms')),
    sa.UniqueConstraint('open_key', name=op.f('uq_iot_alarms_open_key'))
    )
    for column in ('rule_id', 'device_id', 'status'):
        op.create_index(op.f(f'ix_iot_alarms_{column}'), 'iot_alarms', [column], unique=False)


def downgrade() -> None:
    for table in ('iot_alarms', 'iot_rules', 'iot_readings', 'iot_devices'):
        op.drop_table(table)
