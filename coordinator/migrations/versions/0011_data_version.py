"""data_version: counters that change with every committed change to the data, for caches

Revision ID: 0011_data_version
Revises: 0010_travel
Create Date: 2026-12-06 23:40:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0011_data_version'
down_revision = '0010_travel'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('data_version',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_data_version'))
    )
    op.bulk_insert(table, [{'name': name, 'n': 1, 'token': secrets.token_hex(16)} for name in ('data', 'reference')])


def downgrade():
    op.drop_table('data_version')
