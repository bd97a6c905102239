"""The demo's feedback letters: the held visits' letters in every state, as the office would have them.

Plain words: most held visits of the first round have had their letter (sent, the mail delivered);
a few recent ones are approved and wait to be sent, a few are drafts, and the latest visits have
none yet, so the start page shows letters due. Texts are marked as invented like the rest of the demo.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload


from ..auth.models import User
from ..extensions import db
from ..feedback import service

from ..outbox.models import SENT
from ..scheduling.models import GENOMFORD, Visit
from .build import Demo, at, backdate, marked

INTRO = ("Tack för att ni tog emot oss vid besöket i {site}. Vi uppskattade det öppna samtalet med ledningen "
         "och med de fackliga företrädarna.")
SUMMARY = ("Vi ser en verksamhet som arbetar medvetet med att stärka barnets perspektiv. De största utmaningarna "
           "gäller personalens kontinuitet och samverkan med skolan, som också står i er handlingsplan.")
NEXT = "Vid det andra besöket följer vi upp handlingsplanen tillsammans med er."


def make_letters(demo: Demo) -> None:
    user = db.session.scalar(select(User).where(User.active.is_(True), User.role.in_(("admin", "staff")))
                             .order_by(User.id))
    visits = list(db.session.scalars(select(Visit).where(Visit.status == GENOMFORD)
                                     .options(joinedload(Visit.site)).order_by(Visit.date, Visit.id)))
    n = len(visits)
    for i, visit in enumerate(visits):
        share = i / max(n, 1)
        if share >= 0.85:
            continue  # the latest visits: no letter yet (due on the start page)
        site = visit.site
        letter = service.create_draft(site, visit.round, user)
        texts = {"inledning": marked(INTRO.format(site=site.label)), "sammanfattning": marked(SUMMARY),
                 "fortsattning": marked(NEXT) if visit.round == 1 else ""}
        revision = service.save_texts(letter, letter.version, texts, user)
        written = min(visit.date + timedelta(days=7), demo.as_of)
        backdate(revision, created_at=at(written, 8))
        if share < 0.75:
            service.approve(letter, letter.version, user)
        if share < 0.65 and service.contacts_of(site.id):
            message = service.send(letter, letter.version, user)
            message.status, message.attempts = SENT, 1
            message.created_at = message.next_attempt_at = at(written, 9)
            message.sent_at = at(written, 9, 5)
            backdate(letter, sent_at=at(written, 9))
        if letter.approved_at is not None:
            backdate(letter, approved_at=at(written, 8, 30))
        backdate(letter, created_at=at(min(visit.date + timedelta(days=3), written), 7), updated_at=at(written, 8))
    db.session.flush()


