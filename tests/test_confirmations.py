"""Safe actions: every action that cannot be undone has a confirmation step that says what will
happen, changes nothing by being shown, and does exactly that when its button is pressed.

One assignment (`world`) holds something for each step: a draft sample, an adopted one with a
decline, an invited visit, an action plan with a kommun link, a questionnaire sent to a site, a
calendar feed, a dialogue forum with an invited person, a note draft, the assignment's phases and
blackouts. The browser walk of the same steps is tests/test_browser_confirmations.py.
"""
from __future__ import annotations

import html as htmllib
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from coordinator import links
from coordinator.auth.models import User
from coordinator.contacts.models import Attendee, Contact
from coordinator.dialogue.models import NoteDraft
from coordinator.events.models import Event
from coordinator.extensions import db
from coordinator.invites import service as invites
from coordinator.invites.models import FeedToken
from coordinator.measurement.models import MeasurementRequest, Question
from coordinator.plans.models import PlanActivity, PlanGoal, PlanLink
from coordinator.reports.models import IssuedReport
from coordinator.sampling.models import Decline, Sample, Site
from coordinator.scheduling import declines, service
from coordinator.scheduling.models import INSTALLD, Blackout, Phase, Visit

from .conftest import REFERENCE_TABLES, USERS
from .helpers import adopt_sample, cli_json, confirm_through_page, form_fields
from .test_events import add_person, create_event
from .test_measurement import make_questionnaire, make_request
from .test_notes import open_note
from .test_plans import make_link, make_plan

TODAY = "2015-02-01"
PERIOD = "2015Q1"


def in_days(n: int) -> str:
    """A last day for a kommun link (links run on the real calendar, not the office's fixed today)."""
    return (links.today() + timedelta(days=n)).isoformat()


def text(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", htmllib.unescape(page).replace("\u00a0", " "))


def db_state(app) -> dict[str, list[str]]:
    """Every row of every table the app writes (the shipped reference data left out)."""
    with app.app_context():
        return {t.name: sorted(repr(tuple(row)) for row in db.session.execute(select(t)).all())
                for t in db.metadata.sorted_tables if t.name not in REFERENCE_TABLES}


def a_declinable_site(sample: Sample) -> Site:
    per_lan: dict[str, int] = {}
    for s in sample.active_sites:
        per_lan[s.kommun.lanskod] = per_lan.get(s.kommun.lanskod, 0) + 1
    return next(s for s in sample.active_sites if s.grupp == 1 and not s.enhet and per_lan[s.kommun.lanskod] > 1)


def build_world(app, client) -> dict:
    """Something for every confirmation step, made through the services and pages; ids and urls."""
    w: dict = {}
    w["draft"] = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "8", "--save")["id"]
    w["sample"] = adopt_sample(app)
    with app.app_context():
        sample = db.session.get(Sample, w["sample"])
        service.ensure_visits()
        sites = [s for s in sample.active_sites if not s.enhet]
        declining = a_declinable_site(sample)
        others = [s for s in sites if s.id != declining.id and s.kommun.lanskod != declining.kommun.lanskod]
        visited, planned, asked, fed = others[0], others[1], others[2], others[3]
        # An invited visit: its cancellation mails two people.
        for i in range(2):
            db.session.add(Contact(site=visited, role="socialchef", name=f"Kontakt {i}",
                                   email=f"k{i}.{visited.kommunkod}@kommun.example.se"))
        db.session.add(Contact(site=asked, role="socialchef", name="Svarar", email="svar@kommun.example.se"))
        db.session.flush()
        visit = db.session.scalar(select(Visit).where(Visit.site_id == visited.id, Visit.round == 1))
        visit.date = date(2015, 3, 10)
        service.invite(visit)
        feed = invites.create_feed(fed)
        d = declines.register(sample, declining, date(2015, 1, 20), "Registrerad av misstag")
        db.session.commit()
        w.update(visit=visit.id, declining=declining.id, decline=d.id, replacement=d.replacement_site_id,
                 plan_site=planned.id, asked=asked.id, feed=feed.id,
                 phase=db.session.scalar(select(Phase.id).order_by(Phase.number.desc())),
                 blackout=db.session.scalar(select(Blackout.id).order_by(Blackout.id)),
                 round1_visit=db.session.scalar(select(Visit.id).where(Visit.site_id == planned.id,
                                                                       Visit.round == 1)))
    plan = make_plan(app, w["plan_site"], [[("pagar", True), ("ej_paborjad", False)]])
    w["goal"], w["activity"] = plan["goals"][0], plan["activities"][0]
    w["link"], w["link_token"] = make_link(app, plan["plan"])
    questionnaire = make_questionnaire(app)
    w["questionnaire"], w["question"] = questionnaire["id"], questionnaire["q"][1]
    w["request"], w["request_token"] = make_request(app, w["asked"], questionnaire["id"])
    w["event"] = create_event(client)
    assert add_person(app, client, w["event"], "Per Ek", "per.ek@ivo.example.se").status_code == 302
    with app.app_context():
        w["attendee"] = db.session.scalar(select(Attendee.id).where(Attendee.event_id == w["event"]))
    note = open_note(client, w["round1_visit"]).set("fraga-1.0.text", "Osparad mening.")
    assert client.post(f"/dialog/besok/{w['round1_visit']}/utkast", data=note.data()).status_code == 204
    w["adopt_refused"] = f"/urval/{w['draft']}/anta"  # another sample is adopted
    w["urls"] = {
        "delete_draft": f"/urval/{w['draft']}/ta-bort",
        "undo_decline": f"/urval/{w['sample']}/avboj/{w['decline']}/angra",
        "cancel_visit": f"/besok/{w['visit']}/stall-in",
        "plan_link": f"/handlingsplaner/plats/{w['plan_site']}/lankar/{w['link']}/aterkalla",
        "activity": f"/handlingsplaner/plats/{w['plan_site']}/aktivitet/{w['activity']}/ta-bort",
        "goal": f"/handlingsplaner/plats/{w['plan_site']}/mal/{w['goal']}/ta-bort",
        "measurement_link": f"/matningar/omgang/1/plats/{w['asked']}/aterkalla",
        "question": f"/matningar/enkater/{w['questionnaire']}/fragor/{w['question']}/ta-bort",
        "feed": f"/kalenderflöden/{w['feed']}/aterkalla",
        "event": f"/dialogforum/{w['event']}/installt",
        "attendee": f"/dialogforum/{w['event']}/personer/{w['attendee']}/ta-bort",
        "note_draft": f"/dialog/besok/{w['round1_visit']}/utkast/kasta",
        "phase": f"/besok/uppdrag/faser/{w['phase']}/ta-bort",
        "blackout": f"/besok/uppdrag/uppehall/{w['blackout']}/ta-bort",
        "groups": "/register/installningar/aterstall",
    }
    return w


@pytest.fixture
def world(app, admin):
    saved = app.config.get("COORDINATOR_TODAY")
    app.config["COORDINATOR_TODAY"] = TODAY
    yield build_world(app, admin)
    app.config["COORDINATOR_TODAY"] = saved


# Steps whose first part is a form: the form's POST shows the step (nothing saved).
def form_steps(w: dict) -> dict[str, tuple[str, dict]]:
    return {
        "decline": (f"/urval/{w['sample']}/avboj", {"site_id": str(w["visit_site"]), "declined_on": "2015-01-25",
                                                      "reason": "Omorganisation"}),
        "issue": (f"/rapporter/{PERIOD}/utfarda", {"version": "1", "comment": "Första versionen."}),
        "new_link": (f"/matningar/omgang/1/plats/{w['asked']}/ny-lank", {"last_day": in_days(20)}),
    }


def test_every_confirmation_step_says_what_happens_and_changes_nothing(app, world, admin):
    with app.app_context():
        world["visit_site"] = db.session.get(Visit, world["visit"]).site_id
    before = db_state(app)
    pages = {name: admin.get(url) for name, url in world["urls"].items()}
    pages.update({name: admin.post(url, data) for name, (url, data) in form_steps(world).items()})
    # A POST without the step's `confirmed` (an old page, a script) shows the step too.
    pages.update({f"{name} (POST)": admin.post(url, {}) for name, url in world["urls"].items()})
    for name, response in pages.items():
        assert response.status_code == 200, (name, text(response)[:600])
        said = text(response)
        html = response.get_data(as_text=True)
        assert len(re.findall(r"<h1[ >]", html)) == 1 and re.search(r"<h1>[^<]+\?</h1>", html), name
        assert "Det här händer" in said and "Kan inte ångras:" in said, name
        assert 'name="confirmed" value="1"' in html and ">Avbryt</a>" in html, name
        assert "METHOD:" not in said.split("Tekniska detaljer")[0], name  # protocol words only in the disclosure
    assert db_state(app) == before


def test_the_steps_say_the_names_and_counts_of_what_will_happen(app, world, admin):
    with app.app_context():
        visit = db.session.get(Visit, world["visit"])
        site_label, replacement = visit.site.label, db.session.get(Site, world["replacement"]).label
        world["visit_site"] = visit.site_id
        declining = db.session.get(Site, world["declining"]).label
    decline = text(admin.post(*form_steps(world)["decline"]))
    assert f"Registrera att {site_label} avböjer?" in decline and "Reserven " in decline
    assert "Ett återkallande av inbjudan skickas till 2 personer." in decline
    assert "Ingenting är sparat än." in decline
    undo = text(admin.get(world["urls"]["undo_decline"]))
    assert f"{declining} kommer tillbaka i urvalet" in undo and f"{replacement} tas ur urvalet igen" in undo
    assert f"{replacement}:s 2 föreslagna besök tas bort" in undo
    revoke = text(admin.get(world["urls"]["plan_link"]))
    assert "Adressen som kommunen har fått slutar fungera direkt, också om den är sparad" in revoke
    goal = text(admin.get(world["urls"]["goal"]))
    assert "Dess 2 aktiviteter tas bort med det" in goal
    cancel = text(admin.get(world["urls"]["cancel_visit"]))
    assert "Ett återkallande av inbjudan skickas till de 2 inbjudna (Kontakt 0, Kontakt 1)" in cancel
    issue = text(admin.post(*form_steps(world)["issue"]))
    assert "Version 1 av Kvartalsrapport" in issue and "Departementet kan läsa" in issue
    assert "Texterna ”Iakttagelser”, ”Analys”, ”Förslag till åtgärder” är tomma" in issue


def test_each_confirmation_button_does_what_its_page_said(app, world, admin, anon):
    urls = world["urls"]
    with app.app_context():
        world["visit_site"] = db.session.get(Visit, world["visit"]).site_id
    for name in urls:
        response = confirm_through_page(admin, urls[name])
        assert response.status_code == 302, (name, text(response)[:800])
    with app.app_context():
        assert db.session.get(Sample, world["draft"]) is None
        assert db.session.get(Decline, world["decline"]).undone_at is not None
        assert db.session.get(Site, world["declining"]).active and not db.session.get(Site, world["replacement"]).active
        assert db.session.get(Visit, world["visit"]).status == INSTALLD
        assert db.session.get(PlanLink, world["link"]).revoked_at is not None
        assert db.session.get(PlanGoal, world["goal"]) is None and db.session.get(PlanActivity, world["activity"]) is None
        assert db.session.get(MeasurementRequest, world["request"]).revoked_at is not None
        assert db.session.get(Question, world["question"]) is None
        assert db.session.get(FeedToken, world["feed"]).revoked_at is not None
        assert db.session.get(Event, world["event"]).status == "installt"
        assert db.session.get(Attendee, world["attendee"]) is None
        assert db.session.scalar(select(func.count()).select_from(NoteDraft)) == 0
        assert db.session.get(Phase, world["phase"]) is None and db.session.get(Blackout, world["blackout"]) is None
    assert anon.get(f"/plan/{world['link_token']}").status_code == 403
    # The steps whose first part is a form: the step's own form does it.
    for name, (url, data) in form_steps(world).items():
        if name == "new_link":
            continue  # the link was revoked above; a new one needs no step then (see below)
        step = admin.post(url, data)
        response = admin.post(url, form_fields(step.get_data(as_text=True), url))
        assert response.status_code == 302, (name, text(response)[:800])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Decline).where(Decline.undone_at.is_(None))) == 1
        assert db.session.scalar(select(func.count()).select_from(IssuedReport)) == 1


def test_a_new_questionnaire_link_while_the_old_works_is_confirmed_and_a_revoked_one_needs_no_step(
        app, world, admin, anon):
    url = f"/matningar/omgang/1/plats/{world['asked']}/ny-lank"
    step = admin.post(url, {"last_day": in_days(20)})
    assert "Adressen som" in text(step) and "slutar fungera direkt" in text(step)
    assert anon.get(f"/matning/{world['request_token']}").status_code == 200  # still open
    assert admin.post(url, form_fields(step.get_data(as_text=True), url)).status_code == 302
    assert anon.get(f"/matning/{world['request_token']}").status_code == 404
    # Once revoked, a new link opens nothing that worked: it is made at once.
    assert confirm_through_page(admin, f"/matningar/omgang/1/plats/{world['asked']}/aterkalla").status_code == 302
    assert admin.post(url, {"last_day": in_days(25)}).status_code == 302


def test_a_refused_step_says_why_and_has_no_button(app, world, admin):
    """Undo once the replacement is invited; adopt a second sample while one is adopted."""
    with app.app_context():
        replacement = db.session.get(Site, world["replacement"])
        db.session.add(Contact(site=replacement, role="socialchef", name="Ny", email="ny@kommun.example.se"))
        db.session.flush()
        visit = db.session.scalar(select(Visit).where(Visit.site_id == replacement.id, Visit.round == 1))
        visit.date = date(2015, 4, 14)
        service.invite(visit)
        db.session.commit()
        label = replacement.label
    sample_page = text(admin.get(f"/urval/{world['sample']}"))
    assert f"{label} är redan inbjuden" in sample_page and "Ångra avböjandet" not in sample_page
    before = db_state(app)
    for url in (world["urls"]["undo_decline"], world["adopt_refused"]):
        page = admin.get(url)
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "Det går inte att göra nu" in text(page)
        assert 'name="confirmed"' not in html and ">Tillbaka</a>" in html
    refusal = text(admin.get(world["urls"]["undo_decline"]))
    assert f"{label} är redan inbjuden (besöket i omgång 1)." in refusal
    assert "Ett avböjande kan ångras så länge ersättaren inte har bjudits in" in refusal
    assert "Ett annat urval" in text(admin.get(world["adopt_refused"]))
    # Pressing a button that is not there (a forged POST) is refused in words too.
    forged = admin.post(world["urls"]["undo_decline"], {"confirmed": "1"})
    assert forged.status_code == 409 and "redan inbjuden" in text(forged)
    assert admin.post(world["adopt_refused"], {"confirmed": "1", "version": "1"}).status_code == 409
    assert db_state(app) == before


def test_the_sample_page_offers_the_undo_where_the_declines_are_listed(app, world, admin, reader):
    page = admin.get(f"/urval/{world['sample']}").get_data(as_text=True)
    assert f'href="{world["urls"]["undo_decline"]}"' in page
    assert confirm_through_page(admin, world["urls"]["undo_decline"]).status_code == 302
    page = text(admin.get(f"/urval/{world['sample']}"))
    assert "ångrat" in page and "Ångrat " in page and "ersättare, ångrad" in page
    # The ministry's protocol shows the same history, without the undo.
    protocol = reader.get("/urval/protokoll").get_data(as_text=True)
    assert "ångrat" in protocol and "/angra" not in protocol
    assert reader.get(world["urls"]["undo_decline"]).status_code == 403


def test_adopting_a_sample_is_confirmed_with_its_size_and_what_cannot_change_after(app, staff):
    draft = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "8", "--save")["id"]
    before = db_state(app)
    step = staff.get(f"/urval/{draft}/anta")
    said = text(step)
    assert "Anta urvalet ”Dragning år 2014, frö 8”?" in said
    assert "Urvalet med 50 besöksplatser blir det antagna" in said
    assert "Det antagna urvalet kan inte ändras, tas bort eller bytas mot ett annat efteråt" in said
    assert "Avböjanden registreras på det antagna urvalet" in said
    assert db_state(app) == before
    assert confirm_through_page(staff, f"/urval/{draft}/anta").status_code == 302
    with app.app_context():
        assert db.session.get(Sample, draft).adopted


# --------------------------------------------------------------------------- least privilege, required fields

def test_a_new_account_starts_as_a_reader_and_its_required_fields_are_marked(app, admin):
    page = admin.get("/anvandare/ny").get_data(as_text=True)
    assert re.search(r'<option selected value="reader">|<option value="reader" selected', page)
    for label in ("Namn", "E-postadress", "Nytt lösenord"):
        assert re.search(rf'<label for="\w+">{label} <span class="req">\(obligatoriskt\)</span></label>', page), label
    assert not re.search(r'Roll <span class="req">', page)  # a select with a default is not marked
    # Editing an account: the password may stay empty, so it is not marked there.
    with app.app_context():
        staff_id = db.session.scalar(select(User.id).where(User.email == USERS["staff"]))
    edit = admin.get(f"/anvandare/{staff_id}").get_data(as_text=True)
    assert not re.search(r'Nytt lösenord <span class="req">', edit)
    # Saved without touching the role: a reader.
    fields = form_fields(page, "")  # the form posts to its own address
    response = admin.post("/anvandare/ny", {**fields, "name": "Ny Läsare", "email": "ny@test.se",
                                            "password": "ett-langt-losenord", "role": "reader", "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.email == "ny@test.se")) == "reader"


def test_the_command_line_creates_a_reader_unless_told_otherwise(app):
    result = app.test_cli_runner().invoke(args=["user", "create", "--email", "cli@test.se", "--name", "Cli",
                                                "--password", "ett-langt-losenord"])
    assert result.exit_code == 0, result.output
    assert "(reader)" in result.output
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.email == "cli@test.se")) == "reader"


def test_english_confirmation_pages(app, world, admin):
    admin.get("/sprak/en")
    page = text(admin.get(world["urls"]["plan_link"]))
    assert "What happens" in page and "Cannot be undone:" in page and "Cancel" in page
    assert "stops working at once" in page


def test_the_sample_page_asks_the_same_number_of_queries_however_many_declines(app, staff):
    """The undo offered per decline is worked out for all declines at once (and the frame's kommuner
    are read together, not one by one)."""
    from sqlalchemy import event

    sample_id = adopt_sample(app)
    with app.app_context():
        service.ensure_visits()
        db.session.commit()

    def queries() -> int:
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda conn, cursor, statement, *a, **kw: seen.append(statement)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert staff.get(f"/urval/{sample_id}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return seen

    def decline_one(n: int) -> None:
        with app.app_context():
            sample = db.session.get(Sample, sample_id)
            declined = {d.site_id for d in db.session.scalars(select(Decline))}
            site = next(s for s in sample.active_sites if s.grupp == 2 and not s.enhet and s.id not in declined
                        and declines.preview(sample, s).replacement is not None)
            declines.register(sample, site, date(2015, 1, n), f"Skäl {n}")
            db.session.commit()

    decline_one(1)
    queries()  # the first request warms what is cached per process
    one = queries()
    decline_one(2)
    decline_one(3)
    assert len(queries()) == len(one)
