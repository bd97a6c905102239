"""Action plans: editing with optimistic locking, follow-up figures, and the kommun's signed links.

Every change is audited in the same transaction (ids, field names and statuses; never the text).
Locking: the plan's `version` guards the plan's own text (challenges, follow-up) and its goals
(adding, editing, removing and reordering a goal raises the plan's version); each activity has
its own `version`. A change based on an older version raises StaleError and changes nothing; a
race between the check and the commit ends in SQLAlchemy's StaleDataError, which the views
treat the same way.

Status colours (always with the status in words): genomförd green, pågår yellow, ej påbörjad
red (nothing has happened yet: the municipal traffic light's "needs attention"), avbruten grey
(taken out of the plan on purpose; neither progress nor a warning). Share done always counts
every activity of the plan, avbrutna included, and states the denominator.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable

from sqlalchemy import case, func, select, update

from .. import links
from ..audit import record
from ..dialogue.signals import theme_counted, theme_merged
from ..extensions import db
# The kommun links' generic parts live in coordinator/links.py; named here as the plans' API.
from ..i18n import _
from ..links import ACTIVE, LinkRefused, aware, expires_at_for, last_valid_day, link_state, today  # noqa: F401
from ..sampling.models import Site
from ..sampling.service import adopted_sample
from ..timeutil import utcnow
from ..versions import Stale, check_version
from .models import (ACTIVITY_STATUSES, AVBRUTEN, EJ_PABORJAD, GENOMFORD, PAGAR, ActionPlan, PlanActivity, PlanGoal,
                     PlanLink)

LINK_DAYS = 60
LINK_SALT = "plan-link"
LINK_ACTOR = "kommunlänk {id}"

# Badge class per status: the colour; the word is always printed beside it.
STATUS_TONE = {GENOMFORD: "green", PAGAR: "yellow", EJ_PABORJAD: "red", AVBRUTEN: "grey"}

ACTIVITY_FIELDS = ("description", "responsible", "decided", "depends_on_decision", "depends_on_resources",
                   "due_date", "status", "comment")
GOAL_FIELDS = ("title", "description", "theme_id")


class PlanError(Exception):
    """A request the plan's rules refuse; the message is for the user."""


class StaleError(PlanError, Stale):
    """The form was based on an older version: someone else saved in between. Nothing was changed."""


def _touch(plan: ActionPlan) -> None:
    """Mark the plan changed: its version rises at the flush (and the flush checks the old one)."""
    plan.updated_at = utcnow()


# --------------------------------------------------------------------------- reading

def sites() -> list[Site]:
    """The active sites of the adopted sample, in the sample's order ([] without one)."""
    sample = adopted_sample()
    return sample.active_sites if sample else []


def site_or_none(site_id: int) -> Site | None:
    return db.session.get(Site, site_id)


def plan_for(site: Site | int) -> ActionPlan | None:
    site_id = site if isinstance(site, int) else site.id
    return db.session.scalar(select(ActionPlan).where(ActionPlan.site_id == site_id))


def activities(plan: ActionPlan) -> list[PlanActivity]:
    return [a for g in plan.goals for a in g.activities]


@dataclass
class SiteRow:
    site: Site
    plan_id: int | None = None
    goals: int = 0
    activities: int = 0
    done: int = 0
    decided: int = 0
    last_report: datetime | None = None
    active_links: int = 0

    @property
    def share_done(self) -> float | None:
        return self.done / self.activities if self.activities else None


def overview(site_list: list[Site] | None = None) -> list[SiteRow]:
    """One row per site (the given ones, a page of the list; else every active site of the adopted sample):
    plan figures from three aggregate queries."""
    site_list = sites() if site_list is None else site_list
    if not site_list:
        return []
    ids = [s.id for s in site_list]
    plans = dict(db.session.execute(select(ActionPlan.site_id, ActionPlan.id).where(ActionPlan.site_id.in_(ids))).all())
    plan_ids = list(plans.values())
    figures = {r[0]: r[1:] for r in db.session.execute(
        select(PlanGoal.plan_id, func.count(PlanGoal.id.distinct()), func.count(PlanActivity.id),
               func.sum(case((PlanActivity.status == GENOMFORD, 1), else_=0)),
               func.sum(case((PlanActivity.decided.is_(True), 1), else_=0)),
               func.max(PlanActivity.kommun_updated_at))
        .outerjoin(PlanActivity, PlanActivity.goal_id == PlanGoal.id)
        .where(PlanGoal.plan_id.in_(plan_ids)).group_by(PlanGoal.plan_id))}
    now = utcnow()
    links: dict[int, int] = {}
    for plan_id, expires_at in db.session.execute(
            select(PlanLink.plan_id, PlanLink.expires_at)
            .where(PlanLink.plan_id.in_(plan_ids), PlanLink.revoked_at.is_(None))):
        if aware(expires_at) > now:
            links[plan_id] = links.get(plan_id, 0) + 1
    rows = []
    for s in site_list:
        row = SiteRow(site=s, plan_id=plans.get(s.id))
        if row.plan_id is not None:
            goals, n, done, decided, last = figures.get(row.plan_id, (0, 0, 0, 0, None))
            row.goals, row.activities, row.done, row.decided = int(goals or 0), int(n or 0), int(done or 0), int(decided or 0)
            row.last_report = aware(last)
            row.active_links = links.get(row.plan_id, 0)
        rows.append(row)
    return rows


def plan_counts(sample_id: int) -> tuple[int, int]:
    """(active sites of the sample, how many of them have an action plan), in one statement."""
    sites_, with_plan = db.session.execute(
        select(func.count(Site.id), func.count(ActionPlan.id)).select_from(Site)
        .outerjoin(ActionPlan, ActionPlan.site_id == Site.id)
        .where(Site.sample_id == sample_id, Site.active)).one()
    return int(sites_ or 0), int(with_plan or 0)


def theme_groups(current_id: int | None = None) -> list[tuple[str, list[tuple[int, str]]]]:
    """Goal areas to choose from: the codebook's live themes per category (plus the current one if retired)."""
    from ..dialogue.models import Theme, ThemeCategory
    rows = db.session.execute(
        select(Theme.id, Theme.name, ThemeCategory.name, Theme.retired, Theme.merged_into_id, ThemeCategory.retired)
        .join(ThemeCategory, Theme.category_id == ThemeCategory.id)
        .order_by(ThemeCategory.position, ThemeCategory.name, Theme.name)).all()
    groups: dict[str, list[tuple[int, str]]] = {}
    for theme_id, name, category, retired, merged, category_retired in rows:
        live = not retired and merged is None and not category_retired
        if live or theme_id == current_id:
            groups.setdefault(category, []).append((theme_id, name))
    return list(groups.items())


# --------------------------------------------------------------------------- follow-up figures

@dataclass
class Tally:
    """Counts over a set of activities (every status counts in `total`)."""
    total: int = 0
    done: int = 0
    ongoing: int = 0
    not_started: int = 0
    cancelled: int = 0
    decided: int = 0
    decided_done: int = 0
    not_decided_done: int = 0

    @property
    def not_decided(self) -> int:
        return self.total - self.decided

    @staticmethod
    def share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def share_done(self) -> float | None:
        return self.share(self.done, self.total)

    @property
    def share_decided(self) -> float | None:
        return self.share(self.decided, self.total)

    @property
    def share_done_decided(self) -> float | None:
        return self.share(self.decided_done, self.decided)

    @property
    def share_done_not_decided(self) -> float | None:
        return self.share(self.not_decided_done, self.not_decided)

    def add(self, a: PlanActivity) -> None:
        self.total += 1
        done = a.status == GENOMFORD
        self.done += done
        self.ongoing += a.status == PAGAR
        self.not_started += a.status == EJ_PABORJAD
        self.cancelled += a.status == AVBRUTEN
        if a.decided:
            self.decided += 1
            self.decided_done += done
        else:
            self.not_decided_done += done


def tally(acts: Iterable[PlanActivity]) -> Tally:
    t = Tally()
    for a in acts:
        t.add(a)
    return t


@dataclass
class GoalFollowup:
    goal: PlanGoal
    tally: Tally
    reported: list[PlanActivity] = field(default_factory=list)  # activities the kommun reported on


@dataclass
class Followup:
    plan: ActionPlan
    overall: Tally
    goals: list[GoalFollowup]
    last_report: datetime | None


def followup(plan: ActionPlan) -> Followup:
    goals = []
    for g in plan.goals:
        goals.append(GoalFollowup(g, tally(g.activities),
                                  [a for a in g.activities if a.kommun_updated_at is not None]))
    reports = [aware(a.kommun_updated_at) for a in activities(plan) if a.kommun_updated_at is not None]
    return Followup(plan, tally(activities(plan)), goals, max(reports) if reports else None)


def visit_of(site: Site, round_: int):
    from ..scheduling.models import Visit
    return db.session.scalar(select(Visit).where(Visit.site_id == site.id, Visit.round == round_))


def round1_note(site: Site):
    """The dialogue note of the site's first visit, or None."""
    from ..dialogue.models import Note
    from ..scheduling.models import Visit
    return db.session.scalar(select(Note).join(Visit, Note.visit_id == Visit.id)
                             .where(Visit.site_id == site.id, Visit.round == 1))


def note_sections(note) -> list[tuple[str, str, list]]:
    """The note's passages per section, in the order of the note: (key, heading, passages)."""
    from ..dialogue.models import EXTRA_SECTIONS, DialogueQuestion
    if note is None:
        return []
    questions = {f"fraga-{q.nr}": q for q in db.session.scalars(select(DialogueQuestion))}
    extra = {"fack": _("Dialog med fackliga företrädare"), "barn": _("Samtal med barn och vårdnadshavare"),
             "ovrigt": _("Övriga iakttagelser")}
    by_section: dict[str, list] = {}
    for p in sorted(note.passages, key=lambda p: (p.section, p.position)):
        by_section.setdefault(p.section, []).append(p)

    def order(key: str) -> tuple:
        if key.startswith("fraga-") and key[6:].isdigit():
            return (0, int(key[6:]))
        return (1, EXTRA_SECTIONS.index(key) if key in EXTRA_SECTIONS else 99, key)

    out = []
    for key in sorted(by_section, key=order):
        if key in questions:
            heading = _("Fråga %(nr)s: %(fraga)s", nr=questions[key].nr, fraga=questions[key].fraga)
        else:
            heading = extra.get(key, key)
        out.append((key, heading, by_section[key]))
    return out


# --------------------------------------------------------------------------- the plan and its goals

def ensure_plan(site: Site, expected_version: int | str | None, user=None) -> ActionPlan:
    """The site's plan; created when the form was made without one (version "0")."""
    plan = plan_for(site)
    if plan is None:
        check_version(expected_version, 0, StaleError)
        plan = ActionPlan(site_id=site.id, challenges="", followup_summary="", most_urgent="")
        db.session.add(plan)
        db.session.flush()
        record("plan.created", plan, site_id=site.id)
        return plan
    check_version(expected_version, plan.version, StaleError)
    return plan


def _norm(value: Any) -> Any:
    return value.strip().replace("\r\n", "\n") if isinstance(value, str) else value


def _apply(obj, values: dict[str, Any], names: Iterable[str]) -> list[str]:
    changed = []
    for name in names:
        if name not in values:
            continue
        new = _norm(values[name])
        if getattr(obj, name) != new:
            setattr(obj, name, new)
            changed.append(name)
    return changed


def save_challenges(site: Site, expected_version, challenges: str, user=None) -> ActionPlan:
    plan = ensure_plan(site, expected_version, user)
    changed = _apply(plan, {"challenges": challenges}, ["challenges"])
    if changed:
        db.session.flush()
        record("plan.updated", plan, site_id=site.id, fields=changed)
    return plan


def add_goal(site: Site, expected_version, values: dict[str, Any], user=None) -> PlanGoal:
    plan = ensure_plan(site, expected_version, user)
    position = max((g.position for g in plan.goals), default=0) + 1
    goal = PlanGoal(plan=plan, position=position, title="", description="", situation="")
    _apply(goal, values, GOAL_FIELDS)
    db.session.add(goal)
    _touch(plan)
    db.session.flush()
    record("plan.goal_added", goal, plan_id=plan.id, position=position, theme_id=goal.theme_id)
    return goal


def update_goal(goal: PlanGoal, expected_version, values: dict[str, Any], user=None) -> list[str]:
    plan = goal.plan
    check_version(expected_version, plan.version, StaleError)
    changed = _apply(goal, values, GOAL_FIELDS)
    if changed:
        _touch(plan)
        db.session.flush()
        record("plan.goal_updated", goal, plan_id=plan.id, fields=changed,
               **({"theme_id": goal.theme_id} if "theme_id" in changed else {}))
    return changed


def remove_goal(goal: PlanGoal, expected_version, user=None) -> None:
    plan = goal.plan
    check_version(expected_version, plan.version, StaleError)
    record("plan.goal_removed", goal, plan_id=plan.id, activities=[a.id for a in goal.activities])
    plan.goals.remove(goal)
    db.session.delete(goal)
    for i, g in enumerate(plan.goals, start=1):
        g.position = i
    _touch(plan)
    db.session.flush()


def move_goal(goal: PlanGoal, direction: str, expected_version, user=None) -> bool:
    """Swap the goal with its neighbour above ("upp") or below ("ned"); False at the end of the list."""
    plan = goal.plan
    check_version(expected_version, plan.version, StaleError)
    goals = list(plan.goals)
    i = goals.index(goal)
    j = i - 1 if direction == "upp" else i + 1
    if direction not in ("upp", "ned") or not 0 <= j < len(goals):
        return False
    goals[i], goals[j] = goals[j], goals[i]
    for n, g in enumerate(goals, start=1):
        g.position = n
    _touch(plan)
    db.session.flush()
    record("plan.goal_moved", goal, plan_id=plan.id, direction=direction, position=goal.position)
    return True


def save_followup(plan: ActionPlan, expected_version, followup_summary: str, most_urgent: str,
                  situations: dict[int, str], user=None) -> list[str]:
    check_version(expected_version, plan.version, StaleError)
    changed = _apply(plan, {"followup_summary": followup_summary, "most_urgent": most_urgent},
                     ["followup_summary", "most_urgent"])
    goals_changed = []
    by_id = {g.id: g for g in plan.goals}
    for goal_id, text in situations.items():
        goal = by_id.get(goal_id)
        if goal is None:
            raise PlanError(_("Ett av målen finns inte längre i planen. Ladda om sidan."))
        if _apply(goal, {"situation": text}, ["situation"]):
            goals_changed.append(goal.id)
    if goals_changed and not changed:
        _touch(plan)
    if changed or goals_changed:
        db.session.flush()
        record("plan.followup_updated", plan, site_id=plan.site_id, fields=changed, goals_situation=goals_changed)
    return changed + [f"situation:{g}" for g in goals_changed]


# --------------------------------------------------------------------------- activities

def _valid_status(status: str) -> str:
    if status not in ACTIVITY_STATUSES:
        raise PlanError(_("Okänd status."))
    return status


def add_activity(goal: PlanGoal, values: dict[str, Any], user=None) -> PlanActivity:
    _valid_status(values.get("status", EJ_PABORJAD))
    position = max((a.position for a in goal.activities), default=0) + 1
    activity = PlanActivity(goal=goal, position=position, description="", responsible="", comment="",
                            kommun_comment="", status=EJ_PABORJAD)
    _apply(activity, values, ACTIVITY_FIELDS)
    db.session.add(activity)
    db.session.flush()
    record("plan.activity_added", activity, plan_id=goal.plan_id, goal_id=goal.id, status=activity.status,
           decided=activity.decided)
    return activity


def update_activity(activity: PlanActivity, expected_version, values: dict[str, Any], user=None) -> list[str]:
    check_version(expected_version, activity.version, StaleError)
    if "status" in values:
        _valid_status(values["status"])
    old_status = activity.status
    changed = _apply(activity, values, ACTIVITY_FIELDS)
    if changed:
        db.session.flush()
        extra = {"status_from": old_status, "status_to": activity.status} if "status" in changed else {}
        if "decided" in changed:
            extra["decided"] = activity.decided
        record("plan.activity_updated", activity, plan_id=activity.goal.plan_id, goal_id=activity.goal_id,
               fields=changed, **extra)
    return changed


def remove_activity(activity: PlanActivity, expected_version, user=None) -> None:
    check_version(expected_version, activity.version, StaleError)
    goal = activity.goal
    record("plan.activity_removed", activity, plan_id=goal.plan_id, goal_id=goal.id, status=activity.status)
    goal.activities.remove(activity)
    db.session.delete(activity)
    for i, a in enumerate(goal.activities, start=1):
        a.position = i
    db.session.flush()


def kommun_report(link: PlanLink, activity: PlanActivity, expected_version, status: str,
                  kommun_comment: str) -> list[str]:
    """The kommun's report through its link: status and comment of one activity of *its* plan."""
    if activity.goal.plan_id != link.plan_id:
        raise LookupError("activity of another plan")
    check_version(expected_version, activity.version, StaleError)
    _valid_status(status)
    old_status = activity.status
    changed = _apply(activity, {"status": status, "kommun_comment": kommun_comment}, ["status", "kommun_comment"])
    if changed:
        activity.kommun_updated_at = utcnow()
        db.session.flush()
        extra = {"status_from": old_status, "status_to": activity.status} if "status" in changed else {}
        record("plan.kommun_report", activity, actor=LINK_ACTOR.format(id=link.id), link_id=link.id,
               plan_id=link.plan_id, goal_id=activity.goal_id, fields=changed, **extra)
    return changed


# --------------------------------------------------------------------------- kommun links

def _serializer(timestamp: int | None = None):
    return links.serializer(LINK_SALT, timestamp)


def token_for(link: PlanLink) -> str:
    return links.token_for(link, LINK_SALT)


def create_link(plan: ActionPlan, last_day: date, user=None) -> PlanLink:
    if last_day <= today():
        raise PlanError(_("Länken måste gälla minst till och med i morgon."))
    created = utcnow().replace(microsecond=0)
    link = PlanLink(plan=plan, nonce=links.new_nonce(), created_at=created,
                    created_by_id=getattr(user, "id", None), expires_at=expires_at_for(last_day))
    db.session.add(link)
    db.session.flush()
    record("plan.link_created", link, plan_id=plan.id, site_id=plan.site_id, valid_through=last_day.isoformat())
    return link


def revoke_link(link: PlanLink, user=None) -> bool:
    if link.revoked_at is not None:
        return False
    link.revoked_at = utcnow()
    db.session.flush()
    record("plan.link_revoked", link, plan_id=link.plan_id, site_id=link.plan.site_id)
    return True


def resolve_token(token: str) -> PlanLink:
    """The link a token stands for, after checking the signature, its age, the nonce and the row."""
    return links.resolve(token, LINK_SALT, PlanLink)


def touch_link(link: PlanLink) -> None:
    link.last_used_at = utcnow()


# The codebook counts and merges themes without knowing the plans: a goal's area is a theme.
@theme_counted.connect
def _goals_naming(theme_id: int, **_kwargs) -> int:
    return db.session.scalar(select(func.count()).select_from(PlanGoal).where(PlanGoal.theme_id == theme_id)) or 0


@theme_merged.connect
def _goals_to_merged_theme(source_id: int, *, target_id: int, **_kwargs) -> int:
    return db.session.execute(update(PlanGoal).where(PlanGoal.theme_id == source_id)
                              .values(theme_id=target_id)).rowcount
