"""Date offers in the demo: one kommun has open dates to choose among, another answered that none fits.

Made after the visits, on the two latest unbooked (proposed) visits, through the offers service, so the
start page's "Datum till kommunerna" section and the visit pages show both kinds. Both were sent nine
days before the demo's day (so the open one is past the reminder days); the answer came five days later.
Everything is dated in the demo's time, the log included. The mails go to the outbox like every other
demo mail (and are marked sent with them).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..audit import AuditEvent
from ..extensions import db
from ..outbox.models import OutboxMessage
from ..scheduling import offers
from ..scheduling import service as visits
from ..scheduling.models import FORSLAG
from .build import Demo, at, backdate, marked

SENT_DAYS_BEFORE, ANSWERED_DAYS_BEFORE = 9, 4


def make_offers(demo: Demo) -> None:
    proposed = sorted((v for v in visits.visits() if v.status == FORSLAG and v.date is not None and not v.agreed),
                      key=lambda v: (v.date, v.id))
    if len(proposed) < 2:
        return
    sent = at(demo.as_of - timedelta(days=SENT_DAYS_BEFORE), 9)
    answered_at = at(demo.as_of - timedelta(days=ANSWERED_DAYS_BEFORE), 14)
    first_event = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    made = []
    for visit in (proposed[-1], proposed[-2]):
        try:
            made.append(offers.offer(visit, count=3, now=sent))
        except offers.OfferError:
            break  # no contacts or no day left: the demo goes without (the rest of) them
    for row in made:
        backdate(db.session.get(OutboxMessage, row.outbox_message_id), created_at=sent, next_attempt_at=sent)
    answered = made[1] if len(made) == 2 else None
    if answered is not None:
        own = [d for d in (c.day for c in offers.candidate_days(proposed[-2], check_taken=False))
               if d.isoformat() not in answered.dates][:2]
        offers.none_fits(answered, own, marked("Socialnämnden sammanträder de dagarna. Kan ni komma veckan efter?"),
                         "Demo Kontaktperson", expected_version=answered.version)
        backdate(answered, answered_at=answered_at, last_used_at=answered_at)
    # Every offer event in the demo's time, also when the second offer failed.
    for e in db.session.scalars(select(AuditEvent).where(AuditEvent.id > first_event,
                                                         AuditEvent.action.startswith("offer."))):
        backdate(e, at=answered_at if e.action == "offer.none_fits" else sent)
