"""The feedback letters' workflow: draft, save texts (revisions, no lost update), approve, send, the kommun's link.

Plain words: staff open a draft for a site's visit once the visit is held. The draft shows what
the letter will say (content.gather, read afresh) and has a few text boxes. Every save that
changes a text keeps a revision; a save based on an older version of the letter is refused and
changes nothing (StaleError), like the report narratives. Approving stores the letter as it
stands (texts and gathered content) with who approved it and when; changing a text of an approved
letter takes it back to a draft. Sending makes the kommun's own link (signed, expiring, revocable:
coordinator/links.py, salt "feedback-letter") and writes the mail that announces it to the
site's active contacts into the outbox, in the same transaction. The letter then "väntar i
utkorgen" until the mail server has taken the mail. A sent letter no longer changes.

The audit log gets ids, rounds, revision numbers and the outbox id, never the letter's text.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import links
from ..audit import record
from ..contacts.models import Contact
from ..extensions import db
from ..i18n import _
from ..outbox.models import PENDING, OutboxMessage
from ..sampling.models import Site
from ..scheduling.models import GENOMFORD, Visit
from ..timeutil import utcnow
from ..versions import Stale
from . import content as gathered
from .models import APPROVED, DRAFT, SECTIONS, SENT, FeedbackLetter, FeedbackLink, FeedbackRevision

LINK_SALT = "feedback-letter"
LINK_DAYS = 730          # the kommun's link works two years after sending
TEXT_MAX = 20_000
ROUNDS = (1, 2)
MAIL_KIND = "aterkoppling"
LINK_ACTOR = "kommunens länk {id}"


class LetterError(Exception):
    """A request the workflow refuses; the message is for the user."""


class StaleError(LetterError, Stale):
    """The form was based on an older version of the letter: nothing was changed."""


def clean_text(text: str | None) -> str:
    return "\n".join(line.rstrip() for line in (text or "").replace("\x00", "").replace("\r\n", "\n")
                     .replace("\r", "\n").split("\n")).strip()


def _check(expected, actual: int) -> None:
    if expected is None or str(expected).strip() != str(actual):
        raise StaleError(_("Någon annan har ändrat brevet sedan du öppnade sidan. Det du skickade har inte sparats."))


def _uid(user) -> int | None:
    return getattr(user, "id", None)


# --------------------------------------------------------------------------- reading

def letter_for(site_id: int, round_: int) -> FeedbackLetter | None:
    return db.session.scalar(select(FeedbackLetter).where(FeedbackLetter.site_id == site_id,
                                                          FeedbackLetter.round == round_))


def letters_of_site(site_id: int) -> dict[int, FeedbackLetter]:
    return {row.round: row for row in db.session.scalars(select(FeedbackLetter)
                                                         .where(FeedbackLetter.site_id == site_id))}


def visit_for(site_id: int, round_: int) -> Visit | None:
    return db.session.scalar(select(Visit).where(Visit.site_id == site_id, Visit.round == round_))


@dataclass
class Row:
    """One held visit with its letter (None: not started)."""
    visit: Visit
    letter: FeedbackLetter | None

    @property
    def due(self) -> bool:
        return self.letter is None or self.letter.status == DRAFT


def overview() -> list[Row]:
    """Every held visit with its letter, the oldest visit first. Three SQL statements, whatever the number."""
    visits = list(db.session.scalars(
        select(Visit).where(Visit.status == GENOMFORD)
        .options(joinedload(Visit.site).joinedload(Site.kommun)).order_by(Visit.date, Visit.id)))
    letters = {(row.site_id, row.round): row for row in db.session.scalars(
        select(FeedbackLetter).options(selectinload(FeedbackLetter.outbox_message)))}
    return [Row(v, letters.get((v.site_id, v.round))) for v in visits]


def due_rows() -> list[Row]:
    """Held visits without an approved or sent letter: work to do."""
    return [row for row in overview() if row.due]


def history(letter: FeedbackLetter) -> list[FeedbackRevision]:
    return list(db.session.scalars(select(FeedbackRevision).where(FeedbackRevision.letter_id == letter.id)
                                   .options(selectinload(FeedbackRevision.user))
                                   .order_by(FeedbackRevision.number.desc())))


def current(letter: FeedbackLetter) -> dict[str, Any]:
    """The letter as it reads now: the approved state when there is one, else the texts and fresh content."""
    if letter.status != DRAFT and letter.content:
        return letter.content
    return compose(letter)


def compose(letter: FeedbackLetter) -> dict[str, Any]:
    data = gathered.gather(letter.site, letter.round)
    data["texts"] = {s: letter.text(s) for s in SECTIONS}
    return data


# --------------------------------------------------------------------------- writing

def create_draft(site: Site, round_: int, user=None) -> FeedbackLetter:
    """A new draft for the site's held visit of the round (the existing letter if there is one)."""
    if round_ not in ROUNDS:
        raise LetterError(_("Omgången finns inte."))
    existing = letter_for(site.id, round_)
    if existing is not None:
        return existing
    visit = visit_for(site.id, round_)
    if visit is None or visit.status != GENOMFORD:
        raise LetterError(_("Besöket i omgång %(round)d är inte genomfört än; brevet skrivs efter besöket.",
                            round=round_))
    now = utcnow()
    letter = FeedbackLetter(site_id=site.id, round=round_, status=DRAFT, texts={s: "" for s in SECTIONS},
                            created_at=now, created_by_id=_uid(user), updated_at=now, updated_by_id=_uid(user))
    db.session.add(letter)
    db.session.flush()
    record("feedback.letter_created", letter, site_id=site.id, round=round_)
    return letter


def save_texts(letter: FeedbackLetter, base_version, texts: dict[str, str | None], user=None) -> FeedbackRevision | None:
    """Save the staff's texts as a new revision; None if nothing changed. An approved letter becomes a draft again."""
    _check(base_version, letter.version)
    if letter.status == SENT:
        raise LetterError(_("Brevet är skickat och ändras inte längre."))
    new = {s: clean_text(texts.get(s) if s in texts else letter.text(s)) for s in SECTIONS}
    for s, text in new.items():
        if len(text) > TEXT_MAX:
            raise LetterError(_("Texten får vara högst %(n)d tecken.", n=TEXT_MAX))
    if new == {s: letter.text(s) for s in SECTIONS}:
        return None
    number = (db.session.scalar(select(func.max(FeedbackRevision.number))
                                .where(FeedbackRevision.letter_id == letter.id)) or 0)
    was_approved = letter.status == APPROVED
    letter.texts = new
    letter.updated_at, letter.updated_by_id = utcnow(), _uid(user)
    if was_approved:
        letter.status, letter.content, letter.approved_at, letter.approved_by_id = DRAFT, None, None, None
    revision = FeedbackRevision(letter=letter, number=number + 1, texts=new, user_id=_uid(user))
    db.session.add(revision)
    db.session.flush()
    record("feedback.letter_saved", letter, site_id=letter.site_id, round=letter.round, revision=revision.number,
           sections=[s for s in SECTIONS if new[s]], approval_withdrawn=was_approved)
    return revision


def approve_problems(letter: FeedbackLetter) -> list[str]:
    """Why the letter cannot be approved now (empty: it can)."""
    if letter.status != DRAFT:
        return [_("Brevet är redan godkänt.")]
    if not any(letter.text(s) for s in SECTIONS):
        return [_("Skriv minst en av brevets texter innan det godkänns.")]
    return []


def approve(letter: FeedbackLetter, base_version, user=None) -> None:
    """Freeze the letter as it reads now, with who approved it and when."""
    _check(base_version, letter.version)
    problems = approve_problems(letter)
    if problems:
        raise LetterError(problems[0])
    letter.content = compose(letter)
    letter.status, letter.approved_at, letter.approved_by_id = APPROVED, utcnow(), _uid(user)
    db.session.flush()
    record("feedback.letter_approved", letter, site_id=letter.site_id, round=letter.round, version=letter.version)


def contacts_of(site_id: int) -> list[Contact]:
    return list(db.session.scalars(select(Contact).where(Contact.site_id == site_id, Contact.active.is_(True))
                                   .order_by(Contact.id)))


def send_problems(letter: FeedbackLetter) -> list[str]:
    if letter.status == SENT:
        return [_("Brevet är redan skickat.")]
    if letter.status != APPROVED:
        return [_("Brevet måste godkännas innan det skickas.")]
    if not contacts_of(letter.site_id):
        return [_("%(site)s har inga aktiva kontakter att skicka till. Lägg till en kontakt först.",
                  site=letter.site.label)]
    return []


def token_for(link: FeedbackLink) -> str:
    return links.token_for(link, LINK_SALT)


def letter_url(link: FeedbackLink) -> str:
    return links.external_url("feedback.kommun_letter", token=token_for(link))


def active_link(letter: FeedbackLetter) -> FeedbackLink | None:
    for link in reversed(letter.links):
        if links.link_state(link) == links.ACTIVE:
            return link
    return None


def send(letter: FeedbackLetter, base_version, user=None, today: date | None = None) -> OutboxMessage:
    """Make the kommun's link and queue the mail that announces the letter. Does not commit."""
    from ..outbox.letters import as_text
    from ..scheduling.defaults import organizer
    from . import mailtext
    _check(base_version, letter.version)
    problems = send_problems(letter)
    if problems:
        raise LetterError(problems[0])
    contacts = contacts_of(letter.site_id)
    now = utcnow().replace(microsecond=0)
    last_day = (today or links.today()) + timedelta(days=LINK_DAYS)
    link = FeedbackLink(letter=letter, nonce=links.new_nonce(), created_at=now,
                        expires_at=links.expires_at_for(last_day))
    db.session.add(link)
    db.session.flush()
    name, email = organizer()
    mail = mailtext.Mail(site=letter.site.label, round=letter.round, url=letter_url(link), last_day=last_day,
                         organizer_name=name, organizer_email=email)
    msg = mailtext.build_message(mail, [(c.name, c.email) for c in contacts], now)
    message = OutboxMessage(kind=MAIL_KIND, topic=f"aterkoppling:{letter.id}:{link.id}",
                            recipients=", ".join(c.email for c in contacts), subject=mailtext.subject(mail)[:300],
                            message=as_text(msg), status=PENDING, attempts=0, next_attempt_at=now, last_error="")
    db.session.add(message)
    db.session.flush()
    letter.status, letter.sent_at, letter.sent_by_id, letter.outbox_message_id = SENT, now, _uid(user), message.id
    db.session.flush()
    record("feedback.letter_sent", letter, site_id=letter.site_id, round=letter.round, outbox_id=message.id,
           link_id=link.id, recipients=len(contacts))
    return message


# --------------------------------------------------------------------------- the kommun's link

def resolve_token(token: str) -> FeedbackLink:
    return links.resolve(token, LINK_SALT, FeedbackLink)


def touch_link(link: FeedbackLink) -> None:
    link.last_used_at = utcnow()


# --------------------------------------------------------------------------- files

def filename(data: dict[str, Any], ext: str) -> str:
    """aterkopplingsbrev-<site>-omgang-<n>.<ext>, ASCII."""
    import re
    import unicodedata
    label = unicodedata.normalize("NFKD", str(data.get("site", ""))).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "plats"
    return f"aterkopplingsbrev-{slug}-omgang-{data.get('round')}.{ext}"
