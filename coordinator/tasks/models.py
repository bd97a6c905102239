"""Tasks: something someone in the office has to do by a day, linked to what it concerns."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

# Where a task comes from: typed by hand, decided at an avstämning with the minister, or made by
# the app itself (a note to write after a held visit, a plan follow-up to prepare before visit 2).
EGEN, AVSTAMNING, ANTECKNING, UPPFOLJNING = "egen", "avstamning", "anteckning", "uppfoljning"
TASK_KINDS = (EGEN, AVSTAMNING, ANTECKNING, UPPFOLJNING)
AUTOMATIC = (ANTECKNING, UPPFOLJNING)


class Task(db.Model):
    __tablename__ = "task"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default=EGEN, index=True)
    title: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    # What the task concerns (any of them may be empty): a visit site, a visit, an avstämning.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    avstamning_id: Mapped[int | None] = mapped_column(ForeignKey("avstamning.id", ondelete="CASCADE"), index=True)
    # The app's own tasks carry a key ("anteckning:<visit id>") so they are made once only.
    source: Mapped[str | None] = mapped_column(String(60), unique=True)
    # What came of it: the next report lists an avstämning's actions with their outcome.
    outcome: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    owner = relationship("User", foreign_keys=[owner_id])
    done_by = relationship("User", foreign_keys=[done_by_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    site = relationship("Site")
    visit = relationship("Visit")
    avstamning = relationship("Avstamning", back_populates="tasks")

    @property
    def done(self) -> bool:
        return self.done_at is not None

    @property
    def automatic(self) -> bool:
        return self.kind in AUTOMATIC
