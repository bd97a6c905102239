from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, login_manager
from ..timeutil import utcnow

MIN_PASSWORD_LENGTH = 10


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="staff")
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every session and remember-me cookie (see get_id); a new one ends them all, on every device.
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_urlsafe(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Opt-in: a weekly mail with what is due (`coordinator digest --send`, run from cron).
    weekly_digest: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def set_password(self, password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"password shorter than {MIN_PASSWORD_LENGTH}")
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Log the account out everywhere: every saved session and remember-me cookie stops working."""
        self.session_token = secrets.token_urlsafe(32)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user a session or remember-me cookie names, if its session secret is still the current one."""
    ident, _, token = user_id.partition(":")
    if not (ident.isascii() and ident.isdigit() and int(ident) < 2**31) or not token:
        return None  # a cookie from before session secrets, or garbage
    user = db.session.get(User, int(ident))
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


class LoginLock(db.Model):
    """Failed logins per typed e-mail and client address. Ten in a row lock that pair for a while: a
    stranger elsewhere cannot lock the real user out, and an unknown e-mail behaves like a known one."""
    __tablename__ = "login_lock"
    __table_args__ = (UniqueConstraint("email", "client", name="uq_login_lock_email_client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200))
    client: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
