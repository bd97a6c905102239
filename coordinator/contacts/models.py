"""The people the office writes to: contacts at the visit sites, and the attendees of a visit's or an event's
invitation with their answers. Below the visits and the invitations, which both use them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

# (key, Swedish label): the roles the office invites (DOMAIN.md, "What happens around a visit").
CONTACT_ROLES = (
    ("ks_ordforande", "Kommunstyrelsens ordförande"),
    ("sn_ordforande", "Socialnämndens ordförande"),
    ("kommunrevision", "Kommunrevisionen"),
    ("kommundirektor", "Kommundirektör"),
    ("socialchef", "Socialchef/förvaltningschef"),
    ("ifo_chef", "IFO-chef/enhetschef barn och unga"),
    ("facklig", "Facklig företrädare"),
    ("utvecklingsledare", "Regional utvecklingsledare BoU"),
    ("annan", "Annan kontakt"),
)

PARTSTATS = ("NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED")


class Contact(db.Model):
    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(60), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    site = relationship("Site")


class Attendee(db.Model):
    """A contact invited to a visit, or a person invited to an event, with their answer (iCalendar PARTSTAT)."""
    __tablename__ = "attendee"
    __table_args__ = (CheckConstraint("(visit_id IS NULL) <> (event_id IS NULL)", name="visit_or_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Either a visit's attendee (a contact at the site) or an event's (a person from an organisation).
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30), default="REQ-PARTICIPANT")
    partstat: Mapped[str] = mapped_column(String(20), default="NEEDS-ACTION")
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The SEQUENCE of the last invitation (REQUEST) that went to this person; None: not invited yet.
    sent_sequence: Mapped[int | None] = mapped_column(Integer)
    # The DTSTAMP of the last calendar answer (REPLY) applied: an older one is ignored.
    reply_stamp: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str] = mapped_column(Text, default="")
    attended: Mapped[bool | None] = mapped_column(Boolean)  # for events: recorded afterwards

    visit = relationship("Visit", back_populates="attendees")
    event = relationship("Event", back_populates="attendees")
    contact = relationship("Contact")
    organisation = relationship("Organisation")
