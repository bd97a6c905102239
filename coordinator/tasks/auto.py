"""The app's own tasks: what the data asks someone to do (a note to write, a plan follow-up to prepare).

Plain words: after a visit is held, its dialogue note is due a set number of working days later;
a note counts as written when every active dialogue question has at least one passage. Two weeks
before a site's second visit, its action plan's follow-up is to be prepared. `wanted(on)` lists
those demands; tasks.service.sync turns them into tasks (made once, following the visit's date,
closed by the app when done). `notes_missing` is shared with the start page.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, null, select
from sqlalchemy.orm import joinedload

from ..dialogue.models import DialogueQuestion, Note, Passage
from ..extensions import db
from ..plans.models import ActionPlan
from ..registry.models import Kommun
from ..sampling.models import Site
from ..sampling.service import adopted_sample
from ..scheduling.defaults import assignment
from ..scheduling.models import GENOMFORD, INSTALLD, Visit
from ..scheduling.workdays import is_working_day
from .models import ANTECKNING, UPPFOLJNING
from .service import FOLLOWUP_DAYS_BEFORE, note_due


@dataclass
class NoteItem:
    visit: Visit
    state: str                      # "saknas" (no passage) | "ofullstandig" (questions without passages)
    due: date
    overdue: bool
    missing_questions: list[int] = field(default_factory=list)
    task: Any = None                # the app's task for it (tasks.models.Task), with its owner



def sample_visits(sample_id: int) -> list[Visit]:
    """Every visit of the adopted sample's sites, with site, kommun and län (one statement)."""
    return list(db.session.scalars(
        select(Visit).join(Site, Site.id == Visit.site_id).where(Site.sample_id == sample_id)
        .options(joinedload(Visit.site).joinedload(Site.kommun).joinedload(Kommun.lan))
        .order_by(Visit.date.is_(None), Visit.date, Visit.start_time, Site.position, Visit.round)))


def notes_missing(visits: list[Visit], on: date, working_days: int) -> list[NoteItem]:
    """Held visits (by `on`) whose note is missing or lacks a passage under an active question, by due date."""
    held = [v for v in visits if v.status == GENOMFORD and v.date is not None and v.date <= on]
    if not held:
        return []
    questions = list(db.session.scalars(select(DialogueQuestion.nr).where(DialogueQuestion.active)
                                        .order_by(DialogueQuestion.nr)))
    keys = [f"fraga-{nr}" for nr in questions]
    # Per visit with a note: how many of the active questions it answers and how many passages it has (one
    # row a note); then the sections of just the notes that lack some. Complete notes' passages are never read.
    answered = case((Passage.section.in_(keys), Passage.section)) if keys else null()
    counts = {visit_id: (n_answered, n_passages) for visit_id, n_answered, n_passages in db.session.execute(
        select(Note.visit_id, func.count(answered.distinct()), func.count(Passage.id))
        .join(Passage, Passage.note_id == Note.id).where(Note.visit_id.isnot(None)).group_by(Note.visit_id))}
    held_ids = {v.id for v in held}
    partial = [vid for vid, (n, _) in counts.items() if n < len(keys) and vid in held_ids]
    written_by_visit: dict[int, set[str]] = defaultdict(set)
    for visit_id, section in db.session.execute(  # also when none: the page's statements stay the same
            select(Note.visit_id, Passage.section).join(Passage, Passage.note_id == Note.id)
            .where(Note.visit_id.in_(partial)).distinct()):
        written_by_visit[visit_id].add(section)
    out = []
    for v in held:
        n_answered, n_passages = counts.get(v.id, (0, 0))
        if n_passages and n_answered == len(keys):
            continue
        written = written_by_visit.get(v.id, set())
        missing = [nr for nr in questions if f"fraga-{nr}" not in written]
        due = note_due(v.date, working_days, is_working_day)
        out.append(NoteItem(v, "ofullstandig" if written else "saknas", due, due < on, missing))
    out.sort(key=lambda n: (n.due, n.visit.id))
    return out


def wanted(on: date, visits: list[Visit] | None = None) -> list[dict[str, Any]]:
    """The app's own tasks the data asks for as of `on` (see tasks.service.sync).

    A dialogue note to write for every held visit whose note is missing or incomplete; a plan
    follow-up to prepare for every site with an action plan whose second visit has a date and has
    not been held, due two weeks before it. `visits`: the sample's visits when the caller has read them."""
    sample = adopted_sample()
    if sample is None:
        return []
    visits = sample_visits(sample.id) if visits is None else visits
    out = [{"source": f"anteckning:{n.visit.id}", "kind": ANTECKNING, "due_date": n.due,
            "site_id": n.visit.site_id, "visit_id": n.visit.id,
            "title": f"Skriv anteckningen från besöket i {n.visit.site.label} (omgång {n.visit.round})"}
           for n in notes_missing(visits, on, assignment().note_due_working_days)]
    active_ids = {site.id for site in db.session.scalars(
        select(Site).where(Site.sample_id == sample.id, Site.active))}
    planned = set(db.session.scalars(select(ActionPlan.site_id).where(ActionPlan.site_id.in_(active_ids))))
    for v in visits:
        if v.round == 2 and v.site_id in planned and v.date is not None and v.status not in (GENOMFORD, INSTALLD):
            out.append({"source": f"uppfoljning:{v.id}", "kind": UPPFOLJNING,
                        "due_date": v.date - timedelta(days=FOLLOWUP_DAYS_BEFORE), "site_id": v.site_id,
                        "visit_id": v.id,
                        "title": f"Förbered uppföljningen av handlingsplanen inför besök 2 i {v.site.label}"})
    return out


_in_step: list[tuple] = []  # (data version, day) at which this process last found the tasks up to date


def sync_now(on: date, visits: list[Visit] | None = None) -> bool:
    """Bring the app's own tasks up to date; True if that changed (and committed) anything, which expires
    the rows read so far. A concurrent sync that got there first is fine.

    The tasks follow from the data and the day alone, so once they were found up to date, the same data
    version on the same day skips the work (the start page calls this on every view)."""
    from sqlalchemy.exc import IntegrityError, OperationalError
    from sqlalchemy.orm.exc import StaleDataError

    from .. import dataversion
    from .service import sync

    version = dataversion.current()
    key = (version, on)
    if version is not None and key in _in_step:
        return False
    try:
        report = sync(on, wanted(on, visits))
        if not (report.created or report.moved or report.closed):
            if version is not None:
                _in_step[:] = [key]
            return False
        db.session.commit()
    except (IntegrityError, StaleDataError, OperationalError):
        db.session.rollback()
    return True
