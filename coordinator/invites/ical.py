"""iCalendar (RFC 5545) and iTIP (RFC 5546) for the visits: pure, without Flask or the database.

Invitations (`METHOD:REQUEST`), cancellations (`METHOD:CANCEL`), subscribable feeds and the parsing
of an attendee's `METHOD:REPLY`. Times are written in UTC (`DTSTART:20160324T080000Z`): every
client, Outlook included, converts them to the reader's zone, and a visit at 09:00 in Stockholm
stays at 09:00 on both sides of a daylight-saving change without depending on a VTIMEZONE that a
client might read differently. The intended local time is always given as an aware datetime in
Europe/Stockholm, and the tests read the calendars back with two independent parsers.

The texts here are Swedish: invitations go to Swedish kommuner whatever the staff's UI language.
Error messages are marked with N_ so they are extracted for translation; the Flask side
translates them (see InviteError in service.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timezone
from typing import Iterable, Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    # icalendar is imported where a calendar is written or read: the web pages and the cron commands that
    # only use this module's words and data classes start without it.
    from icalendar import Calendar, Event as VEvent, vCalAddress

STOCKHOLM = ZoneInfo("Europe/Stockholm")
PRODID = "-//Nationella samordnaren//coordinator//SV"
REQUEST, CANCEL, REPLY, PUBLISH = "REQUEST", "CANCEL", "REPLY", "PUBLISH"
CONFIRMED, CANCELLED, TENTATIVE = "CONFIRMED", "CANCELLED", "TENTATIVE"
ROLES = ("CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT")
CANCELLED_PREFIX = "INSTÄLLT: "
REPLY_PARTSTATS = ("ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED", "NEEDS-ACTION")


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


# Words used as parameters of messages; translated along with them.
MARKED_WORDS = (N_("inte angiven"), N_("saknas"))


@dataclass(frozen=True)
class Person:
    """An attendee of an invitation (an ATTENDEE property)."""
    name: str
    email: str
    role: str = "REQ-PARTICIPANT"
    partstat: str = "NEEDS-ACTION"
    rsvp: bool = True


@dataclass(frozen=True)
class ProgrammeItem:
    """One part of the visit's programme, with who is invited to it ("Namn (roll)")."""
    title: str
    start: time | None = None
    end: time | None = None
    invited: tuple[str, ...] = ()


@dataclass(frozen=True)
class Event:
    """Everything a calendar needs about one visit. start/end are aware datetimes (Europe/Stockholm)."""
    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    location: str
    description: str
    organizer_name: str
    organizer_email: str
    attendees: tuple[Person, ...] = ()
    status: str = CONFIRMED
    programme: tuple[ProgrammeItem, ...] = ()
    staff: tuple[str, ...] = ()  # who comes from the office (names); not in a public feed

    def __post_init__(self):
        for name in ("start", "end"):
            value = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"{name} must be an aware datetime")
        if self.end <= self.start:
            raise ValueError("end must be after start")

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(STOCKHOLM)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(STOCKHOLM)


@dataclass(frozen=True)
class Reply:
    """One attendee's answer read from an iTIP REPLY."""
    uid: str
    sequence: int
    attendee_email: str
    partstat: str
    comment: str = ""
    dtstamp: datetime | None = None  # when the attendee's client wrote the answer (UTC)


class ICalError(ValueError):
    """A calendar that cannot be used; `message` is a Swedish msgid, `params` fill it in."""

    def __init__(self, message: str, **params):
        self.message, self.params = message, params
        super().__init__(message % params if params else message)


# --- Swedish formatting ------------------------------------------------------------------

def hhmm(t: time | datetime | None) -> str:
    return "" if t is None else f"{t.hour:02d}.{t.minute:02d}"


def programme_lines(programme: Sequence[ProgrammeItem], with_people: bool = True) -> list[str]:
    lines = []
    for item in programme:
        when = f"{hhmm(item.start)}–{hhmm(item.end)}" if item.start and item.end else hhmm(item.start)
        line = f"{when} {item.title}" if when else item.title
        if with_people and item.invited:
            line += " (inbjudna: " + ", ".join(item.invited) + ")"
        lines.append(line)
    return lines


STAFF_LABEL = "Från samordnarens kansli kommer"


def staff_line(names: Sequence[str]) -> str:
    """'Från samordnarens kansli kommer: A, B' (names on one line each)."""
    return f"{STAFF_LABEL}: " + ", ".join(" ".join(n.split()) for n in names)


def programme_text(programme: Sequence[ProgrammeItem], with_people: bool = True, intro: str = "") -> str:
    """The programme as plain text for DESCRIPTION and the mail."""
    lines = [intro] if intro else []
    if programme:
        lines.append("Program:")
        lines += ["- " + line for line in programme_lines(programme, with_people)]
    return "\n".join(lines)


# --- building ----------------------------------------------------------------------------

def _utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc)


def _address(email: str, name: str) -> vCalAddress:
    from icalendar import vCalAddress

    address = vCalAddress(f"mailto:{email}")
    name = " ".join((name or "").split())  # a stored line break must not break the calendar
    if name:
        address.params["CN"] = name
    return address


def _calendar(method: str | None, name: str | None = None) -> Calendar:
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
        cal.add("x-wr-timezone", "Europe/Stockholm")
    return cal


def _vevent(event: Event, status: str, now: datetime, people: bool = True, description: str | None = None) -> VEvent:
    from icalendar import Event as VEvent

    vevent = VEvent()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", _utc(now))
    vevent.add("dtstart", _utc(event.start))
    vevent.add("dtend", _utc(event.end))
    vevent.add("summary", event.summary)
    if event.location:
        vevent.add("location", event.location)
    text = event.description if description is None else description
    if people and event.staff:
        text = "\n\n".join(x for x in (text, staff_line(event.staff)) if x)
    if text:
        vevent.add("description", text)
    vevent.add("status", status)
    vevent.add("transp", "OPAQUE")
    if people:
        vevent.add("organizer", _address(event.organizer_email, event.organizer_name))
        for person in event.attendees:
            address = _address(person.email, person.name)
            address.params["CUTYPE"] = "INDIVIDUAL"
            address.params["ROLE"] = person.role if person.role in ROLES else "REQ-PARTICIPANT"
            address.params["PARTSTAT"] = person.partstat
            address.params["RSVP"] = "TRUE" if person.rsvp else "FALSE"
            vevent.add("attendee", address)
    return vevent


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(timezone.utc)


def request(event: Event, now: datetime | None = None, keep_answers: bool = False) -> Calendar:
    """METHOD:REQUEST: the invitation, or its update (same UID, higher SEQUENCE).

    By default every attendee is asked to answer (again). With `keep_answers` each attendee's known
    PARTSTAT is sent as it is (a resend at the same SEQUENCE must not undo an ACCEPTED), and only
    those who have not answered are asked to (RSVP).
    """
    cal = _calendar(REQUEST)
    if keep_answers:
        people = tuple(replace(p, rsvp=p.partstat == "NEEDS-ACTION") for p in event.attendees)
    else:
        people = tuple(replace(p, partstat="NEEDS-ACTION", rsvp=True) for p in event.attendees)
    cal.add_component(_vevent(replace(event, attendees=people), CONFIRMED, _now(now)))
    return cal


def cancel(event: Event, now: datetime | None = None) -> Calendar:
    """METHOD:CANCEL: same UID, a SEQUENCE higher than the last REQUEST. To every attendee of `event`
    (the whole occasion is cancelled), or, when `event` names one attendee only, to that person (they
    are no longer invited, RFC 5546 3.2.5)."""
    cal = _calendar(CANCEL)
    cal.add_component(_vevent(event, CANCELLED, _now(now)))
    return cal


def feed(events: Iterable[Event], name: str, now: datetime | None = None) -> Calendar:
    """A subscribable calendar (METHOD:PUBLISH) without personal data: no attendees, no names.

    Each event's own `status` is used (CONFIRMED, TENTATIVE or CANCELLED); a cancelled one says so in
    its title too ("INSTÄLLT: …"), since many clients show a cancelled entry like any other. `now` is
    the DTSTAMP of every entry: the feed passes its last change, so the same content gives the same bytes.
    """
    cal = _calendar(PUBLISH, name)
    stamp = _now(now)
    for event in events:
        description = programme_text(event.programme, with_people=False) if event.programme else event.description
        if event.status == CANCELLED and not event.summary.startswith(CANCELLED_PREFIX):
            event = replace(event, summary=CANCELLED_PREFIX + event.summary)
        cal.add_component(_vevent(event, event.status, stamp, people=False, description=description))
    return cal


def to_bytes(cal: Calendar) -> bytes:
    return cal.to_ical()


# --- parsing replies ---------------------------------------------------------------------

def _text(value) -> str:
    return "" if value is None else str(value)


def parse_reply(data: bytes | str) -> list[Reply]:
    """The answers in an iTIP REPLY (RFC 5546 3.2.3): one Reply per VEVENT and ATTENDEE.

    Raises ICalError with a Swedish message for anything that is not a usable REPLY.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ICalError(N_("Filen är inte en kalenderfil i UTF-8.")) from None
    text = data.strip()
    if not text:
        raise ICalError(N_("Svaret är tomt. Ladda upp eller klistra in svarets .ics-fil."))
    if not text.upper().startswith("BEGIN:VCALENDAR"):
        raise ICalError(N_("Det här är ingen kalenderfil (den ska börja med BEGIN:VCALENDAR)."))
    from icalendar import Calendar

    try:
        cal = Calendar.from_ical(text)
    except Exception:  # icalendar raises ValueError and friends for broken content
        raise ICalError(N_("Kalenderfilen kunde inte läsas: den är trasig eller ofullständig.")) from None
    method = _text(cal.get("method")).upper()
    if method != REPLY:
        raise ICalError(N_("Filen är inget svar på en inbjudan (METHOD är %(method)s, inte REPLY)."),
                        method=method or N_("inte angiven"))
    replies: list[Reply] = []
    events = cal.walk("VEVENT")
    if not events:
        raise ICalError(N_("Svaret innehåller ingen händelse (VEVENT)."))
    for vevent in events:
        uid = _text(vevent.get("uid")).strip()
        if not uid:
            raise ICalError(N_("Svaret saknar UID och kan inte kopplas till något besök."))
        try:
            sequence = int(vevent.get("sequence", 0))
        except (TypeError, ValueError):
            raise ICalError(N_("Svaret har ett ogiltigt SEQUENCE-värde.")) from None
        stamp = vevent.get("dtstamp")
        try:
            dtstamp = _utc(stamp.dt) if stamp is not None and isinstance(stamp.dt, datetime) \
                and stamp.dt.tzinfo is not None else None
        except (AttributeError, TypeError, ValueError):
            dtstamp = None
        attendees = vevent.get("attendee")
        if attendees is None:
            raise ICalError(N_("Svaret saknar ATTENDEE: det framgår inte vem som svarar."))
        if not isinstance(attendees, list):
            attendees = [attendees]
        comment = _text(vevent.get("comment"))
        if isinstance(vevent.get("comment"), list):
            comment = "\n".join(_text(c) for c in vevent.get("comment"))
        for attendee in attendees:
            address = _text(attendee).strip()
            if address.lower().startswith("mailto:"):
                address = address[7:]
            address = address.strip().lower()
            if "@" not in address:
                raise ICalError(N_("Svaret har en ATTENDEE utan e-postadress."))
            partstat = _text(getattr(attendee, "params", {}).get("PARTSTAT", "")).upper()
            if partstat not in REPLY_PARTSTATS:
                raise ICalError(N_("Svaret från %(email)s har inget giltigt svar (PARTSTAT %(partstat)s)."),
                                email=address, partstat=partstat or N_("saknas"))
            replies.append(Reply(uid=uid, sequence=sequence, attendee_email=address,
                                 partstat=partstat, comment=comment, dtstamp=dtstamp))
    return replies


def build_reply(uid: str, sequence: int, attendee_email: str, partstat: str, organizer_email: str,
                attendee_name: str = "", comment: str = "", now: datetime | None = None) -> bytes:
    """An iTIP REPLY as an attendee's client would send it (for tests and for staff tooling)."""
    cal = _calendar(REPLY)
    cal["prodid"] = "-//Test//Reply//SV"
    from icalendar import Event as VEvent

    vevent = VEvent()
    vevent.add("uid", uid)
    vevent.add("sequence", sequence)
    vevent.add("dtstamp", _utc(_now(now)))
    vevent.add("organizer", _address(organizer_email, ""))
    address = _address(attendee_email, attendee_name)
    address.params["PARTSTAT"] = partstat
    vevent.add("attendee", address)
    if comment:
        vevent.add("comment", comment)
    cal.add_component(vevent)
    return cal.to_ical()
