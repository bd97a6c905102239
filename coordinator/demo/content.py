"""The demo's content: dialogue notes, action plans, events, measurement, report narratives, issued
reports and the avstämningar with the minister.

Notes and plans go through the dialogue and plan services (the same checks as the editor);
events, measurement and narratives are written as rows, as their docstrings describe. Reports are
frozen by the report service, avstämningar and their actions made by theirs.
"""
from __future__ import annotations

import random
import secrets
import uuid
from collections import Counter
from datetime import date, time, timedelta

from sqlalchemy import func, select

from ..auth.models import User
from ..contacts.models import Attendee
from ..dialogue import notes
from ..dialogue.models import Note, Theme
from ..events.models import GENOMFORT, PLANERAT, Event, EventOrganisation, Organisation
from ..extensions import db
from ..measurement.models import (MANY, NUMBER, ONE, OTHER_OPTION, TEXT, MeasurementAnswer, MeasurementRequest,
                                  Question, Questionnaire)
from ..measurement.rules import skipped
from ..plans import service as plans
from ..plans.models import AVBRUTEN, EJ_PABORJAD, PAGAR
from ..plans.models import GENOMFORD as DONE
from ..reports import avstamningar, rhythm, wording
from ..reports import service as reports
from ..reports.models import Narrative, NarrativeRevision
from ..sampling.models import Site
from ..scheduling import service as visits
from ..scheduling.defaults import assignment
from ..scheduling.models import GENOMFORD as HELD
from ..scheduling.models import INSTALLD, Visit
from ..tasks import service as tasks
from ..tasks.models import AVSTAMNING
from . import texts
from .build import Demo, at, backdate, marked, slug

MIN_PASSAGES, MAX_PASSAGES = 8, 15
QUESTION_SECTIONS = tuple(f"fraga-{nr}" for nr in range(1, 8))
FLAG_NAMES = ("gott_exempel", "hinder", "nationell_fraga")
# The themes each section's snippets speak of: a quote goes where its themes are discussed.
SECTION_THEMES = {key: {t for p in ps for t in p.themes.split()} for key, ps in texts.SECTIONS.items()}


NOTE_UNWRITTEN, NOTE_HALF = 1, 1   # the latest held visits: notes not yet written, or half written


def make_all(demo: Demo) -> None:
    themes = theme_ids()
    by_site: dict[int, dict[int, object]] = {}
    for visit in visits.visits():
        by_site.setdefault(visit.site_id, {})[visit.round] = visit
    # As in any office, the notes of the last few visits are still being written.
    recent = sorted((v for vs in by_site.values() for v in vs.values() if v.status == HELD),
                    key=lambda v: (v.date, v.id), reverse=True)
    unwritten = {v.id for v in recent[:NOTE_UNWRITTEN]}
    half = {v.id for v in recent[NOTE_UNWRITTEN:NOTE_UNWRITTEN + NOTE_HALF]}

    def note_for(visit, plan=None) -> None:
        if visit.id in unwritten:
            return
        content = compose_note(demo, visit, themes, plan)
        if visit.id in half:
            content["sections"] = {k: ps for k, ps in content["sections"].items()
                                   if k not in QUESTION_SECTIONS[4:]}
        write_note(demo, visit, content, written_on=visit.date)

    for site in demo.sample.active_sites:
        v1, v2 = by_site[site.id][1], by_site[site.id][2]
        plan = None
        if v1.status == HELD:
            note_for(v1)
            plan = make_plan(demo, site, v1, themes)
        if plan is not None:
            follow_up(demo, plan, v1, v2)
        if v2.status == HELD:
            note_for(v2, plan)
    make_events(demo, themes)
    make_measurement(demo, [v for vs in by_site.values() for v in vs.values()])
    make_narratives(demo)
    make_reports(demo)


def theme_ids() -> dict[str, int]:
    """Short key -> id of the codebook theme with that name (themes the office retired are left out)."""
    ids = {t.name: t.id for t in db.session.scalars(select(Theme).where(Theme.retired.is_(False)))}
    return {key: ids[name] for key, name in texts.THEMES.items() if name in ids}


# --------------------------------------------------------------------------- notes

def site_size(site: Site) -> str:
    if site.enhet:
        return "stadsdel"
    return "liten" if site.grupp <= 2 else "stor" if site.grupp >= 4 else ""


def tagged_themes(snippet: texts.P, rng: random.Random) -> list[str]:
    """The theme keys a passage is tagged with: its main subject (the snippet's first theme) always, each
    further theme now and then, the more readily the more common the theme (`texts.PREVALENCE`).

    Plain words: an office tags what a paragraph is about, and only sometimes what it touches on, so
    most passages get one or two themes, and the themes range from those at nearly every visit to
    those that come up a few times in a round."""
    first, *others = snippet.themes.split() or [""]
    chosen = [first] if first else []
    chosen += [k for k in others if rng.random() < texts.SECONDARY_TAGGED * texts.PREVALENCE[k]]
    return chosen


def passage(snippet: texts.P, themes: dict[str, int], rng: random.Random) -> dict:
    flags = snippet.flags.split()
    quote = next((f for f in flags if f.startswith("citat:")), None)
    tagged = [themes[k] for k in tagged_themes(snippet, rng) if k in themes]
    rng.random()  # the draw that once decided clearance stays, so the demo's later random choices do not move
    return {
        "text": marked(snippet.text),
        "themes": tagged,
        **{f: f in flags for f in FLAG_NAMES},
        "citat": quote is not None,
        "quote_reason": quote.split(":")[1] if quote else None,
        # Clearance goes with the words: the demo repeats its snippets across kommuner, and a text is named
        # only if every use of it is cleared (dialogue.quotes). The kommuner agree to be named for their good
        # examples, not for their other quotes.
        "attribution_cleared": quote is not None and "gott_exempel" in flags,
    }


def compose_note(demo: Demo, visit, themes: dict[str, int], plan=None) -> dict:
    """8-15 passages over the dialogue questions, the unions, the children and the rest.

    Each section's snippets are shuffled once per site: the first visit takes them from the
    front, the second takes its own round-2 snippets first and then from the back, so the
    two notes of a site do not repeat each other.
    """
    site = visit.site
    size = site_size(site)
    rng = demo.rng("anteckning", site.kommunkod, site.enhet, visit.round)
    site_rng = demo.rng("anteckning", site.kommunkod, site.enhet)

    def pool(snippets: list[texts.P]) -> list[texts.P]:
        fitting = [p for p in snippets if p.size in ("", size)]
        order = site_rng.sample(fitting, len(fitting))
        if visit.round == 1:
            return [p for p in order if p.round in (0, 1)]
        return [p for p in order if p.round == 2] + [p for p in reversed(order) if p.round == 0]

    pools = {key: pool(texts.SECTIONS[key]) for key in texts.SECTIONS}
    counts = {key: 1 + (rng.random() < 0.35) for key in QUESTION_SECTIONS}
    counts |= {"fack": int(rng.random() < 0.9), "barn": int(rng.random() < 0.5), "ovrigt": int(rng.random() < 0.5)}
    while sum(counts.values()) < MIN_PASSAGES - 2:
        counts[rng.choice(QUESTION_SECTIONS)] += 1
    sections = {key: [passage(p, themes, rng) for p in pools[key][:n]] for key, n in counts.items() if n}
    quotes = pool(texts.QUOTES)[: rng.randint(1, 2)]
    for q in quotes:
        sections.setdefault(quote_section(q, rng), []).append(passage(q, themes, rng))
    if plan is not None:
        sections.setdefault("fraga-5", []).insert(0, plan_passage(plan, themes))
    while sum(len(ps) for ps in sections.values()) > MAX_PASSAGES:
        longest = max(QUESTION_SECTIONS, key=lambda k: len(sections.get(k, [])))
        sections[longest].pop()
    return {"sections": sections}


def quote_section(quote: texts.P, rng: random.Random) -> str:
    """The section whose snippets share most themes with the quote (ties drawn)."""
    overlap = {key: len(set(quote.themes.split()) & themes) for key, themes in SECTION_THEMES.items()}
    best = max(overlap.values())
    return rng.choice(sorted(key for key, n in overlap.items() if n == best))


def plan_passage(plan, themes: dict[str, int]) -> dict:
    t = plans.tally(plans.activities(plan))
    undecided = (f"{t.not_decided} har ännu inte beslutats" if t.not_decided
                 else "alla aktiviteter är beslutade")
    share = t.share_done or 0
    return {"text": marked(f"Handlingsplanen från det första besöket följdes upp: {t.done} av {t.total} aktiviteter "
                           f"är genomförda och {undecided}."),
            "themes": [themes[k] for k in ("uppfoljning",) if k in themes],
            "gott_exempel": share >= 0.7, "hinder": share < 0.3, "nationell_fraga": False, "citat": False,
            "quote_reason": None, "attribution_cleared": False}


def write_note(demo: Demo, visit_or_event, content: dict, written_on: date, event: bool = False) -> None:
    """Save through the editor's service, then date the note a few days after the dialogue."""
    if event:
        note = Note(event=visit_or_event, version=1)
        db.session.add(note)
        db.session.flush()
    else:
        note = notes.get_or_create_note(visit_or_event)
    revision = notes.apply(note, content, None, note.version)
    day = min(written_on + timedelta(days=demo.rng("skrivdag", note.id).randint(1, 6)), demo.as_of)
    backdate(note, created_at=at(written_on, 17), updated_at=at(day, 16))
    backdate(revision, created_at=at(day, 16))


# --------------------------------------------------------------------------- action plans

def activity_fate(rng: random.Random, decided: bool) -> str:
    """Where an activity ends up by the second visit: the undecided ones rarely get done."""
    weights = (55, 30, 10, 5) if decided else (10, 20, 55, 15)
    return rng.choices((DONE, PAGAR, EJ_PABORJAD, AVBRUTEN), weights)[0]


def make_plan(demo: Demo, site: Site, v1, themes: dict[str, int]):
    """A plan drawn up at the first visit, where one is needed (about three sites in four)."""
    rng = demo.rng("plan", site.kommunkod, site.enhet)
    if rng.random() > 0.75:
        return None
    plan = plans.ensure_plan(site, "0")
    plans.save_challenges(site, plan.version, marked("\n\n".join(rng.sample(texts.CHALLENGES, 2))))
    for key, title, description, activities in rng.sample(texts.GOALS, rng.randint(2, 3)):
        goal = plans.add_goal(site, plan.version, {"title": title, "description": marked(description),
                                                   "theme_id": themes.get(key)})
        for text, responsible in rng.sample(activities, rng.randint(2, len(activities))):
            decided = rng.random() < 0.65
            comment = marked(rng.choice(texts.ACTIVITY_COMMENTS[decided])) if rng.random() < 0.3 else ""
            plans.add_activity(goal, {
                "description": text, "responsible": responsible, "decided": decided,
                "depends_on_decision": not decided and rng.random() < 0.7,
                "depends_on_resources": rng.random() < 0.3,
                "due_date": v1.date + timedelta(days=rng.randint(150, 420)), "status": EJ_PABORJAD,
                "comment": comment})
    made = at(v1.date + timedelta(days=7), 11)
    backdate(plan, created_at=made, updated_at=made)
    return plan


def follow_up(demo: Demo, plan, v1, v2) -> None:
    """Progress as of the day: the kommun reports before the second visit; the office follows up at it."""
    site = plan.site
    rng = demo.rng("uppföljning", site.kommunkod, site.enhet)
    report_day = v2.date - timedelta(days=14) if v2.date else None
    reported = v2.booked and report_day is not None and report_day <= demo.as_of
    under_way = (demo.as_of - v1.date).days > 120
    for goal in plan.goals:
        for a in goal.activities:
            fate = activity_fate(demo.rng("utfall", site.kommunkod, site.enhet, goal.position, a.position),
                                 a.decided)
            if reported:
                status = fate
            elif under_way:  # half-way: what will be done is under way
                status = PAGAR if fate in (DONE, PAGAR) else EJ_PABORJAD
            else:
                status = a.status
            if status != a.status:
                plans.update_activity(a, a.version, {"status": status})
            if reported and rng.random() < 0.6:
                a.kommun_comment = marked(rng.choice(texts.KOMMUN_COMMENTS[a.status]))
                a.kommun_updated_at = at(report_day, rng.randint(9, 16))
    db.session.flush()
    if v2.status != HELD:
        return
    situations = {}
    for goal in plan.goals:
        share = plans.tally(goal.activities).share_done or 0
        key = "done" if share >= 0.6 else "partly" if share >= 0.25 else "stuck"
        situations[goal.id] = marked(texts.SITUATIONS[key])
    overall = plans.tally(plans.activities(plan)).share_done or 0
    summaries = texts.FOLLOWUP_SUMMARIES
    summary = rng.choice(summaries[::3] if overall >= 0.5 else summaries[1:3])
    plans.save_followup(plan, plan.version, marked(summary), marked(rng.choice(texts.MOST_URGENT)), situations)
    backdate(plan, updated_at=at(min(v2.date + timedelta(days=5), demo.as_of), 15))


# --------------------------------------------------------------------------- events

def organisations() -> dict[str, object]:
    """The organisations the demo's events need: the shipped register, completed by name where it lacks one."""
    known = list(db.session.scalars(select(Organisation)))
    by_name = {o.name.casefold(): o for o in known} | {o.short_name.casefold(): o for o in known if o.short_name}
    out = {}
    for name, short, kind in texts.ORGANISATIONS:
        org = by_name.get(name.casefold()) or (by_name.get(short.casefold()) if short else None)
        if org is None:
            org = Organisation(name=name, short_name=short, kind=kind, email="", active=True)
            db.session.add(org)
        out[name] = org
    db.session.flush()
    return out


def make_events(demo: Demo, themes: dict[str, int]) -> None:
    orgs = organisations()
    for day_text, kind, title, place, description, names in texts.EVENTS:
        day = date.fromisoformat(day_text)
        held = day < demo.as_of
        rng = demo.rng("dialogforum", day_text)
        made = at(day - timedelta(days=45), 10)
        event = Event(kind=kind, title=f"{title} (demo)", date=day, start_time=time(9, 30), end_time=time(15, 0),
                      place=place, description=marked(description), status=GENOMFORT if held else PLANERAT,
                      uid=f"{uuid.uuid4()}@coordinator", sequence=0, created_at=made, updated_at=made)
        db.session.add(event)
        surnames = rng.sample(texts.SURNAMES, len(names))
        for name, surname in zip(names, surnames):
            org = orgs[name]
            attended = held and rng.random() < 0.9
            event.organisations.append(EventOrganisation(organisation=org, invited=True, attended=attended))
            accepted = attended or (not held and rng.random() < 0.6)
            event.attendees.append(Attendee(
                organisation=org, name=f"Demo {surname}",
                email=f"demo.{slug(surname)}.{slug(org.short_name or org.name)}@example.org",
                role="REQ-PARTICIPANT", partstat="ACCEPTED" if accepted else ("DECLINED" if held else "NEEDS-ACTION"),
                responded_at=at(day - timedelta(days=rng.randint(10, 30))) if accepted or held else None,
                attended=attended if held else None, comment=""))
        db.session.flush()
        if held:
            chosen = rng.sample(texts.EVENT_PASSAGES, rng.randint(MIN_PASSAGES - 2, 9))
            content = {"sections": {"ovrigt": [passage(p, themes, rng) for p in chosen]}}
            write_note(demo, event, content, written_on=day, event=True)


# --------------------------------------------------------------------------- measurement

def make_questionnaire():
    made = at(date(2014, 12, 1))
    questionnaire = Questionnaire(name=f"{texts.QUESTIONNAIRE_NAME} (demo)", intro=marked(texts.QUESTIONNAIRE_INTRO),
                                  round=None, locked=True, archived=False, created_at=made, updated_at=made)
    for position, (text, kind, required, options, other, comment, skip) in enumerate(texts.QUESTIONS, start=1):
        questionnaire.questions.append(Question(
            position=position, text=text, help="", kind=kind, required=required, options=list(options),
            other_option=other, comment=comment, skip_rules=dict(skip)))
    db.session.add(questionnaire)
    db.session.flush()
    return questionnaire


def staff_base(demo: Demo, site: Site) -> float:
    """Socialsekreterare to expect from the kommun's size (an invented rule of thumb)."""
    if site.enhet:
        return 25.0
    if site.kommunkod in (demo.sample.settings.get("districts") or {}):
        return 15.0  # a city's central administration: the districts do the casework
    sk = next(sk for sk in demo.sample.kommuner if sk.kommunkod == site.kommunkod)
    return max(2.0, sk.folkmangd / 3500)


def answer_values(demo: Demo, site: Site, round_: int, questions) -> dict[int, tuple]:
    """{question id: (value, other_text, comment)}: round 2 answers a little better than round 1."""
    rng = demo.rng("mätsvar", site.kommunkod, site.enhet, round_)
    better = round_ == 2
    staff = max(2, round(staff_base(demo, site) * rng.uniform(0.8, 1.25)))
    values: dict[int, tuple] = {}
    for q in questions:
        value, other, comment = None, "", ""
        if q.kind == ONE:
            weights = {"Ja": 4 + 3 * better, "Ja, i viss mån": 4, "Nej": 3 - better, "Vet ej": 1}
            if q.options == ["Ja", "Nej"]:
                weights = {"Ja": 6 - 2 * better, "Nej": 4 + 2 * better}
            value = rng.choices(list(weights), [weights.get(o, 1) for o in q.options])[0]
            if q.comment and rng.random() < 0.3:
                comment = marked(rng.choice(texts.COMMENTS))
        elif q.kind == MANY:
            options = [o for o in q.options if o != "Ingen strukturerad samverkan"]
            value = sorted(rng.sample(options, rng.randint(1, min(3, len(options)))), key=q.options.index)
            if "Ingen strukturerad samverkan" in q.options and not better and rng.random() < 0.1:
                value = ["Ingen strukturerad samverkan"]
            elif q.other_option and rng.random() < 0.15:
                value.append(OTHER_OPTION)
                other = marked(rng.choice(texts.OTHER_ANSWERS))
        elif q.kind == NUMBER:
            value = str(staff if q.position == 2 else round(staff * rng.uniform(0.1, 0.3 if better else 0.45)))
        elif q.kind == TEXT:
            if rng.random() < 0.7:
                value = marked(rng.choice(texts.TEXT_ANSWERS))
        if value is not None:
            values[q.id] = (value, other, comment)
    gone = skipped(questions, {qid: v[0] for qid, v in values.items()})
    return {qid: v for qid, v in values.items() if qid not in gone}


def make_measurement(demo: Demo, visits: list) -> None:
    """A request with each invitation; kommuner answer before the visit (most of them)."""
    questionnaire = make_questionnaire()
    questions = list(questionnaire.questions)
    for visit in sorted(visits, key=lambda v: (v.round, v.date or date.max, v.site.position)):
        sent = demo.invited_on.get(visit.id)
        if sent is None:
            continue
        site = visit.site
        rng = demo.rng("mätning", site.kommunkod, site.enhet, visit.round)
        request = MeasurementRequest(questionnaire=questionnaire, site=site, round=visit.round,
                                     nonce=secrets.token_urlsafe(32), created_at=at(sent, 9),
                                     expires_at=at(visit.date, 23, 59), sent_at=at(sent, 9, 10))
        db.session.add(request)
        values = answer_values(demo, site, visit.round, questions)
        if visit.status == HELD:
            submitted = rng.random() < 0.9
            day = max(visit.date - timedelta(days=rng.randint(4, 20)), sent + timedelta(days=1))
        else:
            submitted = (visit.date - demo.as_of).days < 21 and rng.random() < 0.6
            day = min(demo.as_of, max(sent + timedelta(days=1), demo.as_of - timedelta(days=rng.randint(0, 5))))
        if not submitted and visit.status == HELD:
            request.reminded_at = at(visit.date - timedelta(days=7), 8)
        if not submitted:
            if rng.random() >= 0.5:
                continue  # opened, or not even that: nothing saved
            keep = {q.id for q in questions[: rng.randint(1, len(questions) - 2)]}
            values = {qid: v for qid, v in values.items() if qid in keep}
        for qid, (value, other, comment) in values.items():
            request.answers.append(MeasurementAnswer(question_id=qid, value=value, other_text=other, comment=comment))
        request.last_saved_at = at(day, 14)
        if submitted:
            request.submitted_at = at(day, 14, 30)
    db.session.flush()


# --------------------------------------------------------------------------- report narratives

def ended_periods(before: date) -> list[tuple[str, date, date]]:
    """(key, first day, last day) of each report period of the rhythm that ends in 2015 or later and before
    `before` ("2015Q1", ... with the shipped calendar quarters)."""
    return [(p.key, p.start, p.end) for p in rhythm.periods() if date(2015, 1, 1) <= p.end < before]


def period_facts(first: date, last: date) -> dict:
    """What the period's narrative states, counted from the demo's own data."""
    held = list(db.session.scalars(select(Visit).where(Visit.status == HELD)))
    in_period = [v for v in held if first <= v.date <= last]
    events = list(db.session.scalars(select(Event).where(Event.status == GENOMFORT, Event.date >= first,
                                                         Event.date <= last).order_by(Event.date)))
    themes: Counter = Counter()
    for note in db.session.scalars(select(Note).where(Note.visit_id.in_([v.id for v in in_period])
                                                      | Note.event_id.in_([e.id for e in events]))):
        for p in note.passages:
            themes.update(t.name for t in p.themes)
    planned = db.session.scalar(select(func.count()).select_from(Visit).where(Visit.status != INSTALLD))
    return {"held": len(in_period), "r1": sum(v.round == 1 for v in in_period),
            "r2": sum(v.round == 2 for v in in_period), "to_date": sum(v.date <= last for v in held),
            "planned": planned, "events": [e.title.removesuffix(" (demo)") for e in events],
            "themes": [name for name, _n in sorted(themes.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]}


def listing(items: list[str]) -> str:
    """"a", "a och b", "a, b och c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " och " + items[-1]


def observations_text(facts: dict, rng: random.Random, quarter: bool = True) -> str:
    """The observations, naming the period as the report does (wording.py): "kvartalet" or "perioden"."""
    the_period = "kvartalet" if quarter else "perioden"
    if facts["r1"] and facts["r2"]:
        parts = [f"Under {the_period} genomfördes {facts['held']} besök ({facts['r1']} i den första och {facts['r2']} "
                 f"i den andra omgången)."]
    elif facts["held"]:
        parts = [f"Under {the_period} genomfördes {facts['held']} besök, alla i den "
                 f"{'första' if facts['r1'] else 'andra'} omgången."]
    else:
        parts = [f"Under {the_period} genomfördes inga besök."]
    parts.append(f"Hittills har {facts['to_date']} av {facts['planned']} planerade besök genomförts.")
    if facts["events"]:
        parts.append("Utöver besöken hölls: " + "; ".join(facts["events"]) + ".")
    if facts["themes"]:
        parts.append("De teman som oftast togs upp var " + listing([f"”{t}”" for t in facts["themes"]]) + ".")
    parts.append(rng.choice(texts.NARRATIVE_OBSERVATIONS))
    return marked(" ".join(parts))


def measures_text(rng: random.Random, quarter: bool = True) -> str:
    """One or two proposed measures; "nästa kvartal" in them becomes "nästa period" for another rhythm."""
    text = " ".join(rng.sample(texts.NARRATIVE_MEASURES, rng.randint(1, 2)))
    return text if quarter else text.replace("nästa kvartal", "nästa period")


def make_narratives(demo: Demo) -> None:
    periods = ended_periods(demo.as_of)
    for i, (period, first, last) in enumerate(periods):
        rng = demo.rng("rapporttext", period)
        facts = period_facts(first, last)
        written = at(min(last + timedelta(days=12), demo.as_of), 15)
        bodies = {
            "iakttagelser": observations_text(facts, rng, wording.is_quarter(period)),
            "analys": marked(" ".join(rng.sample(texts.NARRATIVE_ANALYSIS, 2))),
            "atgarder": marked(measures_text(rng, wording.is_quarter(period))),
        }
        for section, text in bodies.items():
            narrative = Narrative(period=period, section=section, text=text, updated_at=written)
            # The latest period's texts were drafted first and completed later: two revisions.
            drafts = [text.split(". ")[0] + "."] if i == len(periods) - 1 and ". " in text else []
            for number, body in enumerate([*drafts, text], start=1):
                days_before = len(drafts) + 1 - number
                narrative.revisions.append(NarrativeRevision(number=number, text=body,
                                                             created_at=written - timedelta(days=days_before)))
            db.session.add(narrative)
    make_final_narratives(demo)
    db.session.flush()


def final_narratives(demo: Demo) -> dict[str, list[str]]:
    """The final report's texts as the office has drafted them by the demo's day: each section's paragraphs,
    the account of the work with figures counted from the demo's data."""
    a = assignment()
    facts = period_facts(a.start_date, demo.as_of)
    work = [*texts.FINAL_WORK,
            f"Fram till den {demo.as_of.isoformat()} har {facts['to_date']} av {facts['planned']} planerade besök "
            f"genomförts. Utöver besöken har samordnaren fört dialog med myndigheter och organisationer: "
            + "; ".join(facts["events"]) + "." if facts["events"] else
            f"Fram till den {demo.as_of.isoformat()} har {facts['to_date']} av {facts['planned']} planerade besök "
            f"genomförts."]
    observations = list(texts.FINAL_OBSERVATIONS)
    if facts["themes"]:
        observations.insert(0, "De teman som oftast togs upp under uppdraget var "
                            + listing([f"”{t}”" for t in facts["themes"]]) + ".")
    return {"uppdraget": work, "iakttagelser": observations, "analys": list(texts.FINAL_ANALYSIS),
            "slutsatser": list(texts.FINAL_CONCLUSIONS), "atgarder": list(texts.FINAL_PROPOSALS)}


def make_final_narratives(demo: Demo) -> None:
    """The final report's sections, each written in revisions: first the opening paragraph, then the whole text."""
    written = at(demo.as_of - timedelta(days=3), 14)
    for section, paras in final_narratives(demo).items():
        text = "\n\n".join(marked(p) if i == 0 else p for i, p in enumerate(paras))
        narrative = Narrative(period=rhythm.FINAL_PERIOD, section=section, text=text, updated_at=written)
        bodies = [paras[0] and marked(paras[0]), text] if len(paras) > 1 else [text]
        for number, body in enumerate(bodies, start=1):
            narrative.revisions.append(NarrativeRevision(
                number=number, text=body, created_at=written - timedelta(days=len(bodies) - number)))
        db.session.add(narrative)


# --------------------------------------------------------------------------- issued reports and avstämningar

ISSUE_AFTER_DAYS = 13       # the office issues a report the day before it is due (texts done by then)
AVSTAMNING_AFTER_DAYS = 10  # and discusses it with the minister some ten days later (on a Wednesday)
PLANNED_AHEAD_DAYS = 37     # the next avstämning is booked about five weeks ahead


def wednesday_from(day: date) -> date:
    return day + timedelta(days=(2 - day.weekday()) % 7)


def make_reports(demo: Demo) -> None:
    """Issue every report whose due date has passed, each on its own day (its figures read as of that day),
    and discuss the latest three with the minister soon after, so that each later report lists the
    avstämningar of its period. Then book the next avstämning ahead."""
    a = assignment()
    owner = db.session.scalar(select(User.id).where(User.active.is_(True), User.role.in_(("admin", "staff")))
                              .order_by(User.id))
    due = [p for p in rhythm.periods() if p.due < demo.as_of]
    discussed = dict(zip([p.key for p in due[-len(texts.AVSTAMNINGAR):]], texts.AVSTAMNINGAR))
    try:
        for period in due:
            day = period.end + timedelta(days=ISSUE_AFTER_DAYS)
            a.demo_as_of = day  # the report's "today"
            report = reports.freeze(period, marked("Första versionen."), None, 1, at(day, 14))
            if period.key in discussed:
                make_avstamning(demo, report, wednesday_from(day + timedelta(days=AVSTAMNING_AFTER_DAYS)),
                                owner, *discussed[period.key])
    finally:
        a.demo_as_of = demo.as_of
    avstamningar.create({"held_on": wednesday_from(demo.as_of + timedelta(days=PLANNED_AHEAD_DAYS)),
                         "attendees": texts.AVSTAMNING_ATTENDEES, "report_id": None, "feedback": "", "decisions": ""})
    db.session.flush()


def make_avstamning(demo: Demo, report, held_on: date, owner: int | None, feedback: str, decisions: str,
                    actions: list) -> None:
    """One avstämning about an issued report, with its actions: those due well before the demo's day are
    done, with an outcome; the latest are open. Nothing on or after the demo's day."""
    if held_on >= demo.as_of:
        return
    meeting = avstamningar.create({"held_on": held_on, "attendees": texts.AVSTAMNING_ATTENDEES,
                                   "report_id": report.id, "feedback": marked(feedback),
                                   "decisions": marked(decisions)})
    backdate(meeting, created_at=at(held_on, 16), updated_at=at(held_on, 16))
    for title, days, outcome in actions:
        due = held_on + timedelta(days=days)
        task = tasks.create({"title": marked(title), "owner_id": owner, "due_date": due}, kind=AVSTAMNING,
                            avstamning_id=meeting.id)
        backdate(task, created_at=at(held_on, 16), updated_at=at(held_on, 16))
        done_on = due - timedelta(days=3)
        if outcome is not None and done_on < demo.as_of:
            tasks.set_done(task, task.version, True, outcome=marked(outcome))
            backdate(task, done_at=at(done_on, 15), updated_at=at(done_on, 15))
