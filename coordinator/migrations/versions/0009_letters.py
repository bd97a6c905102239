"""feedback letters (återkopplingsbrev) per site and round, their revisions and the kommun's links

Revision ID: 0009_letters
Revises: 0008_docx
Create Date: 2026-12-06 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_letters'
down_revision = '0008_docx'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_letter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('texts', sa.JSON(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('outbox_message_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_feedback_letter_site_id_site')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_feedback_letter_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_feedback_letter_updated_by_id_user_account')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user_account.id'], name=op.f('fk_feedback_letter_approved_by_id_user_account')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user_account.id'], name=op.f('fk_feedback_letter_sent_by_id_user_account')),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_message.id'], name=op.f('fk_feedback_letter_outbox_message_id_outbox_message'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_letter')),
    sa.UniqueConstraint('site_id', 'round', name=op.f('uq_feedback_letter_site_id'))
    )
    with op.batch_alter_table('feedback_letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_letter_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_letter_status'), ['status'], unique=False)

    op.create_table('feedback_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('texts', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['letter_id'], ['feedback_letter.id'], name=op.f('fk_feedback_revision_letter_id_feedback_letter'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_feedback_revision_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_revision')),
    sa.UniqueConstraint('letter_id', 'number', name=op.f('uq_feedback_revision_letter_id'))
    )
    with op.batch_alter_table('feedback_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_revision_letter_id'), ['letter_id'], unique=False)

    op.create_table('feedback_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['letter_id'], ['feedback_letter.id'], name=op.f('fk_feedback_link_letter_id_feedback_letter'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_link')),
    sa.UniqueConstraint('nonce', name=op.f('uq_feedback_link_nonce'))
    )
    with op.batch_alter_table('feedback_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_link_letter_id'), ['letter_id'], unique=False)


def downgrade():
    op.drop_table('feedback_link')
    op.drop_table('feedback_revision')
    op.drop_table('feedback_letter')
