"""The staff pages (people who travel, their absences), the monthly pace page and the planning settings on
the assignment page (/besok/uppdrag, /besok/uppdrag/personal, /besok/uppdrag/takt)."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from coordinator.extensions import db
from coordinator.scheduling.models import Assignment, MonthPace, StaffAbsence, StaffMember

from .helpers import audit_events, confirm_through_page, form_fields
from .test_contacts_settings import SETTINGS, form_values, input_value, text

STAFF = "/besok/uppdrag/personal"
PACE = "/besok/uppdrag/takt"


def add_member(admin, name="Anna Andersson", coordinator=False, **extra) -> int:
    data = {"name": name, "title": "Handläggare", "email": "", **extra}
    if coordinator:
        data["coordinator"] = "y"
    response = admin.post(f"{STAFF}/ny", data)
    assert response.status_code == 302, text(response)
    return int(re.search(r"/personal/(\d+)$", response.headers["Location"]).group(1))


def member(app, staff_id: int) -> StaffMember:
    with app.app_context():
        m = db.session.get(StaffMember, staff_id)
        db.session.expunge_all()
        return m


# =========================================================================== staff

def test_admin_adds_edits_and_lists_staff_and_the_log_keeps_ids_only(app, admin):
    assert "Ingen personal är inlagd." in text(admin.get(STAFF))
    boss = add_member(admin, "Demo Chef", coordinator=True, email="chef@example.se")
    anna = add_member(admin)
    page = text(admin.get(STAFF))
    assert "Demo Chef" in page and "Anna Andersson" in page and "2 personer" in page
    assert "Ingen aktiv person är markerad som samordnare" not in page
    fields = form_values(admin, f"{STAFF}/{anna}")
    assert fields["version"] == "1" and fields["name"] == "Anna Andersson"
    fields.pop("coordinator", None)
    response = admin.post(f"{STAFF}/{anna}", dict(fields, name="Anna Berg", title="Utredare"))
    assert response.status_code == 302
    m = member(app, anna)
    assert (m.name, m.title, m.version, m.coordinator) == ("Anna Berg", "Utredare", 2, False)
    assert member(app, boss).coordinator
    created, updated = audit_events(app, "staff.created"), audit_events(app, "staff.updated")
    assert [e.object_id for e in created] == [str(boss), str(anna)]
    assert updated[0].details["fields"] == ["name", "title"]
    dumped = repr([e.details for e in created + updated])
    assert "Anna" not in dumped and "chef@" not in dumped


def test_the_name_is_required_on_one_line_and_the_email_must_be_an_address(app, admin):
    for name, message in (("", "Ange personens namn."), ("Anna\nAndersson", "Skriv på en rad."),
                          ("x" * 201, "Högst 200 tecken.")):
        response = admin.post(f"{STAFF}/ny", {"name": name})
        assert response.status_code == 422 and message in text(response), name
    response = admin.post(f"{STAFF}/ny", {"name": "Anna\x00 Andersson", "email": "inte en adress"})
    assert response.status_code == 422 and "Ange en giltig e-postadress" in text(response)
    # NUL is removed by the request before the form sees it; the name is stored without it.
    add_member(admin, "Bo\x00 Berg")
    with app.app_context():
        assert db.session.scalars(select(StaffMember.name)).all() == ["Bo Berg"]


def test_a_second_coordinator_is_refused_and_the_coordinator_cannot_be_made_inactive(app, admin):
    boss = add_member(admin, "Demo Chef", coordinator=True)
    response = admin.post(f"{STAFF}/ny", {"name": "Ny Chef", "coordinator": "y"})
    assert response.status_code == 422 and "Demo Chef är redan samordnare." in text(response)
    anna = add_member(admin)
    fields = form_values(admin, f"{STAFF}/{anna}")
    response = admin.post(f"{STAFF}/{anna}", dict(fields, coordinator="y"))
    assert response.status_code == 422 and "Demo Chef är redan samordnare." in text(response)
    assert not member(app, anna).coordinator
    # The coordinator cannot be made inactive: the confirmation page says why, and a post changes nothing.
    page = admin.get(f"{STAFF}/{boss}/inaktivera")
    assert "är samordnare och följer med på varje besök" in text(page) and "Gör inaktiv" not in text(page)
    response = admin.post(f"{STAFF}/{boss}/inaktivera", {"confirmed": "1"})
    assert response.status_code == 409 and member(app, boss).active
    # The way to hand over: untick the coordinator, mark the new one.
    fields = form_values(admin, f"{STAFF}/{boss}")
    fields.pop("coordinator")
    response = admin.post(f"{STAFF}/{boss}", fields)
    assert response.status_code == 302
    assert "Ingen är markerad som samordnare nu." in text(admin.get(response.headers["Location"]))
    assert "Ingen aktiv person är markerad som samordnare" in text(admin.get(STAFF))
    handover = dict(form_values(admin, f"{STAFF}/{anna}"), coordinator="y")
    assert admin.post(f"{STAFF}/{anna}", handover).status_code == 302
    assert member(app, anna).coordinator and not member(app, boss).coordinator


def test_deactivate_and_activate_through_confirmation_pages(app, admin):
    add_member(admin, "Demo Chef", coordinator=True)
    anna = add_member(admin)
    page = text(admin.get(f"{STAFF}/{anna}/inaktivera"))
    assert "Göra Anna Andersson inaktiv?" in page and "Avbryt" in page
    assert admin.post(f"{STAFF}/{anna}/inaktivera").status_code == 200  # no confirmation: the page again
    assert member(app, anna).active
    assert confirm_through_page(admin, f"{STAFF}/{anna}/inaktivera").status_code == 302
    assert not member(app, anna).active
    assert "Nej" in text(admin.get(STAFF))
    assert confirm_through_page(admin, f"{STAFF}/{anna}/aktivera").status_code == 302
    assert member(app, anna).active
    assert [e.action for e in audit_events(app, "staff.") if e.object_id == str(anna)] == [
        "staff.created", "staff.deactivated", "staff.activated"]


def test_a_stale_edit_is_refused_and_shows_the_stored_values(app, admin):
    anna = add_member(admin)
    mine = form_values(admin, f"{STAFF}/{anna}")
    mine.pop("coordinator", None)
    assert admin.post(f"{STAFF}/{anna}", dict(mine, title="Utredare")).status_code == 302
    response = admin.post(f"{STAFF}/{anna}", dict(mine, name="Anna Ek"))
    html, page = response.get_data(as_text=True), text(response)
    assert response.status_code == 409 and "Personen har ändrats av någon annan" in page
    assert input_value(html, "title") == "Utredare" and input_value(html, "version") == "2"
    assert member(app, anna).name == "Anna Andersson"


def test_csrf_is_required_and_only_admin_edits(app, admin, staff, reader):
    anna = add_member(admin)
    assert admin.post(f"{STAFF}/ny", {"name": "Utan token"}, csrf=False).status_code == 400
    fields = form_values(admin, f"{STAFF}/{anna}")
    assert admin.post(f"{STAFF}/{anna}", dict(fields, name="X"), csrf=False).status_code == 400
    assert admin.post(f"{STAFF}/{anna}/franvaro/ny", {"start_date": "2015-01-01", "end_date": "2015-01-02"},
                      csrf=False).status_code == 400
    assert member(app, anna).name == "Anna Andersson"
    # Staff read the pages; only admin edits. Readers do not see the settings pages at all (as /besok/uppdrag).
    assert staff.get(STAFF).status_code == 200 and "Lägg till person" not in text(staff.get(STAFF))
    assert staff.get(f"{STAFF}/{anna}").status_code == 200
    assert staff.post(f"{STAFF}/{anna}", {"name": "X"}).status_code == 403
    assert staff.get(f"{STAFF}/ny").status_code == 403
    assert staff.post(f"{STAFF}/{anna}/franvaro/ny", {"start_date": "2015-01-01"}).status_code == 403
    assert staff.post(f"{STAFF}/{anna}/inaktivera", {"confirmed": "1"}).status_code == 403
    assert staff.post(PACE, {}).status_code == 403
    assert reader.get(STAFF).status_code == 403 and reader.get(PACE).status_code == 403
    assert member(app, anna).name == "Anna Andersson"


def test_absences_are_added_checked_and_removed(app, admin):
    anna = add_member(admin)
    new = f"{STAFF}/{anna}/franvaro/ny"
    response = admin.post(new, {"start_date": "2015-10-12", "end_date": "2015-10-16", "reason": "Kurs"})
    assert response.status_code == 302
    page = text(admin.get(f"{STAFF}/{anna}"))
    assert "2015-10-12 2015-10-16 Kurs" in page
    for data, message in (
            ({"start_date": "2015-10-16", "end_date": "2015-10-20"}, "överlappar en frånvaro som redan är inlagd, "
                                                                      "2015-10-12–2015-10-16"),
            ({"start_date": "2015-11-10", "end_date": "2015-11-09"}, "Sista dagen kan inte vara före den första"),
            ({"start_date": "1999-12-31", "end_date": "2015-11-09"}, "Ange ett datum mellan 2000-01-01 och 2099-12-31"),
            ({"start_date": "9999-01-01", "end_date": "9999-01-02"}, "Ange ett datum mellan 2000-01-01 och 2099-12-31"),
            ({"start_date": "2015-02-30", "end_date": ""}, "Ange ett datum som ÅÅÅÅ-MM-DD"),
            ({"start_date": "2015-11-01", "end_date": "2015-11-02", "reason": "a\nb"}, "Skriv på en rad.")):
        response = admin.post(new, data)
        assert response.status_code == 422 and message in text(response), data
    assert admin.post(new, {"start_date": "2015-10-17", "end_date": "2015-10-17"}).status_code == 302
    with app.app_context():
        absences = db.session.scalars(select(StaffAbsence).order_by(StaffAbsence.start_date)).all()
        assert [(a.start_date, a.end_date) for a in absences] == [(date(2015, 10, 12), date(2015, 10, 16)),
                                                                  (date(2015, 10, 17), date(2015, 10, 17))]
        first = absences[0].id
    url = f"{STAFF}/{anna}/franvaro/{first}/ta-bort"
    assert "Ta bort frånvaron 2015-10-12–2015-10-16 för Anna Andersson?" in text(admin.get(url))
    assert confirm_through_page(admin, url).status_code == 302
    with app.app_context():
        assert db.session.get(StaffAbsence, first) is None
    added, removed = audit_events(app, "staff.absence_added"), audit_events(app, "staff.absence_removed")
    assert added[0].details == {"absence_id": first, "start": "2015-10-12", "end": "2015-10-16"}
    assert removed[0].details["absence_id"] == first and "Kurs" not in repr(removed[0].details)
    # Another member's absence is not found under this member.
    other = add_member(admin, "Bo Berg")
    assert admin.get(f"{STAFF}/{other}/franvaro/{absences[1].id}/ta-bort").status_code == 404


# =========================================================================== assignment settings

def test_the_planning_settings_are_saved_and_validated(app, admin):
    data = form_values(admin, SETTINGS)
    assert (data["invitation_lead_days"], data["staff_per_visit"], data["max_day_hours"], data["offer_count"],
            data["offer_reminder_days"]) == ("28", "1", "10", "3", "7")
    html = admin.get(SETTINGS).get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="windows_from_phases"', html)
    for name, value, message in (("invitation_lead_days", "366", "Ange ett heltal från 0 till 365."),
                                 ("staff_per_visit", "11", "Ange ett heltal från 0 till 10."),
                                 ("max_day_hours", "3,5", "Ange ett antal timmar från 4 till 24."),
                                 ("max_day_hours", "lång", "Ange ett antal timmar"),
                                 ("offer_count", "6", "Ange ett heltal från 1 till 5."),
                                 ("offer_reminder_days", "0", "Ange ett heltal från 1 till 60.")):
        response = admin.post(SETTINGS, dict(data, **{name: value}))
        assert response.status_code == 422 and message in text(response), name
        assert input_value(response.get_data(as_text=True), name) == value
    data = dict(data, invitation_lead_days="14", staff_per_visit="2", max_day_hours="9,5", offer_count="2",
                offer_reminder_days="10")
    del data["windows_from_phases"], data["report_week_free"]  # unticked boxes send nothing
    response = admin.post(SETTINGS, data)
    assert response.status_code == 302, text(response)
    with app.app_context():
        a = db.session.get(Assignment, 1)
        assert (a.windows_from_phases, a.invitation_lead_days, a.report_week_free, a.staff_per_visit,
                a.max_day_hours, a.offer_count, a.offer_reminder_days) == (False, 14, False, 2, 9.5, 2, 10)
    [event] = audit_events(app, "assignment.changed")
    assert set(event.details["fields"]) == {"windows_from_phases", "invitation_lead_days", "report_week_free",
                                            "staff_per_visit", "max_day_hours", "offer_count", "offer_reminder_days"}
    assert event.details["new"]["max_day_hours"] == 9.5
    again = form_values(admin, SETTINGS)
    assert again["max_day_hours"] == "9.5"


def test_the_derived_windows_are_shown_or_why_not(app, admin, staff):
    page = text(admin.get(SETTINGS))
    # No sample is adopted: round 1 starts phase 1's start plus the 28 days for invitations.
    assert "Framräknat från faserna" in page
    assert "Omgång 1: 2014-11-29 – 2015-12-31" in page and "Omgång 2: 2016-04-01 – 2016-12-31" in page
    assert "Omgång 1: 2014-11-29 – 2015-12-31" in text(staff.get(SETTINGS))
    with app.app_context():
        a = db.session.get(Assignment, 1)
        a.invitation_lead_days = 365
        db.session.commit()
    page = text(admin.get(SETTINGS))
    assert "Fönstren kan inte räknas fram från faserna" not in page  # 2015-11-01 is still before phase 2 ends
    with app.app_context():
        from coordinator.scheduling.models import Phase
        db.session.delete(db.session.scalars(select(Phase).where(Phase.number == 4)).one())
        db.session.commit()
    page = text(admin.get(SETTINGS))
    assert "Fönstren kan inte räknas fram från faserna: Fas 4 saknas" in page


# =========================================================================== pace

def test_the_pace_page_shows_the_even_targets_and_saves_weights(app, admin, staff):
    page = text(admin.get(PACE))
    assert "Vikten 0,5 betyder hälften så många besök den månaden" in page
    assert "december 2015" in page and "april 2016" in page
    html = admin.get(PACE).get_data(as_text=True)
    fields = form_fields(html, PACE)
    assert fields["weight-2015-09"] == "1" and fields["note-2015-09"] == ""
    response = admin.post(PACE, dict(fields, **{"weight-2015-09": "0,5", "note-2015-09": "Kvartalsrapport",
                                                 "weight-2016-05": "2"}))
    assert response.status_code == 302, text(response)
    assert "Takten är sparad (2 månader ändrades)." in text(admin.get(PACE))
    with app.app_context():
        rows = {(p.year, p.month): (p.weight, p.note) for p in db.session.scalars(select(MonthPace))}
    assert rows == {(2015, 9): (0.5, "Kvartalsrapport"), (2016, 5): (2.0, "")}
    html = admin.get(PACE).get_data(as_text=True)
    assert input_value(html, "weight-2015-09") == "0.5" and input_value(html, "note-2015-09") == "Kvartalsrapport"
    # Back to 1 without a note: the row goes.
    fields = form_fields(html, PACE)
    assert admin.post(PACE, dict(fields, **{"weight-2016-05": "1"})).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(MonthPace.month)).all() == [9]
    [first, second] = audit_events(app, "pace.changed")
    assert first.details["months"] == ["2015-09", "2016-05"] and second.details["count"] == 1
    for value, message in (("5,1", "Ange ett tal från 0 till 5."), ("-1", "Ange ett tal från 0 till 5."),
                           ("mycket", "Ange ett tal, till exempel 1 eller 0,5.")):
        response = admin.post(PACE, dict(fields, **{"weight-2015-10": value}))
        assert response.status_code == 422 and message in text(response)
        assert input_value(response.get_data(as_text=True), "weight-2015-10") == value
    response = admin.post(PACE, dict(fields, **{"note-2015-10": "a\nb"}))
    assert response.status_code == 422 and "Skriv på en rad." in text(response)
    assert admin.post(PACE, {k: v for k, v in fields.items() if k != "csrf_token"}, csrf=False).status_code == 400
    # Staff see the weights without a form.
    page = staff.get(PACE)
    assert page.status_code == 200 and "Kvartalsrapport" in text(page) and "Spara takten" not in text(page)


def test_the_pace_targets_follow_the_weights(app, monkeypatch):
    from coordinator.scheduling import pace
    from coordinator.scheduling.pace import month_rows
    monkeypatch.setattr(pace, "visits_per_round", lambda: {1: 50, 2: 50})
    with app.test_request_context():
        with app.app_context():
            a = db.session.get(Assignment, 1)
            even = {r["key"]: r for r in month_rows(a)[0]}
            db.session.add(MonthPace(year=2015, month=9, weight=0.5, note=""))
            db.session.commit()
            weighted = {r["key"]: r for r in month_rows(a)[0]}
    assert even["2015-09"]["even"] == even["2015-09"]["weighted"]
    assert abs(weighted["2015-09"]["weighted"] - weighted["2015-09"]["even"] / 2) < 0.5
    assert weighted["2015-09"]["weighted"] < weighted["2015-09"]["even"]
    assert abs(sum(r["weighted"] for r in weighted.values() if r["rounds"] == [1])
               - sum(r["even"] for r in even.values() if r["rounds"] == [1])) < 1e-6


def test_the_settings_pages_share_a_menu_and_breadcrumbs(app, admin):
    anna = add_member(admin)
    for url, current in ((SETTINGS, "Uppdraget"), (STAFF, "Personal"), (f"{STAFF}/{anna}", "Personal"),
                         (f"{STAFF}/{anna}/franvaro/ny", "Personal"), (PACE, "Takt")):
        html = admin.get(url).get_data(as_text=True)
        menu = re.search(r'<nav class="subnav" aria-label="Uppdragets inställningar">(.*?)</nav>', html, re.S)
        assert menu is not None, url
        assert re.findall(r'<a href="([^"]+)"', menu.group(1)) == [SETTINGS, STAFF, PACE]
        assert re.findall(r'aria-current="page">([^<]+)</a>', menu.group(1)) == [current], url
        if url != SETTINGS:
            assert 'aria-label="Brödsmulor"' in html and f'<a href="{SETTINGS}">Uppdraget</a>' in html, url


# =========================================================================== in a browser, keyboard only

def test_a_member_and_an_absence_are_added_with_the_keyboard(app, page):
    from .conftest import browser_login

    page.set_default_timeout(10_000)
    page.set_default_navigation_timeout(10_000)
    browser_login(page, "admin")
    page.goto(STAFF)
    page.get_by_role("link", name="Lägg till person").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{STAFF}/ny")
    page.get_by_label("Namn").focus()
    page.keyboard.type("Demo Tangentbord")
    page.keyboard.press("Tab")
    page.keyboard.type("Handläggare")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/personal/\d+$"))
    assert "Demo Tangentbord är tillagd." in page.content()
    page.get_by_role("link", name="Lägg till frånvaro").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/franvaro/ny")
    # The date fields are the browser's own date inputs (Tab walks their parts): filled as other browser tests do.
    page.get_by_label("Första dagen").fill("2015-10-12")
    page.get_by_label("Sista dagen").fill("2015-10-16")
    page.get_by_label("Anledning").focus()
    page.keyboard.type("Kurs")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/personal/\d+#franvaro$"))
    row = page.get_by_role("row", name=re.compile("2015-10-12"))
    assert "2015-10-16" in row.inner_text() and "Kurs" in row.inner_text()
    page.goto(STAFF)
    cells = page.get_by_role("row", name=re.compile("Demo Tangentbord")).get_by_role("cell").all_inner_texts()
    assert cells == ["Handläggare", "Nej", "Ja", "1", "Ingen"]  # the absence is long past: none is coming


def test_the_staff_list_reads_the_same_number_of_statements_for_more_people(app, admin):
    from .test_audit_words import Statements

    def count() -> int:
        admin.get(STAFF)  # the session and the user are read once before counting
        with app.app_context(), Statements() as s:
            assert admin.get(STAFF).status_code == 200
        return s.count

    for n in range(2):
        anna = add_member(admin, f"Person {n}")
        admin.post(f"{STAFF}/{anna}/franvaro/ny", {"start_date": "2015-10-12", "end_date": "2015-10-16"})
    few = count()
    assert few > 0
    for n in range(2, 7):
        anna = add_member(admin, f"Person {n}")
        admin.post(f"{STAFF}/{anna}/franvaro/ny", {"start_date": "2015-10-12", "end_date": "2015-10-16"})
    assert count() == few
