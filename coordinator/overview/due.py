"""What is due in the office on a given day: the start page, the weekly digest and `coordinator digest`.

Plain words: the office works kommun by kommun and week by week. `compute(on)` gathers, as of
one day, everything someone has to act on, each item with what it concerns and why it is listed:

- the visits of the next 14 days and what each still lacks (a programme, the invitation, contacts
  to invite, answers);
- held visits whose dialogue note is missing or incomplete (every active dialogue question needs
  a passage), due a setting's number of working days after the visit;
- invitations that have waited longer than a setting's number of days for answers, and people who
  said no to a coming visit;
- mail that could not be sent or still waits in the outbox;
- action-plan activities past their due date (not done, not cancelled), per site;
- questionnaires sent and not submitted, with those whose last day is near or passed;
- the reports: the next one due and any overdue, with the narrative sections still empty, the
  latest issued versions, the next avstämning with the minister and its open actions;
- the current round's sites without a date or only proposed, and the progress of the current
  phase and round against the target;
- open tasks.

Everything is read with a fixed number of SQL statements, whatever the number of visits, notes,
activities or tasks (the lists are bounded where they could grow without end). Nothing here writes.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, load_only

from ..contacts.models import Contact
from ..extensions import db
from ..feedback.models import DRAFT as LETTER_DRAFT, FeedbackLetter
from ..i18n import _
from ..links import last_valid_day
from ..measurement.models import MeasurementRequest
from ..outbox.models import FAILED, PENDING, SENT, OutboxMessage
from ..plans.models import AVBRUTEN, GENOMFORD as ACTIVITY_DONE, ActionPlan, PlanActivity, PlanGoal
from ..reports.models import Avstamning, IssuedReport
from ..sampling.models import Site
from ..sampling.service import adopted_sample
from ..scheduling.defaults import assignment
from ..scheduling.overview import answers, last_request_sent, local_day
from ..scheduling.service import window_info
from ..scheduling.models import (BEKRAFTAD, FLYTTAD, FORSLAG, GENOMFORD, INBJUDEN, INSTALLD, OFFER_NONE_FITS,
                                 OFFER_OPEN, DateOffer, Phase, Visit, VisitPart)
from ..tasks.auto import NoteItem, notes_missing, sample_visits
from ..tasks.models import ANTECKNING, Task

NEXT_DAYS = 14            # visits "in the next 14 days"
OUTBOX_STUCK_MINUTES = 30  # a pending mail older than this is worth mentioning
MAX_ROWS = 50             # a list on the page shows at most this many (the count says how many in all)
ISSUED_SHOWN = 5
ROUNDS = (1, 2)


# --------------------------------------------------------------------------- items

@dataclass
class VisitItem:
    visit: Visit
    missing: list[str]              # keys: "datum", "program", "kontakter", "inbjudan", "utkorg", "svar"
    pending_answers: int = 0
    declined: int = 0
    invited: int = 0


@dataclass
class UnansweredItem:
    visit: Visit
    invited_on: date
    pending: int
    invited: int


@dataclass
class DeclinedItem:
    visit: Visit
    declined: int
    invited: int


@dataclass
class ActivityItem:
    site: Site
    plan_id: int
    count: int
    oldest_due: date
    not_decided: int


@dataclass
class QuestionnaireItem:
    request: MeasurementRequest
    last_day: date
    expired: bool
    soon: bool
    saved: bool                     # the kommun has started (saved a draft)


@dataclass
class RoundProgress:
    round: int
    start: date
    end: date
    target: int                     # active sites: each is to be visited once per round
    held: int = 0
    booked: int = 0
    proposed: int = 0               # dated by the planner, not invited
    unplanned: int = 0              # no date, or cancelled
    current: bool = False

    @property
    def rest(self) -> int:
        return max(0, self.target - self.held - self.booked - self.proposed)


@dataclass
class LetterItem:
    visit: Visit
    letter: FeedbackLetter | None   # None: no letter yet; else a draft


@dataclass
class Mail:
    failed: list[OutboxMessage] = field(default_factory=list)
    failed_count: int = 0
    waiting: list[OutboxMessage] = field(default_factory=list)   # pending longer than OUTBOX_STUCK_MINUTES
    waiting_count: int = 0
    pending_count: int = 0


@dataclass
class Overview:
    on: date
    has_sample: bool
    settings: dict[str, int]
    sample_name: str = ""
    visits_next: list[VisitItem] = field(default_factory=list)
    notes_missing: list[NoteItem] = field(default_factory=list)
    letters_due: list[LetterItem] = field(default_factory=list)  # held visits without an approved letter
    unanswered: list[UnansweredItem] = field(default_factory=list)
    declined: list[DeclinedItem] = field(default_factory=list)
    mail: Mail = field(default_factory=Mail)
    activities_overdue: list[ActivityItem] = field(default_factory=list)
    questionnaires: list[QuestionnaireItem] = field(default_factory=list)
    reports_due: list[Any] = field(default_factory=list)        # reports.rhythm.DueReport
    issued: list[IssuedReport] = field(default_factory=list)
    next_avstamning: Avstamning | None = None
    open_actions: list[Task] = field(default_factory=list)
    unplanned: list[Visit] = field(default_factory=list)       # current round: no date (or cancelled)
    proposed: list[Visit] = field(default_factory=list)        # current round: dated, not invited
    current_round: int | None = None
    rounds: list[RoundProgress] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)          # the phases `on` falls in
    next_phase: Phase | None = None
    tasks: list[Task] = field(default_factory=list)
    offers_none_fit: list[DateOffer] = field(default_factory=list)     # the kommun answered "none fits"
    offers_unanswered: list[DateOffer] = field(default_factory=list)   # open past the reminder days
    offer_reminder_days: int = 7

    @property
    def overdue_notes(self) -> int:
        return sum(1 for n in self.notes_missing if n.overdue)

    @property
    def soon_questionnaires(self) -> int:
        return sum(1 for q in self.questionnaires if q.soon or q.expired)

    def tasks_of(self, user_id: int | None) -> list[Task]:
        """A person's open tasks and those nobody owns yet."""
        return [t for t in self.tasks if t.owner_id in (user_id, None)]


def missing_word(key: str) -> str:
    """What a coming visit lacks (VisitItem.missing), in words."""
    return {"program": _("program"), "kontakter": _("kontakter att bjuda in"), "inbjudan": _("inbjudan"),
            "utkorg": _("inbjudan väntar i utkorgen"), "svar": _("svar")}.get(key, key)


# --------------------------------------------------------------------------- computing

def settings() -> dict[str, int]:
    a = assignment()
    return {"note_due_working_days": a.note_due_working_days, "unanswered_after_days": a.unanswered_after_days,
            "questionnaire_soon_days": a.questionnaire_soon_days}


def _counts(stmt) -> dict:
    return {row[0]: row[1:] if len(row) > 2 else row[1] for row in db.session.execute(stmt).all()}


def _visit_items(ov: Overview, visits: list[Visit], active_ids: set[int], answers: dict) -> None:
    horizon = ov.on + timedelta(days=NEXT_DAYS)
    soon = [v for v in visits if v.date is not None and ov.on <= v.date <= horizon
            and v.status not in (INSTALLD, GENOMFORD) and v.site_id in active_ids]
    ids = [v.id for v in soon]
    site_ids = {v.site_id for v in soon}
    parts = _counts(select(VisitPart.visit_id, func.count()).where(VisitPart.visit_id.in_(ids))
                    .group_by(VisitPart.visit_id)) if ids else {}
    contacts = _counts(select(Contact.site_id, func.count()).where(Contact.site_id.in_(site_ids), Contact.active)
                       .group_by(Contact.site_id)) if site_ids else {}
    queued = set(db.session.scalars(
        select(OutboxMessage.visit_id).where(OutboxMessage.visit_id.in_(ids),
                                             OutboxMessage.status.notin_((SENT,))).distinct())) if ids else set()
    for v in soon:
        a = answers.get(v.id, {})
        invited = sum(a.values())
        item = VisitItem(v, [], pending_answers=a.get("NEEDS-ACTION", 0), declined=a.get("DECLINED", 0),
                         invited=invited)
        if not parts.get(v.id):
            item.missing.append("program")
        if not contacts.get(v.site_id):
            item.missing.append("kontakter")
        if v.status == FORSLAG:
            item.missing.append("inbjudan")
        elif v.id in queued:
            item.missing.append("utkorg")
        if v.status in (INBJUDEN, FLYTTAD) and item.pending_answers:
            item.missing.append("svar")
        ov.visits_next.append(item)


def _invitation_items(ov: Overview, visits: list[Visit], after_days: int, active_ids: set[int],
                      answers: dict) -> None:
    open_ = {v.id: v for v in visits if v.status in (INBJUDEN, FLYTTAD, BEKRAFTAD) and v.site_id in active_ids
             and (v.date is None or v.date >= ov.on)}
    if not open_:
        return
    sent = last_request_sent(open_)
    for visit_id, v in open_.items():
        a = answers.get(visit_id, {})
        invited = sum(a.values())
        if a.get("DECLINED"):
            ov.declined.append(DeclinedItem(v, a["DECLINED"], invited))
        if v.status in (INBJUDEN, FLYTTAD) and a.get("NEEDS-ACTION") and visit_id in sent:
            invited_on = local_day(sent[visit_id])
            if (ov.on - invited_on).days > after_days:
                ov.unanswered.append(UnansweredItem(v, invited_on, a["NEEDS-ACTION"], invited))
    ov.unanswered.sort(key=lambda u: (u.invited_on, u.visit.id))
    ov.declined.sort(key=lambda d: (d.visit.date or date.max, d.visit.id))


def _mail(ov: Overview, now: datetime) -> None:
    m = ov.mail
    counts = dict(db.session.execute(select(OutboxMessage.status, func.count())
                                     .where(OutboxMessage.status.in_((FAILED, PENDING, "sending")))
                                     .group_by(OutboxMessage.status)).all())
    m.failed_count = counts.get(FAILED, 0)
    m.pending_count = counts.get(PENDING, 0) + counts.get("sending", 0)
    if m.failed_count:
        m.failed = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == FAILED)
                                           .order_by(OutboxMessage.created_at.desc()).limit(10)))
    if m.pending_count:
        stuck = now - timedelta(minutes=OUTBOX_STUCK_MINUTES)
        waiting = select(OutboxMessage).where(OutboxMessage.status.in_((PENDING, "sending")),
                                              OutboxMessage.created_at < stuck)
        m.waiting = list(db.session.scalars(waiting.order_by(OutboxMessage.created_at).limit(10)))
        m.waiting_count = len(m.waiting) if len(m.waiting) < 10 else db.session.scalar(
            select(func.count()).select_from(waiting.subquery()))


def _activity_items(ov: Overview, active_ids: set[int]) -> None:
    rows = db.session.execute(
        select(ActionPlan.site_id, ActionPlan.id, func.count(PlanActivity.id), func.min(PlanActivity.due_date),
               func.sum(case((PlanActivity.decided.is_(False), 1), else_=0)))
        .join(PlanGoal, PlanGoal.plan_id == ActionPlan.id).join(PlanActivity, PlanActivity.goal_id == PlanGoal.id)
        .where(PlanActivity.due_date < ov.on, PlanActivity.status.notin_((ACTIVITY_DONE, AVBRUTEN)),
               ActionPlan.site_id.in_(active_ids))
        .group_by(ActionPlan.site_id, ActionPlan.id)).all()
    if not rows:
        return
    sites = {s.id: s for s in db.session.scalars(
        select(Site).where(Site.id.in_([r[0] for r in rows])).options(joinedload(Site.kommun)))}
    ov.activities_overdue = sorted(
        (ActivityItem(sites[site_id], plan_id, int(n), oldest, int(not_decided or 0))
         for site_id, plan_id, n, oldest, not_decided in rows),
        key=lambda a: (a.oldest_due, a.site.position))


def _questionnaire_items(ov: Overview, soon_days: int, active_ids: set[int], visits: list[Visit]) -> None:
    # Once the visit it prepares has been held or cancelled, an unanswered questionnaire is history.
    over = {(v.site_id, v.round) for v in visits if v.status in (GENOMFORD, INSTALLD)}
    requests = db.session.scalars(
        select(MeasurementRequest)
        .where(MeasurementRequest.sent_at.isnot(None), MeasurementRequest.submitted_at.is_(None),
               MeasurementRequest.revoked_at.is_(None), MeasurementRequest.site_id.in_(active_ids))
        .options(joinedload(MeasurementRequest.site).joinedload(Site.kommun))
        .order_by(MeasurementRequest.expires_at, MeasurementRequest.id))
    for req in requests:
        if (req.site_id, req.round) in over:
            continue
        last = last_valid_day(req)
        ov.questionnaires.append(QuestionnaireItem(req, last, expired=last < ov.on,
                                                   soon=ov.on <= last <= ov.on + timedelta(days=soon_days),
                                                   saved=req.last_saved_at is not None))


def _reports(ov: Overview) -> None:
    from ..reports import rhythm

    ov.reports_due = rhythm.report_status(ov.on)
    ov.issued = list(db.session.scalars(select(IssuedReport).order_by(IssuedReport.issued_at.desc(),
                                                                      IssuedReport.id.desc()).limit(ISSUED_SHOWN)))
    ov.next_avstamning = rhythm.next_avstamning(ov.on)
    ov.open_actions = rhythm.open_actions()


def _current_round(on: date, windows: dict[int, tuple[date, date]]) -> int | None:
    """The round whose window holds `on`; between or before rounds the next one; after both, None."""
    for r, (start, end) in windows.items():
        if start <= on <= end:
            return r
    for r, (start, _end) in windows.items():
        if on < start:
            return r
    return None


def _progress(ov: Overview, visits: list[Visit], active_ids: set[int]) -> None:
    windows = window_info()["windows"]  # the windows the plan uses (from the phases by default)
    ov.current_round = _current_round(ov.on, windows)
    target = len(active_ids)
    by_round = {r: RoundProgress(r, *windows[r], target=target, current=r == ov.current_round) for r in ROUNDS}
    seen: dict[int, set[int]] = defaultdict(set)
    for v in visits:
        p = by_round.get(v.round)
        if p is None or v.site_id not in active_ids:
            continue
        seen[v.round].add(v.site_id)
        if v.status == GENOMFORD:
            p.held += 1
        elif v.status in (INBJUDEN, BEKRAFTAD, FLYTTAD):
            p.booked += 1
        elif v.status == FORSLAG and v.date is not None:
            p.proposed += 1
            if v.round == ov.current_round:
                ov.proposed.append(v)
        else:
            p.unplanned += 1
            if v.round == ov.current_round:
                ov.unplanned.append(v)
    for r, p in by_round.items():
        p.unplanned += target - len(seen[r])   # sites whose visit has not even been made yet
    ov.rounds = list(by_round.values())
    phases = list(db.session.scalars(select(Phase).order_by(Phase.start_date, Phase.number)))
    ov.phases = [p for p in phases if p.start_date <= ov.on <= p.end_date]
    ov.next_phase = next((p for p in phases if p.start_date > ov.on), None)


def _letter_items(ov: Overview, visits: list[Visit], active_ids: set[int]) -> None:
    """Held visits (up to `on`) whose feedback letter is not approved or sent: one statement for the letters."""
    held = [v for v in visits if v.status == GENOMFORD and v.date is not None and v.date <= ov.on
            and v.site_id in active_ids]
    if not held:
        return
    # Only what the list shows: the letters' texts and frozen content (JSON) would cost more than the page.
    letters = {(row.site_id, row.round): row for row in db.session.scalars(
        select(FeedbackLetter).where(FeedbackLetter.site_id.in_({v.site_id for v in held}))
        .options(load_only(FeedbackLetter.site_id, FeedbackLetter.round, FeedbackLetter.status, raiseload=True)))}
    for v in held:
        letter = letters.get((v.site_id, v.round))
        if letter is None or letter.status == LETTER_DRAFT:
            ov.letters_due.append(LetterItem(v, letter))


def _offer_items(ov: Overview, now: datetime) -> None:
    """Date offers the office must act on: "none fits" answers (not yet replaced by a new offer or a date),
    and open offers unanswered past the reminder days. One statement, the visits and sites loaded with them."""
    ov.offer_reminder_days = assignment().offer_reminder_days
    rows = db.session.scalars(
        select(DateOffer).join(Visit, Visit.id == DateOffer.visit_id)
        .where(DateOffer.status.in_((OFFER_NONE_FITS, OFFER_OPEN)), Visit.status.notin_((INSTALLD, GENOMFORD)))
        .options(joinedload(DateOffer.visit).joinedload(Visit.site).joinedload(Site.kommun))
        .order_by(DateOffer.answered_at, DateOffer.created_at, DateOffer.id)).unique().all()
    # A newer offer of the same visit replaces an older "none fits" answer.
    newest = {}
    for o in rows:
        newest[o.visit_id] = max(newest.get(o.visit_id, 0), o.id)
    stale = now - timedelta(days=ov.offer_reminder_days)
    for o in rows:
        if o.status == OFFER_NONE_FITS and newest[o.visit_id] == o.id and not o.visit.agreed:
            ov.offers_none_fit.append(o)
        elif o.status == OFFER_OPEN and o.created_at is not None and \
                (o.created_at if o.created_at.tzinfo else o.created_at.replace(tzinfo=timezone.utc)) <= stale:
            ov.offers_unanswered.append(o)


def compute(on: date, now: datetime | None = None, visits: list[Visit] | None = None) -> Overview:
    """Everything due as of `on` (the office's day), read with a fixed number of SQL statements.

    `visits`: the adopted sample's visits (tasks.auto.sample_visits) when the caller has read them."""
    now = now or datetime.now(timezone.utc)
    s = settings()
    sample = adopted_sample()
    ov = Overview(on=on, has_sample=sample is not None, settings=s,
                  sample_name=(sample.name or f"#{sample.id}") if sample is not None else "")
    if sample is not None:
        active_ids = {site.id for site in db.session.scalars(
            select(Site).where(Site.sample_id == sample.id, Site.active))}
        visits = sample_visits(sample.id) if visits is None else visits
        # Everyone's answers to the visits still ahead, read once for the two lists that show them.
        ahead = [v.id for v in visits if v.status not in (GENOMFORD, INSTALLD) and (v.date is None or v.date >= on)]
        given = answers(ahead) if ahead else {}
        _visit_items(ov, visits, active_ids, given)
        ov.notes_missing = notes_missing(visits, on, s["note_due_working_days"])
        _letter_items(ov, visits, active_ids)
        _invitation_items(ov, visits, s["unanswered_after_days"], active_ids, given)
        _activity_items(ov, active_ids)
        _questionnaire_items(ov, s["questionnaire_soon_days"], active_ids, visits)
        _progress(ov, visits, active_ids)
        _offer_items(ov, now)
    _mail(ov, now)
    _reports(ov)
    ov.tasks = list(db.session.scalars(
        select(Task).where(Task.done_at.is_(None)).order_by(Task.due_date, Task.id)
        .options(joinedload(Task.owner), joinedload(Task.site).joinedload(Site.kommun),
                 joinedload(Task.visit), joinedload(Task.avstamning))).unique())
    note_tasks = {t.visit_id: t for t in ov.tasks if t.kind == ANTECKNING}
    for n in ov.notes_missing:
        n.task = note_tasks.get(n.visit.id)
    return ov


def reader_view(on: date) -> dict[str, Any]:
    """The ministry's start page: the issued reports, the next report's due date, the adopted sample."""
    from ..reports import rhythm

    issued = list(db.session.scalars(select(IssuedReport).order_by(IssuedReport.issued_at.desc(),
                                                                   IssuedReport.id.desc()).limit(20)))
    upcoming = [r for r in rhythm.report_status(on) if not r.overdue]
    return {"issued": issued, "next_report": upcoming[0] if upcoming else None, "sample": adopted_sample(),
            "on": on}
