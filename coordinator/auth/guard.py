"""The login's defences that are plain domain logic: a password check that takes as long for an unknown
e-mail as for a known one, and the lock per (typed e-mail, client address) after many failures in a row."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..timeutil import aware
from .models import LoginLock, User

_dummy_hash: str | None = None


def password_matches(user: User | None, password: str) -> bool:
    """Whether `password` is the user's. With no user, a throwaway hash is checked all the same, so the
    answer takes as long for an unknown e-mail as for a known one (no enumeration by timing)."""
    global _dummy_hash
    if user is None:
        if _dummy_hash is None:
            _dummy_hash = generate_password_hash(secrets.token_urlsafe(16))
        check_password_hash(_dummy_hash, password)
        return False
    return user.check_password(password)


def _row(email: str, client: str) -> LoginLock | None:
    # populate_existing: the row as the database has it now, even if this session read it before.
    return db.session.scalar(select(LoginLock).where(LoginLock.email == email, LoginLock.client == client)
                             .execution_options(populate_existing=True))


def locked_until(email: str, client: str, now: datetime) -> datetime | None:
    """When the lock on this e-mail from this client ends, if it is locked now."""
    row = _row(email, client)
    until = aware(row.locked_until) if row is not None else None
    return until if until is not None and until > now else None


def record_failure(email: str, client: str, now: datetime, *, lock_after: int, lock_minutes: int) -> bool:
    """Count a failed login for this e-mail from this client; the `lock_after`-th in a row locks the pair
    for `lock_minutes`. True if this failure locked it. Rows a day old are dropped on the way."""
    db.session.execute(delete(LoginLock).where(
        LoginLock.last_failed_at < now - timedelta(days=1),
        or_(LoginLock.locked_until.is_(None), LoginLock.locked_until < now)))
    # One atomic upsert: two failures at the same moment must not both insert (unique email, client).
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(
        insert(LoginLock).values(email=email, client=client, failures=1, last_failed_at=now)
        .on_conflict_do_update(index_elements=["email", "client"],
                               set_={"failures": LoginLock.failures + 1, "last_failed_at": now}))
    row = _row(email, client)
    if row.failures >= lock_after:
        row.failures, row.locked_until = 0, now + timedelta(minutes=lock_minutes)
        return True
    return False


def clear_failures(email: str, client: str) -> None:
    """A successful login from this client starts its count afresh."""
    db.session.execute(delete(LoginLock).where(LoginLock.email == email, LoginLock.client == client))
