"""docx: an issued report also freezes its Word file (DOCX) with its SHA-256 and size

Reports issued before keep working without one (the columns are empty).

Revision ID: 0008_docx
Revises: 0007_invites
Create Date: 2027-01-20 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008_docx'
down_revision = '0007_invites'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('issued_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('docx', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('docx_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('docx_size', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('issued_report', schema=None) as batch_op:
        batch_op.drop_column('docx_size')
        batch_op.drop_column('docx_sha256')
        batch_op.drop_column('docx')
