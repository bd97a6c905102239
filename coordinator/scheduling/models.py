"""The assignment's settings (phases, windows, rules) and the visits with their programme."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, Time,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit import utcnow
from ..extensions import db

# Visit life cycle: förslag → inbjuden → bekräftad → genomförd, or inställd; "flyttad" is an
# invited/confirmed visit whose time changed and which awaits the kommun's new answer.
FORSLAG, INBJUDEN, BEKRAFTAD, GENOMFORD, INSTALLD, FLYTTAD = (
    "forslag", "inbjuden", "bekraftad", "genomford", "installd", "flyttad")
STATUSES = (FORSLAG, INBJUDEN, BEKRAFTAD, FLYTTAD, GENOMFORD, INSTALLD)
# A visit whose date the kommun has been told is booked: the planner must not move it.
BOOKED = (INBJUDEN, BEKRAFTAD, FLYTTAD, GENOMFORD)

PART_KINDS = ("ledning", "fack", "barn", "annat")


class Assignment(db.Model):
    """The assignment (uppdraget): one row, editable by admin; the 2014–2017 defaults are shipped."""
    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    final_report_due: Mapped[date] = mapped_column(Date)
    report_interval_months: Mapped[int] = mapped_column(Integer, default=3)
    round1_start: Mapped[date] = mapped_column(Date)
    round1_end: Mapped[date] = mapped_column(Date)
    round2_start: Mapped[date] = mapped_column(Date)
    round2_end: Mapped[date] = mapped_column(Date)
    max_per_day: Mapped[int] = mapped_column(Integer, default=1)
    max_per_week: Mapped[int] = mapped_column(Integer, default=3)
    min_gap_days: Mapped[int] = mapped_column(Integer, default=90)
    home_name: Mapped[str] = mapped_column(String(100), default="Stockholm")
    home_lat: Mapped[float] = mapped_column(Float)
    home_lon: Mapped[float] = mapped_column(Float)
    default_start: Mapped[time] = mapped_column(Time)
    default_end: Mapped[time] = mapped_column(Time)
    organizer_name: Mapped[str] = mapped_column(String(200))
    organizer_email: Mapped[str] = mapped_column(String(200))
    # The reporting rhythm: a report every `report_interval_months` from `report_start`, due
    # `report_due_days` after its period ends; staff are reminded `report_reminder_days` before.
    # The default (the first day of the quarter the assignment starts in, every 3 months) gives
    # calendar quarters.
    report_start: Mapped[date] = mapped_column(Date)
    report_due_days: Mapped[int] = mapped_column(Integer, default=14)
    report_reminder_days: Mapped[int] = mapped_column(Integer, default=7)
    # What the overview counts as late: a dialogue note this many working days after a held visit,
    # an invitation without an answer after this many days, a questionnaire whose last day is this near.
    note_due_working_days: Mapped[int] = mapped_column(Integer, default=5)
    unanswered_after_days: Mapped[int] = mapped_column(Integer, default=14)
    questionnaire_soon_days: Mapped[int] = mapped_column(Integer, default=7)
    # Set by `coordinator demo`: the day the invented data stands at, used as "today" by the pages.
    demo_as_of: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Phase(db.Model):
    __tablename__ = "phase"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")


class Blackout(db.Model):
    """A period without visits (e.g. July, Christmas to Epiphany)."""
    __tablename__ = "blackout"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)


class Visit(db.Model):
    __tablename__ = "visit"
    __table_args__ = (UniqueConstraint("site_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    date: Mapped[date | None] = mapped_column(Date, index=True)
    start_time: Mapped[time] = mapped_column(Time)   # local time, Europe/Stockholm
    end_time: Mapped[time] = mapped_column(Time)
    location: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default=FORSLAG, index=True)
    # iTIP identity: the UID is made once and never regenerated; SEQUENCE rises on every
    # change of time or place that has been sent, and on cancellation.
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    sent_sequence: Mapped[int | None] = mapped_column(Integer)  # SEQUENCE of the last invitation sent
    trip: Mapped[int | None] = mapped_column(Integer)  # planner's trip number within the round
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    site = relationship("Site")
    parts: Mapped[list[VisitPart]] = relationship(back_populates="visit", cascade="all, delete-orphan",
                                                  order_by="VisitPart.position")
    attendees: Mapped[list["Attendee"]] = relationship(back_populates="visit", cascade="all, delete-orphan",
                                                       order_by="Attendee.id")

    @property
    def booked(self) -> bool:
        return self.status in BOOKED


class VisitPart(db.Model):
    """One item of a visit's programme: a dialogue with the leadership, with unions, talks with children…"""
    __tablename__ = "visit_part"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)

    visit: Mapped[Visit] = relationship(back_populates="parts")
    contacts = relationship("Contact", secondary="visit_part_contact", order_by="Contact.name")


class VisitPartContact(db.Model):
    __tablename__ = "visit_part_contact"

    part_id: Mapped[int] = mapped_column(ForeignKey("visit_part.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True)
