"""invites: per attendee, the version of the invitation last sent and the time stamp of the last answer applied

Revision ID: 0007_invites
Revises: 0006_sessions
Create Date: 2027-01-10 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_invites'
down_revision = '0006_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_sequence', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reply_stamp', sa.DateTime(timezone=True), nullable=True))
    # Who already had which invitation: read back from the outbox's invitations.
    bind = op.get_bind()
    outbox = sa.table('outbox_message', sa.column('visit_id'), sa.column('event_id'), sa.column('kind'),
                      sa.column('sequence'), sa.column('recipients'))
    attendee = sa.table('attendee', sa.column('id'), sa.column('visit_id'), sa.column('event_id'),
                        sa.column('email'), sa.column('sent_sequence'))
    latest: dict[tuple, int] = {}
    for visit_id, event_id, sequence, recipients in bind.execute(
            sa.select(outbox.c.visit_id, outbox.c.event_id, outbox.c.sequence, outbox.c.recipients)
            .where(outbox.c.kind == 'request')):
        for address in (recipients or '').split(','):
            key = (visit_id, event_id, address.strip().casefold())
            if address.strip() and sequence is not None and sequence >= latest.get(key, -1):
                latest[key] = sequence
    for attendee_id, visit_id, event_id, address in bind.execute(
            sa.select(attendee.c.id, attendee.c.visit_id, attendee.c.event_id, attendee.c.email)):
        sequence = latest.get((visit_id, event_id, (address or '').strip().casefold()))
        if sequence is not None:
            bind.execute(attendee.update().where(attendee.c.id == attendee_id).values(sent_sequence=sequence))


def downgrade():
    with op.batch_alter_table('attendee', schema=None) as batch_op:
        batch_op.drop_column('reply_stamp')
        batch_op.drop_column('sent_sequence')
