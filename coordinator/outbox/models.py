"""The outbox's row: a mail written in the same transaction as the change it announces."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

PENDING, SENT, FAILED = "pending", "sent", "failed"


class OutboxMessage(db.Model):
    """A mail written in the same transaction as the change it announces; a worker delivers it."""
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id", ondelete="SET NULL"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"), index=True)
    measurement_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("measurement_request.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # request | cancel | matning | paminnelse | rapport | veckobrev
    # A reminder or digest that must go out once only: "rapport:2015Q3:3", "veckobrev:2016-W44:3".
    topic: Mapped[str | None] = mapped_column(String(120), unique=True)
    sequence: Mapped[int | None] = mapped_column(Integer)
    recipients: Mapped[str] = mapped_column(Text)  # comma-separated addresses
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)  # the whole MIME message as sent
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    visit = relationship("Visit")
    event = relationship("Event")
