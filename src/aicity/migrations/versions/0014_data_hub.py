"""data_hub: datasets, versions, columns with grades, quality reports, lineage

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _fk(table: str) -> tuple[sa.Column, sa.ForeignKeyConstraint]:
    return (sa.Column('dataset_id', sa.String(length=60), nullable=False),
            sa.ForeignKeyConstraint(['dataset_id'], ['data_datasets.id'], ondelete='CASCADE',
                                    name=op.f(f'fk_{table}_dataset_id_data_datasets')))


def upgrade() -> None:
    op.create_table('data_datasets',
    sa.Column('id', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_department', sa.String(length=40), nullable=True),
    sa.Column('category', sa.String(length=200), nullable=False),
    sa.Column('cadence', sa.String(length=40), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('relations', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=True),
    sa.Column('grade', sa.String(length=20), nullable=False),
    sa.Column('sensitivity_level', sa.Integer(), nullable=False),
    sa.Column('suggested_grade', sa.String(length=20), nullable=False),
    sa.Column('suggested_level', sa.Integer(), nullable=False),
    sa.Column('grade_reasons', sa.JSON(), nullable=False),
    sa.Column('confirmed_by', sa.String(length=80), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_datasets'))
    )
    op.create_table('data_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    *_fk('data_versions'),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('table_name', sa.String(length=80), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('source_name', sa.String(length=300), nullable=False),
    sa.Column('source_format', sa.String(length=20), nullable=False),
    sa.Column('encoding', sa.String(length=20), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('quality_score', sa.Float(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_versions')),
    sa.UniqueConstraint('dataset_id', 'version', name=op.f('uq_data_versions_dataset_id'))
    )
    op.create_index(op.f('ix_data_versions_dataset_id'), 'data_versions', ['dataset_id'], unique=False)
    op.create_table('data_columns',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    *_fk('data_columns'),
    sa.Column('ord', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('meaning', sa.Text(), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=True),
    sa.Column('synonyms', sa.JSON(), nullable=False),
    sa.Column('grade', sa.String(length=20), nullable=False),
    sa.Column('sensitivity_level', sa.Integer(), nullable=False),
    sa.Column('pii', sa.String(length=20), nullable=True),
    sa.Column('pii_kind', sa.String(length=40), nullable=True),
    sa.Column('suggested_level', sa.Integer(), nullable=False),
    sa.Column('suggested_pii', sa.String(length=20), nullable=True),
    sa.Column('suggested_pii_kind', sa.String(length=40), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('confirmed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_columns')),
    sa.UniqueConstraint('dataset_id', 'name', name=op.f('uq_data_columns_dataset_id'))
    )
    op.create_index(op.f('ix_data_columns_dataset_id'), 'data_columns', ['dataset_id'], unique=False)
    op.create_table('data_quality_reports',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    *_fk('data_quality_reports'),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_quality_reports'))
    )
    op.create_index(op.f('ix_data_quality_reports_dataset_id'), 'data_quality_reports', ['dataset_id'], unique=False)
    op.create_table('data_lineage',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    *_fk('data_lineage'),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=40), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_lineage'))
    )
    op.create_index(op.f('ix_data_lineage_dataset_id'), 'data_lineage', ['dataset_id'], unique=False)


def downgrade() -> None:
    for table in ('data_lineage', 'data_quality_reports', 'data_columns', 'data_versions'):
        op.drop_index(op.f(f'ix_{table}_dataset_id'), table_name=table)
        op.drop_table(table)
    op.drop_table('data_datasets')
