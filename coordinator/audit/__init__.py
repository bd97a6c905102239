"""Audit log: who did what to which object, when. Never note contents or secrets."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, has_request_context, request
from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow

bp = Blueprint("audit", __name__, url_prefix="/logg")


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(60))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))
    # The visit site the event concerns, if any: the site page's time line reads it in one query.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"), index=True)


def site_of(obj: Any) -> int | None:
    """The visit site an audited object belongs to: its own site_id, or its visit's, plan's, goal's or note's."""
    for _ in range(4):  # activity -> goal -> plan -> site is the longest path
        if obj is None:
            return None
        site_id = getattr(obj, "site_id", None)
        if site_id is not None:
            return site_id
        obj = next((getattr(obj, name) for name in ("visit", "plan", "goal", "note") if getattr(obj, name, None) is not None),
                   None)
    return None


def actor_of(user) -> dict:
    """Who record() names for a change made for `user`: in a request, the logged-in user (record() finds them
    itself, with the user id); outside one (CLI, worker) the given user's e-mail, else "system"."""
    if has_request_context():
        from flask_login import current_user  # here, as in record(): a command's light app has no login

        if current_user.is_authenticated:
            return {}
    return {"actor": user.email} if user is not None and getattr(user, "email", None) else {}


def record(action: str, obj: Any = None, *, object_type: str | None = None,
           object_id: Any = None, actor: str | None = None, **details: Any) -> AuditEvent:
    """Add an audit event to the current transaction (committed with the change it describes)."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    user_id = None
    if actor is None:
        from flask_login import current_user  # a request's user; the cron commands record as "system"

        if has_request_context() and current_user.is_authenticated:
            user_id, actor = current_user.id, current_user.email
        else:
            actor = "system"
    site_id = details.get("site_id")
    if not isinstance(site_id, int) or isinstance(site_id, bool):
        site_id = site_of(obj) if obj is not None else None
    event = AuditEvent(
        user_id=user_id, actor=actor, action=action, object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details or None,
        ip=request.remote_addr if has_request_context() else None,
        site_id=site_id,
    )
    db.session.add(event)
    return event

