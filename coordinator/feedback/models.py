"""Feedback letters (återkopplingsbrev): one per visit site and round, drafted, approved and sent by staff.

A letter has a few staff-written text sections (every save keeps a revision, guarded by the
letter's `version` like the report narratives) and a generated part: what was discussed per
dialogue question, the action plan and its state, and the kommun's questionnaire answers beside
its ÖJ group and the weighted national figure. Approving freezes the generated part and the texts
in `content`: what was approved is exactly what the kommun reads. Editing an approved letter
takes it back to a draft. A sent letter is frozen; the kommun opens it through its own signed,
expiring, revocable link (FeedbackLink, see coordinator/links.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

DRAFT, APPROVED, SENT = "utkast", "godkant", "skickat"
STATES = (DRAFT, APPROVED, SENT)
# The staff-written sections, in the letter's order.
SECTIONS = ("inledning", "sammanfattning", "fortsattning")


class FeedbackLetter(db.Model):
    __tablename__ = "feedback_letter"
    __table_args__ = (UniqueConstraint("site_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=DRAFT, index=True)
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)   # {section: text}
    # The letter as approved (texts and generated content); None while a draft.
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    site = relationship("Site")
    created_by = relationship("User", foreign_keys=[created_by_id])
    updated_by = relationship("User", foreign_keys=[updated_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    sent_by = relationship("User", foreign_keys=[sent_by_id])
    outbox_message = relationship("OutboxMessage")
    revisions: Mapped[list[FeedbackRevision]] = relationship(
        back_populates="letter", cascade="all, delete-orphan", order_by="FeedbackRevision.number")
    links: Mapped[list[FeedbackLink]] = relationship(
        back_populates="letter", cascade="all, delete-orphan", order_by="FeedbackLink.id")

    def text(self, section: str) -> str:
        return str((self.texts or {}).get(section, ""))


class FeedbackRevision(db.Model):
    """A saved state of a letter's texts (all sections), for history."""
    __tablename__ = "feedback_revision"
    __table_args__ = (UniqueConstraint("letter_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("feedback_letter.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    texts: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    letter: Mapped[FeedbackLetter] = relationship(back_populates="revisions")
    user = relationship("User")


class FeedbackLink(db.Model):
    """A signed, expiring, revocable link through which the kommun reads its letter (coordinator/links.py)."""
    __tablename__ = "feedback_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("feedback_letter.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    letter: Mapped[FeedbackLetter] = relationship(back_populates="links")
