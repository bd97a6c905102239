"""A visit's programme: its parts (title, times) and which of the site's contacts are invited to each.

Service functions, as service.py: they audit and do not commit. A change to the programme also
touches the visit row, so the visit's `version` rises and a form loaded before it is refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit import record
from ..contacts.models import Attendee, Contact
from ..extensions import db
from ..timeutil import utcnow
from . import signals
from .models import GENOMFORD, INSTALLD, PART_KINDS, Visit, VisitPart
from .service import VisitError


@dataclass
class PartChange:
    id: int | None  # None: a new part
    title: str
    kind: str
    start: time | None
    end: time | None
    contact_ids: list[int]
    remove: bool = False


def site_contacts(visit: Visit) -> list[Contact]:
    """The contacts that can be invited: the site's active ones, and any inactive one already invited."""
    invited = {c.id for p in visit.parts for c in p.contacts}
    rows = db.session.scalars(select(Contact).where(Contact.site_id == visit.site_id).order_by(Contact.name))
    return [c for c in rows if c.active or c.id in invited]


def _editable(visit: Visit) -> None:
    if visit.status in (INSTALLD, GENOMFORD):
        raise VisitError(_("Programmet för ett inställt eller genomfört besök kan inte ändras."))


def update_programme(visit: Visit, changes: list[PartChange], user=None) -> None:
    """Apply the edited parts (and any new one) in one go."""
    _editable(visit)
    contacts = {c.id: c for c in site_contacts(visit)}
    existing = {p.id: p for p in visit.parts}
    kept: list[VisitPart] = []
    added = removed = 0
    for change in changes:
        if change.kind not in PART_KINDS:
            raise VisitError(_("Okänd typ av programpunkt."))
        unknown = [i for i in change.contact_ids if i not in contacts]
        if unknown:
            raise VisitError(_("En vald kontakt hör inte till besöksplatsen."))
        if change.start and change.end and change.end <= change.start:
            raise VisitError(_("Programpunktens sluttid måste vara efter starttiden."))
        if change.id is None:
            part = VisitPart(kind=change.kind)
            visit.parts.append(part)
            added += 1
        else:
            part = existing.get(change.id)
            if part is None:
                raise VisitError(_("Programpunkten finns inte längre. Ladda om sidan."))
            if change.remove:
                visit.parts.remove(part)
                removed += 1
                continue
        part.title, part.kind = change.title.strip(), change.kind
        part.start_time, part.end_time = change.start, change.end
        part.contacts = [contacts[i] for i in change.contact_ids]
        kept.append(part)
    kept.sort(key=lambda p: (p.start_time or time.max, p.id or 0))
    for position, part in enumerate(kept, start=1):
        part.position = position
    visit.updated_at = utcnow()  # the visit row changes too: its version rises
    record("visit.programme_changed", visit, parts=len(kept), added=added, removed=removed,
           invited=sum(len(p.contacts) for p in kept))


def send_update(visit: Visit, user=None) -> int:
    """Send the invitation again with the current programme (same SEQUENCE: time and place are unchanged).

    Contacts ticked in the programme since the invitation went out become attendees and get it too.
    Returns how many attendees were added.
    """
    _editable(visit)
    if visit.sent_sequence is None:
        raise VisitError(_("Ingen inbjudan har skickats för besöket än. Använd ”Bjud in”."))
    have = {a.contact_id for a in visit.attendees}
    added = 0
    for part in visit.parts:
        for c in part.contacts:
            if c.id not in have and c.active:
                visit.attendees.append(Attendee(contact=c, name=c.name, email=c.email, role="REQ-PARTICIPANT",
                                                partstat="NEEDS-ACTION"))
                have.add(c.id)
                added += 1
    signals.send(signals.invitation_due, visit, user)  # a refusal comes back as VisitError
    visit.updated_at = utcnow()
    record("visit.programme_sent", visit, sequence=visit.sequence, added_attendees=added)
    return added
