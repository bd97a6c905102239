"""The log of avstämningar with the minister: logging one (ahead of time too), editing with a stale save
refused, deleting after a confirmation that says what goes with it, its actions (add, close with an
outcome, reopen, edit, remove), the functions the overview reads, and the reader's 403.

Every test runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from coordinator.audit import AuditEvent
from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.reports import figures, rhythm, service
from coordinator.reports.models import Avstamning
from coordinator.tasks.models import AVSTAMNING, Task

from .test_contacts_settings import form_values, text

LOG = "/rapporter/avstamningar/"
FEEDBACK = "Statsrådet vill se fler exempel från små kommuner."


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def issued_report(app, period: str = "2015Q3") -> int:
    with app.app_context():
        return service.issue(figures.parse_period(period), "Första versionen.", None).id


def only(app, model):
    with app.app_context():
        rows = db.session.scalars(select(model)).all()
        assert len(rows) == 1, rows
        db.session.expunge_all()
        return rows[0]


def log_one(staff, **values) -> str:
    """Log an avstämning through the form; the address of its page."""
    data = {"held_on": "2015-10-20", "attendees": "Statsrådet, statssekreteraren, samordnaren",
            "report_id": "", "feedback": FEEDBACK, "decisions": "Fortsätt enligt plan.", "version": "0"}
    data.update(values)
    response = staff.post(LOG + "ny", data)
    assert response.status_code == 302, text(response)
    return response.headers["Location"].split("#")[0]


def add_action(staff, page: str, **values):
    data = {"title": "Ta fram exempel från små kommuner", "owner_id": "", "due_date": "2015-11-30",
            "details": "Välj tre exempel.", "version": "0"}
    data.update(values)
    return staff.post(page + "atgarder/ny", data)


def audit(app, prefix: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith(prefix))
                                  .order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return rows


# --------------------------------------------------------------------------- the avstämning

def test_log_an_avstamning_with_the_report_it_discussed_and_read_it_back(app, staff):
    report_id = issued_report(app)
    form = staff.get(LOG + "ny").get_data(as_text=True)
    assert "Kvartalsrapport: Kvartal 3 2015, version 1 (utfärdad" in form
    page_url = log_one(staff, report_id=str(report_id))
    page = text(staff.get(page_url))
    assert "Avstämning med statsrådet 2015-10-20" in page
    assert "Statsrådet, statssekreteraren, samordnaren" in page and FEEDBACK in page
    assert "Fortsätt enligt plan." in page and "Inga åtgärder är tillagda." in page
    assert f'href="/rapporter/utfardade/{report_id}/"' in staff.get(page_url).get_data(as_text=True)
    row = only(app, Avstamning)
    assert (row.held_on, row.report_id, row.version) == (date(2015, 10, 20), report_id, 1)
    listing = text(staff.get(LOG))
    assert "2015-10-20 Kvartalsrapport: Kvartal 3 2015, version 1 inga" in listing
    [created] = audit(app, "avstamning.")
    assert created.action == "avstamning.created" and created.details == {"held_on": "2015-10-20",
                                                                          "report_id": report_id}
    assert FEEDBACK not in json.dumps(created.details, ensure_ascii=False)
    # The report page links to the log.
    assert 'href="/rapporter/avstamningar/"' in staff.get("/rapporter/").get_data(as_text=True)


def test_a_planned_avstamning_is_logged_ahead_and_completed_afterwards(app, staff):
    app.config["COORDINATOR_TODAY"] = "2015-10-01"
    try:
        page_url = log_one(staff, held_on="2015-12-10", attendees="", feedback="", decisions="")
        page = text(staff.get(page_url))
        assert "Avstämning med statsrådet 2015-12-10 planerad" in page and "Inte ifyllt." in page
        assert "2015-12-10 planerad" in text(staff.get(LOG))
        with app.app_context():
            assert rhythm.next_avstamning(date(2015, 10, 1)).held_on == date(2015, 12, 10)
            assert rhythm.next_avstamning(date(2015, 12, 11)) is None
        data = form_values(staff, page_url + "andra")
        data.update(feedback=FEEDBACK, attendees="Statsrådet och samordnaren")
        assert staff.post(page_url + "andra", data).status_code == 302
        row = only(app, Avstamning)
        assert (row.feedback, row.version) == (FEEDBACK, 2)
        [_created, updated] = audit(app, "avstamning.")
        assert updated.details == {"fields": ["attendees", "feedback"], "held_on": "2015-12-10"}
    finally:
        app.config["COORDINATOR_TODAY"] = None


def test_a_stale_edit_is_refused_and_what_was_typed_is_kept(app, staff, admin):
    page_url = log_one(staff)
    mine = form_values(staff, page_url + "andra")
    theirs = dict(mine, decisions="Statsrådet beslutade att vänta.")
    assert admin.post(page_url + "andra", theirs).status_code == 302
    response = staff.post(page_url + "andra", dict(mine, decisions="Mitt beslut."))
    page, html = text(response), response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Någon annan har ändrat avstämningen" in page
    assert "Beslut Mitt beslut. Statsrådet beslutade att vänta." in page
    assert "\nMitt beslut.</textarea>" in html and 'name="version" type="hidden" value="2"' in html
    assert only(app, Avstamning).decisions == "Statsrådet beslutade att vänta."
    # Saving again, having seen both, is deliberate.
    data = form_values(staff, page_url + "andra")
    assert staff.post(page_url + "andra", dict(data, decisions="Mitt beslut.")).status_code == 302
    assert only(app, Avstamning).decisions == "Mitt beslut."


@pytest.mark.parametrize("values, message", [
    ({"held_on": ""}, "Ange datumet (ÅÅÅÅ-MM-DD)."),
    ({"held_on": "2015-02-30"}, "Ange ett datum som ÅÅÅÅ-MM-DD"),
    ({"held_on": "9999-12-31"}, "Ange ett datum mellan 2000-01-01 och 2099-12-31."),
    ({"held_on": "2030-01-01"}, "Ange ett datum mellan 2014-11-01 och 2018-05-01."),
    ({"report_id": "999999999999999999999"}, "Välj en av de utfärdade rapporterna, eller ingen."),
    ({"report_id": "x"}, "Välj en av de utfärdade rapporterna, eller ingen."),
    ({"decisions": "x" * 20_001}, "Högst 20000 tecken."),
])
def test_bad_input_is_refused_in_swedish_with_the_form_kept(app, staff, values, message):
    data = {"held_on": "2015-10-20", "attendees": "Statsrådet", "report_id": "", "feedback": FEEDBACK,
            "decisions": "", "version": "0", **values}
    response = staff.post(LOG + "ny", data)
    assert response.status_code == 400
    assert message in text(response)
    assert FEEDBACK in response.get_data(as_text=True) or "feedback" in values
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Avstamning)) == 0


def test_unknown_ids_are_404_and_the_reader_gets_403(app, staff, reader):
    page_url = log_one(staff)
    assert staff.get(LOG + "12345678901234567890/").status_code == 404
    assert staff.get(LOG + "999999/andra").status_code == 404
    assert staff.get(page_url + "atgarder/999999/klar").status_code == 404
    for url in (LOG, LOG + "ny", page_url, page_url + "andra", page_url + "ta-bort", page_url + "atgarder/ny"):
        assert reader.get(url).status_code == 403, url
    assert reader.post(page_url + "ta-bort", {"version": "1"}).status_code == 403
    assert staff.post(page_url + "ta-bort", {"version": "1"}, csrf=False).status_code == 400


# --------------------------------------------------------------------------- its actions

def test_actions_are_added_closed_with_an_outcome_reopened_edited_and_removed(app, staff):
    owner = user_id(app, "staff@test.se")
    page_url = log_one(staff)
    # The owner is one of the office's active users.
    form = staff.get(page_url + "atgarder/ny").get_data(as_text=True)
    assert "Test staff" in form and "Test admin" in form and "Test reader" not in form
    refused = add_action(staff, page_url, owner_id="")
    assert refused.status_code == 400 and "Välj vem som är ansvarig." in text(refused)
    assert "Ta fram exempel från små kommuner" in refused.get_data(as_text=True)
    refused = add_action(staff, page_url, owner_id=str(user_id(app, "reader@test.se")))
    assert "Välj en av kansliets aktiva användare." in text(refused)
    refused = add_action(staff, page_url, owner_id=str(owner), title="Två\nrader")
    assert "Skriv på en rad." in text(refused)
    response = add_action(staff, page_url, owner_id=str(owner))
    assert response.status_code == 302
    task = only(app, Task)
    assert (task.kind, task.owner_id, task.due_date, task.done_at) == (AVSTAMNING, owner, date(2015, 11, 30), None)
    with app.app_context():
        [open_action] = rhythm.open_actions()
        assert open_action.id == task.id and open_action.avstamning.held_on == date(2015, 10, 20)
    assert "1 öppen av 1" in text(staff.get(LOG))

    # Close it: the outcome is required.
    done_url = f"{page_url}atgarder/{task.id}/klar"
    refused = staff.post(done_url, {"version": str(task.version), "outcome": " "})
    assert refused.status_code == 400 and "Skriv vad som blev gjort" in text(refused)
    response = staff.post(done_url, {"version": str(task.version), "outcome": "Tre exempel finns i rapporten."})
    assert response.status_code == 302
    task = only(app, Task)
    assert task.done_at is not None and task.outcome == "Tre exempel finns i rapporten."
    with app.app_context():
        assert rhythm.open_actions() == []
    page = text(staff.get(page_url))
    assert "Tre exempel finns i rapporten." in page and "klar 20" in page
    assert "0 öppna av 1" in text(staff.get(LOG))

    # Reopen: the outcome stays; a stale reopen is refused.
    stale = staff.post(f"{page_url}atgarder/{task.id}/oppna", {"version": str(task.version - 1)}, follow_redirects=True)
    assert "Ingenting ändrades" in text(stale) and only(app, Task).done_at is not None
    staff.post(f"{page_url}atgarder/{task.id}/oppna", {"version": str(task.version)})
    task = only(app, Task)
    assert task.done_at is None and task.outcome == "Tre exempel finns i rapporten."

    # Edit, with a stale save refused.
    edit_url = f"{page_url}atgarder/{task.id}/andra"
    mine = form_values(staff, edit_url)
    assert staff.post(edit_url, dict(mine, due_date="2015-12-15")).status_code == 302
    response = staff.post(edit_url, dict(mine, title="Ny rubrik"))
    assert response.status_code == 409 and "Någon annan har ändrat åtgärden" in text(response)
    assert 'value="Ny rubrik"' in response.get_data(as_text=True)
    assert only(app, Task).due_date == date(2015, 12, 15)

    # Remove, after a confirmation page.
    task = only(app, Task)
    confirm = text(staff.get(f"{page_url}atgarder/{task.id}/ta-bort"))
    assert "Ta bort åtgärden?" in confirm and "från nästa rapport" in confirm and "inte att ångra" in confirm
    assert staff.post(f"{page_url}atgarder/{task.id}/ta-bort", {"version": str(task.version)}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Task)) == 0
    assert [e.action for e in audit(app, "task.")] == ["task.created", "task.done", "task.reopened", "task.updated",
                                                      "task.deleted"]


def test_deleting_an_avstamning_asks_first_and_takes_its_actions_with_it(app, staff):
    owner = str(user_id(app, "admin@test.se"))
    report_id = issued_report(app)
    page_url = log_one(staff, report_id=str(report_id))
    add_action(staff, page_url, owner_id=owner)
    add_action(staff, page_url, owner_id=owner, title="Boka nästa avstämning", due_date="2016-01-15")
    confirm = staff.get(page_url + "ta-bort")
    page = text(confirm)
    assert "Ta bort avstämningen den 2015-10-20?" in page
    assert "Dess 2 åtgärder tas också bort" in page and "Boka nästa avstämning (öppen, klar senast 2016-01-15)" in page
    assert "Den utfärdade rapporten som diskuterades påverkas inte." in page and "inte att ångra" in page
    row = only(app, Avstamning)
    stale = staff.post(page_url + "ta-bort", {"version": str(row.version + 1)}, follow_redirects=True)
    assert "Ingenting togs bort" in text(stale)
    response = staff.post(page_url + "ta-bort", {"version": str(row.version)}, follow_redirects=True)
    assert "Avstämningen den 2015-10-20 är borttagen, med 2 åtgärder." in text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Avstamning)) == 0
        assert db.session.scalar(select(func.count()).select_from(Task)) == 0
    [deleted] = audit(app, "avstamning.deleted")
    assert deleted.details["held_on"] == "2015-10-20" and len(deleted.details["actions"]) == 2


def test_the_open_actions_are_read_in_one_statement_by_due_date(app, staff):
    from .test_report_rhythm import statements

    owner = str(user_id(app, "staff@test.se"))
    first = log_one(staff)
    second = log_one(staff, held_on="2016-01-20")
    add_action(staff, first, owner_id=owner, due_date="2016-02-01", title="Senare")
    add_action(staff, second, owner_id=owner, due_date="2015-12-01", title="Tidigare")
    with statements(app) as seen:
        with app.app_context():
            actions = rhythm.open_actions()
            titles = [(t.title, t.owner.name, t.avstamning.held_on.isoformat()) for t in actions]
    assert titles == [("Tidigare", "Test staff", "2016-01-20"), ("Senare", "Test staff", "2015-10-20")]
    assert len(seen) == 1
    listing = staff.get(LOG).get_data(as_text=True)
    assert re.search(r"2016-01-20.*2015-10-20", listing, re.S)  # newest first


# --------------------------------------------------------------------------- the next report lists the actions

@pytest.fixture
def three_meetings(app, staff):
    """Avstämningar on 2015-08-20 (an action done in September, one still open), 2015-10-20 (an action
    done in November) and 2016-01-20 (none); the report's today is 2016-01-10."""
    owner = str(user_id(app, "staff@test.se"))
    august = log_one(staff, held_on="2015-08-20")
    add_action(staff, august, owner_id=owner, title="Skicka underlaget om placeringar", due_date="2015-09-15")
    add_action(staff, august, owner_id=owner, title="Ordna ett möte med SKL", due_date="2015-11-30")
    october = log_one(staff, held_on="2015-10-20")
    add_action(staff, october, owner_id=owner, due_date="2015-12-01")
    log_one(staff, held_on="2016-01-20")
    with app.app_context():
        from coordinator.reports import avstamningar
        for title, done_on, outcome in (("Skicka underlaget om placeringar", (2015, 9, 10), "Skickat."),
                                        ("Ta fram exempel från små kommuner", (2015, 11, 20), "Tre exempel.")):
            task = db.session.scalar(select(Task).where(Task.title == title))
            avstamningar.close_action(task, task.version, outcome)
            task.done_at = datetime(*done_on, 12, tzinfo=timezone.utc)  # as if closed that day
        db.session.commit()
    app.config["COORDINATOR_TODAY"] = "2016-01-10"
    yield
    app.config["COORDINATOR_TODAY"] = None


def test_the_report_figures_list_the_periods_avstamningar_and_the_actions_still_open(app, three_meetings):
    with app.app_context():
        q4 = figures.compute("2015Q4")
        q3 = figures.compute("2015Q3")
        q2 = figures.compute("2015Q2")
        q1_2016 = figures.compute("2016Q1")
    assert q4["avstamningar"] == {
        "held": [{"held_on": "2015-10-20", "report": None, "actions": [
            {"title": "Ta fram exempel från små kommuner", "due": "2015-12-01", "done_on": "2015-11-20",
             "outcome": "Tre exempel."}]}],
        "carried": [{"title": "Ordna ett möte med SKL", "due": "2015-11-30", "done_on": None, "outcome": "",
                     "from": "2015-08-20"}]}
    assert [x["title"] for x in q3["avstamningar"]["held"][0]["actions"]] == [
        "Skicka underlaget om placeringar", "Ordna ett möte med SKL"]
    assert q3["avstamningar"]["carried"] == []
    assert q2["avstamningar"] == {"held": [], "carried": []}
    # 2016-01-20 has not happened on the report's today.
    assert q1_2016["avstamningar"]["held"] == [] and len(q1_2016["avstamningar"]["carried"]) == 1
    assert ("Avstämningar med statsrådet under perioden: 1. 1 av 2 åtgärder efter avstämningarna är klara."
            in q4["summary"])
    dumped = json.dumps(q4, ensure_ascii=False)
    assert FEEDBACK not in dumped and "Test staff" not in dumped and "Välj tre exempel." not in dumped


def test_the_report_says_what_came_of_each_action_in_html_and_pdf(app, staff, three_meetings, tmp_path):
    from .test_report_figures import pdf_text

    page = text(staff.get("/rapporter/2015Q4/"))
    section = page[page.rindex("Avstämningar med statsrådet"):]
    assert "Avstämningen den 2015-10-20" in section
    assert "Ta fram exempel från små kommuner 2015-12-01 klar 2015-11-20 Tre exempel." in section
    assert "Åtgärder från tidigare avstämningar" in section
    assert "Ordna ett möte med SKL 2015-08-20 2015-11-30 försenad –" in section
    assert FEEDBACK not in page and "Test staff" not in section
    out = tmp_path / "q4.pdf"
    result = cli_run(app, "report", "quarterly", "2015Q4", "--out", str(out))
    assert result.exit_code == 0, result.output
    whole = pdf_text(out.read_bytes())
    pdf = whole[whole.rindex("Avstämningar med statsrådet"):]
    assert "Ta fram exempel från små kommuner 2015-12-01 klar 2015-11-20 Tre exempel." in pdf
    assert "Ordna ett möte med SKL 2015-08-20 2015-11-30 försenad" in pdf
    empty = text(staff.get("/rapporter/2015Q2/"))
    assert ("Inga avstämningar med statsrådet hölls under perioden, och inga åtgärder från tidigare avstämningar "
            "var öppna när den började.") in empty


def test_a_report_issued_before_the_avstamningar_were_logged_still_renders(app):
    from flask import render_template

    from coordinator.reports import pdf

    with app.app_context():
        data = figures.compute("2015Q2")
    del data["avstamningar"]  # as archived before the key existed
    with app.test_request_context():
        html = render_template("reports/_body.html", data=data, narratives={}, status={"draft": True})
        document = pdf.render(data, {}, {"draft": True})
    assert "Vad dialogerna visade" in html and "Avstämningar med statsrådet" not in html
    assert document.startswith(b"%PDF")


def cli_run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_the_log_and_an_avstamning_page_run_the_same_statements_with_more_rows(app, staff):
    from .test_report_rhythm import statements

    owner = str(user_id(app, "staff@test.se"))
    report_id = str(issued_report(app))

    def counted(url: str) -> int:
        staff.get(url)  # the session's user and the like, read once
        with statements(app) as seen:
            assert staff.get(url).status_code == 200
        return len(seen)

    first = log_one(staff, report_id=report_id)
    add_action(staff, first, owner_id=owner)
    few = (counted(LOG), counted(first))
    for day in ("2015-11-20", "2015-12-20", "2016-01-20"):
        log_one(staff, held_on=day, report_id=report_id)
    for i in range(5):
        add_action(staff, first, owner_id=str(user_id(app, "admin@test.se")), title=f"Åtgärd {i}")
    assert (counted(LOG), counted(first)) == few
