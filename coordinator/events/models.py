"""Dialogue forms beside visits: national dialogue, hearings, round tables, conferences, samråd."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

# "utforskande_dialog": phase 1's exploratory dialogues with kommuner outside the sample (issue 13).
EVENT_KINDS = ("nationell_dialog", "hearing", "rundabord", "konferens", "samrad", "utforskande_dialog")
ORGANISATION_KINDS = ("myndighet", "forening", "fackforbund", "forskning", "kommunal", "annan")
PLANERAT, GENOMFORT, INSTALLT = "planerat", "genomfort", "installt"
EVENT_STATUSES = (PLANERAT, GENOMFORT, INSTALLT)


class Organisation(db.Model):
    """An agency, association, union or research body the office holds dialogue with."""
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(40), default="")
    kind: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(200), default="")  # the organisation's registry address
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Event(db.Model):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    date: Mapped[date] = mapped_column(Date, index=True)
    start_time: Mapped[time] = mapped_column(Time)  # local time, Europe/Stockholm
    end_time: Mapped[time] = mapped_column(Time)
    place: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=PLANERAT)
    # iTIP identity, as for visits: one UID for ever; SEQUENCE rises on every sent change.
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    sent_sequence: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    organisations: Mapped[list[EventOrganisation]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventOrganisation.organisation_id")
    attendees: Mapped[list["Attendee"]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Attendee.id")


class EventOrganisation(db.Model):
    """An organisation invited to (and perhaps attending) an event."""
    __tablename__ = "event_organisation"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    invited: Mapped[bool] = mapped_column(Boolean, default=True)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)

    event: Mapped[Event] = relationship(back_populates="organisations")
    organisation: Mapped[Organisation] = relationship()
