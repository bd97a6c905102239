"""Pre-visit measurement (mätning): questionnaires the office builds, sent per site and round."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

# Question kinds: one choice, several choices, a number, free text.
ONE, MANY, NUMBER, TEXT = "en", "flera", "tal", "text"
QUESTION_KINDS = (ONE, MANY, NUMBER, TEXT)
# The field's usual fixed options (DOMAIN.md), offered when a one-choice question is made.
STANDARD_OPTIONS = ("Ja", "Ja, i viss mån", "Nej", "Vet ej")
# The value stored for the "Annat, ange" choice (its text is in MeasurementAnswer.other_text).
OTHER_OPTION = "Annat, ange"


class Questionnaire(db.Model):
    __tablename__ = "questionnaire"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    # None: for both rounds. Round 2 may reuse round 1's questionnaire so the two compare.
    round: Mapped[int | None] = mapped_column(Integer)
    # A questionnaire that has been sent is locked: its questions no longer change.
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    questions: Mapped[list[Question]] = relationship(back_populates="questionnaire", cascade="all, delete-orphan",
                                                     order_by="Question.position")


class Question(db.Model):
    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, ...: the number the respondent sees
    text: Mapped[str] = mapped_column(Text)
    help: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(10))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)   # for "en" and "flera"
    other_option: Mapped[bool] = mapped_column(Boolean, default=False)  # adds "Annat, ange" with a text box
    comment: Mapped[bool] = mapped_column(Boolean, default=False)       # a free-text comment beside the answer
    # Skip rules: {option: question position to go to}; the questions in between are skipped.
    skip_rules: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="questions")


class MeasurementRequest(db.Model):
    """One site's questionnaire for one round, reached through a signed, expiring, revocable link."""
    __tablename__ = "measurement_request"
    __table_args__ = (UniqueConstraint("site_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)  # signed into the URL; the link's identity
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_saved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    questionnaire: Mapped[Questionnaire] = relationship()
    site = relationship("Site")
    answers: Mapped[list[MeasurementAnswer]] = relationship(back_populates="request", cascade="all, delete-orphan")


class MeasurementAnswer(db.Model):
    """One answer. value: the option (en), a list of options (flera), a number as text (tal), or text.

    A submitted number is canonical ("1234.5": point, no spaces); a draft keeps what was typed.
    The "Annat, ange" choice is stored as OTHER_OPTION (in the list for flera) with other_text.
    """
    __tablename__ = "measurement_answer"
    __table_args__ = (UniqueConstraint("request_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("measurement_request.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    other_text: Mapped[str] = mapped_column(Text, default="")  # "Annat, ange"
    comment: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[MeasurementRequest] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()
