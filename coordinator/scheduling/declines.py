"""Declines seen from the visits: what registering one will do, doing it, and undoing it.

Plain words: when a visit site declines, its open visits are cancelled (those already invited get
a cancellation mail) and the reserve that replaces it gets two visits. `preview` says exactly that
before anything is saved. A decline registered by mistake can be undone while the replacement has
not been invited: the site comes back with its visits (as proposals, keeping their dates), the
replacement's visits are removed without any mail, and the decline stays in the protocol marked
as undone. Nothing here commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from ..audit import AuditEvent, record
from ..contacts.models import Contact
from ..extensions import db
from ..i18n import _
from ..outbox.models import PENDING, OutboxMessage
from ..sampling import service as sampling
from ..sampling.models import Decline, Sample, Site
from . import service
from .models import FORSLAG, GENOMFORD, INSTALLD, Visit


def N_(s: str) -> str:
    """Marks a string for translation; it is translated where it is shown."""
    return s


# Why a visit was cancelled, as cancel() writes it to the log: the decline's own cancellations.
DECLINED_REASON = "site_declined"
# What may point at a proposal that the undo removes: its own programme and invitees go with it,
# mail is checked by itself, and a task about it keeps the task and loses the link.
OWN_TABLES = {"visit_part", "attendee", "outbox_message"}
DETACHED_TABLES = {"task"}
REFERENCE_WORDS = {"note": N_("en dialoganteckning")}
OTHER_REFERENCE = N_("annat som hör till besöket")
# Said on the refused undo, after the reasons.
UNDO_RULE = N_("Ett avböjande kan ångras så länge ersättaren inte har bjudits in eller fått något utskick och "
               "urvalet fortfarande följer reglerna.")


class DeclineError(Exception):
    """A decline that cannot be registered or undone now; the message is for the user."""


# --------------------------------------------------------------------------- registering

@dataclass
class DeclinePreview:
    """What registering `site`'s decline would do, computed without saving anything."""
    site: Site
    replacement: tuple[str, str | None] | None      # (kommunkod, enhet) of the reserve, or None
    replacement_label: str | None
    cancelled: list[Visit]                           # the site's open visits, which will be cancelled
    mailed: list[tuple[Visit, int]]                  # of those, the invited ones: (visit, people mailed)
    replacement_visits: int                          # visits the replacement gets

    def mailed_to(self, visit: Visit) -> int:
        """How many people get a cancellation of `visit` (0: no mail)."""
        return next((n for v, n in self.mailed if v is visit), 0)

    @property
    def recipients(self) -> int:
        return sum(n for _v, n in self.mailed)

    @property
    def replacement_key(self) -> str:
        """The reserve as the confirmation form carries it, to notice a change before saving."""
        return "" if self.replacement is None else f"{self.replacement[0]}:{self.replacement[1] or ''}"


def _open_visits(site: Site) -> list[Visit]:
    return list(db.session.scalars(select(Visit).where(Visit.site_id == site.id,
                                                       Visit.status.notin_((INSTALLD, GENOMFORD)))
                                   .order_by(Visit.round)))


def preview(sample: Sample, site: Site) -> DeclinePreview:
    """What a decline of `site` will do: its replacement (the same call as the decline itself makes),
    the visits that will be cancelled and how many people get a cancellation mail."""
    try:
        new = sampling.replacement_for(sample, site)
    except sampling.SampleError as e:
        raise DeclineError(str(e)) from e
    cancelled = _open_visits(site)
    # As invites.queue_cancel: a mail only where an invitation was sent, to someone, for a day.
    mailed = [(v, len(v.attendees)) for v in cancelled
              if v.sent_sequence is not None and v.attendees and v.date is not None]
    # register() runs ensure_visits, which gives every active site one visit per round.
    return DeclinePreview(site=site, replacement=new,
                          replacement_label=sampling.site_label(sample, new) if new else None,
                          cancelled=cancelled, mailed=mailed, replacement_visits=len(service.ROUNDS) if new else 0)


def register(sample: Sample, site: Site, declined_on: date, reason: str, user=None,
             expected_replacement: str | None = None) -> Decline:
    """Register the decline, cancel the site's visits (mail to those invited) and give the
    replacement its visits. With `expected_replacement` (the preview's key) a different reserve
    than the one shown is refused: the sample changed in between."""
    if expected_replacement is not None and preview(sample, site).replacement_key != expected_replacement:
        raise DeclineError(_("Urvalet har ändrats sedan förhandsvisningen: en annan reserv skulle nu ersätta "
                             "%(site)s. Ingenting är sparat; läs igenom förhandsvisningen igen.", site=site.label))
    try:
        decline = sampling.record_decline(sample, site, declined_on, reason, user)
        service.ensure_visits()
    except (sampling.SampleError, service.VisitError) as e:
        raise DeclineError(str(e)) from e
    return decline


# --------------------------------------------------------------------------- undoing

@dataclass
class UndoPlan:
    """What undoing a decline will do, or why it cannot be done now (`problems`)."""
    decline: Decline
    restored: list[tuple[Visit, date | None]] = field(default_factory=list)  # back as proposals, on this day
    removed: list[Visit] = field(default_factory=list)         # the replacement's proposals, removed
    withdrawn: list[OutboxMessage] = field(default_factory=list)  # cancellations still in the outbox
    already_told: list[Visit] = field(default_factory=list)    # cancellations the kommun has received
    contacts: int = 0                                          # the replacement's contacts, kept
    problems: list[str] = field(default_factory=list)

    @property
    def possible(self) -> bool:
        return not self.problems


def _cancelled_by_decline(visits: list[Visit]) -> set[int]:
    """Of these cancelled visits, those whose cancellation was the decline's (the log says why)."""
    ids = [v.id for v in visits]
    if not ids:
        return set()
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "visit.cancelled", AuditEvent.object_type == "visit",
        AuditEvent.object_id.in_([str(i) for i in ids])).order_by(AuditEvent.id)).all()
    last = {e.object_id: (e.details or {}).get("reason") for e in events}
    return {v.id for v in visits if last.get(str(v.id)) == DECLINED_REASON}


def _references(visit_ids: list[int]) -> tuple[dict[int, set[str]], list]:
    """({visit id: what in words points at it and blocks removing it}, the columns to detach instead).

    Other parts of the app may point at a visit (a dialogue note, a task): a proposal is removed only
    when nothing but its own programme, invitees and tasks does. One query per referring column."""
    blocking: dict[int, set[str]] = {}
    detach = []
    if not visit_ids:
        return blocking, detach
    visit_table = Visit.__table__
    for table in db.metadata.sorted_tables:
        if table.name in OWN_TABLES:
            continue
        for column in table.columns:
            if not any(fk.column.table is visit_table for fk in column.foreign_keys):
                continue
            if table.name in DETACHED_TABLES:
                detach.append(column)
                continue
            for visit_id in db.session.scalars(select(column).where(column.in_(visit_ids)).distinct()):
                blocking.setdefault(visit_id, set()).add(REFERENCE_WORDS.get(table.name, OTHER_REFERENCE))
    return blocking, detach


def _mailed(site_ids: list[int], visit_ids: list[int]) -> set[int]:
    """Of these sites, those with mail queued or sent: about their visits, or their questionnaire."""
    if not site_ids:
        return set()
    request_fk = next(iter(OutboxMessage.__table__.c.measurement_request_id.foreign_keys))
    requests = request_fk.column.table  # the questionnaire requests, reached through the outbox's own key
    by_visit = select(Visit.site_id).join(OutboxMessage, OutboxMessage.visit_id == Visit.id).where(
        Visit.id.in_(visit_ids or [-1]))
    by_request = select(requests.c.site_id).join(
        OutboxMessage, OutboxMessage.measurement_request_id == requests.c.id).where(requests.c.site_id.in_(site_ids))
    return set(db.session.scalars(by_visit.union(by_request)))


def _replacement_problems(decline_list: list[Decline]) -> tuple[dict[int, list[str]], dict[int, list[Visit]]]:
    """Why each decline's replacement keeps it from being undone, and the replacement's visits (by
    decline id). A constant number of queries, however many declines."""
    replacements = {d.id: d.replacement for d in decline_list if d.replacement is not None}
    site_ids = [r.id for r in replacements.values()]
    visits: dict[int, list[Visit]] = {}
    if site_ids:
        for v in db.session.scalars(select(Visit).where(Visit.site_id.in_(site_ids)).order_by(Visit.round)):
            visits.setdefault(v.site_id, []).append(v)
    all_ids = [v.id for vs in visits.values() for v in vs]
    mailed = _mailed(site_ids, all_ids)
    blocking, _detach = _references(all_ids)
    problems: dict[int, list[str]] = {}
    for decline_id, replacement in replacements.items():
        own = visits.get(replacement.id, [])
        out = problems.setdefault(decline_id, [])
        invited = [v for v in own if v.status != FORSLAG]
        if invited:
            out.append(_("%(site)s är redan inbjuden (besöket i omgång %(round)s).",
                         site=replacement.label, round=invited[0].round))
        elif replacement.id in mailed:
            out.append(_("Ett utskick till %(site)s ligger redan i utkorgen eller är skickat.", site=replacement.label))
        for words in sorted({w for v in own for w in blocking.get(v.id, ())}):
            out.append(_("%(site)s:s besök har redan %(what)s.", site=replacement.label, what=_(words)))
    return problems, {d_id: visits.get(r.id, []) for d_id, r in replacements.items()}


def undo_plan(decline: Decline, today: date | None = None) -> UndoPlan:
    """What undoing `decline` will do, and whether it may be done now."""
    from .overview import today as office_today

    plan = UndoPlan(decline=decline, problems=sampling.undo_problems(decline))
    if decline.undone_at is not None:
        return plan
    day = today or office_today()
    replacement = decline.replacement
    if replacement is not None:
        problems, visits = _replacement_problems([decline])
        plan.problems += problems.get(decline.id, [])
        plan.removed = visits.get(decline.id, [])
        plan.contacts = db.session.scalar(select(func.count()).select_from(Contact)
                                          .where(Contact.site_id == replacement.id)) or 0
    own = list(db.session.scalars(select(Visit).where(Visit.site_id == decline.site_id, Visit.status == INSTALLD)
                                  .order_by(Visit.round)))
    back = _cancelled_by_decline(own)
    plan.restored = [(v, v.date if v.date is not None and v.date >= day else None) for v in own if v.id in back]
    if plan.restored:
        cancels = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.visit_id.in_([v.id for v, _d in plan.restored]), OutboxMessage.kind == "cancel",
            OutboxMessage.created_at >= decline.recorded_at).order_by(OutboxMessage.id)).all()
        plan.withdrawn = [m for m in cancels if m.status == PENDING]
        told = {m.visit_id for m in cancels if m.status != PENDING}
        plan.already_told = [v for v, _d in plan.restored if v.id in told]
    return plan


def undo_blockers(decline_list: list[Decline]) -> dict[int, list[str]]:
    """For the sample page: why each decline that is not undone cannot be undone now (empty: it can).

    The same checks as undo_plan, for all declines at once: the queries do not grow with their number."""
    standing = [d for d in decline_list if d.undone_at is None]
    if not standing:
        return {}
    sample = standing[0].site.sample
    frame = sampling.frame_from_sample(sample)
    allowed = sampling.problem_keys(sample, frame)  # the same for every decline: checked once
    replacement_problems, _visits = _replacement_problems(standing)
    return {d.id: [*sampling.undo_problems(d, frame, allowed), *replacement_problems.get(d.id, [])]
            for d in standing}


def undo(decline: Decline, user=None) -> UndoPlan:
    """Undo `decline`: the site and its visits back, the replacement and its proposals out, no mail.

    Raises DeclineError with the reasons in words when it cannot be done (the replacement is invited…)."""
    plan = undo_plan(decline)
    if not plan.possible:
        raise DeclineError(" ".join(plan.problems))
    site, replacement = decline.site, decline.replacement
    try:
        sampling.restore_declined_site(decline, user)
    except sampling.SampleError as e:
        raise DeclineError(str(e)) from e
    for visit, day in plan.restored:
        visit.status, visit.date = FORSLAG, day
    for message in plan.withdrawn:
        db.session.delete(message)
    _blocking, detach = _references([v.id for v in plan.removed])  # tasks about a removed proposal keep going
    for column in detach:
        db.session.execute(column.table.update().where(column.in_([v.id for v in plan.removed]))
                           .values({column.name: None}))
    for visit in plan.removed:
        db.session.delete(visit)
    db.session.flush()
    service.ensure_visits()  # the site gets visits for any round it had none of
    record("sample.decline_undone", site.sample, site=site.label, site_id=site.id,
           replacement=replacement.label if replacement else None,
           replacement_site_id=replacement.id if replacement else None,
           visits_restored=len(plan.restored), visits_removed=len(plan.removed),
           mails_withdrawn=len(plan.withdrawn))
    return plan

