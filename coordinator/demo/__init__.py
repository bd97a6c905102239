"""`coordinator demo`: a whole demo assignment with invented working data, for trying the product.

The sample, visits, contacts, notes, plans, events, measurement, report texts, issued reports and the
avstämningar with the minister are made through the product's own services where they exist
(build.py, content.py); the Swedish text is invented and marked "[Demo]" (texts.py). Population and
kommuner are the shipped reference data.
"""
from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from ..clitools import echo_json, fail
from ..contacts.models import Contact
from ..dialogue.models import Note, Passage
from ..events.models import GENOMFORT, Event
from ..extensions import db
from ..measurement.models import MeasurementRequest
from ..plans.models import ActionPlan, PlanActivity, PlanGoal
from ..reports import wording
from ..reports.models import FINAL_PERIOD, Avstamning, IssuedReport, Narrative
from ..sampling.models import Decline
from ..sampling.service import SampleError, adopted_sample
from ..scheduling.models import BEKRAFTAD, FLYTTAD, FORSLAG, GENOMFORD, INBJUDEN, StaffAbsence, StaffMember, Visit
from ..scheduling.service import VisitError
from ..tasks.models import AVSTAMNING, Task
from . import build
from .build import AS_OF, SEED, DemoError
from .scale import MAX_SCALE, check_scale

# Swedish names of the working data, for telling the user what is already there.
TABLE_LABELS = {
    "sample": "urval", "visit": "besök", "note": "anteckningar", "contact": "kontakter",
    "action_plan": "handlingsplaner", "event": "dialogforum", "questionnaire": "enkäter",
    "measurement_request": "mätningar", "report_narrative": "rapporttexter", "issued_report": "utfärdade rapporter",
    "avstamning": "avstämningar", "staff_member": "personer i personalen",
}


def describe(counts: dict[str, int]) -> str:
    named = [f"{counts[t]} {label}" for t, label in TABLE_LABELS.items() if counts.get(t)]
    return ", ".join(named) or ", ".join(f"{n} rader i {t}" for t, n in counts.items())


REFUSAL = (
    "Databasen innehåller redan arbetsmaterial ({found}). Demodata skapas bara i en databas utan "
    "arbetsmaterial, så att påhittade uppgifter aldrig blandas med riktiga.\n"
    "Kör `coordinator demo --replace` för att först radera allt arbetsmaterial (urval, besök, kontakter, "
    "anteckningar, handlingsplaner, dialogforum, mätningar, rapporttexter, utfärdade rapporter och "
    "avstämningar). "
    "Referensdata, inställningar, kodboken, organisationsregistret, användarna och loggen behålls."
)


def summary() -> dict:
    """Counts of what the demo made, read back from the database."""
    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    statuses = dict(db.session.execute(select(Visit.status, func.count()).group_by(Visit.status)).all())
    periods = sorted(db.session.scalars(select(Narrative.period).distinct()))
    return {
        "sites": len(adopted_sample().active_sites), "declines": count(Decline),
        "replacements": count(Decline, Decline.replacement_site_id.isnot(None)),
        "visits": statuses, "contacts": count(Contact),
        "visit_notes": count(Note, Note.visit_id.isnot(None)), "event_notes": count(Note, Note.event_id.isnot(None)),
        "passages": count(Passage), "plans": count(ActionPlan), "goals": count(PlanGoal),
        "activities": count(PlanActivity), "events": count(Event),
        "events_held": count(Event, Event.status == GENOMFORT),
        "measurements_sent": count(MeasurementRequest),
        "measurements_submitted": count(MeasurementRequest, MeasurementRequest.submitted_at.isnot(None)),
        "narrative_periods": periods,
        "issued_periods": sorted(db.session.scalars(select(IssuedReport.period).distinct())),
        "avstamningar": count(Avstamning), "actions": count(Task, Task.kind == AVSTAMNING),
        "actions_open": count(Task, Task.kind == AVSTAMNING, Task.done_at.is_(None)),
        "staff": count(StaffMember), "staff_absences": count(StaffAbsence),
    }


def print_summary(s: dict, seed: int, as_of: date, scale: int = 1) -> None:
    v = s["visits"]
    booked = sum(v.get(k, 0) for k in (INBJUDEN, BEKRAFTAD, FLYTTAD))
    periods = [p for p in s["narrative_periods"] if p != FINAL_PERIOD]
    lines = [
        f"Demouppdraget är klart (frö {seed}, läget den {as_of.isoformat()}). Allt innehåll är påhittat och "
        "märkt [Demo] eller (demo)."
        + (f" Skala {scale}: {scale} team som arbetar parallellt." if scale > 1 else ""),
        f"  Urval:            {s['sites']} besöksplatser, {s['declines']} avböjanden med "
        f"{s['replacements']} ersättare",
        f"  Besök:            {v.get(GENOMFORD, 0)} genomförda, {booked} bokade, {v.get(FORSLAG, 0)} föreslagna",
        f"  Kontakter:        {s['contacts']} fiktiva personer (@example.se)",
        f"  Personal:         {s['staff']} personer med {s['staff_absences']} frånvaroperioder",
        f"  Anteckningar:     {s['visit_notes']} från besök och {s['event_notes']} från dialogforum, "
        f"{s['passages']} stycken",
        f"  Handlingsplaner:  {s['plans']} med {s['goals']} mål och {s['activities']} aktiviteter",
        f"  Dialogforum:      {s['events']} ({s['events_held']} genomförda)",
        f"  Mätningar:        {s['measurements_sent']} skickade, {s['measurements_submitted']} inlämnade",
        f"  Rapporttexter:    {len(periods)} "
        f"{'kvartal' if all(map(wording.is_quarter, periods)) else 'perioder'}"
        + (f" ({periods[0]}–{periods[-1]})" if periods else "")
        + (" och slutrapportens texter" if FINAL_PERIOD in s["narrative_periods"] else ""),
        f"  Rapporter:        {len(s['issued_periods'])} utfärdade, {s['avstamningar']} avstämningar med statsrådet "
        f"med {s['actions']} åtgärder ({s['actions_open']} öppna)",
        "",
        "Prova nu:",
        f"  coordinator report quarterly {periods[-1] if periods else '2015Q1'} --out rapport.pdf",
        "  coordinator run  (eller ./dev start), logga in och öppna Besök, Dialoger, Handlingsplaner, Mätningar,",
        "  Dialogforum och Rapporter.",
    ]
    click.echo("\n".join(lines))


@click.command("demo", help="Skapa ett demouppdrag (fiktiva data) med urval, besök, anteckningar och planer.\n\n"
               "Med --scale N blir demon N gånger så stor, som hos ett större kansli med N team som arbetar "
               "parallellt: varje extra team har egen teamledare och egna handläggare och besöker ett eget "
               "område (enhet) i varje kommun i urvalet, på samma dagar som det första teamet. Uppdraget "
               "tillåter då N besök per dag och 3N per vecka.")
@click.option("--seed", type=int, default=SEED, show_default=True, help="Slumpfrö: samma frö ger samma demodata.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=AS_OF.isoformat(),
              show_default=True, help="Dagen läget gäller: besök före den är genomförda, senare bokade eller "
                                      "föreslagna.")
@click.option("--replace", is_flag=True, help="Radera först allt arbetsmaterial (inte referensdata eller "
                                              "användare) och skapa sedan demodata.")
@click.option("--scale", type=int, default=1, show_default=True,
              help=f"Gör demon så många gånger större (1–{MAX_SCALE}): fler team, besöksplatser, besök, "
                   "anteckningar, planer, kontakter och mätsvar.")
@click.option("--json", "as_json", is_flag=True, help="Skriv sammanställningen som JSON.")
@with_appcontext
def demo(seed: int, as_of, replace: bool, scale: int, as_json: bool) -> None:
    as_of = as_of.date()
    try:
        check_scale(scale)
        build.check_ready()
        found = build.working_data()
        if found and not replace:
            fail(REFUSAL.format(found=describe(found)), as_json)
        build.check_as_of(as_of)
    except DemoError as e:
        fail(str(e), as_json)
    if found:
        build.delete_working_data()
        if not as_json:
            click.echo(f"Raderade arbetsmaterialet ({describe(found)}); referensdata och användare är kvar.")
    try:
        build.build(seed, as_of, scale)
    except (DemoError, SampleError, VisitError) as e:
        db.session.rollback()
        fail(f"Demodata kunde inte skapas: {e}", as_json)
    result = summary()
    if as_json:
        echo_json({"seed": seed, "as_of": as_of.isoformat(), "scale": scale,
                   "replaced": describe(found) if found else None, **result})
    else:
        print_summary(result, seed, as_of, scale)
