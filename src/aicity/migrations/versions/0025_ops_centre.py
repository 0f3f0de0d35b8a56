"""ops corpus and model centre: corpus items and versions, the model registry, knowledge reviews

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ops_corpus_items',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('trace_id', sa.String(length=40), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('predicted_mode', sa.String(length=40), nullable=True),
    sa.Column('mode', sa.String(length=40), nullable=True),
    sa.Column('skill', sa.String(length=100), nullable=True),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('event_id', sa.String(length=40), nullable=True),
    sa.Column('predicted_category', sa.String(length=40), nullable=True),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('submitted_by', sa.String(length=60), nullable=False),
    sa.Column('reviewed_by', sa.String(length=60), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_corpus_items'))
    )
    op.create_index(op.f('ix_ops_corpus_items_created_at'), 'ops_corpus_items', ['created_at'], unique=False)
    op.create_index(op.f('ix_ops_corpus_items_event_id'), 'ops_corpus_items', ['event_id'], unique=False)
    op.create_index(op.f('ix_ops_corpus_items_kind'), 'ops_corpus_items', ['kind'], unique=False)
    op.create_index(op.f('ix_ops_corpus_items_status'), 'ops_corpus_items', ['status'], unique=False)
    op.create_index(op.f('ix_ops_corpus_items_trace_id'), 'ops_corpus_items', ['trace_id'], unique=False)
    op.create_table('ops_corpus_versions',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=60), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_ops_corpus_versions'))
    )
    op.create_table('ops_kb_reviews',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kb', sa.String(length=60), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by', sa.String(length=60), nullable=False),
    sa.Column('next_review', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_kb_reviews')),
    sa.UniqueConstraint('kb', 'key', name=op.f('uq_ops_kb_reviews_kb'))
    )
    op.create_table('ops_model_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('corpus_version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('promoted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('decision', sa.String(length=500), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('rows_sha256', sa.String(length=64), nullable=False),
    sa.Column('sample', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_model_versions')),
    sa.UniqueConstraint('kind', 'version', name=op.f('uq_ops_model_versions_kind'))
    )
    op.create_index(op.f('ix_ops_model_versions_status'), 'ops_model_versions', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ops_model_versions_status'), table_name='ops_model_versions')
    op.drop_table('ops_model_versions')
    op.drop_table('ops_kb_reviews')
    op.drop_table('ops_corpus_versions')
    op.drop_index(op.f('ix_ops_corpus_items_trace_id'), table_name='ops_corpus_items')
    op.drop_index(op.f('ix_ops_corpus_items_status'), table_name='ops_corpus_items')
    op.drop_index(op.f('ix_ops_corpus_items_created_at'), table_name='ops_corpus_items')
    op.drop_index(op.f('ix_ops_corpus_items_kind'), table_name='ops_corpus_items')
    op.drop_index(op.f('ix_ops_corpus_items_event_id'), table_name='ops_corpus_items')
    op.drop_table('ops_corpus_items')
