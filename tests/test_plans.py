"""Action plans (handlingsplaner): editing with audit and optimistic locking, the PDF, the kommun's
signed link (token isolation, expiry, revocation, tampering) and the follow-up figures.

Every test runs on SQLite and PostgreSQL (the `app` fixture). The sample is drawn and adopted
through the CLI, as in test_visits.py.
"""
from __future__ import annotations

import html as htmllib
import io
import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from coordinator.audit import AuditEvent
from coordinator.extensions import db
from coordinator.plans import service
from coordinator.plans.models import ActionPlan, PlanActivity, PlanGoal, PlanLink
from coordinator.sampling.models import Sample, Site

from .helpers import adopt_sample, audit_events, confirm_through_page

STAFF = "staff@test.se"


# --------------------------------------------------------------------------- helpers

@pytest.fixture
def sites(app):
    """An adopted sample (drawn and adopted through the CLI); the ids of its active sites."""
    sample_id = adopt_sample(app)
    with app.app_context():
        return [s.id for s in db.session.get(Sample, sample_id).active_sites]


def text(response) -> str:
    """The page as plain text: tags removed, entities decoded, all whitespace (nbsp too) one space."""
    html = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", htmllib.unescape(html).replace("\u00a0", " "))


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages).replace("\u00a0", " "))


def make_plan(app, site_id: int, goals: list[list[tuple[str, bool]]], prefix: str = "") -> dict:
    """A plan with goals; each goal a list of (status, decided) activities. Returns ids and texts."""
    with app.app_context():
        site = db.session.get(Site, site_id)
        plan = service.save_challenges(site, 0, f"{prefix}Utmaning: personalomsättning bland socialsekreterare.")
        db.session.flush()
        out = {"plan": None, "goals": [], "activities": [], "texts": []}
        for gi, acts in enumerate(goals, start=1):
            goal = service.add_goal(site, plan.version,
                                    {"title": f"{prefix}Mål nummer {gi}", "description": "", "theme_id": None})
            db.session.flush()
            out["goals"].append(goal.id)
            for ai, (status, decided) in enumerate(acts, start=1):
                desc = f"{prefix}Aktivitet {gi}.{ai} {status}"
                a = service.add_activity(goal, {"description": desc, "responsible": f"Enhetschef {gi}{ai}",
                                                "decided": decided, "status": status,
                                                "due_date": date(2016, 3, ai), "comment": f"Kommentar {gi}.{ai}"})
                db.session.flush()
                out["activities"].append(a.id)
                out["texts"].append(desc)
        db.session.commit()
        out["plan"] = plan.id
        return out


def plan_version(app, site_id: int) -> str:
    with app.app_context():
        plan = service.plan_for(site_id)
        return str(plan.version) if plan else "0"


def activity_row(app, activity_id: int) -> dict:
    with app.app_context():
        a = db.session.get(PlanActivity, activity_id)
        return {"status": a.status, "comment": a.comment, "kommun_comment": a.kommun_comment,
                "version": a.version, "kommun_updated_at": a.kommun_updated_at, "description": a.description}


def make_link(app, plan_id: int, days: int = 60) -> tuple[int, str]:
    with app.app_context():
        plan = db.session.get(ActionPlan, plan_id)
        link = service.create_link(plan, service.today() + timedelta(days=days))
        db.session.commit()
        with app.test_request_context():
            return link.id, service.token_for(link)


ACTIVITY_FORM = {"description": "Inför BBIC fullt ut", "responsible": "IFO-chefen", "decided": "y",
                 "depends_on_resources": "y", "due_date": "2016-03-31", "status": "pagar",
                 "comment": "Utbildning bokad"}


# --------------------------------------------------------------------------- access

def test_plan_pages_are_for_staff_only(app, sites, staff, reader, anon):
    ids = make_plan(app, sites[0], [[("pagar", True)]])
    site = sites[0]
    pages = ["/handlingsplaner", f"/handlingsplaner/plats/{site}", f"/handlingsplaner/plats/{site}/plan.pdf",
             f"/handlingsplaner/plats/{site}/uppfoljning", f"/handlingsplaner/plats/{site}/mal/{ids['goals'][0]}",
             f"/handlingsplaner/plats/{site}/aktivitet/{ids['activities'][0]}",
             f"/handlingsplaner/plats/{site}/mal/{ids['goals'][0]}/ny-aktivitet"]
    for url in pages:
        assert reader.get(url).status_code == 403, url
        assert anon.get(url).status_code == 302, url
        assert staff.get(url).status_code == 200, url
    for url in [f"/handlingsplaner/plats/{site}/utmaningar", f"/handlingsplaner/plats/{site}/mal",
                f"/handlingsplaner/plats/{site}/lankar", f"/handlingsplaner/plats/{site}/uppfoljning",
                f"/handlingsplaner/plats/{site}/aktivitet/{ids['activities'][0]}/ta-bort"]:
        assert reader.post(url, {"version": "1"}).status_code == 403, url
    assert staff.get("/handlingsplaner/plats/999999").status_code == 404
    # A goal of one site is not reachable under another site's address.
    assert staff.get(f"/handlingsplaner/plats/{sites[1]}/mal/{ids['goals'][0]}").status_code == 404
    assert staff.post(f"/handlingsplaner/plats/{site}/utmaningar", {"version": "1", "challenges": "x"},
                      csrf=False).status_code == 400


def test_overview_lists_every_site_with_its_plan_status(app, sites, staff):
    make_plan(app, sites[0], [[("genomford", True), ("pagar", False), ("ej_paborjad", True)]])
    page = staff.get("/handlingsplaner")
    assert page.status_code == 200
    body = text(page)
    with app.app_context():
        labels = [db.session.get(Site, s).label for s in sites]
    for label in labels:
        assert label in body
    assert f"1 av {len(sites)} besöksplatser har en handlingsplan" in body
    assert "1 av 3 (33 %)" in body and "2 av 3" in body and "1 ej beslutad" in body
    assert body.count("Ingen handlingsplan än") == len(sites) - 1
    assert 'href="/handlingsplaner"' in staff.get("/").get_data(as_text=True)


def test_overview_is_paged_in_the_samples_order_and_counts_every_site(app, sites, staff, monkeypatch):
    from coordinator.plans import views
    monkeypatch.setattr(views, "INDEX_PAGE", 20)  # the 50 sites make three pages of 20
    make_plan(app, sites[0], [[("genomford", True)]])
    make_plan(app, sites[45], [[("pagar", False), ("ej_paborjad", True)], [("genomford", True)]])
    with app.app_context():
        labels = [db.session.get(Site, s).label for s in sites]

    def shown(response) -> list[str]:
        return re.findall(r'<th scope="row"><a href="/handlingsplaner/plats/\d+">([^<]+)</a>',
                          response.get_data(as_text=True))

    pages = [staff.get(f"/handlingsplaner?sida={n}") for n in (1, 2, 3)]
    assert [htmllib.unescape(label) for p in pages for label in shown(p)] == labels
    last = text(pages[2])
    # The count is over every site, whichever page is shown; the last page has the other site's plan.
    assert "2 av 50 besöksplatser har en handlingsplan." in last and "Visar 41–50 av 50 besöksplatser." in last
    assert "1 av 3 (33 %)" in last and "2 av 3" in last and "Sida 3 av 3" in last
    assert 'href="/handlingsplaner?sida=2" rel="prev"' in pages[2].get_data(as_text=True)
    assert "1 av 1 (100 %)" in text(pages[0]) and "Sida 1 av 3" in text(pages[0])


# --------------------------------------------------------------------------- editing with audit

def test_plan_crud_through_the_pages_is_audited(app, sites, staff):
    site = sites[0]
    base = f"/handlingsplaner/plats/{site}"
    assert "har ingen handlingsplan än" in text(staff.get(base))

    # The first save creates the plan (version 0 = "no plan yet").
    r = staff.post(f"{base}/utmaningar", {"version": "0", "challenges": "Hög personalomsättning."})
    assert r.status_code == 302
    with app.app_context():
        theme_id = service.theme_groups()[0][1][0][0]
    r = staff.post(f"{base}/mal", {"version": plan_version(app, site), "title": "Stabil personal",
                                   "description": "Färre vakanser", "theme": str(theme_id)})
    assert r.status_code == 302
    r = staff.post(f"{base}/mal", {"version": plan_version(app, site), "title": "Bättre uppföljning", "theme": ""})
    assert r.status_code == 302
    with app.app_context():
        plan = service.plan_for(site)
        g1, g2 = [g.id for g in plan.goals]
        assert plan.challenges == "Hög personalomsättning."
        assert [g.title for g in plan.goals] == ["Stabil personal", "Bättre uppföljning"]
        assert plan.goals[0].theme_id == theme_id and plan.goals[1].theme_id is None

    # Edit, reorder.
    r = staff.post(f"{base}/mal/{g2}", {"version": plan_version(app, site), "title": "Systematisk uppföljning",
                                        "description": "", "theme": str(theme_id)})
    assert r.status_code == 302
    r = staff.post(f"{base}/mal/{g2}/flytta", {"version": plan_version(app, site), "direction": "upp"})
    assert r.status_code == 302
    with app.app_context():
        plan = service.plan_for(site)
        assert [(g.id, g.position) for g in plan.goals] == [(g2, 1), (g1, 2)]
        assert plan.goals[0].title == "Systematisk uppföljning" and plan.goals[0].theme_id == theme_id

    # Activities: add, edit, remove.
    r = staff.post(f"{base}/mal/{g1}/ny-aktivitet", ACTIVITY_FORM)
    assert r.status_code == 302
    r = staff.post(f"{base}/mal/{g1}/ny-aktivitet", {**ACTIVITY_FORM, "description": "Mentorprogram",
                                                      "decided": "", "status": "ej_paborjad", "due_date": ""})
    assert r.status_code == 302
    with app.app_context():
        acts = db.session.get(PlanGoal, g1).activities
        a1, a2 = acts[0].id, acts[1].id
        assert (acts[0].description, acts[0].responsible, acts[0].decided, acts[0].depends_on_decision,
                acts[0].depends_on_resources, acts[0].due_date, acts[0].status, acts[0].comment) == (
            "Inför BBIC fullt ut", "IFO-chefen", True, False, True, date(2016, 3, 31), "pagar", "Utbildning bokad")
        assert acts[1].decided is False and acts[1].due_date is None
    page = text(staff.get(base))
    assert "Inför BBIC fullt ut" in page and "Pågår" in page and "Ej påbörjad" in page
    r = staff.post(f"{base}/aktivitet/{a1}", {**ACTIVITY_FORM, "version": str(activity_row(app, a1)["version"]),
                                              "status": "genomford"})
    assert r.status_code == 302
    assert activity_row(app, a1)["status"] == "genomford"
    r = staff.post(f"{base}/aktivitet/{a2}/ta-bort", {"ta-bort-version": str(activity_row(app, a2)["version"]),
                                                      "confirmed": "1"})
    assert r.status_code == 302
    # Removing a goal without its confirmation step shows the step and removes nothing; then it goes
    # with its activities.
    r = staff.post(f"{base}/mal/{g1}/ta-bort", {"ta-bort-version": plan_version(app, site)})
    assert r.status_code == 200 and "Kan inte ångras" in text(r) and "Inför BBIC fullt ut" in text(r)
    with app.app_context():
        assert len(service.plan_for(site).goals) == 2
    r = staff.post(f"{base}/mal/{g1}/ta-bort", {"ta-bort-version": plan_version(app, site), "confirmed": "1"})
    assert r.status_code == 302
    with app.app_context():
        plan = service.plan_for(site)
        assert [g.id for g in plan.goals] == [g2] and plan.goals[0].position == 1
        assert db.session.get(PlanActivity, a1) is None

    log = audit_events(app, "plan.")
    assert [e.action for e in log] == [
        "plan.created", "plan.updated", "plan.goal_added", "plan.goal_added", "plan.goal_updated", "plan.goal_moved",
        "plan.activity_added", "plan.activity_added", "plan.activity_updated", "plan.activity_removed",
        "plan.goal_removed"]
    assert {e.actor for e in log} == {STAFF}
    assert log[1].details["fields"] == ["challenges"]
    assert log[4].details["fields"] == ["title", "theme_id"]
    assert log[8].details == {"plan_id": log[0].object_id and int(log[0].object_id), "goal_id": g1,
                              "fields": ["status"], "status_from": "pagar", "status_to": "genomford"}
    assert log[10].details["activities"] == [a1]
    # No free text in the log: ids, field names and statuses only.
    dumped = json.dumps([e.details for e in log], ensure_ascii=False)
    for secret in ("Hög personalomsättning", "Stabil personal", "BBIC", "IFO-chefen", "Utbildning bokad", "Mentor"):
        assert secret not in dumped


def test_form_errors_keep_what_was_typed(app, sites, staff):
    ids = make_plan(app, sites[0], [[("pagar", True)]])
    base = f"/handlingsplaner/plats/{sites[0]}"
    r = staff.post(f"{base}/mal/{ids['goals'][0]}/ny-aktivitet", {**ACTIVITY_FORM, "due_date": "2016-13-45",
                                                                   "description": "Skriven men ej sparad"})
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    assert "Skriven men ej sparad" in body and 'value="2016-13-45"' in body and 'value="IFO-chefen"' in body
    assert "Ange ett datum som ÅÅÅÅ-MM-DD" in text(r)
    r = staff.post(f"{base}/mal", {"version": plan_version(app, sites[0]), "title": "", "description": "Beskrivning kvar"})
    assert r.status_code == 400 and "Skriv målet." in text(r) and "Beskrivning kvar" in r.get_data(as_text=True)
    r = staff.post(f"{base}/mal", {"version": plan_version(app, sites[0]), "title": "Mål", "theme": "999999"})
    assert r.status_code == 400 and "Välj ett målområde i listan" in text(r)
    r = staff.post(f"{base}/aktivitet/{ids['activities'][0]}", {**ACTIVITY_FORM, "status": "klar",
                                                                 "version": "1"})
    assert r.status_code == 400
    with app.app_context():
        assert len(db.session.get(PlanGoal, ids["goals"][0]).activities) == 1


def test_a_stale_plan_form_is_refused_and_nothing_is_overwritten(app, sites, staff, admin):
    site = sites[0]
    base = f"/handlingsplaner/plats/{site}"
    make_plan(app, site, [[("pagar", True)]])
    v = plan_version(app, site)
    assert staff.post(f"{base}/utmaningar", {"version": v, "challenges": "Först sparat"}).status_code == 302
    r = admin.post(f"{base}/utmaningar", {"version": v, "challenges": "Skrivet samtidigt"})
    assert r.status_code == 409
    page = text(r)
    assert "Någon annan har ändrat planen" in page and "har inte sparats" in page
    assert "Skrivet samtidigt" in page and "Först sparat" in page  # typed value kept, stored value shown
    with app.app_context():
        assert service.plan_for(site).challenges == "Först sparat"
    # The refused page carries the new version: saving again on purpose works.
    new_version = re.search(r'name="version"[^>]*value="(\d+)"', r.get_data(as_text=True)).group(1)
    assert new_version == plan_version(app, site)
    assert admin.post(f"{base}/utmaningar", {"version": new_version, "challenges": "Skrivet samtidigt"}).status_code == 302

    # Goals are guarded by the plan's version too; the first plan creation as well.
    with app.app_context():
        goal_id = service.plan_for(site).goals[0].id
    r = staff.post(f"{base}/mal/{goal_id}", {"version": v, "title": "Gammal version", "theme": ""})
    assert r.status_code == 409 and "Gammal version" in text(r)
    r = staff.post(f"{base}/mal/{goal_id}/flytta", {"version": v, "direction": "ned"})
    assert r.status_code == 409
    r = staff.post(f"{base}/mal/{goal_id}/ta-bort", {"ta-bort-version": v, "confirmed": "1"})
    assert r.status_code == 409
    r = staff.post(f"/handlingsplaner/plats/{sites[1]}/utmaningar", {"version": "3", "challenges": "x"})
    assert r.status_code == 409
    # A form refused for a plain error keeps the version it was based on, so fixing the error cannot
    # overwrite a save made meanwhile: the next submit is a conflict, not an overwrite.
    r = staff.post(f"{base}/mal", {"version": v, "title": ""})
    assert r.status_code == 400
    kept = re.search(r'class="new-goal">\s*<input[^>]*csrf_token[^>]*>\s*<input[^>]*name="version"[^>]*value="(\d+)"',
                     r.get_data(as_text=True))
    assert kept and kept.group(1) == v != plan_version(app, site)
    assert staff.post(f"{base}/mal", {"version": kept.group(1), "title": "Nytt mål"}).status_code == 409
    with app.app_context():
        assert service.plan_for(site).goals[0].title == "Mål nummer 1"
        assert service.plan_for(sites[1]) is None


def test_a_stale_activity_form_is_refused_and_nothing_is_overwritten(app, sites, staff, admin):
    site = sites[0]
    ids = make_plan(app, site, [[("pagar", True)]])
    a = ids["activities"][0]
    url = f"/handlingsplaner/plats/{site}/aktivitet/{a}"
    v = str(activity_row(app, a)["version"])
    assert staff.post(url, {**ACTIVITY_FORM, "version": v, "status": "genomford"}).status_code == 302
    r = admin.post(url, {**ACTIVITY_FORM, "version": v, "status": "avbruten", "comment": "Min kommentar"})
    assert r.status_code == 409
    page = text(r)
    assert "Någon annan har ändrat aktiviteten" in page and "Min kommentar" in page
    row = activity_row(app, a)
    assert row["status"] == "genomford" and row["comment"] == "Utbildning bokad"
    assert admin.post(f"{url}/ta-bort", {"ta-bort-version": v, "confirmed": "1"}).status_code == 409
    assert activity_row(app, a)["status"] == "genomford"


def test_the_sqlalchemy_version_check_catches_a_race(app, sites):
    """Two sessions read version 1; both pass the form check; the second flush is refused."""
    ids = make_plan(app, sites[0], [[("pagar", True)]])
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError
    with app.app_context():
        with Session(db.engine) as s1, Session(db.engine) as s2:
            a1, a2 = s1.get(PlanActivity, ids["activities"][0]), s2.get(PlanActivity, ids["activities"][0])
            a1.status = "genomford"
            s1.commit()
            a2.status = "avbruten"
            with pytest.raises(StaleDataError):
                s2.commit()
    assert activity_row(app, ids["activities"][0])["status"] == "genomford"


# --------------------------------------------------------------------------- PDF

def test_the_plan_pdf_contains_the_site_the_activities_and_their_statuses(app, sites, staff):
    statuses = [("genomford", True), ("pagar", True), ("ej_paborjad", False), ("avbruten", False)]
    ids = make_plan(app, sites[0], [statuses, [("pagar", False)]])
    r = staff.get(f"/handlingsplaner/plats/{sites[0]}/plan.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["Content-Disposition"].startswith("inline; filename=\"handlingsplan-")
    content = pdf_text(r.data)
    with app.app_context():
        label = db.session.get(Site, sites[0]).label
    assert "Handlingsplan" in content and label in content
    assert "Kommunens utmaningar" in content and "personalomsättning" in content
    for desc in ids["texts"]:
        assert desc in content, desc
    for word in ("Genomförd", "Pågår", "Ej påbörjad", "Avbruten", "Ansvarig", "Beslutad", "Klart senast",
                 "Kommentar", "Enhetschef 11", "2016-03-04"):
        assert word in content, word
    assert "Mål 1: Mål nummer 1" in content and "Mål 2: Mål nummer 2" in content
    # Every count agrees with its word ("1 aktivitet", "1 genomförd"), as in "2 mål, 5 aktiviteter".
    assert "2 mål, 5 aktiviteter: 1 genomförd, 2 beslutade." in content
    assert "0 av 1 aktivitet genomförd, 0 av 1 beslutad." in content
    assert "1 av 4 aktiviteter genomförda, 2 av 4 beslutade." in content
    assert "Uppföljning vid andra besöket" not in content  # not written yet
    reader = PdfReader(io.BytesIO(r.data))
    assert reader.metadata.title == f"Handlingsplan: {label}"
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)  # A4

    # With the follow-up written, its section and figures are printed.
    with app.app_context():
        plan = service.plan_for(sites[0])
        service.save_followup(plan, plan.version, "Bra fart i arbetet.", "Rekrytera fler.",
                              {ids["goals"][0]: "Halvvägs."})
        db.session.commit()
    content = pdf_text(staff.get(f"/handlingsplaner/plats/{sites[0]}/plan.pdf").data)
    assert "Uppföljning vid andra besöket" in content
    assert "1 av 5 aktiviteter genomförda (20 %)" in content
    assert "Halvvägs." in content and "Bra fart i arbetet." in content and "Rekrytera fler." in content


# --------------------------------------------------------------------------- the kommun's link

def test_a_link_opens_its_own_plan_only(app, sites, anon):
    a = make_plan(app, sites[0], [[("pagar", True), ("ej_paborjad", False)]], prefix="Alfa ")
    b = make_plan(app, sites[1], [[("pagar", True)]], prefix="Beta ")
    link_a, token_a = make_link(app, a["plan"])
    make_link(app, b["plan"])

    # No login needed; A's page shows A's plan and nothing of B's.
    r = anon.get(f"/plan/{token_a}")
    assert r.status_code == 200
    assert r.headers["Referrer-Policy"] == "no-referrer" and "no-store" in r.headers["Cache-Control"]
    page = text(r)
    assert "Alfa Aktivitet 1.1 pagar" in page and "Alfa Utmaning" in page
    assert "Beta" not in page
    with app.app_context():
        assert db.session.get(Site, sites[1]).label not in page

    # Posting B's activity id through A's link: 404, and B is unchanged.
    b_act = b["activities"][0]
    before = activity_row(app, b_act)
    r = anon.post(f"/plan/{token_a}/aktivitet/{b_act}", {f"a{b_act}-version": str(before["version"]),
                                                         f"a{b_act}-status": "genomford",
                                                         f"a{b_act}-kommun_comment": "Intrång"})
    assert r.status_code == 404
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert activity_row(app, b_act) == before
    # Nor an id that exists nowhere.
    assert anon.post(f"/plan/{token_a}/aktivitet/999999", {}).status_code == 404

    # A's own activity: saved, stamped, audited with the link as actor and no token in the log.
    act = a["activities"][1]
    v = activity_row(app, act)["version"]
    r = anon.post(f"/plan/{token_a}/aktivitet/{act}", {f"a{act}-version": str(v), f"a{act}-status": "pagar",
                                                       f"a{act}-kommun_comment": "Upphandling pågår"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/plan/{token_a}#aktivitet-{act}")
    row = activity_row(app, act)
    assert row["status"] == "pagar" and row["kommun_comment"] == "Upphandling pågår"
    assert row["kommun_updated_at"] is not None and row["version"] == v + 1
    log = [e for e in audit_events(app, "plan.") if e.action == "plan.kommun_report"]
    assert len(log) == 1
    assert log[0].actor == f"kommunlänk {link_a}" and log[0].user_id is None
    assert log[0].object_type == "plan_activity" and log[0].object_id == str(act)
    assert log[0].details == {"link_id": link_a, "plan_id": a["plan"], "goal_id": a["goals"][0],
                              "fields": ["status", "kommun_comment"], "status_from": "ej_paborjad",
                              "status_to": "pagar"}
    with app.app_context():
        every = db.session.scalars(select(AuditEvent)).all()
        assert all(token_a not in json.dumps(e.details or {}) and token_a not in e.actor for e in every)
        assert all("Upphandling" not in json.dumps(e.details or {}, ensure_ascii=False) for e in every)
        assert db.session.get(PlanLink, link_a).last_used_at is not None
    # The kommun sees its report on its page.
    assert "Upphandling pågår" in text(anon.get(f"/plan/{token_a}"))
    # And can fetch its plan as PDF through the link.
    r = anon.get(f"/plan/{token_a}/plan.pdf")
    assert r.status_code == 200 and "Alfa Aktivitet 1.2" in pdf_text(r.data) and "Beta" not in pdf_text(r.data)


def test_a_stale_kommun_report_is_refused(app, sites, anon, staff):
    a = make_plan(app, sites[0], [[("pagar", True)]])
    _link, token = make_link(app, a["plan"])
    act = a["activities"][0]
    v = str(activity_row(app, act)["version"])
    assert staff.post(f"/handlingsplaner/plats/{sites[0]}/aktivitet/{act}",
                      {**ACTIVITY_FORM, "version": v, "status": "genomford"}).status_code == 302
    r = anon.post(f"/plan/{token}/aktivitet/{act}", {f"a{act}-version": v, f"a{act}-status": "avbruten",
                                                     f"a{act}-kommun_comment": "Vår text"})
    assert r.status_code == 409
    assert "Någon annan har ändrat aktiviteten" in text(r) and "Vår text" in r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"
    row = activity_row(app, act)
    assert row["status"] == "genomford" and row["kommun_comment"] == ""


def test_expired_revoked_and_tampered_links_are_refused(app, sites, anon, staff):
    a = make_plan(app, sites[0], [[("pagar", True)]])
    act = a["activities"][0]
    form = {f"a{act}-version": "1", f"a{act}-status": "genomford", f"a{act}-kommun_comment": "x"}

    # Expired (the row's expiry has passed).
    expired_id, expired = make_link(app, a["plan"])
    with app.app_context():
        link = db.session.get(PlanLink, expired_id)
        link.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
        db.session.commit()
    r = anon.get(f"/plan/{expired}")
    assert r.status_code == 403 and "Länken har gått ut" in text(r)
    assert r.headers["Referrer-Policy"] == "no-referrer" and r.headers["Cache-Control"] == "no-store"
    assert anon.post(f"/plan/{expired}/aktivitet/{act}", form).status_code == 403

    # Expired by the signature's age: a token signed long ago, though the row would still be valid.
    valid_id, valid = make_link(app, a["plan"])
    with app.app_context(), app.test_request_context():
        link = db.session.get(PlanLink, valid_id)
        old = int((service.aware(link.created_at) - timedelta(days=400)).timestamp())
        aged = service._serializer(old).dumps({"l": link.id, "n": link.nonce})
    r = anon.get(f"/plan/{aged}")
    assert r.status_code == 403 and "Länken har gått ut" in text(r)

    # Revoked by staff.
    r = staff.post(f"/handlingsplaner/plats/{sites[0]}/lankar/{valid_id}/aterkalla", {"confirmed": "1"})
    assert r.status_code == 302
    r = anon.get(f"/plan/{valid}")
    assert r.status_code == 403 and "Länken är återkallad" in text(r)
    assert anon.post(f"/plan/{valid}/aktivitet/{act}", form).status_code == 403

    # Tampered: a changed signature, a forged payload, another key, the wrong nonce, junk.
    good_id, good = make_link(app, a["plan"])
    assert anon.get(f"/plan/{good}").status_code == 200
    flipped = good[:-3] + ("AAA" if good[-3:] != "AAA" else "BBB")
    payload, rest = good.split(".", 1)
    from itsdangerous import URLSafeTimedSerializer
    other_key = URLSafeTimedSerializer("not-the-key", salt="plan-link").dumps({"l": good_id, "n": "x"})
    with app.app_context(), app.test_request_context():
        wrong_nonce = service._serializer().dumps({"l": good_id, "n": "guessed"})
        other_link = service._serializer().dumps({"l": good_id + 1000, "n": "guessed"})
        not_a_dict = service._serializer().dumps([good_id])
    for bad in (flipped, "x" + good, other_key, wrong_nonce, other_link, not_a_dict, "junk", payload + ".x.y"):
        r = anon.get(f"/plan/{bad}")
        assert r.status_code == 404, bad
        assert "Länken fungerar inte" in text(r)
        assert anon.post(f"/plan/{bad}/aktivitet/{act}", form).status_code == 404
    assert activity_row(app, act)["status"] == "pagar" and activity_row(app, act)["kommun_comment"] == ""
    assert not [e for e in audit_events(app, "plan.") if e.action == "plan.kommun_report"]


def test_staff_create_list_and_revoke_links(app, sites, staff):
    a = make_plan(app, sites[0], [[("pagar", True)]])
    base = f"/handlingsplaner/plats/{sites[0]}"
    page = staff.get(base).get_data(as_text=True)
    default = (service.today() + timedelta(days=60)).isoformat()
    assert f'value="{default}"' in page  # expiry defaults to 60 days
    r = staff.post(f"{base}/lankar", {"valid_through": service.today().isoformat()})
    assert r.status_code == 400 and "minst till och med i morgon" in text(r)
    r = staff.post(f"{base}/lankar", {"valid_through": "2099-02-30"})
    assert r.status_code == 400
    chosen = service.today() + timedelta(days=10)
    assert staff.post(f"{base}/lankar", {"valid_through": chosen.isoformat()}).status_code == 302
    with app.app_context():
        link = db.session.scalar(select(PlanLink).where(PlanLink.plan_id == a["plan"]))
        assert service.last_valid_day(link) == chosen
        assert service.link_state(link) == service.ACTIVE
        with app.test_request_context():
            token = service.token_for(link)
        link_id = link.id
    # The URL is stable (signed with the link's creation time) and listed for staff.
    page = staff.get(base).get_data(as_text=True)
    assert f"/plan/{token}" in page and "aktiv" in text(staff.get(base))
    # Revoking goes through its confirmation step: the GET says what happens and changes nothing.
    step = staff.get(f"{base}/lankar/{link_id}/aterkalla")
    assert step.status_code == 200 and "slutar fungera direkt" in text(step)
    assert f"/plan/{token}" in staff.get(base).get_data(as_text=True)
    assert confirm_through_page(staff, f"{base}/lankar/{link_id}/aterkalla").status_code == 302
    page = text(staff.get(base))
    assert "återkallad" in page and f"/plan/{token}" not in staff.get(base).get_data(as_text=True)
    log = audit_events(app, "plan.link")
    assert [e.action for e in log] == ["plan.link_created", "plan.link_revoked"]
    assert log[0].details["valid_through"] == chosen.isoformat() and log[0].actor == STAFF
    assert all(token not in json.dumps(e.details) for e in log)
    # Another site's link id under this site's address: 404.
    assert staff.post(f"/handlingsplaner/plats/{sites[1]}/lankar/{link_id}/aterkalla",
                      {"confirmed": "1"}).status_code == 404


# --------------------------------------------------------------------------- follow-up

SPEC = [  # per goal: (status, decided)
    [("genomford", True), ("genomford", True), ("pagar", True), ("ej_paborjad", False)],
    [("genomford", False), ("avbruten", False), ("pagar", True)],
    [("genomford", True), ("ej_paborjad", False)],
]


def test_followup_figures_equal_an_independent_count(app, sites, staff, anon):
    ids = make_plan(app, sites[0], SPEC)
    flat = [x for goal in SPEC for x in goal]
    done = sum(s == "genomford" for s, _d in flat)
    decided = sum(d for _s, d in flat)
    decided_done = sum(s == "genomford" and d for s, d in flat)
    not_decided_done = sum(s == "genomford" and not d for s, d in flat)
    assert (len(flat), done, decided, decided_done, not_decided_done) == (9, 4, 5, 3, 1)

    with app.app_context():
        fu = service.followup(service.plan_for(sites[0]))
        t = fu.overall
        assert (t.total, t.done, t.decided, t.not_decided, t.decided_done, t.not_decided_done) == (
            len(flat), done, decided, len(flat) - decided, decided_done, not_decided_done)
        assert t.share_done == pytest.approx(done / len(flat))
        for g, spec in zip(fu.goals, SPEC):
            assert g.tally.total == len(spec)
            assert g.tally.done == sum(s == "genomford" for s, _d in spec)
            assert g.tally.decided == sum(d for _s, d in spec)
            assert g.tally.share_done == pytest.approx(sum(s == "genomford" for s, _d in spec) / len(spec))

    page = text(staff.get(f"/handlingsplaner/plats/{sites[0]}/uppfoljning"))
    assert f"{done} av {len(flat)} aktiviteter genomförda ({round(100 * done / len(flat))} %)" in page
    assert "4 av 9 aktiviteter genomförda (44 %)" in page
    assert f"{decided} av {len(flat)} aktiviteter beslutade" in page
    assert f"Bland de beslutade: {decided_done} av {decided} genomförda ({round(100 * decided_done / decided)} %)" in page
    nd = len(flat) - decided
    assert f"Bland de ej beslutade: {not_decided_done} av {nd} genomförda ({round(100 * not_decided_done / nd)} %)" in page
    for i, spec in enumerate(SPEC, start=1):
        gdone = sum(s == "genomford" for s, _d in spec)
        assert f"{gdone} av {len(spec)} aktiviteter genomförda ({round(100 * gdone / len(spec))} %)" in page, i
    assert "Det finns ingen anteckning från första besöket" in page

    # What the kommun reports shows up at the follow-up.
    _link, token = make_link(app, ids["plan"])
    act = ids["activities"][3]
    anon.post(f"/plan/{token}/aktivitet/{act}", {f"a{act}-version": str(activity_row(app, act)["version"]),
                                                  f"a{act}-status": "genomford",
                                                  f"a{act}-kommun_comment": "Klart i mars"})
    page = text(staff.get(f"/handlingsplaner/plats/{sites[0]}/uppfoljning"))
    assert "5 av 9 aktiviteter genomförda (56 %)" in page
    assert "Klart i mars" in page and "Kommunen 20" in page


def test_followup_text_is_saved_audited_and_guarded(app, sites, staff, admin):
    ids = make_plan(app, sites[0], SPEC)
    url = f"/handlingsplaner/plats/{sites[0]}/uppfoljning"
    v = plan_version(app, sites[0])
    form = {"version": v, "followup_summary": "Arbetet har kommit långt.", "most_urgent": "Rekrytering.",
            "situations-0-goal_id": str(ids["goals"][0]), "situations-0-situation": "Nästan klart.",
            "situations-1-goal_id": str(ids["goals"][1]), "situations-1-situation": "",
            "situations-2-goal_id": str(ids["goals"][2]), "situations-2-situation": "Har börjat."}
    assert staff.post(url, form).status_code == 302
    with app.app_context():
        plan = service.plan_for(sites[0])
        assert (plan.followup_summary, plan.most_urgent) == ("Arbetet har kommit långt.", "Rekrytering.")
        assert [g.situation for g in plan.goals] == ["Nästan klart.", "", "Har börjat."]
    log = audit_events(app, "plan.followup")
    assert len(log) == 1 and log[0].details == {"site_id": sites[0], "fields": ["followup_summary", "most_urgent"],
                                                "goals_situation": [ids["goals"][0], ids["goals"][2]]}
    r = admin.post(url, {**form, "most_urgent": "Något annat"})
    assert r.status_code == 409 and "Något annat" in text(r) and "Rekrytering." in text(r)
    with app.app_context():
        assert service.plan_for(sites[0]).most_urgent == "Rekrytering."
    page = text(staff.get(url))
    assert "Nästan klart." in page and "Läget för mål 1: Mål nummer 1" in page


def test_followup_shows_the_round_one_note_beside_the_plan(app, sites, staff):
    from coordinator.dialogue.models import Note, Passage
    from coordinator.scheduling import service as visits
    from coordinator.scheduling.models import Visit

    make_plan(app, sites[0], [[("pagar", True)]])
    with app.app_context():
        visits.ensure_visits()
        v1 = db.session.scalar(select(Visit).where(Visit.site_id == sites[0], Visit.round == 1))
        v2 = db.session.scalar(select(Visit).where(Visit.site_id == sites[0], Visit.round == 2))
        note = Note(visit_id=v1.id)
        note.passages = [Passage(section="fraga-2", position=1, text="Ledningen beskrev en ansträngd bemanning.",
                                 hinder=True),
                         Passage(section="ovrigt", position=1, text="Lokalerna var nya."),
                         Passage(section="fraga-1", position=1, text="Nämnden följer upp varje månad.",
                                 gott_exempel=True)]
        db.session.add(note)
        # A note of round 2 is not the one shown.
        db.session.add(Note(visit_id=v2.id, passages=[Passage(section="fraga-1", position=1, text="Anteckning från omgång två")]))
        db.session.commit()
    r = staff.get(f"/handlingsplaner/plats/{sites[0]}/uppfoljning")
    page = text(r)
    assert "Anteckningen från första besöket" in page
    first, second, other = (page.index("Nämnden följer upp"), page.index("ansträngd bemanning"),
                            page.index("Lokalerna var nya"))
    assert first < second < other  # in the note's order: questions 1, 2, then other observations
    assert "Fråga 1:" in page and "Övriga iakttagelser" in page and "gott exempel" in page and "hinder" in page
    assert "Anteckning från omgång två" not in page
    # Read-only: no form field carries the note's text.
    assert "<textarea" not in r.get_data(as_text=True).split("Anteckningen från första besöket")[1]
    # A site without a note says so.
    make_plan(app, sites[1], [[("pagar", True)]])
    assert "Det finns ingen anteckning från första besöket" in text(
        staff.get(f"/handlingsplaner/plats/{sites[1]}/uppfoljning"))


def test_followup_without_a_plan_is_404_and_the_editor_explains(app, sites, staff):
    assert staff.get(f"/handlingsplaner/plats/{sites[0]}/uppfoljning").status_code == 404
    assert staff.get(f"/handlingsplaner/plats/{sites[0]}/plan.pdf").status_code == 404
    assert "har ingen handlingsplan än" in text(staff.get(f"/handlingsplaner/plats/{sites[0]}"))


# --------------------------------------------------------------------------- in a real browser

@pytest.mark.browser
def test_browser_note_with_tags_then_plan_kommun_link_report_and_follow_up(page, browser, live_server, app,
                                                                            sites):
    from playwright.sync_api import expect

    from .conftest import SHOTS, assert_accessible, browser_login

    def shot(p, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        p.screenshot(path=SHOTS / f"plans-{name}.png", full_page=True)

    from coordinator.scheduling.models import Visit
    from coordinator.scheduling.service import ensure_visits

    with app.app_context():
        label = db.session.get(Site, sites[0]).label
        ensure_visits()
        db.session.commit()
        first_visit = db.session.scalar(select(Visit).where(Visit.site_id == sites[0], Visit.round == 1)).id
    browser_login(page, "staff")

    # The note from the first visit, written in the editor with a theme and a flag.
    page.goto(f"/dialog/besok/{first_visit}")
    passage = page.locator("#avsnitt-fraga-1 fieldset.passage-new").first
    passage.locator("textarea").fill("Kommunen saknar familjehem för tonåringar.")
    passage.locator("summary", has_text="Teman").click()
    passage.get_by_label("Brist på familjehem").check()
    passage.get_by_label("Hinder").check()
    page.get_by_role("button", name="Spara anteckningen").click()
    expect(page.get_by_role("status").first).to_be_visible()
    expect(page.locator("#avsnitt-fraga-1 textarea").first).to_have_value("Kommunen saknar familjehem för tonåringar.")
    expect(page.locator("#avsnitt-fraga-1 .chosen-themes").first).to_contain_text("Brist på familjehem")
    assert_accessible(page, "note editor")
    shot(page, "note")

    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Handlingsplaner").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Handlingsplaner")
    assert_accessible(page, "index")
    page.get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Handlingsplan för {label}")

    # Draft: challenges, a goal with a goal area, an activity.
    page.get_by_label("Beskrivning av utmaningarna").fill("Många vakanser bland socialsekreterarna.")
    page.get_by_role("button", name="Spara utmaningarna").click()
    expect(page.get_by_role("status").first).to_contain_text("Utmaningarna är sparade")
    page.get_by_role("textbox", name="Utvecklingsmål").fill("Stabil bemanning")
    page.get_by_label("Målområde").select_option(index=1)
    page.get_by_role("button", name="Lägg till målet").click()
    page.get_by_role("link", name="Lägg till en aktivitet under mål 1").click()
    page.get_by_role("textbox", name="Aktivitet").fill("Mentorprogram för nyanställda")
    page.get_by_label("Ansvarig").fill("IFO-chefen")
    page.get_by_label("Aktiviteten är beslutad").check()
    page.get_by_label("Status").select_option("pagar")
    assert_accessible(page, "new activity")
    page.get_by_role("button", name="Lägg till aktiviteten").click()
    row = page.locator("table.activities tbody tr").first
    expect(row).to_contain_text("Mentorprogram för nyanställda")
    expect(row).to_contain_text("Pågår")

    # A link for the kommun.
    page.get_by_role("button", name="Skapa länk").click()
    url = page.locator("input.link-url").first.input_value()
    assert "/plan/" in url
    assert_accessible(page, "editor")
    shot(page, "editor")

    # The kommun, without logging in, reports on its activity.
    kommun = browser.new_context(base_url=live_server, locale="sv-SE", viewport={"width": 1280, "height": 900})
    kpage = kommun.new_page()
    response = kpage.goto(url)
    assert response.status == 200 and response.headers["referrer-policy"] == "no-referrer"
    expect(kpage.get_by_role("heading", level=1)).to_have_text(f"Handlingsplan för {label}")
    assert_accessible(kpage, "kommun page")
    kpage.get_by_label("Status").select_option("genomford")
    kpage.get_by_label("Kommunens kommentar").fill("Alla nyanställda har en mentor sedan januari.")
    kpage.get_by_role("button", name="Spara aktivitet 1.1").click()
    expect(kpage.get_by_role("status").first).to_contain_text("Tack!")
    shot(kpage, "kommun")
    kommun.close()

    # The office sees it at the follow-up, beside the (missing) round-1 note.
    page.get_by_role("link", name="Uppföljning vid andra besöket").click()
    expect(page.locator("ul.figures")).to_contain_text("1 av 1 aktiviteter genomförda (100 %)")
    expect(page.locator(".followup-main")).to_contain_text("Alla nyanställda har en mentor sedan januari.")
    # Side by side with what was said at the first visit.
    expect(page.locator(".followup-note")).to_contain_text("Kommunen saknar familjehem för tonåringar.")
    page.get_by_label("Läget för mål 1: Stabil bemanning").fill("Bemanningen är stabil.")
    page.get_by_label("Det mest angelägna härnäst").fill("Handläggningstiderna.")
    page.get_by_role("button", name="Spara uppföljningen").click()
    expect(page.get_by_role("status").first).to_contain_text("Uppföljningen är sparad")
    assert_accessible(page, "follow-up")
    shot(page, "followup")
