"""knowledge bases and document kinds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:36:13.463934
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    kbs = op.create_table('knowledge_bases',
    sa.Column('id', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('department_id', sa.String(length=40), nullable=True),
    sa.Column('owner_key_id', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_bases'))
    )
    with op.batch_alter_table('kb_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='law'))
        batch_op.add_column(sa.Column('authority', sa.String(length=200), nullable=True))
    # documents stored before this revision live in the global knowledge base
    op.bulk_insert(kbs, [{"id": "global", "name": "全局法律法规库 National laws and regulations", "level": "global",
                          "department_id": None, "owner_key_id": None, "created_at": datetime.now(UTC)}])


def downgrade() -> None:
    with op.batch_alter_table('kb_documents', schema=None) as batch_op:
        batch_op.drop_column('authority')
        batch_op.drop_column('kind')

    op.drop_table('knowledge_bases')
