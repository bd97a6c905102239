"""Quarterly summaries and the final-report basis: staff narratives with revisions, issued versions."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

QUARTERLY, FINAL = "kvartal", "slut"
REPORT_KINDS = (QUARTERLY, FINAL)
# A report's period: "2015Q3" for a quarter; "slut" for the final-report basis (the whole assignment).
FINAL_PERIOD = "slut"
# The staff-written sections a report includes, in order.
NARRATIVE_SECTIONS = ("iakttagelser", "analys", "atgarder")  # observations, analysis, proposed measures
# The final report's own sections (one per chapter that staff write): the account of the work, the
# observations, the analysis, the conclusions and the proposed measures (kept under the key "atgarder",
# so a text written for the final-report basis stays where it was).
FINAL_NARRATIVE_SECTIONS = ("uppdraget", "iakttagelser", "analys", "slutsatser", "atgarder")


def sections_for(period_key: str) -> tuple[str, ...]:
    """The staff-written sections of a period's report, in order: the final report has more."""
    return FINAL_NARRATIVE_SECTIONS if period_key == FINAL_PERIOD else NARRATIVE_SECTIONS


class Narrative(db.Model):
    """A staff-written section of one period's report; every save keeps a revision."""
    __tablename__ = "report_narrative"
    __table_args__ = (UniqueConstraint("period", "section"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(20), index=True)
    section: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    updated_by = relationship("User")
    revisions: Mapped[list[NarrativeRevision]] = relationship(
        back_populates="narrative", cascade="all, delete-orphan", order_by="NarrativeRevision.number")


class NarrativeRevision(db.Model):
    __tablename__ = "report_narrative_revision"
    __table_args__ = (UniqueConstraint("narrative_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    narrative_id: Mapped[int] = mapped_column(ForeignKey("report_narrative.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    narrative: Mapped[Narrative] = relationship(back_populates="revisions")
    user = relationship("User")


class IssuedReport(db.Model):
    """A frozen report: the exact PDF and Word (DOCX) bytes, the HTML and the figures, with each file's SHA-256.

    Rows are never updated; a correction is issued as a new version of the same period. Versions issued
    before Word files were made have no DOCX (docx, docx_sha256 and docx_size are None)."""
    __tablename__ = "issued_report"
    __table_args__ = (UniqueConstraint("kind", "period", "version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(20), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    comment: Mapped[str] = mapped_column(Text, default="")  # what changed from the previous version
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    html: Mapped[str] = deferred(mapped_column(Text))
    docx: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    docx_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    docx_size: Mapped[int | None] = mapped_column(Integer, nullable=True)

    issued_by = relationship("User")


class Avstamning(db.Model):
    """A meeting (avstämning) with the minister: who came, which report was discussed, what was said and decided.

    The actions that follow are tasks (tasks.models.Task with kind "avstamning"), each with an owner
    and a due date; the next report lists them with their outcome."""
    __tablename__ = "avstamning"

    id: Mapped[int] = mapped_column(primary_key=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    attendees: Mapped[str] = mapped_column(Text, default="")   # who attended, in words
    report_id: Mapped[int | None] = mapped_column(ForeignKey("issued_report.id"))
    feedback: Mapped[str] = mapped_column(Text, default="")    # what the minister said
    decisions: Mapped[str] = mapped_column(Text, default="")   # what the minister decided
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    report = relationship("IssuedReport")
    created_by = relationship("User")
    tasks: Mapped[list["Task"]] = relationship("Task", back_populates="avstamning", cascade="all, delete-orphan",
                                               order_by="(Task.due_date, Task.id)")
