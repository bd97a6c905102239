"""Everything about one visit site, gathered for its page, its one-page briefing and `coordinator site show`.

Plain words: the office works kommun by kommun. For one site this reads the kommun's registry
facts and ÖJ group; its place in the sample (π and weight 1/π, the reserve it replaced or that
replaced it, declines); both visits (date, status, programme, who was invited and who answered);
its contacts; the dialogue notes with their themes and flags; the action plan with its follow-up
figures; the questionnaires; the dialogue forums its people attended; the kommun links and
calendar feeds issued and revoked; its open tasks; and the time line of what happened, from the
audit log. A fixed number of SQL statements, whatever the number of visits, notes or activities.
Nothing here writes.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ..audit import AuditEvent
from ..contacts.models import Attendee, Contact
from ..dialogue.models import FLAGS, DialogueQuestion, Note, Passage, PassageTheme, Theme
from ..events.models import Event
from ..extensions import db
from ..i18n import _
from ..invites.models import FeedToken
from ..links import last_valid_day, link_state
from ..measurement.models import MeasurementAnswer, MeasurementRequest
from ..paging import PARAM, Page, page_of
from ..plans.models import AVBRUTEN, GENOMFORD as ACTIVITY_DONE, ActionPlan, PlanGoal, PlanLink
from ..plans.service import Tally, tally
from ..registry.models import Kommun, Population
from ..sampling.models import Decline, SampleKommun, Site
from ..scheduling.models import Visit, VisitPart
from ..tasks.models import Task

ROUNDS = (1, 2)
# How the command line names a city's central administration (its site has no unit).
CENTRAL = ("", "central", "centralt", "central förvaltning", "centrala förvaltningen")
TIMELINE_PAGE = 50
TOP_THEMES = 6


@dataclass
class NoteSummary:
    note: Note
    passages: int
    missing_questions: list[int]
    themes: list[tuple[str, int]]          # (theme name, passages), most frequent first
    flags: dict[str, int]


@dataclass
class VisitStory:
    round: int
    visit: Visit | None
    parts: list[VisitPart] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)   # PARTSTAT -> count
    attendees: list[Attendee] = field(default_factory=list)
    note: NoteSummary | None = None
    request: MeasurementRequest | None = None
    answered_questions: int = 0

    @property
    def invited(self) -> int:
        return sum(self.answers.values())


@dataclass
class PlanStory:
    plan: ActionPlan
    overall: Tally
    goals: list[tuple[PlanGoal, Tally]]
    overdue: int
    links: list[PlanLink]


@dataclass
class EventStory:
    event: Event
    people: list[Attendee]


@dataclass
class SiteStory:
    site: Site
    kommun: Kommun
    sample_kommun: SampleKommun | None
    population: tuple[int, int] | None       # (year, folkmängd), the latest in the registry
    siblings: list[Site]                      # the kommun's other sites in the same sample (a city's districts)
    replaces: Site | None
    replaced_by: Site | None
    declines: list[Decline]
    visits: list[VisitStory]
    contacts: list[Contact]
    plan: PlanStory | None
    events: list[EventStory]
    feeds: list[FeedToken]
    tasks: list[Task]
    timeline: list[AuditEvent]
    timeline_page: Page
    on: date

    @property
    def pi(self) -> float | None:
        """π of the site: the kommun's inclusion probability; a district site has none of its own."""
        if self.sample_kommun is None or self.site.enhet:
            return None
        return self.sample_kommun.pi

    @property
    def weight(self) -> float | None:
        return 1 / self.pi if self.pi else None

    @property
    def notes(self) -> list[NoteSummary]:
        return [v.note for v in self.visits if v.note is not None]

    @property
    def requests(self) -> list[MeasurementRequest]:
        return [v.request for v in self.visits if v.request is not None]

    def visit(self, round_: int) -> VisitStory:
        return next(v for v in self.visits if v.round == round_)


def answer_word(partstat: str) -> str:
    return {"ACCEPTED": _("ja"), "TENTATIVE": _("kanske"), "DECLINED": _("nej"),
            "NEEDS-ACTION": _("inget svar")}.get(partstat, partstat)


def find_site(kommunkod: str, unit: str | None = None, sample_id: int | None = None) -> list[Site]:
    """The sites of a kommun (in the adopted sample unless `sample_id` is given), optionally one unit."""
    from ..sampling.service import adopted_sample

    if sample_id is None:
        sample = adopted_sample()
        if sample is None:
            return []
        sample_id = sample.id
    stmt = select(Site).where(Site.sample_id == sample_id, Site.kommunkod == kommunkod)
    if unit is not None:
        wanted = unit.strip().lower()
        stmt = stmt.where(Site.enhet == "" if wanted in CENTRAL else func.lower(Site.enhet) == wanted)
    return list(db.session.scalars(stmt.options(joinedload(Site.kommun)).order_by(Site.active.desc(), Site.position,
                                                                                  Site.enhet)))


def _notes(visit_ids: list[int]) -> dict[int, NoteSummary]:
    if not visit_ids:
        return {}
    notes = {n.visit_id: n for n in db.session.scalars(select(Note).where(Note.visit_id.in_(visit_ids)))}
    if not notes:
        return {}
    note_ids = [n.id for n in notes.values()]
    passages = list(db.session.scalars(select(Passage).where(Passage.note_id.in_(note_ids))))
    theme_rows = db.session.execute(
        select(Passage.note_id, Theme.name, func.count()).join(PassageTheme, PassageTheme.passage_id == Passage.id)
        .join(Theme, Theme.id == PassageTheme.theme_id).where(Passage.note_id.in_(note_ids))
        .group_by(Passage.note_id, Theme.name)).all()
    questions = list(db.session.scalars(select(DialogueQuestion.nr).where(DialogueQuestion.active)
                                        .order_by(DialogueQuestion.nr)))
    themes: dict[int, Counter] = defaultdict(Counter)
    for note_id, name, n in theme_rows:
        themes[note_id][name] = n
    by_note: dict[int, list[Passage]] = defaultdict(list)
    for p in passages:
        by_note[p.note_id].append(p)
    out = {}
    for visit_id, note in notes.items():
        ps = by_note.get(note.id, [])
        sections = {p.section for p in ps}
        out[visit_id] = NoteSummary(
            note, len(ps), [nr for nr in questions if f"fraga-{nr}" not in sections],
            sorted(themes[note.id].items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_THEMES],
            {flag: sum(1 for p in ps if getattr(p, flag)) for flag in FLAGS})
    return out


def _plan(site_id: int, on: date) -> PlanStory | None:
    plan = db.session.scalar(
        select(ActionPlan).where(ActionPlan.site_id == site_id)
        .options(selectinload(ActionPlan.goals).selectinload(PlanGoal.activities),
                 selectinload(ActionPlan.goals).joinedload(PlanGoal.theme), selectinload(ActionPlan.links)))
    if plan is None:
        return None
    acts = [a for g in plan.goals for a in g.activities]
    overdue = sum(1 for a in acts if a.due_date is not None and a.due_date < on
                  and a.status not in (ACTIVITY_DONE, AVBRUTEN))
    return PlanStory(plan, tally(acts), [(g, tally(g.activities)) for g in plan.goals], overdue,
                     sorted(plan.links, key=lambda link: link.created_at, reverse=True))


def story(site: Site, on: date, timeline_page: int = 1) -> SiteStory:
    """Everything about `site` as of `on` (the office's day)."""
    kommun = db.session.scalar(select(Kommun).where(Kommun.kommunkod == site.kommunkod)
                               .options(joinedload(Kommun.lan), selectinload(Kommun.stadsdelar)))
    sample_kommun = db.session.get(SampleKommun, (site.sample_id, site.kommunkod))
    population = db.session.execute(select(Population.year, Population.folkmangd)
                                    .where(Population.kommunkod == site.kommunkod)
                                    .order_by(Population.year.desc()).limit(1)).first()
    siblings = [s for s in db.session.scalars(
        select(Site).where(Site.sample_id == site.sample_id, Site.kommunkod == site.kommunkod, Site.id != site.id)
        .order_by(Site.position, Site.enhet))]
    related = db.session.scalars(select(Site).where(
        (Site.replaces_id == site.id) | (Site.id == site.replaces_id)).options(joinedload(Site.kommun))).all()
    replaces = next((s for s in related if s.id == site.replaces_id), None)
    replaced_by = next((s for s in related if s.replaces_id == site.id), None)
    declines = list(db.session.scalars(
        select(Decline).where((Decline.site_id == site.id) | (Decline.replacement_site_id == site.id))
        .options(joinedload(Decline.site).joinedload(Site.kommun),
                 joinedload(Decline.replacement).joinedload(Site.kommun))
        .order_by(Decline.declined_on)))

    visits = {v.round: v for v in db.session.scalars(
        select(Visit).where(Visit.site_id == site.id)
        .options(selectinload(Visit.parts), selectinload(Visit.attendees).joinedload(Attendee.contact)))}
    visit_ids = [v.id for v in visits.values()]
    notes = _notes(visit_ids)
    requests = {r.round: r for r in db.session.scalars(
        select(MeasurementRequest).where(MeasurementRequest.site_id == site.id)
        .options(joinedload(MeasurementRequest.questionnaire)))}
    answered = dict(db.session.execute(
        select(MeasurementAnswer.request_id, func.count()).where(
            MeasurementAnswer.request_id.in_([r.id for r in requests.values()]),
            MeasurementAnswer.value.isnot(None)).group_by(MeasurementAnswer.request_id)).all()) if requests else {}
    stories = []
    for r in ROUNDS:
        v = visits.get(r)
        answers: dict[str, int] = Counter(a.partstat for a in v.attendees) if v else {}
        req = requests.get(r)
        stories.append(VisitStory(r, v, list(v.parts) if v else [], dict(answers), list(v.attendees) if v else [],
                                  notes.get(v.id) if v else None, req, answered.get(req.id, 0) if req else 0))

    contacts = list(db.session.scalars(select(Contact).where(Contact.site_id == site.id)
                                       .order_by(Contact.active.desc(), Contact.role, Contact.name)))
    contact_ids = [c.id for c in contacts]
    event_people: dict[int, list[Attendee]] = defaultdict(list)
    events: dict[int, Event] = {}
    if contact_ids:
        for a in db.session.scalars(select(Attendee).where(Attendee.event_id.isnot(None),
                                                           Attendee.contact_id.in_(contact_ids))
                                    .options(joinedload(Attendee.event))):
            event_people[a.event_id].append(a)
            events[a.event_id] = a.event
    event_stories = [EventStory(events[i], people) for i, people in
                     sorted(event_people.items(), key=lambda kv: (events[kv[0]].date, kv[0]))]

    feeds = list(db.session.scalars(select(FeedToken).where(FeedToken.site_id == site.id)
                                    .order_by(FeedToken.created_at.desc())))
    tasks = list(db.session.scalars(
        select(Task).where(Task.site_id == site.id, Task.done_at.is_(None))
        .options(joinedload(Task.owner), joinedload(Task.visit), joinedload(Task.site))
        .order_by(Task.due_date, Task.id)))
    timeline_q = select(AuditEvent).where(AuditEvent.site_id == site.id)
    total = db.session.scalar(select(func.count()).select_from(timeline_q.subquery())) or 0
    page = page_of({PARAM: str(timeline_page)}, total, TIMELINE_PAGE)
    timeline = list(db.session.scalars(timeline_q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                       .offset(page.offset).limit(TIMELINE_PAGE)))
    return SiteStory(site, kommun, sample_kommun, tuple(population) if population else None, siblings, replaces,
                     replaced_by, declines, stories, contacts, _plan(site.id, on), event_stories, feeds, tasks,
                     timeline, page, on)


def as_json(s: SiteStory, timeline: list[dict[str, Any]]) -> dict[str, Any]:
    """The `coordinator site show --json` contract."""
    plan = s.plan
    return {
        "site_id": s.site.id, "kommunkod": s.site.kommunkod, "kommun": s.kommun.namn, "unit": s.site.enhet or None,
        "label": s.site.label, "lan": s.kommun.lan.namn, "group": s.site.grupp, "active": s.site.active,
        "pi": s.pi, "weight": s.weight,
        "replaces": s.replaces.label if s.replaces else None,
        "replaced_by": s.replaced_by.label if s.replaced_by else None,
        "visits": [{"round": v.round, "visit_id": v.visit.id if v.visit else None,
                    "date": v.visit.date.isoformat() if v.visit and v.visit.date else None,
                    "status": v.visit.status if v.visit else None, "invited": v.invited,
                    "answers": v.answers} for v in s.visits],
        "contacts": sum(1 for c in s.contacts if c.active),
        "notes": len(s.notes),
        "plan": {"activities": plan.overall.total, "decided": plan.overall.decided, "done": plan.overall.done,
                 "overdue": plan.overdue} if plan else {"activities": 0, "decided": 0, "done": 0, "overdue": 0},
        "questionnaires": len(s.requests),
        "events": [{"event_id": e.event.id, "title": e.event.title, "date": e.event.date.isoformat(),
                    "people": len(e.people)} for e in s.events],
        "links": {"plan": [{"created": link.created_at.isoformat(), "valid_through": last_valid_day(link).isoformat(),
                            "state": link_state(link)} for link in (plan.links if plan else [])],
                  "measurement": [{"round": r.round, "state": link_state(r),
                                   "valid_through": last_valid_day(r).isoformat()} for r in s.requests],
                  "feeds": [{"created": f.created_at.isoformat(), "revoked": f.revoked_at is not None}
                            for f in s.feeds]},
        "tasks": len(s.tasks),
        "timeline": timeline,
    }
