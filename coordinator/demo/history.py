"""The demo's audit log in the demo's own time: each event dated when the invented work happened.

The services write their audit events as the demo builds, all stamped with the moment of the build.
The site pages' time lines read the log, so the demo moves every event it made to the day the
invented work took place (the visit's invitation, the answer, the held visit, the note, the plan),
read back from the rows the demo dated. Events of kinds it does not know keep their time.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..audit import AuditEvent
from ..contacts.models import Attendee
from ..dialogue.models import Note
from ..extensions import db
from ..links import aware
from ..plans.models import ActionPlan, PlanActivity, PlanGoal
from ..sampling.models import Decline
from ..scheduling.models import Visit
from .build import ADOPTED_ON, WAVES, Demo, at


def first_event_id() -> int:
    return (db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0) + 1


def _id(event: AuditEvent) -> int | None:
    return int(event.object_id) if event.object_id and event.object_id.isdigit() else None


def backdate_audit(demo: Demo, first_id: int) -> int:
    """Date the demo's audit events (ids from `first_id`) by the demo's own calendar; how many moved."""
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.id >= first_id).order_by(AuditEvent.id)))
    visits = {v.id: v for v in db.session.scalars(select(Visit))}
    attendees = {a.id: a for a in db.session.scalars(select(Attendee).where(Attendee.visit_id.isnot(None)))}
    answered: dict[int, datetime] = {}
    for a in attendees.values():
        if a.responded_at is not None:
            answered[a.visit_id] = max(answered.get(a.visit_id, aware(a.responded_at)), aware(a.responded_at))
    notes = {n.id: n for n in db.session.scalars(select(Note))}
    plans = {p.id: p for p in db.session.scalars(select(ActionPlan))}
    goal_plan = dict(db.session.execute(select(PlanGoal.id, PlanGoal.plan_id)).all())
    activity_plan = {a_id: goal_plan.get(g_id) for a_id, g_id in
                     db.session.execute(select(PlanActivity.id, PlanActivity.goal_id)).all()}
    declines = {d.site_id: d for d in db.session.scalars(select(Decline))}
    from ..feedback.models import FeedbackLetter
    letters = {b.id: b for b in db.session.scalars(select(FeedbackLetter))}
    sample = demo.sample
    queued: dict[int, int] = {}
    moved = 0
    for e in events:
        oid = _id(e)
        visit = visits.get(oid) if e.object_type == "visit" else None
        when = None
        if e.action == "sample.drawn":
            when = sample.created_at
        elif e.action == "sample.adopted":
            when = sample.adopted_at
        elif e.action == "sample.site_declined" and e.site_id in declines:
            when = declines[e.site_id].recorded_at
        elif e.action.startswith("staff."):
            when = at(ADOPTED_ON + timedelta(days=5), 10)
        elif e.action.startswith("contact"):
            when = at(ADOPTED_ON + timedelta(days=10), 11)
        elif e.action in ("visit.created", "visit.planned"):
            when = at(WAVES[0].booked_on, 9)
        elif visit is not None and e.action in ("visit.invited", "invite.queued"):
            n = queued[visit.id] = queued.get(visit.id, 0) + 1
            day = demo.moved_on.get(visit.id) if n > 1 and visit.id in demo.moved_on else demo.invited_on.get(visit.id)
            when = at(day, 9) if day else None
        elif visit is not None and e.action == "visit.confirmed":
            when = answered.get(visit.id) or (at(demo.invited_on[visit.id] + timedelta(days=7), 10)
                                              if visit.id in demo.invited_on else None)
        elif visit is not None and e.action == "visit.completed" and visit.date:
            when = at(visit.date, 16)
        elif visit is not None and e.action == "visit.moved" and visit.id in demo.moved_on:
            when = at(demo.moved_on[visit.id], 11)
        elif e.action == "invite.partstat" and oid in attendees:
            a = attendees[oid]
            # A moved visit asks everyone again: the first answers' time is gone with them.
            when = a.responded_at or (at(demo.invited_on[a.visit_id] + timedelta(days=5), 10)
                                      if a.visit_id in demo.invited_on else None)
        elif e.action == "note.created" and oid in notes:
            when = notes[oid].created_at
        elif e.action == "note.saved" and oid in notes:
            when = notes[oid].updated_at
        elif e.action.startswith("plan."):
            plan_id = {"action_plan": oid, "plan_goal": goal_plan.get(oid),
                       "plan_activity": activity_plan.get(oid)}.get(e.object_type)
            plan = plans.get(plan_id)
            if plan is not None:
                later = e.action in ("plan.activity_updated", "plan.followup_updated")
                when = plan.updated_at if later else plan.created_at
        elif e.action.startswith("feedback.") and e.object_type == "feedback_letter" and oid in letters:
            b = letters[oid]
            when = {"feedback.letter_created": b.created_at, "feedback.letter_saved": b.updated_at,
                    "feedback.letter_approved": b.approved_at, "feedback.letter_sent": b.sent_at}.get(e.action)
        elif e.action == "task.created" and e.actor == "system":
            when = at(demo.as_of, 7)
        elif e.action == "demo.created":
            when = at(demo.as_of, 8)
        if when is not None:
            db.session.execute(update(AuditEvent).where(AuditEvent.id == e.id).values(at=aware(when)),
                               execution_options={"synchronize_session": False})
            moved += 1
    return moved
