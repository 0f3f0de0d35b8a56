"""text_vectors: passage vectors kept in the database, the source of truth for every process

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('text_vectors',
    sa.Column('model', sa.String(length=120), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('model', 'key', name=op.f('pk_text_vectors'))
    )


def downgrade() -> None:
    op.drop_table('text_vectors')
