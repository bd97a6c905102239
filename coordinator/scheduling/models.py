"""The assignment's settings (phases, windows, rules) and the visits with their programme."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, Time,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

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
    # Windows of the rounds: derived from the phases unless the office has set them by hand.
    # Round 1 runs from the sample's adoption plus `invitation_lead_days` to the end of phase 2;
    # round 2 runs through phase 4. With `windows_from_phases` off, round1_*/round2_* are used.
    windows_from_phases: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    invitation_lead_days: Mapped[int] = mapped_column(Integer, default=28, server_default="28")
    # The week before each report's due date is kept free of visits.
    report_week_free: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Staff besides the coordinator on every visit; the longest day of travel and visit before an
    # overnight stay is needed.
    staff_per_visit: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    max_day_hours: Mapped[float] = mapped_column(Float, default=10.0, server_default="10")
    # Date offers to the kommun: how many dates, and a reminder after this many days without answer.
    offer_count: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    offer_reminder_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
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


class MonthPace(db.Model):
    """The office's own pace for a month: a weight on the even pace (1 = even, 0.5 = half as many)."""
    __tablename__ = "month_pace"
    __table_args__ = (UniqueConstraint("year", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    note: Mapped[str] = mapped_column(String(200), default="")


class StaffMember(db.Model):
    """Someone of the office who travels on visits; the coordinator goes on every visit."""
    __tablename__ = "staff_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    coordinator: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    absences: Mapped[list[StaffAbsence]] = relationship(back_populates="staff", cascade="all, delete-orphan",
                                                        order_by="StaffAbsence.start_date")


class StaffAbsence(db.Model):
    """A period (inclusive) when a staff member cannot travel: leave, courses, other duties."""
    __tablename__ = "staff_absence"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")

    staff: Mapped[StaffMember] = relationship(back_populates="absences")


class VisitStaff(db.Model):
    """Who of the office goes on a visit (set by the plan, or by hand)."""
    __tablename__ = "visit_staff"

    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id", ondelete="CASCADE"), primary_key=True,
                                          index=True)


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
    # How the office gets there (bil/tåg/flyg/färja), from the travel model when the plan was saved.
    mode: Mapped[str | None] = mapped_column(String(20))
    travel_note: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # The kommun chose this date through a date offer: the planner keeps it as if booked.
    agreed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    # Joined (with the site's kommun and län, see Site.kommun): a visit is never shown without its site's label.
    site = relationship("Site", lazy="joined", innerjoin=True)
    parts: Mapped[list[VisitPart]] = relationship(back_populates="visit", cascade="all, delete-orphan",
                                                  order_by="VisitPart.position")
    attendees: Mapped[list["Attendee"]] = relationship(back_populates="visit", cascade="all, delete-orphan",
                                                       order_by="Attendee.id")

    staff: Mapped[list[StaffMember]] = relationship(
        secondary="visit_staff", order_by=(StaffMember.coordinator.desc(), StaffMember.name))

    @property
    def booked(self) -> bool:
        return self.status in BOOKED

    @property
    def fixed(self) -> bool:
        """Booked with the kommun, or agreed through a date offer: a re-plan keeps its date."""
        return self.booked or self.agreed


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


# A date offer's life: sent (open) → chosen, or none fits; withdrawn when the office replaces it.
OFFER_OPEN, OFFER_CHOSEN, OFFER_NONE_FITS, OFFER_WITHDRAWN = "oppen", "vald", "ingen_passar", "aterkallad"
OFFER_STATUSES = (OFFER_OPEN, OFFER_CHOSEN, OFFER_NONE_FITS, OFFER_WITHDRAWN)


class DateOffer(db.Model):
    """Two or three dates offered to a kommun for one visit, through a signed link (see links.py)."""
    __tablename__ = "date_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    dates: Mapped[list] = mapped_column(JSON)  # ISO dates, best first (the planner's ranking)
    status: Mapped[str] = mapped_column(String(20), default=OFFER_OPEN, index=True)
    chosen_date: Mapped[date | None] = mapped_column(Date)
    # "None fits": the kommun's own suggested days and a comment.
    suggested_dates: Mapped[list] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(200), default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id", ondelete="SET NULL"))
    # The link (links.LinkRow): signed nonce, expiry, revocation.
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    visit: Mapped[Visit] = relationship()
