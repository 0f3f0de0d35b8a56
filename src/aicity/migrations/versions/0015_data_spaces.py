"""data_spaces: spaces, members, offers with usage policies, agreements, uses

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 05:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('data_spaces',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('operator', sa.String(length=80), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', _TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_spaces'))
    )
    op.create_table('data_space_members',
    sa.Column('space_id', sa.String(length=40), nullable=False),
    sa.Column('member', sa.String(length=80), nullable=False),
    sa.Column('member_kind', sa.String(length=20), nullable=False),
    sa.Column('joined_by', sa.String(length=80), nullable=False),
    sa.Column('joined_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['space_id'], ['data_spaces.id'], ondelete='CASCADE',
                            name=op.f('fk_data_space_members_space_id_data_spaces')),
    sa.PrimaryKeyConstraint('space_id', 'member', name=op.f('pk_data_space_members'))
    )
    op.create_table('data_offers',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('space_id', sa.String(length=40), nullable=False),
    sa.Column('provider', sa.String(length=80), nullable=False),
    sa.Column('dataset_id', sa.String(length=60), nullable=False),
    sa.Column('dataset_version', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['space_id'], ['data_spaces.id'], ondelete='CASCADE',
                            name=op.f('fk_data_offers_space_id_data_spaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_offers'))
    )
    op.create_index(op.f('ix_data_offers_space_id'), 'data_offers', ['space_id'], unique=False)
    op.create_index(op.f('ix_data_offers_provider'), 'data_offers', ['provider'], unique=False)
    op.create_table('data_agreements',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('offer_id', sa.String(length=40), nullable=False),
    sa.Column('space_id', sa.String(length=40), nullable=False),
    sa.Column('provider', sa.String(length=80), nullable=False),
    sa.Column('consumer', sa.String(length=80), nullable=False),
    sa.Column('dataset_id', sa.String(length=60), nullable=False),
    sa.Column('dataset_version', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('min_group_size', sa.Integer(), nullable=False),
    sa.Column('epsilon_budget', sa.Float(), nullable=True),
    sa.Column('epsilon_spent', sa.Float(), nullable=False),
    sa.Column('query_quota', sa.Integer(), nullable=True),
    sa.Column('queries_used', sa.Integer(), nullable=False),
    sa.Column('expires_at', _TS, nullable=True),
    sa.Column('requested_by', sa.String(length=80), nullable=False),
    sa.Column('requested_at', _TS, nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', _TS, nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('canonical', sa.Text(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('signature', sa.String(length=128), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['offer_id'], ['data_offers.id'], ondelete='CASCADE',
                            name=op.f('fk_data_agreements_offer_id_data_offers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_agreements'))
    )
    for column in ('offer_id', 'space_id', 'provider', 'consumer'):
        op.create_index(op.f(f'ix_data_agreements_{column}'), 'data_agreements', [column], unique=False)
    op.create_table('data_usage',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agreement_id', sa.String(length=40), nullable=False),
    sa.Column('at', _TS, nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('consumer', sa.String(length=80), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('epsilon', sa.Float(), nullable=False),
    sa.Column('groups_released', sa.Integer(), nullable=False),
    sa.Column('groups_suppressed', sa.Integer(), nullable=False),
    sa.Column('audit_seq', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['data_agreements.id'], ondelete='CASCADE',
                            name=op.f('fk_data_usage_agreement_id_data_agreements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_usage'))
    )
    op.create_index(op.f('ix_data_usage_agreement_id'), 'data_usage', ['agreement_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_data_usage_agreement_id'), table_name='data_usage')
    op.drop_table('data_usage')
    for column in ('offer_id', 'space_id', 'provider', 'consumer'):
        op.drop_index(op.f(f'ix_data_agreements_{column}'), table_name='data_agreements')
    op.drop_table('data_agreements')
    op.drop_index(op.f('ix_data_offers_provider'), table_name='data_offers')
    op.drop_index(op.f('ix_data_offers_space_id'), table_name='data_offers')
    op.drop_table('data_offers')
    op.drop_table('data_space_members')
    op.drop_table('data_spaces')
