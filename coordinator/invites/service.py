"""Invitations for the visits: calendars and mails from the database, queued in the outbox.

Called by the visits code in the same transaction as the change it announces: nothing here
commits. The calendar and the mail are always in Swedish (the recipients are Swedish kommuner),
whatever language the member of staff uses; messages for staff go through gettext.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select

from ..audit import record, utcnow
from ..extensions import db
from ..i18n import _
from ..scheduling import defaults
from ..scheduling.models import BOOKED, FORSLAG, INSTALLD, Visit
from . import ical, mail
from .models import CONTACT_ROLES, PARTSTATS, PENDING, Attendee, FeedToken, OutboxMessage

ROLE_LABELS = dict(CONTACT_ROLES)
ORGANIZER_FALLBACK = ("Nationella samordnaren för den sociala barn- och ungdomsvården", "samordnaren@example.se")


class InviteError(Exception):
    """A request that cannot be carried out; the message is for the user (translated)."""


def _ical_error(e: ical.ICalError) -> InviteError:
    # Parameters that are themselves marked words ("saknas") are translated too.
    params = {k: _(v) if v in ical.MARKED_WORDS else v for k, v in e.params.items()}
    return InviteError(_(e.message, **params))


def _actor(user) -> dict:
    """Who to name in the audit log: the logged-in user is found by record() itself (with the
    user id); outside a request (CLI, worker) the given user's e-mail, else "system"."""
    from flask import has_request_context
    from flask_login import current_user
    if has_request_context() and current_user.is_authenticated:
        return {}
    return {"actor": user.email} if user is not None and getattr(user, "email", None) else {}


# --- the calendar event of a visit -------------------------------------------------------

def organizer() -> tuple[str, str]:
    settings = defaults.assignment()
    if settings is None:
        return ORGANIZER_FALLBACK
    return settings.organizer_name, settings.organizer_email


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
    )


def calendar_for(visit: Visit, method: str = "REQUEST") -> bytes:
    """The visit's current calendar (METHOD:REQUEST or METHOD:CANCEL) with its current SEQUENCE."""
    event = visit_event(visit)
    if method == ical.REQUEST:
        return ical.to_bytes(ical.request(event))
    if method == ical.CANCEL:
        return ical.to_bytes(ical.cancel(event))
    raise ValueError(f"unsupported method {method}")


# --- queueing ----------------------------------------------------------------------------
# Generic over what the invitation is for: a Visit or an Event (coordinator/events), both with
# `uid`, `sequence`, `sent_sequence` and `attendees`; the outbox row points at it by its table name.

def queue(owner, method: str, event: ical.Event, update: bool, user=None, wording: mail.Wording = mail.VISIT,
          to: tuple[ical.Person, ...] | None = None, extra: tuple[tuple[str, str], ...] = ()) -> OutboxMessage:
    """Write the iMIP mail of `event` to the outbox for `owner` (a visit or an event). Does not commit.

    `to`: the recipients when not every attendee (people added after the invitation went out).
    """
    now = utcnow()
    calendar = ical.to_bytes(ical.request(event, now) if method == ical.REQUEST else ical.cancel(event, now))
    msg = mail.build_message(event, method, calendar, update=update, now=now, wording=wording, to=to, extra=extra)
    recipients = event.attendees if to is None else to
    message = OutboxMessage(
        kind=method.lower(), sequence=event.sequence,
        recipients=", ".join(p.email for p in recipients),
        subject=mail.subject(event, method, update)[:300], message=mail.as_text(msg),
        status=PENDING, attempts=0, next_attempt_at=now, last_error="", **{owner.__tablename__: owner})
    db.session.add(message)
    owner.sent_sequence = event.sequence
    db.session.flush()
    record("invite.queued", owner, method=method, sequence=event.sequence, outbox_id=message.id,
           recipients=len(recipients), **_actor(user))
    return message


def ask_again(owner) -> bool:
    """Before a REQUEST: True when one was sent before (an update). When SEQUENCE rose since (time or
    place changed), every attendee's answer goes back to NEEDS-ACTION: they are asked again."""
    update = owner.sent_sequence is not None
    if update and (owner.sequence or 0) > owner.sent_sequence:
        for attendee in owner.attendees:
            attendee.partstat, attendee.responded_at = "NEEDS-ACTION", None
    return update


def queue_request(visit: Visit, user=None) -> OutboxMessage:
    """Queue METHOD:REQUEST with the visit's current SEQUENCE to every attendee. Does not commit.

    The caller raises `visit.sequence` first when time or place changed after an earlier send;
    every attendee's answer then goes back to NEEDS-ACTION (they are asked again).
    """
    if visit.status == INSTALLD:
        raise InviteError(_("Besöket är inställt; en inbjudan kan inte skickas."))
    if not visit.attendees:
        raise InviteError(_("Besöket har inga inbjudna kontakter"))
    update = ask_again(visit)
    event = visit_event(visit)
    from ..measurement.service import invitation_links  # the site's unanswered questionnaire goes along
    return queue(visit, ical.REQUEST, event, update, user, extra=tuple(invitation_links(visit)))


def cancel_owner(owner, build, user=None, wording: mail.Wording = mail.VISIT,
                 sendable: bool = True) -> OutboxMessage | None:
    """Raise SEQUENCE and queue METHOD:CANCEL (same UID) to every attendee. Does not commit.

    `build` makes the calendar event of `owner` (called after SEQUENCE is raised). Returns None,
    queueing nothing, when no invitation was ever sent, nobody is invited or the owner cannot be
    sent (`sendable` False): there is then no calendar entry to remove. SEQUENCE rises in every case.
    """
    owner.sequence = (owner.sequence or 0) + 1
    if owner.sent_sequence is None or not owner.attendees or not sendable:
        record("invite.cancel_not_sent", owner, sequence=owner.sequence, **_actor(user))
        return None
    return queue(owner, ical.CANCEL, build(owner), False, user, wording)


def queue_cancel(visit: Visit, user=None) -> OutboxMessage | None:
    """Raise SEQUENCE and queue METHOD:CANCEL (same UID) to every attendee. Does not commit.

    Returns None, queueing nothing, when no invitation was ever sent or nobody is invited: there
    is then no calendar entry to remove. The SEQUENCE is raised in every case.
    """
    return cancel_owner(visit, visit_event, user, sendable=visit.date is not None)


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
    record("invite.partstat", attendee, **owner, partstat=partstat, comment=bool(comment), **_actor(user))
    return attendee


def apply_reply(ics_bytes: bytes | str, user=None, visit: Visit | None = None) -> list[Attendee]:
    """Apply an attendee's iTIP REPLY: update PARTSTAT of the matching attendee(s). Does not commit.

    Matches the UID to a visit (and to `visit`, when given) and the ATTENDEE to an invited
    e-mail address. A reply whose SEQUENCE is older than the last invitation sent answers a
    superseded time or place and is ignored (not in the returned list). All or nothing: any
    reply that cannot be matched raises InviteError and nothing is changed.
    """
    try:
        replies = ical.parse_reply(ics_bytes)
    except ical.ICalError as e:
        raise _ical_error(e) from None
    planned: list[tuple[Attendee, ical.Reply]] = []
    for reply in replies:
        target = db.session.scalar(select(Visit).where(Visit.uid == reply.uid))
        if target is None:
            raise InviteError(_("Svaret gäller en kalenderhändelse som inte finns här (UID %(uid)s).",
                                uid=reply.uid))
        if visit is not None and target.id != visit.id:
            raise InviteError(_("Svaret gäller ett annat besök (%(label)s, omgång %(round)s).",
                                label=target.site.label, round=target.round))
        attendee = next((a for a in target.attendees if a.email.strip().lower() == reply.attendee_email), None)
        if attendee is None:
            raise InviteError(_("%(email)s är inte inbjuden till besöket.", email=reply.attendee_email))
        if target.sent_sequence is not None and reply.sequence < target.sent_sequence:
            continue  # an answer to an older version of the invitation
        planned.append((attendee, reply))
    updated = []
    for attendee, reply in planned:
        attendee.partstat = reply.partstat
        attendee.comment = reply.comment
        attendee.responded_at = utcnow()
        record("invite.reply", attendee, visit_id=attendee.visit_id, partstat=reply.partstat,
               sequence=reply.sequence, **_actor(user))
        if attendee not in updated:
            updated.append(attendee)
    return updated


# --- feeds ---------------------------------------------------------------------------------

def active_feed(token: str) -> FeedToken | None:
    if not token or len(token) > 64:
        return None
    feed = db.session.scalar(select(FeedToken).where(FeedToken.token == token))
    if feed is None or feed.revoked_at is not None or not secrets.compare_digest(feed.token, token):
        return None
    return feed


def feed_visits(feed: FeedToken) -> list[Visit]:
    """A site's feed: the visits the kommun has been told of (booked, or cancelled after an
    invitation). The office's feed: every dated visit, proposals as TENTATIVE."""
    query = select(Visit).where(Visit.date.isnot(None)).order_by(Visit.date, Visit.start_time, Visit.id)
    if feed.site_id is not None:
        query = query.where(Visit.site_id == feed.site_id).where(
            Visit.status.in_(BOOKED) | ((Visit.status == INSTALLD) & Visit.sent_sequence.isnot(None)))
    return list(db.session.scalars(query))


def feed_calendar(feed: FeedToken) -> bytes:
    events = []
    for visit in feed_visits(feed):
        try:
            events.append(visit_event(visit))
        except InviteError:
            continue  # an inconsistent visit (end before start) is left out rather than break the feed
    name = (f"Samordnarens besök – {feed.site.label}" if feed.site_id is not None
            else "Nationella samordnarens besök")
    return ical.to_bytes(ical.feed(events, name))


def create_feed(site=None, user=None) -> FeedToken:
    """A new secret feed URL for a site (or the office, site=None). Does not commit."""
    feed = FeedToken(token=secrets.token_urlsafe(32), site=site,
                     created_by_id=getattr(user, "id", None), created_at=utcnow())
    db.session.add(feed)
    db.session.flush()
    # Never the token itself: it is the secret.
    record("feed.created", feed, site_id=feed.site_id, **_actor(user))
    return feed


def revoke_feed(feed: FeedToken, user=None) -> FeedToken:
    if feed.revoked_at is None:
        feed.revoked_at = utcnow()
        record("feed.revoked", feed, site_id=feed.site_id, **_actor(user))
    return feed


def pending_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.status == PENDING)) or 0
