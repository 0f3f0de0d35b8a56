"""industry: investment projects (招商项目) and their history

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('industry_projects',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('chain', sa.String(length=40), nullable=False),
    sa.Column('node', sa.String(length=60), nullable=True),
    sa.Column('stage', sa.String(length=10), nullable=False),
    sa.Column('owner', sa.String(length=80), nullable=False),
    sa.Column('department', sa.String(length=40), nullable=True),
    sa.Column('investment_100m_yuan', sa.Float(), nullable=True),
    sa.Column('jobs', sa.Integer(), nullable=True),
    sa.Column('stage_entered_at', _TS, nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', _TS, nullable=False),
    sa.Column('updated_at', _TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_industry_projects'))
    )
    for column in ('company', 'chain', 'stage', 'stage_entered_at', 'created_at'):
        op.create_index(op.f(f'ix_industry_projects_{column}'), 'industry_projects', [column], unique=False)
    op.create_table('industry_project_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('project_id', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_stage', sa.String(length=10), nullable=True),
    sa.Column('to_stage', sa.String(length=10), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('owner', sa.String(length=80), nullable=False),
    sa.Column('at', _TS, nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('remind_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['industry_projects.id'],
                            name=op.f('fk_industry_project_history_project_id_industry_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_industry_project_history'))
    )
    for column in ('project_id', 'at'):
        op.create_index(op.f(f'ix_industry_project_history_{column}'), 'industry_project_history', [column],
                        unique=False)


def downgrade() -> None:
    for column in ('project_id', 'at'):
        op.drop_index(op.f(f'ix_industry_project_history_{column}'), table_name='industry_project_history')
    op.drop_table('industry_project_history')
    for column in ('company', 'chain', 'stage', 'stage_entered_at', 'created_at'):
        op.drop_index(op.f(f'ix_industry_projects_{column}'), table_name='industry_projects')
    op.drop_table('industry_projects')
