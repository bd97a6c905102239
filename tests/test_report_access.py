"""The ministry (role reader) reads issued reports, and nothing else: no draft, narrative, history,
note, note draft or action plan.

Every test runs on SQLite and PostgreSQL (the `app` fixture). The data set has one of everything
(a note with a revision and a draft, a plan with a goal, an activity and a link, a narrative with a
revision, an issued report), so each page a reader is refused exists and opens for the office:
a 403 is the role's doing, not a missing id. The route table is walked as well, so a page added
later without a role check fails here.
"""
from __future__ import annotations

import hashlib
import re
from datetime import date, time

import pytest
from sqlalchemy import func, select

from coordinator.auth.models import User
from coordinator.dialogue.models import DialogueQuestion, NoteDraft, Theme, ThemeCategory
from coordinator.events.models import Event
from coordinator.extensions import db
from coordinator.plans.models import PlanLink
from coordinator.reports.models import IssuedReport, Narrative, NarrativeRevision
from coordinator.sampling.models import Sample
from coordinator.scheduling.models import Visit

PERIOD = "2015Q3"
BLUEPRINTS = ("dialogue", "plans", "reports")
# Open to the reader: the issued versions. The kommun's link pages need no login, only a token.
READER_ENDPOINTS = {"reports.index", "reports.issued", "reports.issued_pdf", "reports.issued_docx"}
TOKEN_ENDPOINTS = {"plans.kommun_plan", "plans.kommun_report", "plans.kommun_pdf"}


@pytest.fixture
def world(app):
    """One of everything a reader must not see, and one issued report; the URL arguments to reach them."""
    runner = app.test_cli_runner()
    drawn = runner.invoke(args=["sample", "draw", "--year", "2014", "--seed", "7", "--save", "--json"])
    assert drawn.exit_code == 0, drawn.output
    sample_id = int(re.search(r'"id": (\d+)', drawn.output).group(1))
    assert runner.invoke(args=["sample", "adopt", str(sample_id)]).exit_code == 0
    with app.app_context():
        from coordinator.dialogue import notes
        from coordinator.plans import service as plans
        from coordinator.reports import figures
        from coordinator.reports import service as reports
        from coordinator.scheduling.service import ensure_visits

        staff = db.session.scalar(select(User).where(User.email == "staff@test.se"))
        site = db.session.get(Sample, sample_id).active_sites[0]
        ensure_visits()
        db.session.flush()
        visit = db.session.scalar(select(Visit).where(Visit.site_id == site.id, Visit.round == 1))
        note = notes.get_or_create_note(visit)
        forum = Event(kind="hearing", title="Hearing om placeringar", date=date(2015, 9, 10), start_time=time(10),
                      end_time=time(12), uid="hearing-test@samordnaren")
        db.session.add(forum)
        db.session.flush()
        notes.apply(note, {"sections": {notes.question_key(1): [{"text": "Anteckning som bara kansliet läser."}]}},
                    staff, note.version)
        event_note = notes.get_or_create_note(forum)
        db.session.flush()
        notes.apply(event_note, {"sections": {notes.question_key(1): [{"text": "Det kansliet hörde."}]}},
                    staff, event_note.version)
        notes.save_draft(note, staff, {"sections": {notes.question_key(1): [{"text": "Ett autosparat utkast."}]}},
                         note.version)
        plan = plans.save_challenges(site, 0, "Utmaningar som bara kansliet läser.", staff)
        db.session.flush()
        goal = plans.add_goal(site, plan.version, {"title": "Mål", "description": "", "theme_id": None}, staff)
        db.session.flush()
        activity = plans.add_activity(goal, {"description": "Aktivitet", "responsible": "IFO-chef",
                                             "decided": True, "status": "pagar", "due_date": date(2016, 3, 1),
                                             "comment": ""}, staff)
        link = plans.create_link(plan, date(2099, 1, 1), staff)
        reports.save_narrative(PERIOD, "iakttagelser", 0, "Utkast till iakttagelser.", staff)
        db.session.commit()
        report = reports.issue(figures.parse_period(PERIOD), "Första versionen.", staff)
        from coordinator.reports import avstamningar
        meeting = avstamningar.create({"held_on": date(2015, 10, 20), "attendees": "Statsrådet",
                                       "report_id": report.id, "feedback": "Det kansliet läser om statsrådet.",
                                       "decisions": ""}, staff)
        action = avstamningar.add_action(meeting, {"title": "Åtgärd", "owner_id": staff.id,
                                                   "due_date": date(2015, 11, 30)}, staff)
        db.session.commit()
        return {
            "avstamning_id": meeting.id, "task_id": action.id,
            "visit_id": visit.id, "event_id": forum.id, "number": 1, "site_id": site.id, "goal_id": goal.id,
            "activity_id": activity.id, "link_id": link.id, "period": PERIOD, "section": "iakttagelser", "report_id": report.id,
            "question_id": db.session.scalar(select(func.min(DialogueQuestion.id))),
            "theme_id": db.session.scalar(select(func.min(Theme.id))),
            "category_id": db.session.scalar(select(func.min(ThemeCategory.id))),
        }


def url_for_rule(rule, values: dict) -> str:
    missing = set(rule.arguments) - set(values)
    assert not missing, f"{rule.rule}: add a value for {sorted(missing)} to the fixture"
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def guarded_rules(app, method: str) -> list:
    return sorted((r for r in app.url_map.iter_rules()
                   if r.endpoint.split(".")[0] in BLUEPRINTS and method in r.methods
                   and r.endpoint not in READER_ENDPOINTS | TOKEN_ENDPOINTS), key=lambda r: r.rule)


# --------------------------------------------------------------------------- what the reader sees

def test_the_reader_sees_the_issued_reports_and_downloads_their_pdf(app, reader, world):
    with app.app_context():
        row = db.session.get(IssuedReport, world["report_id"])
        stored, sha256 = bytes(row.pdf), row.sha256
    overview = reader.get("/")  # the ministry's own overview lists the issued reports
    assert overview.status_code == 200
    assert f'/rapporter/utfardade/{world["report_id"]}/' in overview.get_data(as_text=True)
    archive = reader.get("/rapporter/")
    assert archive.status_code == 200
    body = archive.get_data(as_text=True)
    assert "Utfärdade rapporter" in body and "Första versionen." in body
    assert f'/rapporter/utfardade/{world["report_id"]}.pdf' in body
    # Nothing that leads to the office's pages: no draft link, no menu to notes or plans.
    assert f"/rapporter/{PERIOD}/" not in body and "/dialog/" not in body and "/handlingsplaner" not in body

    page = reader.get(f'/rapporter/utfardade/{world["report_id"]}/')
    assert page.status_code == 200 and sha256 in page.get_data(as_text=True)
    assert "Utkast till iakttagelser." in page.get_data(as_text=True)  # as issued, narrative included
    assert "/text/" not in page.get_data(as_text=True) and "utkast.pdf" not in page.get_data(as_text=True)
    pdf = reader.get(f'/rapporter/utfardade/{world["report_id"]}.pdf')
    assert pdf.status_code == 200 and pdf.data == stored and hashlib.sha256(pdf.data).hexdigest() == sha256


def test_the_reader_sees_no_report_until_one_is_issued(app, reader):
    page = reader.get("/rapporter/")
    assert page.status_code == 200 and "Inga rapporter har utfärdats än." in page.get_data(as_text=True)
    assert "Kvartalsrapport" not in page.get_data(as_text=True)


def test_issued_reports_need_a_login(app, anon, world):
    for url in ("/rapporter/", f'/rapporter/utfardade/{world["report_id"]}/',
                f'/rapporter/utfardade/{world["report_id"]}.pdf'):
        response = anon.get(url)
        assert response.status_code == 302 and "/logga-in" in response.headers["Location"]


@pytest.mark.parametrize("url", [
    "/rapporter/{period}/", "/rapporter/{period}/utkast.pdf", "/rapporter/slut/",
    "/rapporter/{period}/text/iakttagelser", "/rapporter/{period}/text/iakttagelser/historik",
    "/rapporter/{period}/text/iakttagelser/historik/1",
    "/dialog/", "/dialog/besok/{visit_id}", "/dialog/besok/{visit_id}/historik", "/dialog/citat",
    "/dialog/sok?q=kansliet", "/handlingsplaner", "/handlingsplaner/plats/{site_id}",
    "/handlingsplaner/plats/{site_id}/plan.pdf", "/handlingsplaner/plats/{site_id}/uppfoljning",
])
def test_the_reader_is_refused_drafts_narratives_notes_and_plans(app, reader, staff, world, url):
    url = url.format(**world)
    assert staff.get(url).status_code == 200  # the page exists …
    response = reader.get(url)
    assert response.status_code == 403  # … but not for the ministry
    assert "kansliet läser" not in response.get_data(as_text=True)


@pytest.mark.parametrize("url, data", [
    ("/rapporter/{period}/text/iakttagelser", {"iakttagelser-text": "Läsarens text.", "iakttagelser-version": "1"}),
    ("/rapporter/{period}/text/iakttagelser/historik/1/aterstall", {"version": "1"}),
    ("/rapporter/{period}/utfarda", {"version": "2", "comment": "Läsaren utfärdar."}),
    ("/dialog/besok/{visit_id}/utkast", {"version": "2", "fraga-1.0.text": "Läsarens utkast."}),
    ("/dialog/besok/{visit_id}/utkast/kasta", {"version": "2"}),
    ("/handlingsplaner/plats/{site_id}/utmaningar", {"version": "1", "challenges": "Läsarens utmaningar."}),
])
def test_the_reader_cannot_change_anything(app, reader, world, url, data):
    def state():
        with app.app_context():
            return (db.session.scalar(select(func.count()).select_from(NarrativeRevision)),
                    db.session.scalar(select(func.count()).select_from(IssuedReport)),
                    db.session.scalar(select(func.count()).select_from(NoteDraft)),
                    db.session.scalar(select(Narrative.text)))

    before = state()
    assert reader.post(url.format(**world), data=data).status_code == 403
    assert state() == before


# --------------------------------------------------------------------------- every route, including future ones

def test_no_page_of_notes_plans_or_report_drafts_opens_for_the_reader(app, reader, admin, world):
    rules = guarded_rules(app, "GET")
    assert len(rules) >= 20
    for rule in rules:
        url = url_for_rule(rule, world)
        assert admin.get(url).status_code == 200, f"{url} should open for the office"
        assert reader.get(url).status_code == 403, f"{url} ({rule.endpoint}) opened for the reader"


def test_no_form_of_notes_plans_or_reports_accepts_a_post_from_the_reader(app, reader, world):
    rules = guarded_rules(app, "POST")
    assert len(rules) >= 20
    with app.app_context():
        links = db.session.scalar(select(func.count()).select_from(PlanLink))
    for rule in rules:
        url = url_for_rule(rule, world)
        assert reader.post(url, data={"version": "1"}).status_code == 403, f"{url} ({rule.endpoint})"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PlanLink)) == links
        assert db.session.scalar(select(func.count()).select_from(IssuedReport)) == 1
