"""Reminders to the office that a report to the minister is due (`coordinator report remind`, daily from cron).

Plain words: every active admin and staff member gets one mail for each report that is due within
the assignment's `report_reminder_days` (or is overdue) and has no issued version yet. The mail
says the period, the due date, which texts are still empty and where the report page is. Each mail
carries the topic "rapport:<period key>:<user id>" (unique in the outbox), so running the command
again, or two runs at once, never queues a second one. The audit log gets the period and how many
were queued, never the text.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import links
from ..audit import record
from ..auth.models import User
from ..extensions import db
from ..outbox.letters import as_text
from ..outbox.models import PENDING, OutboxMessage
from ..scheduling.defaults import assignment, organizer
from ..timeutil import utcnow
from . import mailtext
from .rhythm import DueReport, report_status

KIND = "rapport"
LOCALE = "sv"  # the office's language, whoever runs the command


def topic(period_key: str, user_id: int) -> str:
    return f"{KIND}:{period_key}:{user_id}"


@dataclass
class Reminders:
    queued: list[tuple[DueReport, User]] = field(default_factory=list)
    already: int = 0   # reminders that had been queued before (this run or another)


def due_for_reminder(on: date) -> list[DueReport]:
    """Reports without an issued version that are overdue or due within the reminder days."""
    days = assignment().report_reminder_days
    return [r for r in report_status(on) if not r.issued and (r.overdue or (r.due - on).days <= days)]


def _letter(report: DueReport, user: User, sender: tuple[str, str]) -> mailtext.Letter:
    from .service import SECTION_TITLES
    p = report.period
    return mailtext.Letter(
        name=user.name, period=p.label, start=p.start, end=p.end, due=report.due,
        empty_sections=tuple(str(SECTION_TITLES[s]) for s in report.empty_sections),
        url=links.external_url("reports.draft", period=p.key), overdue=report.overdue,
        organizer_name=sender[0], organizer_email=sender[1])


def remind(on: date) -> Reminders:
    """Queue the reminders that are due on a day. Does not commit (see queue_and_commit)."""
    out = Reminders()
    with force_locale(LOCALE):
        due = due_for_reminder(on)
        if not due:
            return out
        users = list(db.session.scalars(select(User).where(User.active.is_(True), User.role.in_(("admin", "staff")))
                                        .order_by(User.id)))
        wanted = {topic(r.period.key, u.id) for r in due for u in users}
        queued = set(db.session.scalars(select(OutboxMessage.topic).where(OutboxMessage.topic.in_(wanted))))
        sender = organizer()
        for report in due:
            sent_to = []
            for user in users:
                key = topic(report.period.key, user.id)
                if key in queued:
                    out.already += 1
                    continue
                letter = _letter(report, user, sender)
                now = utcnow()
                message = OutboxMessage(kind=KIND, topic=key, recipients=user.email,
                                        subject=mailtext.subject(letter)[:300],
                                        message=as_text(mailtext.build_message(letter, (user.name, user.email), now)),
                                        status=PENDING, attempts=0, next_attempt_at=now, last_error="")
                db.session.add(message)
                sent_to.append(user)
                out.queued.append((report, user))
            if sent_to:
                record("report.reminder_queued", object_type="report_period", object_id=report.period.key,
                       period=report.period.key, due=report.due.isoformat(), overdue=report.overdue,
                       recipients=len(sent_to))
    return out


def queue_and_commit(on: date, attempts: int = 3) -> Reminders:
    """remind() and commit. Two runs at once collide on a topic (unique): the loser rolls back and
    looks again, and then finds the other run's reminders queued."""
    for _attempt in range(attempts - 1):
        try:
            out = remind(on)
            db.session.commit()
            return out
        except IntegrityError:
            db.session.rollback()
    out = remind(on)
    db.session.commit()
    return out
