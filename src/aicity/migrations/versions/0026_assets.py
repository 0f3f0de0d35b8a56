"""the digital-asset platform: assets, lineage links, applications, projects and their documents

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 11:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('asset_assets',
    sa.Column('id', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('owner', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_assets'))
    )
    op.create_index(op.f('ix_asset_assets_kind'), 'asset_assets', ['kind'], unique=False)
    op.create_index(op.f('ix_asset_assets_owner'), 'asset_assets', ['owner'], unique=False)
    op.create_table('asset_links',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('src', sa.String(length=160), nullable=False),
    sa.Column('dst', sa.String(length=160), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_links')),
    sa.UniqueConstraint('src', 'dst', 'relation', name=op.f('uq_asset_links_src'))
    )
    op.create_index(op.f('ix_asset_links_dst'), 'asset_links', ['dst'], unique=False)
    op.create_index(op.f('ix_asset_links_src'), 'asset_links', ['src'], unique=False)
    op.create_table('asset_applications',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('asset_id', sa.String(length=160), nullable=False),
    sa.Column('department', sa.String(length=40), nullable=False),
    sa.Column('applicant', sa.String(length=80), nullable=False),
    sa.Column('purpose', sa.String(length=500), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('grant', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_applications'))
    )
    op.create_index(op.f('ix_asset_applications_asset_id'), 'asset_applications', ['asset_id'], unique=False)
    op.create_index(op.f('ix_asset_applications_department'), 'asset_applications', ['department'], unique=False)
    op.create_index(op.f('ix_asset_applications_status'), 'asset_applications', ['status'], unique=False)
    op.create_table('asset_projects',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('department', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('history', sa.JSON(), nullable=False),
    sa.Column('assets', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_projects'))
    )
    op.create_index(op.f('ix_asset_projects_department'), 'asset_projects', ['department'], unique=False)
    op.create_index(op.f('ix_asset_projects_stage'), 'asset_projects', ['stage'], unique=False)
    op.create_table('asset_project_documents',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('project_id', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('reference', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('added_by', sa.String(length=80), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_project_documents'))
    )
    op.create_index(op.f('ix_asset_project_documents_project_id'), 'asset_project_documents', ['project_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_asset_project_documents_project_id'), table_name='asset_project_documents')
    op.drop_table('asset_project_documents')
    op.drop_index(op.f('ix_asset_projects_stage'), table_name='asset_projects')
    op.drop_index(op.f('ix_asset_projects_department'), table_name='asset_projects')
    op.drop_table('asset_projects')
    op.drop_index(op.f('ix_asset_applications_status'), table_name='asset_applications')
    op.drop_index(op.f('ix_asset_applications_department'), table_name='asset_applications')
    op.drop_index(op.f('ix_asset_applications_asset_id'), table_name='asset_applications')
    op.drop_table('asset_applications')
    op.drop_index(op.f('ix_asset_links_src'), table_name='asset_links')
    op.drop_index(op.f('ix_asset_links_dst'), table_name='asset_links')
    op.drop_table('asset_links')
    op.drop_index(op.f('ix_asset_assets_owner'), table_name='asset_assets')
    op.drop_index(op.f('ix_asset_assets_kind'), table_name='asset_assets')
    op.drop_table('asset_assets')
