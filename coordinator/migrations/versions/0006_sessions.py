"""sessions: a per-user session secret that rotates, and login locks per account and client

Revision ID: 0006_sessions
Revises: 0005

The user's session_token is part of every session and remember-me cookie; rotating it ends them all.
The lock after many failed logins moves from the account alone to (typed e-mail, client address), so a
stranger cannot lock the real user out, and an unknown e-mail locks exactly like a known one.
"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0006_sessions'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # ADD COLUMN with a default and DROP COLUMN are plain ALTER TABLE on SQLite (≥ 3.35): no table rebuild,
    # which matters because user_account is the parent of many foreign keys.
    op.add_column('user_account', sa.Column('session_token', sa.String(length=64), nullable=False,
                                            server_default=''))
    conn = op.get_bind()
    users = sa.table('user_account', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    for (user_id,) in conn.execute(sa.select(users.c.id)).all():
        conn.execute(users.update().where(users.c.id == user_id)
                     .values(session_token=secrets.token_urlsafe(32)))
    op.drop_column('user_account', 'failed_logins')
    op.drop_column('user_account', 'locked_until')

    op.create_table('login_lock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_lock')),
    sa.UniqueConstraint('email', 'client', name='uq_login_lock_email_client')
    )
    with op.batch_alter_table('login_lock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_lock_last_failed_at'), ['last_failed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_lock', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_lock_last_failed_at'))
    op.drop_table('login_lock')
    op.add_column('user_account', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('user_account', sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
    op.drop_column('user_account', 'session_token')
