"""unified event management: events, their history and reporters

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 12:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('department', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('district', sa.String(length=40), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('reporter_ref', sa.String(length=80), nullable=False),
    sa.Column('media', sa.JSON(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('merged_into', sa.String(length=40), nullable=True),
    sa.Column('sla_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sla_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sla_breached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merged_into'], ['events.id'], name=op.f('fk_events_merged_into_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_events_idempotency_key'))
    )
    for column in ('category', 'department', 'district', 'status', 'reporter_ref', 'merged_into', 'sla_due_at',
                   'created_at'):
        op.create_index(op.f(f'ix_events_{column}'), 'events', [column], unique=False)
    op.create_table('event_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_history_event_id_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_history'))
    )
    op.create_index(op.f('ix_event_history_event_id'), 'event_history', ['event_id'], unique=False)
    op.create_table('event_reporters',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('reporter_ref', sa.String(length=80), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('contact', sa.JSON(), nullable=False),
    sa.Column('report_id', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_reporters_event_id_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_reporters'))
    )
    op.create_index(op.f('ix_event_reporters_event_id'), 'event_reporters', ['event_id'], unique=False)
    op.create_index(op.f('ix_event_reporters_reporter_ref'), 'event_reporters', ['reporter_ref'], unique=False)


def downgrade() -> None:
    op.drop_table('event_reporters')
    op.drop_table('event_history')
    op.drop_table('events')
