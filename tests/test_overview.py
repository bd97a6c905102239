"""The office's day: the start page's items against the data, the app's own tasks, the weekly digest,
`coordinator digest` and `coordinator site show`, and the number of SQL statements of the start page
and the site page at two data sizes.

Every test runs on SQLite and PostgreSQL. "Today" is fixed with COORDINATOR_TODAY; the data is
arranged through the services where they exist and directly where only a state is needed.
"""
from __future__ import annotations

import email
import re
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from email import policy

import pytest
from sqlalchemy import event, select

from coordinator.auth.models import User
from coordinator.contacts.models import Attendee, Contact
from coordinator.dialogue import notes
from coordinator.dialogue.models import DialogueQuestion
from coordinator.extensions import db
from coordinator.outbox.models import FAILED, OutboxMessage
from coordinator.plans import service as plans
from coordinator.reports.models import Avstamning
from coordinator.sampling.models import Sample, Site
from coordinator.scheduling import service as visits
from coordinator.scheduling.models import BEKRAFTAD, FORSLAG, GENOMFORD, INBJUDEN, Visit
from coordinator.tasks import service as tasks
from coordinator.tasks.models import ANTECKNING, AVSTAMNING, UPPFOLJNING, Task

from .conftest import USERS
from .helpers import adopt_sample, cli_json
from .test_invites import smtp  # noqa: F401  (fixture: aiosmtpd on loopback)

TODAY = date(2016, 10, 31)   # a Monday


@pytest.fixture
def today(app):
    app.config["COORDINATOR_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config.pop("COORDINATOR_TODAY", None)


@pytest.fixture
def sample(app, today):
    """An adopted sample with its 100 visits (förslag, no date)."""
    sample_id = adopt_sample(app)
    with app.app_context():
        visits.ensure_visits()
        db.session.commit()
    return sample_id


def sites_of(sample_id: int) -> list[Site]:
    return db.session.get(Sample, sample_id).active_sites


def visit_of(site: Site, round_: int) -> Visit:
    return db.session.scalar(select(Visit).where(Visit.site_id == site.id, Visit.round == round_))


def hold(visit: Visit, day: date) -> Visit:
    visit.date, visit.status = day, GENOMFORD
    return visit


def book(visit: Visit, day: date, status: str = BEKRAFTAD, people: dict[str, int] | None = None) -> Visit:
    """A booked visit with a programme item, a contact per attendee and their answers {PARTSTAT: n}."""
    visit.date, visit.status = day, status
    visit.sent_sequence = 0
    for partstat, n in (people or {"ACCEPTED": 1}).items():
        for _ in range(n):
            c = Contact(site_id=visit.site_id, role="socialchef", name="Demo Person",
                        email=f"p{uuid.uuid4().hex[:8]}@example.se")
            db.session.add(c)
            visit.attendees.append(Attendee(contact=c, name=c.name, email=c.email, partstat=partstat))
    return visit


def write_note(visit: Visit, questions: list[int] | None = None) -> None:
    """A note with a passage under each of `questions` (every active question if None)."""
    nrs = questions if questions is not None else list(db.session.scalars(
        select(DialogueQuestion.nr).where(DialogueQuestion.active)))
    note = notes.get_or_create_note(visit)
    content = {"sections": {f"fraga-{nr}": [{**notes.empty_passage(), "text": f"Svar på fråga {nr}."}]
                            for nr in nrs}}
    notes.apply(note, content, None, note.version)


def page(client, url: str = "/") -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def section(html: str, heading_id: str) -> str:
    """The text of the start page's section whose heading has this id."""
    match = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(0))).replace(" ,", ",")


@contextmanager
def statements(app):
    """Counts the SQL statements sent while the block runs."""
    count = [0]

    def counter(*args, **kwargs):
        count[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", counter)


# --------------------------------------------------------------------------- the items

def test_a_note_missing_after_a_held_visit_appears_with_its_due_day_and_goes_once_written(app, sample, staff):
    with app.app_context():
        site = sites_of(sample)[0]
        site_id, label = site.id, site.label
        hold(visit_of(site, 1), date(2016, 10, 24))  # Monday: 5 working days later is Monday 31st
        db.session.commit()
    html = page(staff)
    text = section(html, "anteckningar")
    assert f"{label}, omgång 1" in text and "inte skriven" in text and "klar senast 2016-10-31" in text

    # Half written: the questions without text are counted.
    with app.app_context():
        write_note(visit_of(db.session.get(Site, site_id), 1), questions=[1, 2, 3])
        db.session.commit()
    text = section(page(staff), "anteckningar")
    assert f"{label}, omgång 1" in text and "4 frågor saknar text" in text

    # Every question answered: gone, and the app's own task for it is closed by the app.
    with app.app_context():
        write_note(visit_of(db.session.get(Site, site_id), 1))
        db.session.commit()
    text = section(page(staff), "anteckningar")
    assert label not in text and "Alla genomförda besök har en fullständig anteckning." in text
    with app.app_context():
        task = db.session.scalar(select(Task).where(Task.kind == ANTECKNING))
        assert task is not None and task.done and task.done_by_id is None


def test_a_note_with_text_only_outside_the_questions_is_incomplete_and_every_question_is_missing(app, sample):
    """notes_missing counts each note's answered questions in SQL and reads the sections of the incomplete
    notes only: no note, text under "Övriga iakttagelser" only, half written and complete each come out right."""
    from coordinator.tasks.auto import notes_missing

    with app.app_context():
        sites = sites_of(sample)[:4]
        held = [hold(visit_of(site, 1), date(2016, 10, 24)) for site in sites]
        db.session.flush()
        other = notes.get_or_create_note(held[1])
        notes.apply(other, {"sections": {"ovrigt": [{**notes.empty_passage(), "text": "Bara övrigt."}]}}, None,
                    other.version)
        write_note(held[2], questions=[1, 2, 3])
        write_note(held[3])
        db.session.commit()
        nrs = list(db.session.scalars(select(DialogueQuestion.nr).where(DialogueQuestion.active)
                                      .order_by(DialogueQuestion.nr)))
        items = {n.visit.id: (n.state, n.missing_questions) for n in notes_missing(held, TODAY, 5)}
        assert items == {held[0].id: ("saknas", nrs), held[1].id: ("ofullstandig", nrs),
                         held[2].id: ("ofullstandig", [nr for nr in nrs if nr not in (1, 2, 3)])}


def test_a_note_past_its_due_day_is_marked_late_counting_working_days_only(app, sample, staff):
    with app.app_context():
        site = sites_of(sample)[1]
        # Thursday 20 October: five working days later is Thursday 27 October, before today.
        hold(visit_of(site, 1), date(2016, 10, 20))
        db.session.commit()
    text = section(page(staff), "anteckningar")
    assert "skulle vara klar 2016-10-27" in text
    # Midsummer eve and the weekend do not count: held Wednesday 22 June 2016 -> due Thursday 30 June.
    assert tasks.note_due(date(2016, 6, 22), 5, __import__(
        "coordinator.scheduling.workdays", fromlist=["x"]).is_working_day) == date(2016, 6, 30)


def test_the_next_14_days_list_each_visit_with_what_is_still_missing(app, sample, staff):
    with app.app_context():
        a, b, c = sites_of(sample)[:3]
        labels = a.label, b.label, c.label
        va = visit_of(a, 2)
        va.date = date(2016, 11, 3)                         # a proposal: no invitation, no contacts
        va.parts.clear()
        book(visit_of(b, 2), date(2016, 11, 7), INBJUDEN, {"NEEDS-ACTION": 2, "ACCEPTED": 1})
        visit_of(c, 2).date = date(2016, 11, 30)            # outside the 14 days
        kod_a = a.kommunkod
        db.session.commit()
    text = section(page(staff), "besok-snart")
    assert f"2016-11-03 – {labels[0]}, omgång 2" in text
    assert re.search(rf"{re.escape(labels[0])}, omgång 2 förslag Saknas: program, kontakter att bjuda in, inbjudan", text)
    assert re.search(rf"{re.escape(labels[1])}, omgång 2 inbjuden Saknas: svar från 2 inbjudna", text)
    assert labels[2] not in text
    data = cli_json(app, "digest", "--as-of", TODAY.isoformat())
    items = {i["kommunkod"]: i for i in data["visits_next_14_days"]}
    assert items[kod_a]["missing"] == ["program", "kontakter", "inbjudan"]
    assert {"visit_id", "kommunkod", "date", "round"} <= set(items[kod_a])


def test_invitations_unanswered_after_the_setting_and_declines_appear(app, sample, staff):
    with app.app_context():
        a, b = sites_of(sample)[:2]
        labels = a.label, b.label
        va = book(visit_of(a, 2), date(2016, 11, 21), INBJUDEN, {"NEEDS-ACTION": 3, "ACCEPTED": 2})
        vb = book(visit_of(b, 2), date(2016, 11, 22), BEKRAFTAD, {"DECLINED": 1, "ACCEPTED": 4})
        db.session.flush()
        sent = datetime(2016, 10, 10, 9, tzinfo=timezone.utc)
        for v in (va, vb):
            db.session.add(OutboxMessage(visit_id=v.id, kind="request", sequence=0, recipients="x@example.se",
                                         subject="Inbjudan", message="...", status="sent", created_at=sent,
                                         sent_at=sent, next_attempt_at=sent))
        db.session.commit()
    text = section(page(staff), "svar")
    assert f"{labels[0]}, omgång 2" in text and "3 av 5 har inte svarat; inbjudan gick ut 2016-10-10" in text
    assert f"{labels[1]}, omgång 2" in text and "1 av 5 har tackat nej" in text
    # With a longer patience in the settings, the invitation is not yet late.
    with app.app_context():
        from coordinator.scheduling.defaults import assignment
        assignment().unanswered_after_days = 30
        db.session.commit()
    text = section(page(staff), "svar")
    assert "har inte svarat" not in text and "1 av 5 har tackat nej" in text


def test_a_failed_mail_appears_in_words_with_a_link_to_retry(app, sample, staff):
    with app.app_context():
        db.session.add(OutboxMessage(kind="request", recipients="x@example.se", subject="Inbjudan", message="...",
                                     status=FAILED, attempts=8, last_error="ConnectionRefusedError: [Errno 111]"))
        db.session.commit()
    html = page(staff)
    text = section(html, "epost")
    assert "1 utskick kunde inte skickas." in text and "Se vad som hände och skicka igen" in text
    assert "Errno" not in html and "ConnectionRefusedError" not in html
    assert cli_json(app, "digest")["mail_failed"] == 1


def test_an_overdue_activity_appears_per_site_and_not_when_done(app, sample, staff):
    with app.app_context():
        site = sites_of(sample)[0]
        label = site.label
        plan = plans.ensure_plan(site, 0)
        goal = plans.add_goal(site, plan.version, {"title": "Stabil bemanning"})
        late = plans.add_activity(goal, {"description": "Rekrytera", "due_date": date(2016, 9, 1), "decided": True})
        plans.add_activity(goal, {"description": "Introduktion", "due_date": date(2016, 12, 1)})
        db.session.commit()
        late_id = late.id
    text = section(page(staff), "aktiviteter")
    assert f"{label}: 1 aktivitet, den äldsta skulle vara klar 2016-09-01" in text
    with app.app_context():
        from coordinator.plans.models import PlanActivity
        activity = db.session.get(PlanActivity, late_id)
        plans.update_activity(activity, activity.version, {"status": "genomford"})
        db.session.commit()
    text = section(page(staff), "aktiviteter")
    assert label not in text and "Inga aktiviteter har passerat sitt datum." in text


def test_an_avstamning_action_appears_until_it_is_done(app, sample, staff):
    with app.app_context():
        meeting = Avstamning(held_on=date(2016, 10, 20), attendees="Statsrådet, samordnaren")
        db.session.add(meeting)
        db.session.flush()
        owner = db.session.scalar(select(User).where(User.email == USERS["staff"]))
        action = tasks.create({"title": "Ta fram underlag om placeringar", "due_date": date(2016, 11, 15),
                               "owner_id": owner.id}, owner, kind=AVSTAMNING, avstamning_id=meeting.id)
        db.session.commit()
        action_id = action.id
    text = section(page(staff), "rapporter")
    assert "1 åtgärd efter avstämningar är inte klar" in text and "Ta fram underlag om placeringar" in text
    response = staff.get(f"/uppgifter/{action_id}")
    version = re.search(r'name="version"[^>]*value="(\d+)"', response.get_data(as_text=True)).group(1)
    response = staff.post(f"/uppgifter/{action_id}/klar", data={"version": version, "outcome": "Underlaget lämnat."})
    assert response.status_code == 302
    text = section(page(staff), "rapporter")
    assert "Ta fram underlag om placeringar" not in text
    with app.app_context():
        assert db.session.get(Task, action_id).outcome == "Underlaget lämnat."


def test_questionnaires_sent_and_unanswered_with_the_last_day_near(app, sample, staff):
    from coordinator.measurement import service as measurement
    from coordinator.measurement.models import Questionnaire

    with app.app_context():
        a, b = sites_of(sample)[:2]
        labels = a.label, b.label
        q = measurement.create_questionnaire({"name": "Förmätning", "intro": "", "round": None})
        measurement.add_question(q, q.version, {"text": "Har ni en plan?", "kind": "en", "options": ["Ja", "Nej"]})
        from coordinator.links import expires_at_for
        for site, last in ((a, date(2016, 11, 3)), (b, date(2016, 12, 20))):
            req = measurement.ensure_request(site, 2, q)
            req.expires_at = expires_at_for(last)  # the link's last day, as of the test's today
            req.sent_at = datetime(2016, 10, 1, tzinfo=timezone.utc)
        db.session.commit()
        assert db.session.scalar(select(Questionnaire.id)) is not None
    text = section(page(staff), "enkater")
    assert f"{labels[0]}, omgång 2: sista svarsdag 2016-11-03" in text
    assert f"{labels[1]}, omgång 2: sista svarsdag 2016-12-20" in text
    data = cli_json(app, "digest")["questionnaires_unanswered"]
    assert [(q["soon"], q["expired"]) for q in data] == [(True, False), (False, False)]


def test_the_next_report_its_due_day_and_empty_sections(app, sample, staff):
    text = section(page(staff), "rapporter")
    # Calendar quarters, due 14 days after the quarter: 2016Q3 was due 2016-10-14 and is not issued.
    assert "Kvartal 3 2016 skulle ha lämnats 2016-10-14 och är inte utfärdad." in text
    assert "Nästa rapport, Kvartal 4 2016, ska lämnas 2017-01-14." in text
    assert "Texter som inte är skrivna: Iakttagelser, Analys, Förslag till åtgärder" in text
    due = cli_json(app, "digest")["reports_due"]
    assert {"period": "2016Q4", "due": "2017-01-14"}.items() <= due[-1].items()


def test_the_current_round_and_phase_against_the_target(app, sample, staff):
    with app.app_context():
        ss = sites_of(sample)
        for s in ss[:31]:
            hold(visit_of(s, 1), date(2015, 5, 4))
        for s in ss[31:43]:
            book(visit_of(s, 1), date(2015, 11, 2))
        db.session.commit()
    app.config["COORDINATOR_TODAY"] = "2015-10-01"
    text = section(page(staff), "laget")
    assert "Omgång 1 (pågår): 31 av 50 genomförda, 12 bokade, 0 föreslagna, 7 utan datum." in text
    assert "Fas 2, Första besöksomgången slutförs, pågår till 31 december 2015." in text
    text = section(page(staff), "oplanerat")
    assert "7 besöksplatser har inget datum" in text


def test_a_chosen_day_that_is_not_a_date_or_out_of_range_falls_back_to_today_with_a_message(app, sample, staff):
    for bad in ("31/10/2016", "9999-12-31", "0001-01-01", "2016-10-31x"):
        response = staff.get(f"/?datum={bad}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Läget den 31 oktober 2016." in html
        assert "Datumet ska skrivas ÅÅÅÅ-MM-DD" in html or "Välj ett datum mellan" in html


def test_the_reader_sees_issued_reports_the_next_due_day_and_the_protocol_not_the_office_items(app, sample, reader):
    html = page(reader)
    assert "Nästa rapport" in html and "Kvartal 4 2016 ska lämnas senast 14 januari 2017." in html
    assert "Läs urvalsprotokollet" in html
    for office_only in ("Anteckningar att skriva", "Mina uppgifter", "E-post"):
        assert office_only not in html
    assert reader.get("/uppgifter/").status_code == 403
    assert reader.get("/platser/").status_code == 403


# --------------------------------------------------------------------------- tasks

def test_the_app_makes_its_own_tasks_once_moves_them_with_the_visit_and_closes_them(app, sample, staff):
    with app.app_context():
        a, b = sites_of(sample)[:2]
        b_id = b.id
        hold(visit_of(a, 1), date(2016, 10, 24))
        plans.ensure_plan(b, 0)
        book(visit_of(b, 2), date(2016, 11, 28))
        db.session.commit()
    staff.get("/")
    staff.get("/uppgifter/")  # a second sync makes nothing new
    with app.app_context():
        made = {t.kind: t for t in db.session.scalars(select(Task))}
        assert set(made) == {ANTECKNING, UPPFOLJNING}
        assert made[UPPFOLJNING].due_date == date(2016, 11, 14)  # two weeks before the second visit
        assert made[ANTECKNING].owner_id is None
        visit_of(db.session.get(Site, b_id), 2).date = date(2016, 12, 5)
        db.session.commit()
    html = page(staff, "/uppgifter/?visa=alla")
    assert "Förbered uppföljningen av handlingsplanen inför besök 2" in html and "2016-11-21" in html
    with app.app_context():
        assert db.session.scalar(select(Task).where(Task.kind == UPPFOLJNING)).due_date == date(2016, 11, 21)
        visit_of(db.session.get(Site, b_id), 2).status = GENOMFORD
        db.session.commit()
    staff.get("/")
    with app.app_context():
        assert db.session.scalar(select(Task).where(Task.kind == UPPFOLJNING)).done


def test_a_task_by_hand_kept_when_invalid_refused_when_stale_and_deleted_after_confirmation(app, sample, staff):
    with app.app_context():
        site_id = sites_of(sample)[0].id
    html = page(staff, f"/uppgifter/ny?plats={site_id}")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    bad = staff.post("/uppgifter/ny", data={"csrf_token": token, "title": "Ring\nsocialchefen", "due_date": "i morgon",
                                            "owner": "", "site": str(site_id), "details": "Om tiden"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Rubriken får bara vara en rad." in text and "Ange ett datum som ÅÅÅÅ-MM-DD" in text
    assert "Om tiden" in text  # what was typed is kept
    for value in ("99999", "abc"):
        refused = staff.post("/uppgifter/ny", data={"title": "Ring", "due_date": "2016-11-02", "owner": value})
        assert refused.status_code == 400 and "Välj ett alternativ i listan." in refused.get_data(as_text=True)
    ok = staff.post("/uppgifter/ny", data={"title": "Ring socialchefen", "due_date": "2016-11-02", "owner": "",
                                           "site": str(site_id), "details": ""})
    assert ok.status_code == 302
    task_id = int(ok.headers["Location"].rstrip("/").split("/")[-1])
    assert "Ring socialchefen" in section(page(staff), "uppgifter")
    assert "Ring socialchefen" in page(staff, f"/platser/{site_id}/")

    stale = staff.post(f"/uppgifter/{task_id}", data={"version": "0", "title": "Ring nu", "due_date": "2016-11-02",
                                                      "owner": "", "site": "", "details": ""})
    assert stale.status_code == 409 and "Någon annan har ändrat uppgiften" in stale.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Task, task_id).title == "Ring socialchefen"

    confirm = page(staff, f"/uppgifter/{task_id}/ta-bort")
    assert "Det går inte att ångra" in confirm
    with app.app_context():
        assert db.session.get(Task, task_id) is not None  # the GET changed nothing
        version = db.session.get(Task, task_id).version
    assert staff.post(f"/uppgifter/{task_id}/ta-bort", data={"version": str(version)}).status_code == 302
    with app.app_context():
        assert db.session.get(Task, task_id) is None
    assert staff.get("/uppgifter/99999999999").status_code == 404


# --------------------------------------------------------------------------- the digest

def test_the_weekly_digest_reaches_a_real_smtp_server_once_a_week_and_says_what_the_overview_says(
        app, sample, staff, smtp):  # noqa: F811
    from coordinator.outbox.delivery import deliver_pending

    with app.app_context():
        a, b = sites_of(sample)[:2]
        labels, kods = (a.label, b.label), (a.kommunkod, b.kommunkod)
        hold(visit_of(a, 1), date(2016, 10, 24))
        book(visit_of(b, 2), date(2016, 11, 7), INBJUDEN, {"NEEDS-ACTION": 2})
        db.session.commit()
    # Opt in on the account page (staff); the admin has not.
    html = page(staff, "/konto/")
    assert "Veckobrev" in html
    assert staff.post("/konto/", data={"weekly_digest": "y"}).status_code == 302

    first = cli_json(app, "digest", "--send")
    assert first["sent"] == {"queued": [USERS["staff"]], "already": []}
    assert cli_json(app, "digest", "--send")["sent"] == {"queued": [], "already": [USERS["staff"]]}
    with app.app_context():
        report = deliver_pending(app.config)
        assert report.sent == 1
    (mail,) = [email.message_from_bytes(c, policy=policy.default) for _f, _t, c in smtp.handler.received]
    assert mail["To"].addresses[0].addr_spec == USERS["staff"]
    assert mail["Subject"] == "Veckans läge, vecka 44 2016"
    body = mail.get_body(("plain",)).get_content()

    # The same items as the start page for the same day.
    overview = page(staff)
    for label, round_ in ((labels[0], 1), (labels[1], 2)):
        assert f"{label}, omgång {round_}" in body
    assert f"{labels[0]}, omgång 1" in section(overview, "anteckningar")
    assert f"{labels[1]}</a>, omgång 2" in overview
    assert "Kvartal 4 2016 ska lämnas 2017-01-14" in body and "Kvartal 4 2016" in section(overview, "rapporter")
    digest = first
    assert [n["kommunkod"] for n in digest["notes_missing"]] == [kods[0]]
    assert [v["kommunkod"] for v in digest["visits_next_14_days"]] == [kods[1]]
    for key in ("as_of", "visits_next_14_days", "notes_missing", "invitations_unanswered", "activities_overdue",
                "questionnaires_unanswered", "reports_due", "tasks", "mail_failed"):
        assert key in digest
    assert isinstance(digest["mail_failed"], int)
    # The personal part: the note task nobody owns yet is in the staff member's list.
    assert "Skriv anteckningen från besöket i" in body


def test_the_digest_command_refuses_a_bad_date_in_words(app, sample):
    result = app.test_cli_runner().invoke(args=["digest", "--as-of", "31/10/2016", "--json"])
    assert result.exit_code == 1 and "ÅÅÅÅ-MM-DD" in result.output


# --------------------------------------------------------------------------- site show

def test_site_show_tells_a_sites_whole_story_as_json(app, sample, staff):
    with app.app_context():
        site = next(s for s in sites_of(sample) if not s.enhet)
        kod, grupp = site.kommunkod, site.grupp
        hold(visit_of(site, 1), date(2016, 3, 1))
        write_note(visit_of(site, 1))
        plan = plans.ensure_plan(site, 0)
        goal = plans.add_goal(site, plan.version, {"title": "Mål"})
        plans.add_activity(goal, {"description": "A", "decided": True, "status": "genomford"})
        plans.add_activity(goal, {"description": "B"})
        db.session.commit()
    data = cli_json(app, "site", "show", kod)
    assert data["kommunkod"] == kod and data["group"] == grupp and 0 < data["pi"] <= 1
    assert [(v["round"], v["date"], v["status"]) for v in data["visits"]] == [(1, "2016-03-01", GENOMFORD),
                                                                             (2, None, FORSLAG)]
    assert data["notes"] == 1 and data["plan"] == {"activities": 2, "decided": 1, "done": 1, "overdue": 0}
    assert data["questionnaires"] == 0
    assert data["timeline"] and all(set(t) >= {"when", "what"} for t in data["timeline"])
    result = app.test_cli_runner().invoke(args=["site", "show", "0180", "--json"])
    assert result.exit_code == 1 and "--unit" in result.output
    stockholm = cli_json(app, "site", "show", "0180", "--unit", "central")
    assert stockholm["unit"] is None and stockholm["pi"] == 1
    result = app.test_cli_runner().invoke(args=["site", "show", "12a4", "--json"])
    assert result.exit_code == 1 and "fyra siffror" in result.output


# --------------------------------------------------------------------------- SQL statements

def grow(sample_id: int, n: int) -> None:
    """n held visits with notes, plans with overdue activities and open tasks; the rest proposed."""
    for i, site in enumerate(sites_of(sample_id)[:n]):
        hold(visit_of(site, 1), date(2016, 3, 1) + timedelta(days=i))
        write_note(visit_of(site, 1), questions=[1, 2])
        plan = plans.ensure_plan(site, 0)
        goal = plans.add_goal(site, plan.version, {"title": f"Mål {i}"})
        for j in range(3):
            plans.add_activity(goal, {"description": f"A{j}", "due_date": date(2016, 9, 1)})
        book(visit_of(site, 2), date(2016, 11, 1) + timedelta(days=i % 10), INBJUDEN, {"NEEDS-ACTION": 2})
        tasks.create({"title": f"Uppgift {i}", "due_date": date(2016, 10, 1), "site_id": site.id})
    db.session.commit()


def test_the_start_page_and_the_site_page_run_as_many_statements_at_two_data_sizes(app, sample, staff):
    with app.app_context():
        grow(sample, 3)
        site_id = sites_of(sample)[0].id
    staff.get("/")  # the app's own tasks are made once, outside the count
    with statements(app) as small:
        page(staff)
    with statements(app) as small_site:
        page(staff, f"/platser/{site_id}/")
    with app.app_context():
        grow_more = sites_of(sample)
        for i, site in enumerate(grow_more[3:30]):
            hold(visit_of(site, 1), date(2016, 4, 1) + timedelta(days=i))
            write_note(visit_of(site, 1), questions=[1])
            plan = plans.ensure_plan(site, 0)
            goal = plans.add_goal(site, plan.version, {"title": "Mål"})
            for j in range(4):
                plans.add_activity(goal, {"description": f"B{j}", "due_date": date(2016, 8, 1)})
            tasks.create({"title": "Mer", "due_date": date(2016, 10, 2), "site_id": site.id})
        # The site of the site page grows too: more activities, contacts and audit events.
        first = db.session.get(Site, site_id)
        plan = plans.plan_for(first)
        for j in range(10):
            goal = plans.add_goal(first, plan.version, {"title": f"Extra {j}"})
            plans.add_activity(goal, {"description": "C", "due_date": date(2016, 9, 9)})
        db.session.commit()
    staff.get("/")
    with statements(app) as large:
        page(staff)
    with statements(app) as large_site:
        page(staff, f"/platser/{site_id}/")
    assert large[0] == small[0], (small[0], large[0])
    assert large_site[0] == small_site[0], (small_site[0], large_site[0])
