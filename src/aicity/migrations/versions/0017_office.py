"""office: the per-issuer number register and the document register (收文 and 发文)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 07:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('office_numbers',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('next_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', 'year', name=op.f('pk_office_numbers'))
    )
    op.create_table('office_documents',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=True),
    sa.Column('issuer', sa.JSON(), nullable=False),
    sa.Column('doc_number', sa.String(length=80), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('date', sa.String(length=10), nullable=True),
    sa.Column('classification', sa.String(length=40), nullable=True),
    sa.Column('urgency', sa.String(length=20), nullable=True),
    sa.Column('signer', sa.String(length=80), nullable=True),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('cc', sa.JSON(), nullable=False),
    sa.Column('suggested_departments', sa.JSON(), nullable=False),
    sa.Column('deadline', sa.String(length=10), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('file', sa.LargeBinary(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('department', sa.String(length=40), nullable=True),
    sa.Column('created_at', _TS, nullable=False),
    sa.Column('updated_at', _TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_documents'))
    )
    for column in ('direction', 'doc_number', 'status', 'department'):
        op.create_index(op.f(f'ix_office_documents_{column}'), 'office_documents', [column], unique=False)


def downgrade() -> None:
    for column in ('direction', 'doc_number', 'status', 'department'):
        op.drop_index(op.f(f'ix_office_documents_{column}'), table_name='office_documents')
    op.drop_table('office_documents')
    op.drop_table('office_numbers')
