"""Invitations for the visits: calendars and mails from the database, queued in the outbox.

Asked by the visits through their signals (coordinator/scheduling/signals.py, answered after queue_cancel
below), in the same transaction as the change it announces: nothing here commits. The calendar and the mail
are always in Swedish (the recipients are Swedish kommuner), whatever language the member of staff uses;
messages for staff go through gettext.
"""
from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timezone

from blinker import Namespace
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..audit import actor_of, record
from ..contacts.models import CONTACT_ROLES, PARTSTATS, Attendee
from ..extensions import db
from ..i18n import _
from ..outbox import letters
from ..outbox.models import PENDING, OutboxMessage
from ..sampling.models import Site
from ..scheduling import signals as visit_signals
from ..scheduling.defaults import organizer
from ..scheduling.models import BOOKED, FORSLAG, INSTALLD, Visit, VisitPart
from ..scheduling.service import VisitError
from ..timeutil import utcnow
from . import ical, mail
from .models import FeedToken

ROLE_LABELS = dict(CONTACT_ROLES)
# Capabilities above this one add (text, link) pairs to a visit's invitation by connecting a receiver that takes the
# visit and returns a list of them (measurement: the site's unanswered questionnaire), so invites never calls up.
invitation_extras = Namespace().signal("invitation-extras")


class InviteError(Exception):
    """A request that cannot be carried out; the message is for the user (translated)."""


def _ical_error(e: ical.ICalError) -> InviteError:
    # Parameters that are themselves marked words ("saknas") are translated too.
    params = {k: _(v) if v in ical.MARKED_WORDS else v for k, v in e.params.items()}
    return InviteError(_(e.message, **params))


# --- the calendar event of a visit -------------------------------------------------------

def programme(visit: Visit, with_people: bool = True) -> tuple[ical.ProgrammeItem, ...]:
    items = []
    for part in visit.parts:
        invited = tuple(f"{c.name} ({ROLE_LABELS.get(c.role, c.role)})" for c in part.contacts) \
            if with_people else ()
        items.append(ical.ProgrammeItem(part.title, part.start_time, part.end_time, invited))
    return tuple(items)


def event_status(visit: Visit) -> str:
    if visit.status == INSTALLD:
        return ical.CANCELLED
    if visit.status == FORSLAG:
        return ical.TENTATIVE
    return ical.CONFIRMED


def visit_event(visit: Visit) -> ical.Event:
    """The visit as a calendar event (times in Europe/Stockholm), with its programme and attendees."""
    if visit.date is None:
        raise InviteError(_("Besöket har inget datum ännu."))
    start = datetime.combine(visit.date, visit.start_time, tzinfo=ical.STOCKHOLM)
    end = datetime.combine(visit.date, visit.end_time, tzinfo=ical.STOCKHOLM)
    if end <= start:
        raise InviteError(_("Besökets sluttid måste vara efter starttiden."))
    site = visit.site
    items = programme(visit)
    description = ical.programme_text(
        items, intro="Besök inom uppdraget som nationell samordnare för den sociala barn- och ungdomsvården.")
    name, email = organizer()
    return ical.Event(
        uid=visit.uid,
        sequence=visit.sequence or 0,
        start=start,
        end=end,
        summary=f"Besök av nationella samordnaren – {site.label} (omgång {visit.round})",
        location=visit.location or site.kommun.namn,
        description=description,
        organizer_name=name,
        organizer_email=email,
        attendees=tuple(ical.Person(a.name, a.email, a.role or "REQ-PARTICIPANT", a.partstat or "NEEDS-ACTION")
                        for a in visit.attendees),
        status=event_status(visit),
        programme=items,
        staff=tuple(m.name for m in visit.staff),
    )


def calendar_for(visit: Visit, method: str | None = None) -> bytes:
    """The visit's current calendar with its current SEQUENCE: METHOD:CANCEL for a cancelled visit (a
    REQUEST would create the meeting again), else METHOD:REQUEST with each attendee's known answer."""
    event = visit_event(visit)
    method = method or (ical.CANCEL if visit.status == INSTALLD else ical.REQUEST)
    if method == ical.REQUEST:
        return ical.to_bytes(ical.request(event, keep_answers=True))
    if method == ical.CANCEL:
        return ical.to_bytes(ical.cancel(event))
    raise ValueError(f"unsupported method {method}")


# --- queueing ----------------------------------------------------------------------------
# Generic over what the invitation is for: a Visit or an Event (coordinator/events), both with
# `uid`, `sequence`, `sent_sequence` and `attendees`; the outbox row points at it by its table name.

def _attendees_of(owner, people) -> list[Attendee]:
    addresses = {p.email.strip().casefold() for p in people}
    return [a for a in owner.attendees if a.email.strip().casefold() in addresses]


def queue(owner, method: str, event: ical.Event, update: bool, user=None, wording: mail.Wording = mail.VISIT,
          to: tuple[ical.Person, ...] | None = None, extra: tuple[tuple[str, str], ...] = (),
          removed: bool = False) -> OutboxMessage:
    """Write the iMIP mail of `event` to the outbox for `owner` (a visit or an event). Does not commit.

    `to`: the recipients when not every attendee (people added after the invitation went out, a resend
    that concerns some only, a person taken off the list: `removed`). A REQUEST carries each attendee's
    known answer (reset beforehand by ask_again when time or place changed).
    """
    now = utcnow()
    if method == ical.REQUEST:
        calendar = ical.to_bytes(ical.request(event, now, keep_answers=True))
    else:
        calendar = ical.to_bytes(ical.cancel(event, now))
    msg = mail.build_message(event, method, calendar, update=update, now=now, wording=wording, to=to, extra=extra,
                             removed=removed)
    recipients = event.attendees if to is None else to
    message = OutboxMessage(
        kind=method.lower(), sequence=event.sequence,
        recipients=", ".join(p.email for p in recipients),
        subject=letters.one_line(mail.subject(event, method, update, removed, wording))[:300],
        message=letters.as_text(msg),
        status=PENDING, attempts=0, next_attempt_at=now, last_error="", **{owner.__tablename__: owner})
    db.session.add(message)
    owner.sent_sequence = event.sequence
    if method == ical.REQUEST:
        for attendee in _attendees_of(owner, recipients):
            attendee.sent_sequence = event.sequence
    db.session.flush()
    record("invite.queued", owner, method=method, sequence=event.sequence, outbox_id=message.id,
           recipients=len(recipients), **({"removed": True} if removed else {}), **actor_of(user))
    return message


def ask_again(owner, reask: bool = True) -> bool:
    """Before a REQUEST: True when one was sent before (an update). When SEQUENCE rose since (time or
    place changed), every attendee's answer goes back to NEEDS-ACTION: they are asked again (unless
    `reask` is False: a change that does not touch whether they can come, such as a new title)."""
    update = owner.sent_sequence is not None
    if update and reask and (owner.sequence or 0) > owner.sent_sequence:
        for attendee in owner.attendees:
            attendee.partstat, attendee.responded_at, attendee.reply_stamp = "NEEDS-ACTION", None, None
    return update


def concerned(owner) -> list[Attendee]:
    """Who a REQUEST at the owner's current SEQUENCE goes to. A new time or place (SEQUENCE rose), or the
    first invitation: everyone. A resend at the same SEQUENCE (a new programme): those who have not
    declined, and anyone not yet invited; someone who said no is not asked again for a programme."""
    if owner.sent_sequence is None or (owner.sequence or 0) > owner.sent_sequence:
        return list(owner.attendees)
    return [a for a in owner.attendees if a.partstat != "DECLINED" or a.sent_sequence is None]


def queue_request(visit: Visit, user=None) -> OutboxMessage:
    """Queue METHOD:REQUEST with the visit's current SEQUENCE to those it concerns. Does not commit.

    The caller raises `visit.sequence` first when time or place changed after an earlier send;
    every attendee's answer then goes back to NEEDS-ACTION (they are asked again). A resend at the
    same SEQUENCE keeps every known answer and leaves out those who declined.
    """
    if visit.status == INSTALLD:
        raise InviteError(_("Besöket är inställt; en inbjudan kan inte skickas."))
    if not visit.attendees:
        raise InviteError(_("Besöket har inga inbjudna kontakter"))
    people = concerned(visit)
    if not people:
        raise InviteError(_("Alla inbjudna har tackat nej; det finns ingen att skicka inbjudan till."))
    update = ask_again(visit)
    event = visit_event(visit)
    to = None if len(people) == len(visit.attendees) else \
        tuple(p for a, p in zip(visit.attendees, event.attendees) if a in people)
    extra = tuple(pair for _receiver, pairs in invitation_extras.send(visit) for pair in pairs)
    return queue(visit, ical.REQUEST, event, update, user, to=to, extra=extra)


def cancel_owner(owner, build, user=None, wording: mail.Wording = mail.VISIT,
                 sendable: bool = True) -> OutboxMessage | None:
    """Raise SEQUENCE and queue METHOD:CANCEL (same UID) to every attendee. Does not commit.

    `build` makes the calendar event of `owner` (called after SEQUENCE is raised). Returns None,
    queueing nothing, when no invitation was ever sent, nobody is invited or the owner cannot be
    sent (`sendable` False): there is then no calendar entry to remove. SEQUENCE rises in every case.
    """
    owner.sequence = (owner.sequence or 0) + 1
    if owner.sent_sequence is None or not owner.attendees or not sendable:
        record("invite.cancel_not_sent", owner, sequence=owner.sequence, **actor_of(user))
        return None
    return queue(owner, ical.CANCEL, build(owner), False, user, wording)


def uninvite(owner, attendee: Attendee, build, user=None, wording: mail.Wording = mail.VISIT,
             sendable: bool = True) -> OutboxMessage | None:
    """Take `attendee` off `owner`'s list. Someone who had the invitation gets METHOD:CANCEL (same UID,
    SEQUENCE raised, that attendee alone in it), so the entry leaves their calendar; the others keep
    theirs and are not written to. Returns the queued mail, or None when the person never had an
    invitation (or the owner cannot be sent). Does not commit."""
    message = None
    if attendee.sent_sequence is not None and sendable and attendee in owner.attendees:
        owner.sequence = (owner.sequence or 0) + 1
        event = build(owner)
        person = next(p for a, p in zip(owner.attendees, event.attendees) if a is attendee)
        event = replace(event, attendees=(person,))
        message = queue(owner, ical.CANCEL, event, False, user, wording, to=(person,), removed=True)
    owner.attendees.remove(attendee)
    db.session.flush()
    return message


def visit_uninvite(visit: Visit, attendee: Attendee, user=None) -> OutboxMessage | None:
    """Take a person off a visit: also off its programme, so a later resend does not invite them again."""
    if attendee.contact_id is not None:
        for part in visit.parts:
            part.contacts = [c for c in part.contacts if c.id != attendee.contact_id]
    message = uninvite(visit, attendee, visit_event, user, sendable=visit.date is not None)
    visit.updated_at = utcnow()  # the visit row changes: its version rises, a form loaded before is stale
    record("visit.attendee_removed", visit, attendee_id=attendee.id, cancel_sent=message is not None,
           **actor_of(user))
    return message


def queue_cancel(visit: Visit, user=None) -> OutboxMessage | None:
    """Raise SEQUENCE and queue METHOD:CANCEL (same UID) to every attendee. Does not commit.

    Returns None, queueing nothing, when no invitation was ever sent or nobody is invited: there
    is then no calendar entry to remove. The SEQUENCE is raised in every case.
    """
    return cancel_owner(visit, visit_event, user, sendable=visit.date is not None)


def withdraw_contact(contact, user=None) -> list[OutboxMessage]:
    """A contact made inactive leaves the lists of the visits still to come (neither held nor cancelled),
    and whoever had an invitation gets a CANCEL. Does not commit. Returns the queued mails."""
    from ..scheduling.models import GENOMFORD
    messages = []
    rows = db.session.scalars(select(Attendee).join(Visit, Attendee.visit_id == Visit.id).where(
        Attendee.contact_id == contact.id, Visit.status.notin_((INSTALLD, GENOMFORD)))).all()
    for attendee in rows:
        message = visit_uninvite(attendee.visit, attendee, user)
        if message is not None:
            messages.append(message)
    return messages


def coming_invitations(contact) -> list[Visit]:
    """The visits to come (neither held nor cancelled) that `contact` is on the list of."""
    from ..scheduling.models import GENOMFORD
    return list(db.session.scalars(select(Visit).join(Attendee, Attendee.visit_id == Visit.id).where(
        Attendee.contact_id == contact.id, Visit.status.notin_((INSTALLD, GENOMFORD))).order_by(Visit.date)))


@visit_signals.invitation_due.connect
def _visit_invitation_due(visit: Visit, user=None, **_kwargs) -> None:
    """A visit invited, moved or with a new programme: its REQUEST. The visits show a refusal as their own."""
    try:
        queue_request(visit, user)
    except InviteError as e:
        raise VisitError(str(e)) from e


@visit_signals.cancellation_due.connect
def _visit_cancellation_due(visit: Visit, user=None, **_kwargs) -> None:
    """A visit cancelled after its invitation went out: its CANCEL."""
    try:
        queue_cancel(visit, user)
    except InviteError as e:
        raise VisitError(str(e)) from e


# --- answers -----------------------------------------------------------------------------

def record_partstat(attendee: Attendee, partstat: str, comment: str = "", user=None) -> Attendee:
    """Staff record an attendee's answer (from a phone call, an e-mail…). Does not commit."""
    partstat = (partstat or "").upper()
    if partstat not in PARTSTATS:
        raise InviteError(_("Ogiltigt svar: %(partstat)s.", partstat=partstat or "–"))
    attendee.partstat = partstat
    attendee.comment = comment or ""
    attendee.responded_at = utcnow()
    # The comment may hold personal details: the log says only whether there was one.
    owner = {"event_id": attendee.event_id} if attendee.event_id is not None else {"visit_id": attendee.visit_id}
    record("invite.partstat", attendee, **owner, partstat=partstat, comment=bool(comment), **actor_of(user))
    return attendee


class ReplyResult(list):
    """The attendees whose answer was applied (a list), and those whose answer was not: `superseded`
    answered an older version of the invitation, `outdated` were older than an answer already applied."""

    def __init__(self, updated=(), superseded=(), outdated=()):
        super().__init__(updated)
        self.superseded, self.outdated = list(superseded), list(outdated)


def _utc(dt: datetime | None) -> datetime | None:
    """SQLite gives the digits back without a zone: every time stamp here is UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def sent_sequences(owner) -> set[int]:
    """The SEQUENCEs of every invitation (REQUEST) written to the outbox for `owner`."""
    column = getattr(OutboxMessage, f"{owner.__tablename__}_id")
    return set(db.session.scalars(select(OutboxMessage.sequence).where(
        column == owner.id, OutboxMessage.kind == "request", OutboxMessage.sequence.isnot(None))))


def _reply_target(reply: ical.Reply, owner):
    if owner is not None and reply.uid == owner.uid:
        return owner
    visit = db.session.scalar(select(Visit).where(Visit.uid == reply.uid))
    if visit is not None and owner is None:
        return visit
    if visit is not None:
        raise InviteError(_("Svaret gäller ett annat besök (%(label)s, omgång %(round)s).",
                            label=visit.site.label, round=visit.round))
    if owner is not None and not isinstance(owner, Visit):
        raise InviteError(_("Svaret gäller en annan kalenderhändelse än det här dialogforumet."))
    raise InviteError(_("Svaret gäller en kalenderhändelse som inte finns här (UID %(uid)s).", uid=reply.uid))


def apply_reply(ics_bytes: bytes | str, user=None, owner=None, visit: Visit | None = None) -> ReplyResult:
    """Apply an attendee's iTIP REPLY to a visit's or an event's attendee. Does not commit.

    Matches the UID to `owner` (a visit or an event; without one, to a visit) and the ATTENDEE to an
    invited address. The order of answers is kept (RFC 5546 2.1.5): a reply must answer a SEQUENCE that
    was sent to that person, else it is refused; one to an older SEQUENCE than the person's last
    invitation is ignored (`superseded`), as is one to the same SEQUENCE whose DTSTAMP is not newer than
    the answer applied last (`outdated`). All or nothing: a reply that is refused changes nothing.
    """
    owner = owner if owner is not None else visit
    try:
        replies = ical.parse_reply(ics_bytes)
    except ical.ICalError as e:
        raise _ical_error(e) from None
    planned: list[tuple[Attendee, ical.Reply]] = []
    result = ReplyResult()
    sent_by_owner: dict[tuple[str, int], set[int]] = {}
    for reply in replies:
        target = _reply_target(reply, owner)
        attendee = next((a for a in target.attendees if a.email.strip().lower() == reply.attendee_email), None)
        if attendee is None:
            if isinstance(target, Visit):
                raise InviteError(_("%(email)s är inte inbjuden till besöket.", email=reply.attendee_email))
            raise InviteError(_("%(email)s är inte inbjuden till dialogforumet.", email=reply.attendee_email))
        key = (target.__tablename__, target.id)
        if key not in sent_by_owner:
            sent_by_owner[key] = sent_sequences(target)
        if attendee.sent_sequence is None or reply.sequence > attendee.sent_sequence \
                or reply.sequence not in sent_by_owner[key]:
            raise InviteError(_("Svaret från %(email)s gäller en version av inbjudan (%(n)d) som aldrig har "
                                "skickats till personen. Det har inte registrerats.",
                                email=reply.attendee_email, n=reply.sequence))
        if reply.sequence < attendee.sent_sequence:
            result.superseded.append(attendee)  # an answer to an older version of the invitation
            continue
        last = _utc(attendee.reply_stamp)
        if last is not None and (reply.dtstamp is None or reply.dtstamp <= last):
            result.outdated.append(attendee)  # a later answer from the same person is already applied
            continue
        planned.append((attendee, reply))
    for attendee, reply in planned:
        attendee.partstat = reply.partstat
        attendee.comment = reply.comment
        attendee.responded_at = utcnow()
        attendee.reply_stamp = reply.dtstamp
        owner_id = {"event_id": attendee.event_id} if attendee.event_id is not None else {"visit_id": attendee.visit_id}
        record("invite.reply", attendee, **owner_id, partstat=reply.partstat, sequence=reply.sequence,
               **actor_of(user))
        if attendee not in result:
            result.append(attendee)
    return result


# --- feeds ---------------------------------------------------------------------------------

def find_feed(token: str) -> FeedToken | None:
    """The feed of a token, revoked or not (None for an unknown token)."""
    if not token or len(token) > 64:
        return None
    feed = db.session.scalar(select(FeedToken).where(FeedToken.token == token))
    if feed is None or not secrets.compare_digest(feed.token, token):
        return None
    return feed


def active_feed(token: str) -> FeedToken | None:
    feed = find_feed(token)
    return feed if feed is not None and feed.revoked_at is None else None


# Other capabilities add their entries to the office's feed (coordinator/events adds the dialogue forums):
# each source returns (calendar events without people, the time of its latest change or None).
office_feed_sources: list = []


def feed_visits(feed: FeedToken) -> list[Visit]:
    """A site's feed: the visits the kommun has been told of (booked, or cancelled after an
    invitation). The office's feed: every dated visit, proposals as TENTATIVE."""
    # What visit_event reads, loaded with the visits: a feed costs the same few statements however long.
    query = (select(Visit).where(Visit.date.isnot(None)).order_by(Visit.date, Visit.start_time, Visit.id)
             .options(selectinload(Visit.site).joinedload(Site.kommun), selectinload(Visit.attendees),
                      selectinload(Visit.parts).selectinload(VisitPart.contacts), selectinload(Visit.staff)))
    if feed.site_id is not None:
        query = query.where(Visit.site_id == feed.site_id).where(
            Visit.status.in_(BOOKED) | ((Visit.status == INSTALLD) & Visit.sent_sequence.isnot(None)))
    return list(db.session.scalars(query))


def feed_calendar(feed: FeedToken) -> tuple[bytes, datetime]:
    """The feed's calendar and the time of its latest change (its Last-Modified, and the DTSTAMP of
    every entry, so that the same content always gives the same bytes and the same ETag)."""
    events, changes = [], [_utc(feed.created_at)]
    for visit in feed_visits(feed):
        try:
            events.append(visit_event(visit))
        except InviteError:
            continue  # an inconsistent visit (end before start) is left out rather than break the feed
        changes.append(_utc(visit.updated_at))
    if feed.site_id is None:
        for source in office_feed_sources:
            entries, changed = source()
            events += entries
            changes.append(_utc(changed))
    events.sort(key=lambda e: (e.start, e.uid))
    last_modified = max(c for c in changes if c is not None).replace(microsecond=0)
    name = (f"Samordnarens besök – {feed.site.label}" if feed.site_id is not None
            else "Nationella samordnarens besök och dialogforum")
    return ical.to_bytes(ical.feed(events, name, now=last_modified)), last_modified


def create_feed(site=None, user=None) -> FeedToken:
    """A new secret feed URL for a site (or the office, site=None). Does not commit."""
    feed = FeedToken(token=secrets.token_urlsafe(32), site=site,
                     created_by_id=getattr(user, "id", None), created_at=utcnow())
    db.session.add(feed)
    db.session.flush()
    # Never the token itself: it is the secret.
    record("feed.created", feed, site_id=feed.site_id, **actor_of(user))
    return feed


def revoke_feed(feed: FeedToken, user=None) -> FeedToken:
    if feed.revoked_at is None:
        feed.revoked_at = utcnow()
        record("feed.revoked", feed, site_id=feed.site_id, **actor_of(user))
    return feed


def pending_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.status == PENDING)) or 0
