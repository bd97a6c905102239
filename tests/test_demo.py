"""`coordinator demo`: a whole, consistent, clearly invented demo assignment on the configured database.

The demo is put in place once per backend (module-scoped, on the session's app); the tests read what it made.
The last tests run the command again (refused, then with --replace: a build of its own, from the working data
it deletes) and compare the result with the first. The module's teardown empties the working data as the `app`
fixture does.
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from coordinator.auth.models import User
from coordinator.contacts.models import Attendee, Contact
from coordinator.demo import texts
from coordinator.dialogue import personnummer
from coordinator.dialogue.models import Note, Passage, Theme
from coordinator.events.models import GENOMFORT, Event
from coordinator.extensions import db
from coordinator.measurement.models import MeasurementRequest
from coordinator.measurement.rules import skipped
from coordinator.outbox.models import PENDING, OutboxMessage
from coordinator.plans.models import ActionPlan, PlanActivity
from coordinator.registry.models import Kommun, Population
from coordinator.registry.reference import read_csv
from coordinator.reports import rhythm
from coordinator.reports.models import Avstamning, IssuedReport, Narrative
from coordinator.sampling.models import ADOPTED, Decline, Sample, Site
from coordinator.scheduling.defaults import assignment
from coordinator.scheduling.models import GENOMFORD, INSTALLD, StaffMember, Visit

from .conftest import USERS, Client, _reset, demo_data

AS_OF = date(2016, 10, 31)
DEMO_EMAIL = re.compile(r"^[a-z0-9.\-]+@(?:[a-z0-9\-]+\.)*example\.(?:se|org|com|net)$")


def run(app, *args):
    return app.test_cli_runner().invoke(args=["demo", *args])


def population_fingerprint(app) -> tuple:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Population)),
                db.session.scalar(select(func.sum(Population.folkmangd))),
                db.session.scalar(select(func.count()).select_from(Kommun)))


def fingerprint(app) -> dict:
    """Everything the demo made, without database ids or secrets (UIDs, nonces)."""
    with app.app_context():
        def key(site: Site) -> str:
            return f"{site.kommunkod}/{site.enhet}"

        def note_key(note: Note) -> str:
            return f"{key(note.visit.site)}#{note.visit.round}" if note.visit_id else f"event {note.event.date}"

        return {
            "assignment": assignment().name,
            "sites": sorted((s.position, key(s), s.active, s.grupp) for s in db.session.scalars(select(Site))),
            "declines": sorted((key(d.site), str(d.declined_on), d.reason, key(d.replacement))
                               for d in db.session.scalars(select(Decline))),
            "visits": sorted((key(v.site), v.round, str(v.date), v.status, v.location, v.sequence)
                             for v in db.session.scalars(select(Visit))),
            "contacts": sorted((key(c.site), c.role, c.name, c.email, c.organisation)
                               for c in db.session.scalars(select(Contact))),
            "staff": sorted((m.name, m.title, m.email, m.coordinator, m.active,
                             tuple((str(a.start_date), str(a.end_date), a.reason) for a in m.absences))
                            for m in db.session.scalars(select(StaffMember))),
            "attendees": sorted((a.name, a.email, a.partstat, str(a.attended))
                                for a in db.session.scalars(select(Attendee))),
            "passages": sorted((note_key(p.note), p.section, p.position, p.text, tuple(t.name for t in p.themes),
                                p.gott_exempel, p.hinder, p.nationell_fraga, p.citat, p.quote_reason,
                                p.attribution_cleared) for p in db.session.scalars(select(Passage))),
            "plans": sorted((key(p.site), p.challenges, p.followup_summary, p.most_urgent,
                             tuple((g.title, g.theme.name if g.theme else None, g.situation,
                                    tuple((a.description, a.decided, a.status, str(a.due_date), a.kommun_comment)
                                          for a in g.activities)) for g in p.goals))
                            for p in db.session.scalars(select(ActionPlan))),
            "events": sorted((str(e.date), e.title, e.status,
                              tuple(sorted(eo.organisation.name for eo in e.organisations)))
                             for e in db.session.scalars(select(Event))),
            "measurement": sorted((key(r.site), r.round, str(r.submitted_at), tuple(sorted(
                (a.question.position, json.dumps(a.value, ensure_ascii=False), a.other_text, a.comment)
                for a in r.answers))) for r in db.session.scalars(select(MeasurementRequest))),
            "narratives": sorted((n.period, n.section, n.text, len(n.revisions))
                                 for n in db.session.scalars(select(Narrative))),
            "issued": sorted((r.period, r.version_number, str(r.issued_at), r.comment)
                             for r in db.session.scalars(select(IssuedReport))),
            "avstamningar": sorted((str(a.held_on), a.attendees, a.feedback, a.decisions,
                                    a.report.period if a.report else None,
                                    tuple((t.title, str(t.due_date), str(t.done_at), t.outcome) for t in a.tasks))
                                   for a in db.session.scalars(select(Avstamning))),
        }


@pytest.fixture(scope="module")
def demo(backend_app):
    """The demo on this backend, as `coordinator demo --json` makes it: (the app, its --json summary, reference
    figures before). Built by the command the first time in this worker, restored from its snapshot after that
    (conftest.demo_data; test_demo_snapshot.py shows the two are the same)."""
    app = backend_app
    _reset(app)
    before = population_fingerprint(app)
    output = demo_data(app, ["demo", "--json"])
    yield app, json.loads(output), before
    _reset(app)


def aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


# --------------------------------------------------------------------------- the text it is made of

def test_the_snippets_are_tagged_from_the_shipped_codebook_and_hold_no_personnummer():
    codebook = {r["tema"] for r in read_csv("teman.csv")}
    assert set(texts.THEMES.values()) <= codebook
    snippets = [p for ps in texts.SECTIONS.values() for p in ps] + texts.QUOTES + texts.EVENT_PASSAGES
    flags = {"gott_exempel", "hinder", "nationell_fraga", "citat:manga", "citat:unik"}
    for p in snippets:
        assert p.themes and set(p.themes.split()) <= set(texts.THEMES), p.text
        assert set(p.flags.split()) <= flags and p.size in ("", "liten", "stor", "stadsdel"), p.text
        assert not personnummer.find(p.text)
    assert {key for key, *_rest in texts.GOALS} <= set(texts.THEMES)
    # Every dialogue question has snippets for both visits.
    for nr in range(1, 8):
        assert {p.round for p in texts.SECTIONS[f"fraga-{nr}"]} >= {0}


# --------------------------------------------------------------------------- the sample and the visits

def test_an_adopted_sample_of_fifty_active_sites_with_declines_replaced(demo):
    app, summary, _before = demo
    with app.app_context():
        sample = db.session.scalar(select(Sample).where(Sample.status == ADOPTED))
        assert sample is not None and "(demo)" in sample.name
        assert len(sample.active_sites) == 50
        declines = list(db.session.scalars(select(Decline)))
        assert len(declines) >= 2
        for d in declines:
            assert not d.site.active
            assert d.replacement is not None and d.replacement.active and d.replacement.replaces_id == d.site_id
            assert d.reason.startswith(texts.MARK)
            first_visit = min(v.date for v in db.session.scalars(select(Visit)))
            assert aware(sample.adopted_at).date() <= d.declined_on < first_visit
        assert "(demo)" in assignment().name
    assert summary["sites"] == 50 and summary["replacements"] == summary["declines"] >= 2


def test_every_site_has_two_visits_and_the_second_keeps_the_minimum_gap(demo):
    app, _summary, _before = demo
    with app.app_context():
        gap = assignment().min_gap_days
        sample = db.session.scalar(select(Sample).where(Sample.status == ADOPTED))
        by_site = defaultdict(dict)
        for v in db.session.scalars(select(Visit)):
            by_site[v.site_id][v.round] = v
        for site in sample.active_sites:
            visits = by_site[site.id]
            assert set(visits) == {1, 2}, site.label
            assert visits[1].date is not None and visits[2].date is not None
            assert (visits[2].date - visits[1].date).days >= gap, site.label
        # Declined sites were never visited.
        assert not any(by_site.get(s.id) for s in sample.sites if not s.active)


def test_visits_before_the_day_are_held_and_later_ones_booked_or_proposed(demo):
    app, summary, _before = demo
    with app.app_context():
        visits = list(db.session.scalars(select(Visit)))
        statuses = Counter(v.status for v in visits)
        for v in visits:
            if v.date < AS_OF:
                assert v.status == GENOMFORD, (v.site.label, v.round, v.date, v.status)
            else:
                assert v.status != GENOMFORD and v.status != INSTALLD
        assert statuses[GENOMFORD] > 50  # the first round and part of the second
        assert statuses["forslag"] and statuses["bekraftad"] and statuses["flyttad"] == 1
        assert {v.round for v in visits if v.status == GENOMFORD} == {1, 2}
        # Held visits had accepted invitations; nothing is left for the mail worker to send.
        for v in visits:
            if v.status == GENOMFORD:
                assert v.attendees and any(a.partstat == "ACCEPTED" for a in v.attendees)
        assert not db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.status == PENDING))
    assert summary["visits"] == dict(statuses)


def test_contacts_and_attendees_are_invented_people_at_example_domains(demo):
    app, _summary, _before = demo
    with app.app_context():
        contacts = list(db.session.scalars(select(Contact)))
        attendees = list(db.session.scalars(select(Attendee)))
        assert len(contacts) >= 50 * 4 and any(a.event_id for a in attendees)
        for person in [*contacts, *attendees]:
            assert DEMO_EMAIL.match(person.email), person.email
            assert person.name.startswith("Demo "), person.name
        assert all(not c.phone for c in contacts)


def test_the_staff_are_four_invented_people_one_coordinator_with_absences(demo):
    app, summary, _before = demo
    assert summary["staff"] == 4 and summary["staff_absences"] >= 4
    with app.app_context():
        members = list(db.session.scalars(select(StaffMember).order_by(StaffMember.id)))
        assert [m.name for m in members] == ["Demo Samordnare", "Demo Handläggare 1", "Demo Handläggare 2",
                                             "Demo Handläggare 3"]
        assert [m.coordinator for m in members] == [True, False, False, False] and all(m.active for m in members)
        assert all(DEMO_EMAIL.match(m.email) for m in members)
        absences = [(a.start_date, a.end_date) for m in members for a in m.absences]
        assert all(date(2015, 1, 1) <= s <= e <= date(2016, 12, 31) for s, e in absences)
        assert any(s.month == 7 for s, _e in absences) and any(s.year == 2015 and s.month >= 9 for s, _e in absences)
    page = Client(app, USERS["staff"]).get("/besok/uppdrag/personal").get_data(as_text=True)
    assert "Demo Samordnare" in page and "4 personer" in page


# --------------------------------------------------------------------------- notes, plans, events

def test_notes_with_passages_exist_for_held_visits_only_the_latest_still_being_written(demo):
    app, _summary, _before = demo
    with app.app_context():
        notes = {n.visit_id: n for n in db.session.scalars(select(Note).where(Note.visit_id.isnot(None)))}
        held = sorted((v for v in db.session.scalars(select(Visit)) if v.status == GENOMFORD),
                      key=lambda v: (v.date, v.id), reverse=True)
        latest, half, *written = held
        assert latest.id not in notes  # the overview lists it: not yet written
        sections = {p.section for p in notes[half.id].passages}
        assert {"fraga-5", "fraga-6", "fraga-7"}.isdisjoint(sections) and "fraga-1" in sections
        for v in written:
            assert v.id in notes and 8 <= len(notes[v.id].passages) <= 15, (v.site.label, v.round)
            assert notes[v.id].revisions
            assert aware(notes[v.id].updated_at).date() >= v.date
        for v in db.session.scalars(select(Visit).where(Visit.status != GENOMFORD)):
            assert v.id not in notes


def test_every_passage_is_marked_demo_and_tagged_from_the_codebook(demo):
    app, _summary, _before = demo
    with app.app_context():
        passages = list(db.session.scalars(select(Passage)))
        codebook = {t.id for t in db.session.scalars(select(Theme))}
        assert len(passages) > 500
        assert all(p.text.startswith(texts.MARK + " ") for p in passages)
        assert all(p.themes for p in passages) and {t.id for p in passages for t in p.themes} <= codebook
        flags = Counter(f for p in passages for f in ("gott_exempel", "hinder", "nationell_fraga", "citat")
                        if getattr(p, f))
        assert all(flags[f] for f in ("gott_exempel", "hinder", "nationell_fraga", "citat"))
        quotes = [p for p in passages if p.citat]
        assert all(p.quote_reason in ("manga", "unik") for p in quotes)
        assert any(p.attribution_cleared for p in quotes) and not all(p.attribution_cleared for p in quotes)
        assert not any(p.attribution_cleared for p in passages if not p.citat)


def test_the_themes_spread_as_in_real_notes_from_common_to_rare(demo):
    """Passages mostly carry one or two themes; some themes come up at most visits, others at a few, and
    every theme of the codebook is used somewhere (so the theme statistics say something)."""
    app, _summary, _before = demo
    with app.app_context():
        passages = list(db.session.scalars(select(Passage)))
        codebook = {t.name for t in db.session.scalars(select(Theme).where(Theme.retired.is_(False)))}
        per_passage = [len(p.themes) for p in passages]
        assert sum(per_passage) / len(passages) < 1.6
        assert sum(n in (1, 2) for n in per_passage) / len(passages) > 0.95
        on_passages = Counter(t.name for p in passages for t in p.themes)
        assert set(on_passages) == codebook  # the rarest is used too
        assert max(on_passages.values()) / len(passages) < 0.7
        # Per note (what the overview counts): from the themes of most notes to those of a few.
        notes = {p.note_id for p in passages}
        on_notes = Counter(name for name, _note in {(t.name, p.note_id) for p in passages for t in p.themes})
        shares = sorted(n / len(notes) for n in on_notes.values())
        assert shares[-1] > 0.6 and shares[0] < 0.2 and shares[len(shares) // 2] < 0.6, shares
        assert sum(len({t.name for p in passages if p.note_id == note for t in p.themes}) for note in notes) \
            / len(notes) < len(codebook) / 2


def test_a_quote_is_printed_between_one_pair_of_quotation_marks(demo):
    """The demo's quotes are the words alone; the report (page and PDF) puts them between ” and ” once, where
    it used to print ”[Demo] ”…””."""
    from .test_report_figures import pdf_text

    app, _summary, _before = demo
    with app.app_context():
        quotes = list(db.session.scalars(select(Passage).where(Passage.citat.is_(True))))
        assert quotes and not any(p.text.removeprefix(texts.MARK).strip()[0] in "”“\"" for p in quotes)
        assert not any(p.text.rstrip()[-1] in "”“\"" for p in quotes)
        report_id = db.session.scalar(select(IssuedReport.id).where(IssuedReport.period == "2016Q3"))
    staff = Client(app, USERS["staff"])
    page = staff.get(f"/rapporter/utfardade/{report_id}/").get_data(as_text=True)
    assert re.search(r"<blockquote><p>”\[Demo\] [^”<]+”</p></blockquote>", page), "no quote on the report page"
    printed = pdf_text(staff.get(f"/rapporter/utfardade/{report_id}.pdf").data)
    assert "”[Demo]" in printed
    for text in (page, printed):
        assert "””" not in text and "”[Demo] ”" not in text


def test_the_report_adds_its_quotation_marks_once():
    from coordinator.reports.content import quoted

    assert [quoted(t) for t in ("Hej", "”Hej”", '"Hej"', " “Hej” ", "Hon sa ”nej” igen")] == \
        ["”Hej”"] * 4 + ["”Hon sa ”nej” igen”"]


def test_plans_are_made_at_first_visits_and_followed_up_at_second_visits_held(demo):
    app, _summary, _before = demo
    with app.app_context():
        plans = list(db.session.scalars(select(ActionPlan)))
        assert len(plans) >= 20
        visits = {(v.site_id, v.round): v for v in db.session.scalars(select(Visit))}
        for plan in plans:
            first, second = visits[(plan.site_id, 1)], visits[(plan.site_id, 2)]
            assert first.status == GENOMFORD and aware(plan.created_at).date() > first.date
            assert plan.challenges.startswith(texts.MARK) and plan.goals
            assert all(g.theme is not None and g.activities for g in plan.goals)
            followed_up = bool(plan.followup_summary)
            assert followed_up == (second.status == GENOMFORD), plan.site.label
            if followed_up:
                assert all(g.situation.startswith(texts.MARK) for g in plan.goals)
        activities = list(db.session.scalars(select(PlanActivity)))
        decided = [a for a in activities if a.decided]
        undecided = [a for a in activities if not a.decided]
        done = lambda acts: sum(a.status == "genomford" for a in acts) / len(acts)  # noqa: E731
        assert decided and undecided and done(decided) > done(undecided)
        assert all(aware(a.kommun_updated_at).date() <= AS_OF for a in activities if a.kommun_updated_at)


def test_events_before_the_day_are_held_with_notes_and_the_national_dialogue_is_there(demo):
    app, summary, _before = demo
    with app.app_context():
        events = list(db.session.scalars(select(Event).order_by(Event.date)))
        kinds = {e.kind for e in events}
        assert {"nationell_dialog", "hearing", "rundabord", "samrad"} <= kinds
        national = next(e for e in events if e.kind == "nationell_dialog")
        assert national.date == date(2015, 3, 16) and len(national.organisations) >= 10
        notes = {n.event_id: n for n in db.session.scalars(select(Note).where(Note.event_id.isnot(None)))}
        for e in events:
            assert "(demo)" in e.title and e.description.startswith(texts.MARK)
            held = e.date < AS_OF
            assert (e.status == GENOMFORT) == held
            assert (e.id in notes and len(notes[e.id].passages) >= 6) == held
        assert summary["event_notes"] == len(notes) > 0


def test_measurement_answers_are_submitted_before_the_visits_and_follow_the_skip_rules(demo):
    app, summary, _before = demo
    with app.app_context():
        requests = list(db.session.scalars(select(MeasurementRequest)))
        visits = {(v.site_id, v.round): v for v in db.session.scalars(select(Visit))}
        submitted = [r for r in requests if r.submitted_at]
        assert len(submitted) > 50 and len(submitted) < len(requests)
        for r in requests:
            visit = visits[(r.site_id, r.round)]
            assert visit.booked and aware(r.sent_at).date() < visit.date
            if r.submitted_at:
                assert aware(r.sent_at) < aware(r.submitted_at) and aware(r.submitted_at).date() < visit.date
                assert aware(r.submitted_at).date() <= AS_OF
                questions = r.questionnaire.questions
                answers = {a.question_id: a.value for a in r.answers}
                gone = skipped(questions, answers)
                assert not gone & set(answers)
                assert all(q.id in answers for q in questions if q.required and q.id not in gone)
        assert summary["measurements_submitted"] == len(submitted)


def test_narratives_are_written_for_the_quarters_before_the_day(demo):
    app, summary, _before = demo
    with app.app_context():
        narratives = list(db.session.scalars(select(Narrative)))
        periods = sorted({n.period for n in narratives})
        assert periods == ["2015Q1", "2015Q2", "2015Q3", "2015Q4", "2016Q1", "2016Q2", "2016Q3", "slut"]
        final = {n.section: n for n in narratives if n.period == "slut"}
        assert set(final) == {"uppdraget", "iakttagelser", "analys", "slutsatser", "atgarder"}
        assert all(len(n.revisions) == 2 for n in final.values())
        assert all(n.text.startswith(texts.MARK) and n.revisions and n.revisions[-1].text == n.text
                   for n in narratives)
        # The figures in the texts are the demo's own: visits held in 2015Q3.
        held = db.session.scalar(select(func.count()).select_from(Visit).where(
            Visit.status == GENOMFORD, Visit.date >= date(2015, 7, 1), Visit.date <= date(2015, 9, 30)))
        q3 = next(n for n in narratives if n.period == "2015Q3" and n.section == "iakttagelser")
        assert f"genomfördes {held} besök" in q3.text
    assert summary["narrative_periods"] == periods


def test_the_due_reports_are_issued_and_the_latest_discussed_with_the_minister(demo):
    app, summary, _before = demo
    assert summary["issued_periods"] == ["2014Q4", "2015Q1", "2015Q2", "2015Q3", "2015Q4", "2016Q1", "2016Q2",
                                         "2016Q3"]
    assert (summary["avstamningar"], summary["actions"], summary["actions_open"]) == (4, 5, 2)
    with app.app_context():
        [next_due] = rhythm.report_status(AS_OF)  # nothing overdue: the next report only
        assert (next_due.period.key, next_due.due, next_due.issued, next_due.overdue) == (
            "2016Q4", date(2017, 1, 14), 0, False)
        for report in db.session.scalars(select(IssuedReport)):
            assert report.issued_at.date() < rhythm.parse_period(report.period).due
            assert report.comment.startswith(texts.MARK)
        meetings = db.session.scalars(select(Avstamning).order_by(Avstamning.held_on)).all()
        held = [m for m in meetings if m.held_on < AS_OF]
        assert len(held) == 3 and all(m.report is not None and m.report.issued_at.date() < m.held_on for m in held)
        assert all(m.feedback.startswith(texts.MARK) and "Demo " in m.attendees for m in held)
        planned = rhythm.next_avstamning(AS_OF)
        assert planned is meetings[-1] and planned.held_on > AS_OF and planned.report is None
        actions = [t for m in held for t in m.tasks]
        assert all(t.title.startswith(texts.MARK) for t in actions)
        assert all(t.outcome.startswith(texts.MARK) and t.done_at is not None for t in actions if t.outcome)
        assert [t.title for t in rhythm.open_actions()] == [t.title for t in actions if t.done_at is None]
        # The report after an avstämning lists it with what came of its actions.
        q3 = db.session.scalar(select(IssuedReport).where(IssuedReport.period == "2016Q3"))
        assert [a["held_on"] for a in q3.figures["avstamningar"]["held"]] == [str(held[1].held_on)]
    staff = Client(app, USERS["staff"])
    assert staff.get("/rapporter/avstamningar/").status_code == 200
    assert "[Demo]" in staff.get(f"/rapporter/avstamningar/{held[-1].id}/").get_data(as_text=True)
    # No reminder is due on the demo's day, and none is left queued.
    result = run_cli(app, "report", "remind", "--json")
    assert result.exit_code == 0 and json.loads(result.output)["queued"] == []


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_reference_data_is_untouched(demo):
    app, _summary, before = demo
    assert population_fingerprint(app) == before


def test_the_pages_show_the_demo(demo):
    app, _summary, _before = demo
    staff = Client(app, USERS["staff"])
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.status == GENOMFORD).order_by(Visit.date))
        site_id = db.session.scalar(select(ActionPlan.site_id).order_by(ActionPlan.id))
    for url in ("/besok/lista", f"/besok/{visit.id}", f"/dialog/besok/{visit.id}", "/dialog/oversikt",
                "/dialog/citat", f"/handlingsplaner/plats/{site_id}", "/urval/protokoll"):
        response = staff.get(url)
        assert response.status_code == 200, url
    assert "[Demo]" in staff.get(f"/dialog/besok/{visit.id}").get_data(as_text=True)


# --------------------------------------------------------------------------- running it again

def test_a_second_run_is_refused_without_replace_and_changes_nothing(demo):
    app, _summary, _before = demo
    before = fingerprint(app)
    result = run(app)
    assert result.exit_code == 1
    assert "innehåller redan arbetsmaterial" in result.output and "--replace" in result.output
    assert fingerprint(app) == before


def test_replace_with_an_as_of_outside_the_assignment_is_refused_before_deleting(demo):
    app, _summary, _before = demo
    before = fingerprint(app)
    result = run(app, "--replace", "--as-of", "2018-01-01")
    assert result.exit_code == 1 and "--as-of" in result.output
    assert fingerprint(app) == before


def test_replace_deletes_the_working_data_and_the_same_seed_makes_the_same_demo(demo):
    app, _summary, before_population = demo
    before = fingerprint(app)
    with app.app_context():
        users = db.session.scalar(select(func.count()).select_from(User))
    result = run(app, "--replace")
    assert result.exit_code == 0, result.output
    assert "Raderade arbetsmaterialet" in result.output and "Demouppdraget är klart" in result.output
    assert "coordinator report quarterly 2016Q3" in result.output
    after = fingerprint(app)
    assert after == before
    assert after["assignment"].count("(demo)") == 1
    assert population_fingerprint(app) == before_population
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == users
        assert db.session.scalar(select(func.count()).select_from(Sample)) == 1


# --------------------------------------------------------------------------- the demo's own day

def test_the_app_reads_the_demo_as_of_its_day_and_its_log_is_dated_in_the_demos_time(demo):
    from coordinator.audit import AuditEvent
    from coordinator.scheduling.overview import today

    app, summary, _before = demo
    as_of = date.fromisoformat(summary["as_of"])
    with app.test_request_context("/"):
        assert today() == as_of  # no COORDINATOR_TODAY: the demo's day is the pages' today
    with app.app_context():
        site_events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.site_id.isnot(None))))
        assert len(site_events) > 1000
        assert max(aware(e.at) for e in site_events).date() <= as_of
        assert min(aware(e.at) for e in site_events).date() < date(2015, 1, 1)
        # Each held visit was completed on its own day in the log.
        completed = {int(e.object_id): aware(e.at).date() for e in site_events if e.action == "visit.completed"}
        for v in db.session.scalars(select(Visit).where(Visit.status == GENOMFORD)):
            assert completed[v.id] == v.date
