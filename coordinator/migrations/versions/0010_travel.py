"""travel: phase-derived windows and pace per month, staff who travel and their absences, how a
visit is reached, and date offers that let the kommun choose its day

Revision ID: 0010_travel
Revises: 0009_letters
Create Date: 2026-12-06 07:17:26.164487

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_travel'
down_revision = '0009_letters'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('month_pace',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_month_pace')),
    sa.UniqueConstraint('year', 'month', name=op.f('uq_month_pace_year'))
    )
    op.create_table('staff_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('coordinator', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_member'))
    )
    op.create_table('staff_absence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'], name=op.f('fk_staff_absence_staff_id_staff_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_absence'))
    )
    with op.batch_alter_table('staff_absence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_absence_staff_id'), ['staff_id'], unique=False)

    op.create_table('visit_staff',
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'], name=op.f('fk_visit_staff_staff_id_staff_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_visit_staff_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('visit_id', 'staff_id', name=op.f('pk_visit_staff'))
    )
    with op.batch_alter_table('visit_staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_staff_staff_id'), ['staff_id'], unique=False)

    op.create_table('date_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('dates', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('chosen_date', sa.Date(), nullable=True),
    sa.Column('suggested_dates', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('answered_by', sa.String(length=200), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminders', sa.Integer(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outbox_message_id', sa.Integer(), nullable=True),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_date_offer_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_message.id'], name=op.f('fk_date_offer_outbox_message_id_outbox_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_date_offer_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_date_offer')),
    sa.UniqueConstraint('nonce', name=op.f('uq_date_offer_nonce'))
    )
    with op.batch_alter_table('date_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_date_offer_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_date_offer_visit_id'), ['visit_id'], unique=False)

    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('windows_from_phases', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('invitation_lead_days', sa.Integer(), server_default='28', nullable=False))
        batch_op.add_column(sa.Column('report_week_free', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('staff_per_visit', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('max_day_hours', sa.Float(), server_default='10', nullable=False))
        batch_op.add_column(sa.Column('offer_count', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('offer_reminder_days', sa.Integer(), server_default='7', nullable=False))

    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('travel_note', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('agreed', sa.Boolean(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('agreed')
        batch_op.drop_column('travel_note')
        batch_op.drop_column('mode')

    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('offer_reminder_days')
        batch_op.drop_column('offer_count')
        batch_op.drop_column('max_day_hours')
        batch_op.drop_column('staff_per_visit')
        batch_op.drop_column('report_week_free')
        batch_op.drop_column('invitation_lead_days')
        batch_op.drop_column('windows_from_phases')

    with op.batch_alter_table('date_offer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_date_offer_visit_id'))
        batch_op.drop_index(batch_op.f('ix_date_offer_status'))

    op.drop_table('date_offer')
    with op.batch_alter_table('visit_staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_staff_staff_id'))

    op.drop_table('visit_staff')
    with op.batch_alter_table('staff_absence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_absence_staff_id'))

    op.drop_table('staff_absence')
    op.drop_table('staff_member')
    op.drop_table('month_pace')
