"""Calendar feeds: a secret, revocable URL per site and one for the office. (Contacts and attendees are in
coordinator/contacts, the outbox's row in coordinator/outbox: the visits use them too.)"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow


class FeedToken(db.Model):
    """A secret, revocable URL for a subscribable calendar: one per site, or the whole office's."""
    __tablename__ = "feed_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)  # NULL = the office feed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    site = relationship("Site")
