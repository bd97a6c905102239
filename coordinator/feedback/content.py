"""What a feedback letter says besides the staff's own texts: gathered from the visit, the plan, the measurement.

Plain words: after a visit the office writes back to the kommun. The letter repeats what was said
in the dialogue, question by question, from the visit's note; it shows the kommun's action plan and
how far it has come; and it puts the kommun's own questionnaire answers beside those of the other
visited kommuner of its ÖJ group and beside the figure for the whole country, weighted with the
sample's design weights (coordinator.measurement.weighted).

What goes out and what does not:
- only the passages written under the dialogue questions; the talks with children and guardians,
  the union dialogue and other observations stay in the office;
- a passage marked as a quote goes out only when staff have cleared it for attribution (the letter
  names the kommun);
- a passage with anything that reads as a personnummer never goes out;
- free-text questionnaire answers are not shown, only choices and numbers;
- a group or national figure resting on fewer answers than the setting ESTIMATE_MIN_BASE
  (default 5) is not shown as a figure: the letter says there are too few answers.

`gather(site, round_)` returns a plain, JSON-serialisable dict; approving a letter stores it, so
the letter the kommun reads is the one staff approved, whatever changes later. No Flask here.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..dialogue import personnummer
from ..dialogue.models import DialogueQuestion, Note, Passage
from ..extensions import db
from ..measurement.models import MANY, NUMBER, ONE, MeasurementRequest
from ..plans.models import ActionPlan, PlanGoal
from ..sampling.models import Site
from ..scheduling.models import Visit



def question_passages(note: Note | None) -> tuple[list[dict[str, Any]], int]:
    """([{nr, fraga, passages: [text]}] for every active dialogue question, number of passages held back)."""
    questions = list(db.session.scalars(select(DialogueQuestion).where(DialogueQuestion.active.is_(True))
                                        .order_by(DialogueQuestion.nr)))
    by_section: dict[str, list[Passage]] = {}
    withheld = 0
    for p in sorted(note.passages, key=lambda p: (p.section, p.position)) if note else []:
        if not p.section.startswith("fraga-"):
            continue
        if (p.citat and not p.attribution_cleared) or personnummer.contains(p.text):
            withheld += 1
            continue
        if p.text.strip():
            by_section.setdefault(p.section, []).append(p)
    out = [{"nr": q.nr, "fraga": q.fraga, "passages": [p.text.strip() for p in by_section.get(f"fraga-{q.nr}", [])]}
           for q in questions]
    return out, withheld


def plan_content(site: Site) -> dict[str, Any] | None:
    plan = db.session.scalar(select(ActionPlan).where(ActionPlan.site_id == site.id)
                             .options(selectinload(ActionPlan.goals).selectinload(PlanGoal.activities)))
    if plan is None:
        return None
    goals, totals = [], {"total": 0, "done": 0, "ongoing": 0, "not_started": 0, "cancelled": 0, "decided": 0}
    for g in plan.goals:
        acts = []
        for a in g.activities:
            acts.append({"description": a.description, "responsible": a.responsible, "decided": bool(a.decided),
                         "due_date": a.due_date.isoformat() if a.due_date else None, "status": a.status})
            totals["total"] += 1
            totals["decided"] += bool(a.decided)
            key = {"genomford": "done", "pagar": "ongoing", "ej_paborjad": "not_started",
                   "avbruten": "cancelled"}.get(a.status)
            if key:
                totals[key] += 1
        goals.append({"position": g.position, "title": g.title, "description": g.description,
                      "situation": g.situation, "activities": acts})
    return {"challenges": plan.challenges, "goals": goals, "followup_summary": plan.followup_summary,
            "most_urgent": plan.most_urgent, "totals": totals}


def _national(questionnaire_id: int, round_: int) -> dict[int, dict]:
    """The weighted national figures by question id (coordinator.measurement.weighted).

    The method in words is not kept with the letter: the letter says it when it is shown, in its language."""
    from ..measurement.weighted import national_estimates
    return {q["question_id"]: q for q in national_estimates(questionnaire_id, round_).get("questions", [])}


def _own_choices(q, answer) -> list[str]:
    from ..measurement.tabulate import choices
    picked, other = choices(q, answer)
    return picked + (["Annat, ange"] if other else [])


def measurement_content(site: Site, round_: int) -> dict[str, Any] | None:
    from ..measurement.results import load_responses, questions_of
    from ..measurement.tabulate import Answer, parse_number, tabulate
    from ..measurement.weighted import min_base
    req = db.session.scalar(select(MeasurementRequest).where(MeasurementRequest.site_id == site.id,
                                                             MeasurementRequest.round == round_)
                            .options(selectinload(MeasurementRequest.answers),
                                     joinedload(MeasurementRequest.questionnaire)))
    if req is None or req.submitted_at is None:
        return None
    questionnaire = req.questionnaire
    questions = questions_of(questionnaire)
    responses = [r for r in load_responses(questionnaire.id) if r.round == round_]
    group = [r for r in responses if r.grupp == site.grupp]
    group_tables = {t.question.id: t for t in tabulate(questions, group)}
    national = _national(questionnaire.id, round_)
    base = min_base()
    own = {a.question_id: Answer(a.value, a.other_text or "", a.comment or "") for a in req.answers}
    rows = []
    for q in questions:
        if q.kind not in (ONE, MANY, NUMBER):
            continue
        t = group_tables[q.id]
        nat = national.get(q.id) or {}
        item: dict[str, Any] = {"position": q.position, "text": q.text, "kind": q.kind,
                                "group_answered": t.answered, "group_suppressed": t.answered < base,
                                "national_answered": nat.get("answered"),
                                "national_suppressed": bool(nat.get("suppressed")) if nat else None}
        if q.kind == NUMBER:
            a = own.get(q.id)
            item["own"] = parse_number(a.value) if a else None
            item["group_mean"] = None if item["group_suppressed"] or t.numbers is None else t.numbers.mean
            item["national_mean"] = nat.get("weighted_mean")
            item["national_ci95"] = list(nat["ci95"]) if nat.get("ci95") else None
        else:
            chosen = set(_own_choices(q, own.get(q.id)))
            nat_options = {o["label"]: o for o in nat.get("options", [])}
            options = []
            for r in t.rows:
                o = nat_options.get(r.label) or {}
                options.append({"label": r.label, "own": r.label in chosen,
                                "group_share": None if item["group_suppressed"] else r.share,
                                "national_share": None if o.get("suppressed") else o.get("weighted_share"),
                                "national_ci95": list(o["ci95"]) if o.get("ci95") and not o.get("suppressed")
                                else None})
            item["options"] = options
        rows.append(item)
    return {"questionnaire": questionnaire.name, "questionnaire_id": questionnaire.id,
            "submitted_on": req.submitted_at.date().isoformat(), "group": site.grupp, "group_sites": len(group),
            "min_base": base, "questions": rows}


def gather(site: Site, round_: int) -> dict[str, Any]:
    """Everything the letter shows besides the staff's texts, as plain data (see the module's docstring)."""
    visit = db.session.scalar(select(Visit).where(Visit.site_id == site.id, Visit.round == round_))
    note = None
    if visit is not None:
        note = db.session.scalar(select(Note).where(Note.visit_id == visit.id).options(selectinload(Note.passages)))
    questions, withheld = question_passages(note)
    return {"site": site.label, "kommun": site.kommun.namn, "kommunkod": site.kommunkod,
            "lan": site.kommun.lan.namn, "grupp": site.grupp, "round": round_,
            "visit_date": visit.date.isoformat() if visit is not None and visit.date else None,
            "questions": questions, "withheld": withheld, "plan": plan_content(site),
            "measurement": measurement_content(site, round_)}
