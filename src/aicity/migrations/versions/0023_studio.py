"""studio: co-created agents, their versions and reactions

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('studio_agents',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('visibility', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('owner_key', sa.String(length=80), nullable=False),
    sa.Column('owner_role', sa.String(length=20), nullable=False),
    sa.Column('owner_department', sa.String(length=40), nullable=True),
    sa.Column('latest_version', sa.Integer(), nullable=False),
    sa.Column('published_version', sa.Integer(), nullable=True),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.Column('created_at', _TS, nullable=False),
    sa.Column('updated_at', _TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_studio_agents'))
    )
    for column in ('category', 'visibility', 'status', 'owner_key'):
        op.create_index(op.f(f'ix_studio_agents_{column}'), 'studio_agents', [column], unique=False)
    op.create_table('studio_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agent_id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.Column('created_at', _TS, nullable=False),
    sa.Column('published_at', _TS, nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['studio_agents.id'], name=op.f('fk_studio_versions_agent_id_studio_agents'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_studio_versions')),
    sa.UniqueConstraint('agent_id', 'version', name=op.f('uq_studio_versions_agent_id'))
    )
    op.create_index(op.f('ix_studio_versions_agent_id'), 'studio_versions', ['agent_id'], unique=False)
    op.create_table('studio_reactions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agent_id', sa.String(length=40), nullable=False),
    sa.Column('who', sa.String(length=120), nullable=False),
    sa.Column('liked', sa.Boolean(), nullable=False),
    sa.Column('favourite', sa.Boolean(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('updated_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['studio_agents.id'],
                            name=op.f('fk_studio_reactions_agent_id_studio_agents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_studio_reactions')),
    sa.UniqueConstraint('agent_id', 'who', name=op.f('uq_studio_reactions_agent_id'))
    )
    op.create_index(op.f('ix_studio_reactions_agent_id'), 'studio_reactions', ['agent_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_studio_reactions_agent_id'), table_name='studio_reactions')
    op.drop_table('studio_reactions')
    op.drop_index(op.f('ix_studio_versions_agent_id'), table_name='studio_versions')
    op.drop_table('studio_versions')
    for column in ('category', 'visibility', 'status', 'owner_key'):
        op.drop_index(op.f(f'ix_studio_agents_{column}'), table_name='studio_agents')
    op.drop_table('studio_agents')
