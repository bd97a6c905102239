"""The weekly digest: the start page's items as a mail to each staff member who asked for it, and as JSON.

Plain words: `coordinator digest --send` (meant for cron, say Monday 07.00) computes the same
overview as the start page for the day, and queues one mail per opted-in, active staff member
or administrator, through the outbox (`coordinator outbox send` delivers it). Each mail has the
office's items and the person's own open tasks (and those nobody owns). A person gets one digest
per ISO week: the outbox topic "veckobrev:<year>-W<week>:<user id>" makes a second run a no-op.
The mail is Swedish (the office's language), plain text with an HTML alternative, and names
kommuner and dates but never note or plan texts.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..auth.models import User
from ..extensions import db
from ..i18n import _
from ..links import external_url
from ..outbox.letters import as_text, letter
from ..outbox.models import PENDING, OutboxMessage
from ..tasks.service import title_of
from .due import Overview, missing_word

KIND = "veckobrev"


def topic(on: date, user_id: int) -> str:
    year, week, _day = on.isocalendar()
    return f"{KIND}:{year}-W{week:02d}:{user_id}"


# --------------------------------------------------------------------------- the JSON contract

def as_json(ov: Overview, tasks=None) -> dict[str, Any]:
    """`coordinator digest --json`: the overview's items as one JSON object."""
    tasks = ov.tasks if tasks is None else tasks

    def visit(v) -> dict[str, Any]:
        return {"visit_id": v.id, "kommunkod": v.site.kommunkod, "site": v.site.label, "round": v.round,
                "date": v.date.isoformat() if v.date else None, "status": v.status}

    return {
        "as_of": ov.on.isoformat(),
        "visits_next_14_days": [{**visit(i.visit), "missing": i.missing, "pending_answers": i.pending_answers}
                                for i in ov.visits_next],
        "notes_missing": [{**visit(n.visit), "state": n.state, "due": n.due.isoformat(), "overdue": n.overdue,
                           "missing_questions": n.missing_questions} for n in ov.notes_missing],
        "invitations_unanswered": [{**visit(u.visit), "invited_on": u.invited_on.isoformat(), "pending": u.pending}
                                   for u in ov.unanswered],
        "declined": [{**visit(d.visit), "declined": d.declined, "invited": d.invited} for d in ov.declined],
        "activities_overdue": [{"site_id": a.site.id, "kommunkod": a.site.kommunkod, "site": a.site.label,
                                "count": a.count, "oldest_due": a.oldest_due.isoformat(),
                                "not_decided": a.not_decided} for a in ov.activities_overdue],
        "questionnaires_unanswered": [{"request_id": q.request.id, "site_id": q.request.site_id,
                                       "kommunkod": q.request.site.kommunkod, "site": q.request.site.label,
                                       "round": q.request.round, "last_day": q.last_day.isoformat(),
                                       "soon": q.soon, "expired": q.expired} for q in ov.questionnaires],
        "reports_due": [{"period": r.period.key, "label": r.period.label, "due": r.due.isoformat(),
                         "overdue": r.overdue, "issued": r.issued, "empty_sections": list(r.empty_sections)}
                        for r in ov.reports_due],
        "avstamning_next": ov.next_avstamning.held_on.isoformat() if ov.next_avstamning else None,
        "avstamning_actions_open": [{"task_id": t.id, "title": t.title, "due": t.due_date.isoformat(),
                                     "owner": t.owner.name if t.owner else None} for t in ov.open_actions],
        "sites_unplanned": [visit(v) for v in ov.unplanned],
        "visits_proposed": [visit(v) for v in ov.proposed],
        "progress": [{"round": r.round, "target": r.target, "held": r.held, "booked": r.booked,
                      "proposed": r.proposed, "without_date": r.rest, "current": r.current} for r in ov.rounds],
        "phases": [{"number": p.number, "name": p.name, "end": p.end_date.isoformat()} for p in ov.phases],
        "tasks": [{"task_id": t.id, "title": title_of(t), "kind": t.kind, "due": t.due_date.isoformat(),
                   "overdue": t.due_date < ov.on, "owner": t.owner.name if t.owner else None,
                   "site_id": t.site_id} for t in tasks],
        "mail_failed": ov.mail.failed_count,
        "mail_waiting": ov.mail.pending_count,
    }


# --------------------------------------------------------------------------- the mail

@dataclass
class Section:
    heading: str
    lines: list[tuple[str, str | None]]   # (text, link)


def sections(ov: Overview, user: User) -> list[Section]:
    """What the digest says, in the start page's order; empty sections are left out."""
    out: list[Section] = []

    def add(heading: str, lines: list[tuple[str, str | None]]) -> None:
        if lines:
            out.append(Section(heading, lines))

    add(_("Besök de närmaste 14 dagarna"), [
        (_("%(day)s %(site)s, omgång %(round)s", day=i.visit.date.isoformat(), site=i.visit.site.label,
           round=i.visit.round) + (_(" – saknas: %(what)s", what=", ".join(missing_word(m) for m in i.missing))
                                   if i.missing else ""),
         external_url("scheduling.visit", visit_id=i.visit.id)) for i in ov.visits_next])
    add(_("Anteckningar att skriva"), [
        (_("%(site)s, omgång %(round)s: besöket hölls %(held)s, anteckningen ska vara klar %(due)s",
           site=n.visit.site.label, round=n.visit.round, held=n.visit.date.isoformat(), due=n.due.isoformat())
         + (_(" (försenad)") if n.overdue else ""), external_url("dialogue.note", visit_id=n.visit.id))
        for n in ov.notes_missing])
    add(_("Inbjudningar utan svar"), [
        (_("%(site)s, omgång %(round)s: %(n)s har inte svarat sedan %(day)s", site=u.visit.site.label,
           round=u.visit.round, n=u.pending, day=u.invited_on.isoformat()),
         external_url("invites.replies", visit_id=u.visit.id)) for u in ov.unanswered])
    add(_("Har tackat nej till ett kommande besök"), [
        (_("%(site)s, omgång %(round)s: %(n)s av %(of)s har tackat nej", site=d.visit.site.label,
           round=d.visit.round, n=d.declined, of=d.invited), external_url("invites.replies", visit_id=d.visit.id))
        for d in ov.declined])
    mail_lines = []
    if ov.mail.failed_count:
        mail_lines.append((_("%(n)s utskick kunde inte skickas", n=ov.mail.failed_count),
                           external_url("invites.outbox_page", status="failed")))
    if ov.mail.waiting_count:
        mail_lines.append((_("%(n)s utskick har väntat i utkorgen i mer än en halvtimme", n=ov.mail.waiting_count),
                           external_url("invites.outbox_page", status="pending")))
    add(_("E-post"), mail_lines)
    add(_("Handlingsplaner: aktiviteter efter sista dag"), [
        (_("%(site)s: %(n)s aktiviteter, den äldsta skulle vara klar %(day)s", site=a.site.label, n=a.count,
           day=a.oldest_due.isoformat()), external_url("plans.editor", site_id=a.site.id))
        for a in ov.activities_overdue])
    add(_("Enkäter utan svar"), [
        (_("%(site)s, omgång %(round)s: sista svarsdag %(day)s", site=q.request.site.label, round=q.request.round,
           day=q.last_day.isoformat()) + (_(" (passerad)") if q.expired else ""),
         external_url("measurement.request_page", request_id=q.request.id)) for q in ov.questionnaires])
    report_lines = []
    for r in ov.reports_due:
        text = (_("%(period)s skulle ha lämnats %(due)s", period=r.period.label, due=r.due.isoformat()) if r.overdue
                else _("%(period)s ska lämnas %(due)s", period=r.period.label, due=r.due.isoformat()))
        if r.empty_sections and not r.issued:
            from ..reports.service import SECTION_TITLES
            text += _("; texter som inte är skrivna: %(sections)s", sections=", ".join(str(SECTION_TITLES[s]) for s in
                                                                          r.empty_sections))
        report_lines.append((text, external_url("reports.draft", period=r.period.key)))
    if ov.next_avstamning:
        report_lines.append((_("Nästa avstämning med statsrådet: %(day)s", day=ov.next_avstamning.held_on.isoformat()),
                             None))
    for t in ov.open_actions:
        report_lines.append((_("Åtgärd efter avstämning: %(title)s, senast %(day)s", title=t.title,
                               day=t.due_date.isoformat()), external_url("tasks.task", task_id=t.id)))
    add(_("Rapporter till statsrådet"), report_lines)
    if ov.current_round and (ov.unplanned or ov.proposed):
        add(_("Omgång %(n)s: inte bokat", n=ov.current_round), [
            (_("%(n)s besöksplatser utan datum, %(m)s besök föreslagna men inte inbjudna", n=len(ov.unplanned),
               m=len(ov.proposed)), external_url("scheduling.index"))])
    mine = [t for t in ov.tasks_of(user.id)]
    add(_("Dina uppgifter (och de som ingen har tagit)"), [
        (_("%(title)s, senast %(day)s", title=title_of(t), day=t.due_date.isoformat())
         + (_(" (försenad)") if t.due_date < ov.on else ""), external_url("tasks.task", task_id=t.id)) for t in mine])
    return out


def subject(on: date) -> str:
    year, week, _day = on.isocalendar()
    return _("Veckans läge, vecka %(week)s %(year)s", week=week, year=year)


def plain_body(ov: Overview, user: User, parts: list[Section]) -> str:
    lines = [_("Hej %(name)s,", name=user.name), "",
             _("Så här ser läget ut den %(day)s.", day=ov.on.isoformat()), ""]
    if not parts:
        lines += [_("Inget väntar på åtgärd just nu."), ""]
    for part in parts:
        lines += [part.heading, "-" * len(part.heading)]
        for text, link in part.lines:
            lines.append(f"* {text}" + (f"\n  {link}" if link else ""))
        lines.append("")
    lines += [_("Översikten: %(url)s", url=external_url("index")), "",
              _("Du får det här brevet eftersom du har valt veckobrev under Konto. Där kan du också avsluta det: %(url)s",
                url=external_url("auth.account")), ""]
    return "\n".join(lines)


def html_body(ov: Overview, user: User, parts: list[Section]) -> str:
    e = html.escape
    out = [f'<!doctype html>\n<html lang="sv">\n<head><meta charset="utf-8"><title>{e(subject(ov.on))}</title></head>'
           "\n<body>", f"<p>{e(_('Hej %(name)s,', name=user.name))}</p>",
           f"<p>{e(_('Så här ser läget ut den %(day)s.', day=ov.on.isoformat()))}</p>"]
    if not parts:
        out.append(f"<p>{e(_('Inget väntar på åtgärd just nu.'))}</p>")
    for part in parts:
        out.append(f"<h2>{e(part.heading)}</h2>\n<ul>")
        for text, link in part.lines:
            out.append(f'<li><a href="{e(link)}">{e(text)}</a></li>' if link else f"<li>{e(text)}</li>")
        out.append("</ul>")
    out.append(f'<p><a href="{e(external_url("index"))}">{e(_("Öppna översikten"))}</a></p>')
    out.append(f'<p><small>{e(_("Du får det här brevet eftersom du har valt veckobrev under Konto."))} '
               f'<a href="{e(external_url("auth.account"))}">{e(_("Avsluta veckobrevet"))}</a></small></p>')
    out.append("</body>\n</html>\n")
    return "\n".join(out)


def build_message(ov: Overview, user: User, organizer: tuple[str, str], now: datetime) -> EmailMessage:
    parts = sections(ov, user)
    return letter(subject(ov.on), organizer, [(user.name, user.email)], plain_body(ov, user, parts),
                  html_body(ov, user, parts), now)


def recipients() -> list[User]:
    return list(db.session.scalars(select(User).where(User.weekly_digest.is_(True), User.active,
                                                      User.role.in_(("admin", "staff"))).order_by(User.id)))


@dataclass
class Queued:
    queued: list[User]
    already: list[User]


def queue(ov: Overview, now: datetime | None = None) -> Queued:
    """One digest per recipient and ISO week into the outbox; commits each so one failure loses nothing else."""
    from ..audit import record
    from ..scheduling.defaults import organizer

    now = now or datetime.now(timezone.utc)
    result = Queued([], [])
    sender = organizer()
    for user in recipients():
        key = topic(ov.on, user.id)
        if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.topic == key)) is not None:
            result.already.append(user)
            continue
        msg = build_message(ov, user, sender, now)
        message = OutboxMessage(kind=KIND, topic=key, recipients=user.email, subject=str(msg["Subject"])[:300],
                                message=as_text(msg), status=PENDING, attempts=0, next_attempt_at=now, last_error="")
        db.session.add(message)
        try:
            db.session.flush()
            record("digest.queued", object_type="outbox_message", object_id=message.id, actor="system",
                   user_id=user.id, week=key.split(":")[1])
            db.session.commit()
        except IntegrityError:  # another run queued it in between
            db.session.rollback()
            result.already.append(user)
            continue
        result.queued.append(user)
    return result
