"""The reporting rhythm: report periods and due dates from the settings, what is due on a day, the
settings page that edits the rhythm (and refuses to strand report texts), and the reminders to the
office through the outbox, delivered to a real SMTP server on loopback (aiosmtpd).

Every test runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import email
import json
import re
from contextlib import contextmanager
from datetime import date
from email import policy
from html import unescape

import pytest
from sqlalchemy import event, select

from coordinator.audit import AuditEvent
from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.outbox.models import PENDING, SENT, OutboxMessage
from coordinator.reports import figures, rhythm, service
from coordinator.reports.models import Narrative
from coordinator.scheduling.models import Assignment

from .test_contacts_settings import SETTINGS, form_values, input_value, text
from .test_invites import deliver, smtp  # noqa: F401  (fixture)

DEFAULT_KEYS = ["2014Q4", "2015Q1", "2015Q2", "2015Q3", "2015Q4", "2016Q1", "2016Q2", "2016Q3", "2016Q4", "2017Q1",
                "2017Q2"]


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def cli_json(app, *args):
    result = cli(app, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def set_rhythm(app, **values) -> None:
    with app.app_context():
        a = db.session.get(Assignment, 1)
        for key, value in values.items():
            setattr(a, key, value)
        db.session.commit()


def write(app, period: str, section: str, body: str = "Text från kansliet.") -> None:
    with app.app_context():
        db.session.add(Narrative(period=period, section=section, text=body))
        db.session.commit()


def issue(app, period: str) -> None:
    with app.app_context():
        service.issue(figures.parse_period(period), "Första versionen.", None)


@contextmanager
def statements(app):
    """Count the SQL statements run inside the block: yields a list that fills up."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", count)


# --------------------------------------------------------------------------- periods

def test_the_shipped_rhythm_is_the_calendar_quarters_with_their_due_dates(app):
    with app.app_context():
        periods = rhythm.periods()
        final = rhythm.final_period()
        assert [p.key for p in periods] == DEFAULT_KEYS
        q3 = periods[3]
        assert (q3.key, q3.label, q3.start, q3.end, q3.due) == (
            "2015Q3", "Kvartal 3 2015", date(2015, 7, 1), date(2015, 9, 30), date(2015, 10, 14))
        assert rhythm.due_date(q3) == date(2015, 10, 14)
        assert periods[0].start == date(2014, 10, 1) and periods[-1].end == date(2017, 6, 30)
        assert (final.key, final.due, rhythm.due_date(final)) == ("slut", date(2017, 4, 30), date(2017, 4, 30))
        # The old names still answer, and the report pages list the same periods.
        assert figures.quarters() == periods and figures.parse_period("2015 q3") == q3
        assert service.periods() == [*periods, final]


def test_every_four_months_from_november_gives_its_own_keys_labels_and_due_dates(app, staff):
    set_rhythm(app, report_interval_months=4, report_start=date(2014, 11, 1), report_due_days=10)
    with app.app_context():
        periods = rhythm.periods()
        assert [p.key for p in periods] == ["2014-11", "2015-03", "2015-07", "2015-11", "2016-03", "2016-07",
                                            "2016-11", "2017-03"]
        assert [p.label for p in periods[:2]] == ["november 2014–februari 2015", "mars–juni 2015"]
        first = periods[0]
        assert (first.start, first.end, first.due) == (date(2014, 11, 1), date(2015, 2, 28), date(2015, 3, 10))
        assert periods[-1].end == date(2017, 6, 30)
        assert first.next() == periods[1] and periods[-1].next().key == "2017-07"
        assert rhythm.parse_period(" 2015-3 ") == periods[1]
        with pytest.raises(ValueError) as refused:
            rhythm.parse_period("2015Q3")
        assert str(refused.value) == ("Kvartal 3 2015 är inte en av uppdragets rapportperioder. Rapporterna avser 4 "
                                      "månader i taget från 2014-11-01, till exempel 2014-11, 2015-03, 2015-07.")
        with pytest.raises(ValueError, match="ligger utanför uppdraget"):
            rhythm.parse_period("2017-11")
    # The pages and the command line take the new keys.
    page = text(staff.get("/rapporter/"))
    assert "Rapport" in page and "mars–juni 2015" in page and "2015-03-01 – 2015-06-30 2015-07-10" in page
    assert staff.get("/rapporter/2015-03/").status_code == 200
    assert staff.get("/rapporter/2015Q3/").status_code == 404
    data = cli_json(app, "report", "quarterly", "2015-3")
    assert data["period"] == {"key": "2015-03", "kind": "kvartal", "label": "mars–juni 2015",
                              "start": "2015-03-01", "end": "2015-06-30"}
    assert data["next_period"]["key"] == "2015-07"
    # English month names for an English reader.
    staff.get("/sprak/en")
    assert "March–June 2015" in text(staff.get("/rapporter/"))


@pytest.mark.parametrize("text", ["0000Q1", "9999Q4", "9999-12", "2015-13", "2015-00", "Q3", "\x00"])
def test_a_period_that_cannot_be_is_refused_in_words(app, staff, text):
    with app.app_context(), pytest.raises(ValueError, match="Ogiltig period"):
        rhythm.parse_period(text)
    assert staff.get(f"/rapporter/{text.replace(chr(0), '%00')}/").status_code == 404
    result = cli(app, "report", "quarterly", text, "--json")
    assert result.exit_code == 1 and "Ogiltig period" in json.loads(result.output)["error"]


def test_a_monthly_rhythm_is_labelled_by_its_month(app):
    set_rhythm(app, report_interval_months=1, report_start=date(2014, 11, 1))
    with app.app_context():
        periods = rhythm.periods()
        assert len(periods) == 30 and periods[4].key == "2015-03" and periods[4].label == "mars 2015"
        assert periods[4].due == date(2015, 4, 14)


# --------------------------------------------------------------------------- what is due

def test_report_status_lists_the_overdue_reports_then_the_next_one(app):
    issue(app, "2014Q4")
    issue(app, "2015Q1")
    issue(app, "2015Q3")
    write(app, "2015Q4", "analys")

    def status(on):
        with app.app_context():
            return [(r.period.key, r.due, r.issued, r.empty_sections, r.overdue) for r in rhythm.report_status(on)]

    # 2015Q2 was never issued: overdue. 2015Q3 is due on 14 October and issued.
    assert status(date(2015, 10, 10)) == [
        ("2015Q2", date(2015, 7, 14), 0, ["iakttagelser", "analys", "atgarder"], True),
        ("2015Q3", date(2015, 10, 14), 1, ["iakttagelser", "analys", "atgarder"], False)]
    assert status(date(2015, 10, 14))[-1][0] == "2015Q3"  # due today is not yet overdue
    assert status(date(2015, 10, 15)) == [
        ("2015Q2", date(2015, 7, 14), 0, ["iakttagelser", "analys", "atgarder"], True),
        ("2015Q4", date(2016, 1, 14), 0, ["iakttagelser", "atgarder"], False)]
    # The final report takes its turn by its due date (before the last quarter's report).
    late = status(date(2017, 4, 20))
    assert [k for k, *_rest in late] == ["2015Q2", "2015Q4", "2016Q1", "2016Q2", "2016Q3", "2016Q4", "2017Q1",
                                         "slut"]
    assert late[-1][1:] == (date(2017, 4, 30), 0, ["uppdraget", "iakttagelser", "analys", "slutsatser", "atgarder"],
                            False)
    after = status(date(2017, 5, 2))
    assert after[-2][0] == "slut" and after[-2][-1] is True and after[-1][0] == "2017Q2"
    assert status(date(2030, 1, 1))[-1][0] == "2017Q2" and all(r[-1] for r in status(date(2030, 1, 1)))


def test_report_status_runs_the_same_statements_however_many_reports_there_are(app):
    with app.app_context():
        rhythm.report_status(date(2015, 10, 10))  # warm the assignment into the session
    with statements(app) as few:
        with app.app_context():
            rhythm.report_status(date(2015, 10, 10))
    for period in ("2014Q4", "2015Q1", "2015Q2"):
        issue(app, period)
        write(app, period, "analys")
    with statements(app) as many:
        with app.app_context():
            rhythm.report_status(date(2015, 10, 10))
    assert len(few) == len(many) <= 3


# --------------------------------------------------------------------------- the settings page

def test_admin_sets_the_rhythm_and_the_overview_thresholds_and_sees_the_periods(app, admin, staff):
    data = form_values(admin, SETTINGS)
    assert (data["report_interval_months"], data["report_start"], data["report_due_days"],
            data["report_reminder_days"], data["note_due_working_days"], data["unanswered_after_days"],
            data["questionnaire_soon_days"]) == ("3", "2014-10-01", "14", "7", "5", "14", "7")
    page = text(admin.get(SETTINGS))
    assert "Rapportperioder" in page and "Kvartal 3 2015 2015-07-01 – 2015-09-30 2015-10-14" in page
    data.update(report_interval_months="4", report_start="2014-11-01", report_due_days="21",
                report_reminder_days="10", note_due_working_days="3", unanswered_after_days="10",
                questionnaire_soon_days="5")
    response = admin.post(SETTINGS, data)
    assert response.status_code == 302, text(response)
    page = text(admin.get(SETTINGS))
    assert "november 2014–februari 2015 2014-11-01 – 2015-02-28 2015-03-21" in page
    assert "Slutrapport 2014-11-01 – 2017-04-30 2017-04-30" in page
    assert "8 rapportperioder och slutrapporten" in page
    with app.app_context():
        a = db.session.get(Assignment, 1)
        assert (a.report_interval_months, a.report_start, a.report_due_days, a.report_reminder_days,
                a.note_due_working_days, a.unanswered_after_days, a.questionnaire_soon_days) == (
            4, date(2014, 11, 1), 21, 10, 3, 10, 5)
        [changed] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "assignment.changed")).all()
        assert set(changed.details["fields"]) == {"report_interval_months", "report_start", "report_due_days",
                                                  "report_reminder_days", "note_due_working_days",
                                                  "unanswered_after_days", "questionnaire_soon_days"}
    # Staff read the rhythm, not edit it.
    page = text(staff.get(SETTINGS))
    assert "var 4 månad, räknat från 2014-11-01" in page and "21 dagar efter periodens slut" in page
    assert "3 arbetsdagar efter besöket" in page and "mars–juni 2015" in page


def test_rhythm_values_out_of_range_are_refused_in_words_and_kept(app, admin):
    data = form_values(admin, SETTINGS)
    typed = dict(report_interval_months="13", report_due_days="91", report_reminder_days="-1",
                 note_due_working_days="0", unanswered_after_days="100", questionnaire_soon_days="x",
                 report_start="2014-10-15")
    response = admin.post(SETTINGS, dict(data, **typed))
    html, page = response.get_data(as_text=True), text(response)
    assert response.status_code == 422
    assert "Ange ett heltal från 1 till 12." in page
    assert page.count("Ange ett heltal från 0 till 90.") == 4  # two fields, each in the summary and at the field
    assert "Ange ett heltal från 1 till 30." in page and "Ange ett heltal från 1 till 90." in page
    assert "Ange ett heltal." in page
    assert "Ange den första dagen i en månad, till exempel 2014-10-01." in page
    for name, value in typed.items():
        assert input_value(html, name) == value, name
    page = text(admin.post(SETTINGS, dict(data, report_start="2015-01-01")))
    assert "Kan inte vara senare än uppdragets start (2014-11-01)." in page
    page = text(admin.post(SETTINGS, dict(data, report_interval_months="1", end_date="2099-12-31")))
    assert "Med de datumen och den rytmen blir det 1022 rapportperioder; högst 240 går." in page
    with app.app_context():
        assert db.session.get(Assignment, 1).version == 1


def test_a_rhythm_that_would_strand_texts_or_issued_reports_is_refused_naming_them(app, admin):
    write(app, "2015Q3", "analys")
    write(app, "2016Q1", "iakttagelser", "")  # emptied since, but it has a history
    issue(app, "2015Q1")
    data = form_values(admin, SETTINGS)
    response = admin.post(SETTINGS, dict(data, report_interval_months="4", report_start="2014-11-01"))
    page, html = text(response), response.get_data(as_text=True)
    assert response.status_code == 422
    assert ("Ändringen sparades inte: med den nya rytmen skulle dessa perioder inte längre finnas, men de har "
            "rapporttexter eller utfärdade rapporter: Kvartal 1 2015 (utfärdad); Kvartal 3 2015 (texter); "
            "Kvartal 1 2016 (texter).") in page
    assert input_value(html, "report_interval_months") == "4"
    with app.app_context():
        assert db.session.get(Assignment, 1).report_interval_months == 3
    # A shorter assignment strands the periods after its new end; the due days change nothing.
    page = text(admin.post(SETTINGS, dict(data, end_date="2015-12-31", round2_start="2015-12-01",
                                          round2_end="2015-12-20", round1_end="2015-11-30")))
    assert "Kvartal 1 2016 (texter)" in page and "Kvartal 3 2015" not in page.split("Ändringen sparades inte")[1]
    response = admin.post(SETTINGS, dict(data, report_due_days="30"))
    assert response.status_code == 302
    with app.app_context():
        assert rhythm.parse_period("2015Q3").due == date(2015, 10, 30)


# --------------------------------------------------------------------------- reminders

@pytest.fixture
def public_url(app):
    saved = app.config.get("PUBLIC_URL")
    app.config["PUBLIC_URL"] = "https://samordnaren.example.se"
    yield
    app.config["PUBLIC_URL"] = saved


def test_the_reminder_is_queued_once_per_person_and_report_and_delivered(app, smtp, public_url):
    issue(app, "2014Q4")
    issue(app, "2015Q1")
    write(app, "2015Q3", "atgarder")
    with app.app_context():
        db.session.add(User(email="slutat@test.se", name="Slutat Person", role="staff", active=False,
                            password_hash="x"))
        db.session.commit()
    # 2015Q2 is overdue; 2015Q3 is due 2015-10-14, eight days away: not yet (seven days' notice).
    first = cli_json(app, "report", "remind", "--as-of", "2015-10-06")
    assert first == {"as_of": "2015-10-06", "already": 0, "queued": [
        {"period": "2015Q2", "due": "2015-07-14", "user": "admin@test.se"},
        {"period": "2015Q2", "due": "2015-07-14", "user": "staff@test.se"}]}
    second = cli_json(app, "report", "remind", "--as-of", "2015-10-07")
    assert second["queued"] == [{"period": "2015Q3", "due": "2015-10-14", "user": "admin@test.se"},
                                {"period": "2015Q3", "due": "2015-10-14", "user": "staff@test.se"}]
    assert second["already"] == 2
    again = cli_json(app, "report", "remind", "--as-of", "2015-10-08")
    assert again == {"as_of": "2015-10-08", "queued": [], "already": 4}
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(m.kind, m.topic, m.status) for m in rows][-1][0] == "rapport"
        staff_id = db.session.scalar(select(User.id).where(User.email == "staff@test.se"))
        assert {m.topic for m in rows} >= {f"rapport:2015Q3:{staff_id}", f"rapport:2015Q2:{staff_id}"}
        assert all(m.status == PENDING for m in rows)
        logged = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.reminder_queued")).all()
        assert [(e.object_id, e.details["recipients"], e.details["overdue"]) for e in logged] == [
            ("2015Q2", 2, True), ("2015Q3", 2, False)]

    report = deliver(app)
    assert report.sent == 4
    mails = {(m["To"], m["Subject"]): m for m in smtp.handler.messages()}
    mail = mails[("Test staff <staff@test.se>",
                  "Påminnelse: rapporten till statsrådet för Kvartal 3 2015 ska vara klar 2015-10-14")]
    assert mail.get_content_type() == "text/plain" and mail["Content-Language"] == "sv"
    assert "samordnaren@example.se" in mail["From"]
    body = mail.get_content()
    assert body.startswith("Hej Test staff,")
    assert ("Rapporten till statsrådet för Kvartal 3 2015 (2015-07-01–2015-09-30) ska vara klar senast onsdag "
            "14 oktober 2015. Ingen version är utfärdad än.") in body
    assert "Avsnitt som ännu saknar text: Iakttagelser, Analys." in body
    assert "https://samordnaren.example.se/rapporter/2015Q3/" in body
    late = mails[("Test admin <admin@test.se>", "Försenad rapport till statsrådet: Kvartal 2 2015")].get_content()
    assert "skulle ha varit klar tisdag 14 juli 2015 och är inte utfärdad än." in late
    assert "Avsnitt som ännu saknar text: Iakttagelser, Analys, Förslag till åtgärder." in late
    with app.app_context():
        assert {m.status for m in db.session.scalars(select(OutboxMessage))} == {SENT}


def test_no_reminder_for_an_issued_report_nor_before_the_reminder_days(app):
    set_rhythm(app, report_reminder_days=0)
    for period in ("2014Q4", "2015Q1", "2015Q2"):
        issue(app, period)
    assert cli_json(app, "report", "remind", "--as-of", "2015-10-13")["queued"] == []
    assert [q["period"] for q in cli_json(app, "report", "remind", "--as-of", "2015-10-14")["queued"]] == [
        "2015Q3", "2015Q3"]
    issue(app, "2015Q4")
    # 2015Q4 was issued early: no reminder when its turn comes.
    assert cli_json(app, "report", "remind", "--as-of", "2016-01-14") == {
        "as_of": "2016-01-14", "queued": [], "already": 2}
    plain = cli(app, "report", "remind", "--as-of", "2016-01-14")
    assert plain.exit_code == 0 and "Påminnelser i utkorgen: 0" in plain.output


def test_the_reminders_text_names_a_period_of_another_rhythm(app, public_url):
    set_rhythm(app, report_interval_months=4, report_start=date(2014, 11, 1))
    queued = cli_json(app, "report", "remind", "--as-of", "2015-03-10")["queued"]
    assert {q["period"] for q in queued} == {"2014-11"}
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipients == "staff@test.se"))
    mail = email.message_from_string(message.message, policy=policy.default)
    assert mail["Subject"] == "Påminnelse: rapporten till statsrådet för november 2014–februari 2015 ska vara klar " \
                              "2015-03-14"
    assert "https://samordnaren.example.se/rapporter/2014-11/" in mail.get_content()
    assert re.search(r"\(2014-11-01–2015-02-28\)", unescape(mail.get_content()))
