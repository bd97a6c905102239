"""Events (national dialogue, hearings, round tables, conferences, samråd) and the organisation register.

The rules, the invitations and the audit. Nothing here commits: the views commit or roll back, so
an invitation is written to the outbox in the same transaction as the change it announces.

Invitations use the visits' iTIP/iMIP machinery (coordinator/invites): one UID for ever,
METHOD:REQUEST with SEQUENCE raised on every sent change of date, time or place (everyone is asked
again), METHOD:CANCEL when the event is cancelled. People added after the invitation went out get
the current invitation alone (same SEQUENCE), so nobody is asked twice for nothing.

Every change is checked against the `version` the form was based on (optimistic locking): a stale
change raises StaleError and changes nothing; a race that gets past the check ends in SQLAlchemy's
StaleDataError at the flush, which the views treat the same way. The audit log gets ids, kinds and
field names; never the names or addresses of people.
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime

from blinker import Namespace
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from ..audit import record
from ..contacts.models import Attendee
from ..extensions import db
from ..i18n import _
from ..invites import ical, mail
from ..invites import service as invites
from ..outbox.models import OutboxMessage
from ..timeutil import utcnow
from ..versions import Stale, check_version
from .models import (EVENT_KINDS, GENOMFORT, INSTALLT, ORGANISATION_KINDS, PLANERAT, Event, EventOrganisation,
                     Organisation)

EVENT_FIELDS = ("kind", "title", "date", "start_time", "end_time", "place", "description")
# A change of these after the invitation went out is sent as an update (SEQUENCE + 1): they are what
# the invited see in their calendars.
SENT_FIELDS = ("title", "date", "start_time", "end_time", "place")
ORGANISATION_FIELDS = ("name", "short_name", "kind", "email")

# The words of the invitation mail per kind: always Swedish, whatever the staff's UI language (the
# recipients are Swedish agencies and organisations). (label, "a …", "the …")
KIND_WORDS = {
    "nationell_dialog": ("Nationell dialog", "en nationell dialog", "Den nationella dialogen"),
    "hearing": ("Hearing", "en hearing", "Hearingen"),
    "rundabord": ("Rundabordssamtal", "ett rundabordssamtal", "Rundabordssamtalet"),
    "konferens": ("Konferens", "en konferens", "Konferensen"),
    "samrad": ("Samråd", "ett samrådsmöte", "Samrådsmötet"),
    "utforskande_dialog": ("Utforskande dialog", "en utforskande dialog", "Den utforskande dialogen"),
}
assert set(KIND_WORDS) == set(EVENT_KINDS)

# The passages in the events' dialogue notes, for the events' pages: the dialogue, which builds on the events,
# connects a receiver that takes a list of event ids (None: every event) and returns {event id: passages} for
# the events whose note has any, so the events never import it.
event_passages = Namespace().signal("event-passages")


class EventError(Exception):
    """A change that is refused; the message is for the user (translated)."""


class StaleError(EventError, Stale):
    """The form was based on an older version: someone else saved in between. Nothing was changed."""


class FieldError(EventError):
    """A value that is refused, shown on its field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def today() -> date:
    return datetime.now(ical.STOCKHOLM).date()


def _touch(event: Event) -> None:
    """Mark the event changed: its version rises at the flush (and the flush checks the old one)."""
    event.updated_at = utcnow()


# --------------------------------------------------------------------------- organisations

def organisations(active_only: bool = False) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.name)
    if active_only:
        query = query.where(Organisation.active.is_(True))
    return list(db.session.scalars(query))


def organisation_choices(keep: set[int] | frozenset[int] = frozenset()) -> list[Organisation]:
    """Active organisations, and inactive ones in `keep` (already linked to what is being edited)."""
    return [o for o in organisations() if o.active or o.id in keep]


def organisation_usage() -> dict[int, tuple[int, int]]:
    """Per organisation id: (events invited to, events attended)."""
    rows = db.session.execute(
        select(EventOrganisation.organisation_id,
               func.sum(case((EventOrganisation.invited.is_(True), 1), else_=0)),
               func.sum(case((EventOrganisation.attended.is_(True), 1), else_=0)))
        .group_by(EventOrganisation.organisation_id))
    return {oid: (int(invited or 0), int(attended or 0)) for oid, invited, attended in rows}


def _check_organisation(values: dict, organisation: Organisation | None = None) -> None:
    if values["kind"] not in ORGANISATION_KINDS:
        raise FieldError("kind", _("Välj en typ i listan."))
    folded = values["name"].casefold()
    for other in organisations():
        if other is not organisation and other.name.casefold() == folded:
            raise FieldError("name", _("Det finns redan en organisation med namnet %(name)s.", name=other.name))


def create_organisation(values: dict, user=None) -> Organisation:
    _check_organisation(values)
    organisation = Organisation(**{k: values[k] for k in ORGANISATION_FIELDS}, active=True)
    db.session.add(organisation)
    db.session.flush()
    record("organisation.created", organisation, name=organisation.name, kind=organisation.kind)
    return organisation


def update_organisation(organisation: Organisation, version, values: dict, user=None) -> list[str]:
    """Returns the fields that changed (none: nothing is written)."""
    check_version(version, organisation.version, StaleError)
    _check_organisation(values, organisation)
    changed = [k for k in ORGANISATION_FIELDS if getattr(organisation, k) != values[k]]
    if not changed:
        return []
    old = organisation.name
    for k in changed:
        setattr(organisation, k, values[k])
    db.session.flush()
    record("organisation.updated", organisation, fields=changed,
           **({"old": old, "new": organisation.name} if "name" in changed else {}))
    return changed


def set_organisation_active(organisation: Organisation, version, active: bool, user=None) -> bool:
    """(De)activate: an inactive organisation is not offered for new events but stays on old ones."""
    check_version(version, organisation.version, StaleError)
    if organisation.active == active:
        return False
    organisation.active = active
    db.session.flush()
    record("organisation.reactivated" if active else "organisation.deactivated", organisation)
    return True


# --------------------------------------------------------------------------- events

def events(kind: str | None = None) -> list[Event]:
    query = (select(Event).options(selectinload(Event.organisations), selectinload(Event.attendees))
             .order_by(Event.date, Event.start_time, Event.id))
    if kind:
        query = query.where(Event.kind == kind)
    return list(db.session.scalars(query))


def split(all_events: list[Event], on: date) -> tuple[list[Event], list[Event]]:
    """(coming: planned from `on`, soonest first; the rest: held, cancelled or past, latest first)."""
    coming = [e for e in all_events if e.status == PLANERAT and e.date >= on]
    rest = [e for e in all_events if e not in coming]
    return coming, sorted(rest, key=lambda e: (e.date, e.start_time, e.id), reverse=True)


def _check_values(values: dict) -> None:
    if values["end_time"] <= values["start_time"]:
        raise FieldError("end_time", _("Sluttiden måste vara efter starttiden."))
    if values["kind"] not in EVENT_KINDS:
        raise FieldError("kind", _("Välj ett slag av dialogforum i listan."))


def _organisations_by_id(ids: set[int], field: str) -> dict[int, Organisation]:
    found = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))} \
        if ids else {}
    if set(found) != ids:
        raise FieldError(field, _("En av organisationerna finns inte längre. Ladda om sidan."))
    return found


def _set_links(event: Event, attribute: str, wanted: set[int]) -> bool:
    """Make `attribute` ("invited" or "attended") true for exactly the organisations in `wanted`: links
    are added as needed, and one neither invited nor attended is removed. Returns whether anything changed."""
    found = _organisations_by_id(wanted, "organisations")
    changed = False
    for link in list(event.organisations):
        if getattr(link, attribute) != (link.organisation_id in wanted):
            setattr(link, attribute, link.organisation_id in wanted)
            changed = True
        if not link.invited and not link.attended:
            event.organisations.remove(link)
    for oid in sorted(wanted - {link.organisation_id for link in event.organisations}):
        event.organisations.append(EventOrganisation(organisation=found[oid], invited=attribute == "invited",
                                                     attended=attribute == "attended"))
        changed = True
    return changed


def create_event(values: dict, organisation_ids: list[int], user=None) -> Event:
    _check_values(values)
    event = Event(**{k: values[k] for k in EVENT_FIELDS}, status=PLANERAT, uid=f"{uuid.uuid4()}@coordinator",
                  sequence=0)
    db.session.add(event)
    _set_links(event, "invited", set(organisation_ids))
    db.session.flush()
    record("event.created", event, kind=event.kind, date=event.date.isoformat(),
           organisations=len(event.organisations))
    return event


def update_event(event: Event, version, values: dict, organisation_ids: list[int],
                 user=None) -> tuple[list[str], OutboxMessage | None]:
    """Save the event's facts and invited organisations. When date, time or place of a planned event
    changes after the invitation went out, SEQUENCE rises and the update is queued to everyone.

    Returns (the fields that changed, "organisationer" among them if the list changed; the queued mail).
    """
    check_version(version, event.version, StaleError)
    _check_values(values)
    changed = [k for k in EVENT_FIELDS if getattr(event, k) != values[k]]
    if _set_links(event, "invited", set(organisation_ids)):
        changed.append("organisationer")
    if not changed:
        return [], None
    for k in EVENT_FIELDS:
        setattr(event, k, values[k])
    _touch(event)
    message = None
    if event.status == PLANERAT and event.sent_sequence is not None and event.attendees \
            and set(changed) & set(SENT_FIELDS):
        event.sequence = (event.sequence or 0) + 1
        message = queue_request(event, user, title_only=not set(changed) & set(SENT_FIELDS[1:]))
    record("event.updated", event, fields=changed, sequence=event.sequence, update_sent=message is not None)
    return changed, message


def _attendee(event: Event, attendee_id: int) -> Attendee:
    attendee = next((a for a in event.attendees if a.id == attendee_id), None)
    if attendee is None:
        raise EventError(_("Personen finns inte bland de inbjudna. Ladda om sidan."))
    return attendee


def add_attendee(event: Event, version, name: str, email: str, organisation_id: int | None,
                 user=None) -> Attendee:
    check_version(version, event.version, StaleError)
    if event.status == INSTALLT:
        raise EventError(_("Dialogforumet är inställt; ingen kan bjudas in."))
    folded = email.strip().casefold()
    if any(a.email.strip().casefold() == folded for a in event.attendees):
        raise FieldError("email", _("%(email)s är redan inbjuden.", email=email))
    if organisation_id is not None and db.session.get(Organisation, organisation_id) is None:
        raise FieldError("organisation", _("Organisationen finns inte längre. Ladda om sidan."))
    attendee = Attendee(name=name, email=email.strip(), organisation_id=organisation_id,
                        role="REQ-PARTICIPANT", partstat="NEEDS-ACTION")
    event.attendees.append(attendee)
    _touch(event)
    db.session.flush()
    record("event.attendee_added", event, attendee_id=attendee.id, organisation_id=organisation_id)
    return attendee


def remove_attendee(event: Event, version, attendee_id: int, user=None) -> OutboxMessage | None:
    """Take a person off the list. Someone who had the invitation gets a cancellation for them alone
    (METHOD:CANCEL, SEQUENCE + 1) while the event is planned; returns that mail, or None."""
    check_version(version, event.version, StaleError)
    attendee = _attendee(event, attendee_id)
    message = invites.uninvite(event, attendee, calendar_event, user, wording(event),
                               sendable=event.status == PLANERAT)
    _touch(event)
    db.session.flush()
    record("event.attendee_removed", event, attendee_id=attendee_id, cancel_sent=message is not None)
    return message


def set_partstat(event: Event, attendee_id: int, partstat: str, comment: str = "", user=None) -> Attendee:
    """An answer recorded by hand (phone, mail), as for visits."""
    try:
        return invites.record_partstat(_attendee(event, attendee_id), partstat, comment, user)
    except invites.InviteError as e:
        raise EventError(str(e)) from None


def mark_held(event: Event, version, user=None, on: date | None = None) -> None:
    check_version(version, event.version, StaleError)
    if event.status != PLANERAT:
        raise EventError(_("Bara planerade dialogforum kan markeras som genomförda."))
    if event.date > (on or today()):
        raise EventError(_("Dialogforumet kan inte markeras som genomfört före sitt datum (%(date)s).",
                           date=event.date.isoformat()))
    event.status = GENOMFORT
    _touch(event)
    db.session.flush()
    record("event.held", event)


def cancel(event: Event, version, reason: str = "", user=None) -> OutboxMessage | None:
    """Cancel a planned event; everyone who got the invitation gets METHOD:CANCEL (SEQUENCE + 1)."""
    check_version(version, event.version, StaleError)
    if event.status != PLANERAT:
        raise EventError(_("Bara planerade dialogforum kan ställas in."))
    event.status = INSTALLT
    message = invites.cancel_owner(event, calendar_event, user, wording(event))
    _touch(event)
    db.session.flush()
    record("event.cancelled", event, reason=reason or None, cancel_sent=message is not None)
    return message


def record_attendance(event: Event, version, organisations_attended: set[int],
                      attendees_attended: dict[int, bool | None], user=None) -> bool:
    """Who came, recorded afterwards: organisations (invited or not) and each invited person
    (True / False / None = not known). Returns False when nothing changed."""
    check_version(version, event.version, StaleError)
    if event.status != GENOMFORT:
        raise EventError(_("Närvaro registreras när dialogforumet är genomfört."))
    changed = _set_links(event, "attended", set(organisations_attended))
    for attendee in event.attendees:
        value = attendees_attended.get(attendee.id, attendee.attended)
        if attendee.attended != value:
            attendee.attended, changed = value, True
    if not changed:
        return False
    _touch(event)
    db.session.flush()
    record("event.attendance", event, organisations=sum(1 for link in event.organisations if link.attended),
           people=sum(1 for a in event.attendees if a.attended))
    return True


# --------------------------------------------------------------------------- invitations

def wording(event: Event, title_only: bool = False) -> mail.Wording:
    """The mail's words for `event`; `title_only`: an update where only the title changed."""
    label, indefinite, definite = KIND_WORDS.get(event.kind, KIND_WORDS["konferens"])
    if title_only:
        return replace(wording(event), update_subject="Ändrad rubrik", update=(
            f"Rubriken har ändrats. {definite} äger rum på samma tid och plats som tidigare; den här inbjudan "
            "ersätter den tidigare."))
    return mail.Wording(
        label=label,
        invite=(f"Nationella samordnaren för den sociala barn- och ungdomsvården bjuder in till {indefinite} "
                "enligt nedan. Svara gärna med Acceptera eller Avböj i kalenderinbjudan."),
        update=(f"Tiden eller platsen har ändrats. {definite} äger rum enligt nedan; den här inbjudan "
                "ersätter den tidigare. Svara gärna på nytt."),
        cancel=(f"{definite} nedan är inställt. Kalenderhändelsen tas bort ur er kalender när ni öppnar "
                "det här meddelandet."),
        removed=(f"Du är inte längre inbjuden till {definite[0].lower()}{definite[1:]} nedan. Kalenderhändelsen "
                 "tas bort ur din kalender när du öppnar det här meddelandet."),
        details=True,
    )


def calendar_event(event: Event) -> ical.Event:
    """The event as a calendar event (times in Europe/Stockholm), with its invited people."""
    start = datetime.combine(event.date, event.start_time, tzinfo=ical.STOCKHOLM)
    end = datetime.combine(event.date, event.end_time, tzinfo=ical.STOCKHOLM)
    if end <= start:
        raise EventError(_("Sluttiden måste vara efter starttiden."))
    description = (event.description or "").strip()
    invited = [link.organisation.name for link in event.organisations if link.invited]
    if invited:
        description += ("\n\n" if description else "") + "Inbjudna organisationer: " + ", ".join(invited) + "."
    name, email = invites.organizer()
    return ical.Event(
        uid=event.uid, sequence=event.sequence or 0, start=start, end=end, summary=event.title,
        location=event.place or "", description=description, organizer_name=name, organizer_email=email,
        attendees=tuple(ical.Person(a.name, a.email, a.role or "REQ-PARTICIPANT", a.partstat or "NEEDS-ACTION")
                        for a in event.attendees),
        status=ical.CANCELLED if event.status == INSTALLT else ical.CONFIRMED)


def calendar_method(event: Event) -> str:
    """What the event's .ics is: the CANCEL once it is cancelled (a REQUEST would bring it back)."""
    return ical.CANCEL if event.status == INSTALLT else ical.REQUEST


def calendar_for(event: Event) -> bytes:
    """The event's current calendar (the .ics to download): METHOD:CANCEL for a cancelled event, else
    METHOD:REQUEST with each attendee's known answer."""
    if calendar_method(event) == ical.CANCEL:
        return ical.to_bytes(ical.cancel(calendar_event(event)))
    return ical.to_bytes(ical.request(calendar_event(event), keep_answers=True))


def invited_addresses(event: Event) -> set[str]:
    """The addresses of the people on the list who have had an invitation."""
    return {a.email.strip().casefold() for a in event.attendees if a.sent_sequence is not None}


def not_yet_invited(event: Event) -> list[Attendee]:
    return [a for a in event.attendees if a.sent_sequence is None]


def queue_request(event: Event, user=None, to: list[Attendee] | None = None, title_only: bool = False) -> OutboxMessage:
    """METHOD:REQUEST with the event's SEQUENCE, to everyone (or to `to`). Does not commit."""
    if event.status == INSTALLT:
        raise EventError(_("Dialogforumet är inställt; en inbjudan kan inte skickas."))
    if not event.attendees:
        raise EventError(_("Ingen är inbjuden än. Lägg till personer först."))
    first_for_them = to is not None
    if to is None:
        to = invites.concerned(event)
        if not to:
            raise EventError(_("Alla inbjudna har tackat nej; det finns ingen att skicka inbjudan till."))
    update = invites.ask_again(event, reask=not title_only)
    calendar = calendar_event(event)
    people = None
    if len(to) != len(event.attendees):
        wanted = {id(a) for a in to}
        people = tuple(p for a, p in zip(event.attendees, calendar.attendees) if id(a) in wanted)
    if first_for_them:
        update = False  # the first invitation for them
    return invites.queue(event, ical.REQUEST, calendar, update, user, wording(event, title_only), to=people)


def invite(event: Event, version, user=None) -> OutboxMessage:
    """Send the invitation: to everyone the first time; afterwards to those who have not had the
    current one (added since). Does not commit."""
    check_version(version, event.version, StaleError)
    if event.status != PLANERAT:
        raise EventError(_("Bara planerade dialogforum kan bjudas in till."))
    if event.sent_sequence is None:
        message = queue_request(event, user)
    else:
        waiting = not_yet_invited(event)
        if not waiting:
            raise EventError(_("Alla inbjudna har redan fått den senaste inbjudan."))
        message = queue_request(event, user, to=waiting)
    _touch(event)
    db.session.flush()
    return message


# --------------------------------------------------------------------------- the office's calendar feed

def feed_entries() -> tuple[list[ical.Event], datetime | None]:
    """Every event for the office's feed, without people (cancelled ones marked by ical.feed), and the
    time of the latest change among them."""
    entries, latest = [], None
    query = (select(Event).order_by(Event.date, Event.start_time, Event.id)
             .options(selectinload(Event.organisations).joinedload(EventOrganisation.organisation),
                      selectinload(Event.attendees)))
    for event in db.session.scalars(query):
        try:
            entry = calendar_event(event)
        except EventError:
            continue  # an inconsistent event is left out rather than break the feed
        entries.append(ical.Event(**{**entry.__dict__, "attendees": ()}))
        changed = event.updated_at  # as the database gives it; the feed makes it UTC (invites.service._utc)
        latest = changed if latest is None or (changed and changed > latest) else latest
    return entries, latest


invites.office_feed_sources.append(feed_entries)
