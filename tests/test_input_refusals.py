"""Hostile and clumsy input, as plain examples: refused with a clear message, or cleaned, never a 500.

Each example runs on SQLite and on PostgreSQL (the `app` fixture). The property test over every route is
tests/test_hostile_input.py; these read as the specification of each fix.
"""
from __future__ import annotations

import csv
import io
import re
import pytest
from sqlalchemy import select, text as sql

from coordinator import create_app
from coordinator.auth.models import User
from coordinator.contacts.models import Contact
from coordinator.events.models import Event
from coordinator.extensions import db
from coordinator.plans.models import PlanLink
from coordinator.registry.models import PopulationImport

from .conftest import USERS, Client
from .test_events import event_data, organisations  # noqa: F401  (fixture)
from .test_invites import sites  # noqa: F401  (fixture)
from .test_measurement import form, make_questionnaire, make_request
from .test_plans import activity_row, make_link, make_plan, text
from .test_registry_views import scb_file, upload


# --------------------------------------------------------------------------- control characters

def test_an_event_title_with_a_nul_byte_is_saved_without_it(app, staff, organisations):
    response = staff.post("/dialogforum/nytt", event_data(title="Hearing\x00 om\x07 placeringar"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Event.title)).all() == ["Hearing om placeringar"]


def test_a_search_with_a_nul_byte_answers_with_the_search_page(app, staff):
    response = staff.get("/dialog/sok", query_string={"q": "barn\x00 och\x1b unga"})
    assert response.status_code == 200
    assert "barn och unga" in text(response)


def test_a_kommun_plan_comment_with_a_nul_byte_is_saved_without_it(app, sites, anon):
    ids = make_plan(app, sites[0], [[("pagar", True)]])
    _link_id, token = make_link(app, ids["plan"])
    activity = ids["activities"][0]
    page = anon.get(f"/plan/{token}")
    assert page.status_code == 200
    response = anon.post(f"/plan/{token}/aktivitet/{activity}", {
        f"a{activity}-status": "pagar", f"a{activity}-kommun_comment": "Klart\x00 i maj",
        f"a{activity}-version": str(activity_row(app, activity)["version"])})
    assert response.status_code in (200, 302), text(response)[:1000]
    assert activity_row(app, activity)["kommun_comment"] == "Klart i maj"


@pytest.mark.parametrize("path", ["/kalender/%00.ics", "/plan/abc%00def", "/matning/%01", "/rapporter/2016Q3%00/",
                                  "/register/kommun/01%0080"])
def test_a_path_with_a_control_character_is_not_found(app, staff, path):
    """No link of the app holds one; the kommun's link routes answer anonymous strangers the same."""
    assert staff.get(path).status_code == 404
    assert Client(app, None).get(path).status_code == 404


# --------------------------------------------------------------------------- ids beyond the database's integers

@pytest.mark.parametrize("url", [
    "/register/?grupp=2147483648", "/register/?ar=10000000000000000000000", "/register/grupper?ar=-1",
    "/besok/kalender?ar=9223372036854775808&manad=1", "/platser/1/?sida=99999999999999999999",
    "/uppgifter/?sida=2147483648", "/dialog/sok?q=x&tema=9223372036854775808",
])
def test_a_query_string_id_beyond_the_database_answers_without_an_error(app, admin, url):
    """The page is shown without the filter (or 404 when the path names nothing), never a server error."""
    assert admin.get(url).status_code in (200, 404)


@pytest.mark.parametrize("path", ["/besok/2147483648", "/besok/9223372036854775808", "/urval/-1",
                                  "/kontakter/99999999999999999999999"])
def test_a_path_id_beyond_the_database_is_not_found(app, staff, path):
    assert staff.get(path).status_code == 404


# --------------------------------------------------------------------------- dates

def test_a_plan_link_valid_through_9999_12_31_is_refused_with_a_message(app, sites, staff):
    ids = make_plan(app, sites[0], [[("pagar", True)]])
    response = staff.post(f"/handlingsplaner/plats/{sites[0]}/lankar", {"valid_through": "9999-12-31"})
    assert response.status_code in (200, 400, 422)
    assert "Ange ett datum mellan 2000-01-01 och 2099-12-31." in text(response)
    with app.app_context():
        assert db.session.scalars(select(PlanLink).where(PlanLink.plan_id == ids["plan"])).all() == []


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01"])
def test_an_event_date_outside_2000_to_2099_is_refused_and_the_form_keeps_what_was_typed(app, staff, organisations,
                                                                                          day):
    response = staff.post("/dialogforum/nytt", event_data(date=day, title="Rundabordssamtal i Umeå"))
    assert response.status_code in (200, 400, 422)
    page = text(response)
    assert "Ange ett datum mellan 2000-01-01 och 2099-12-31." in page
    assert f'value="{day}"' in response.get_data(as_text=True)
    assert 'value="Rundabordssamtal i Umeå"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Event)).all() == []


def test_an_impossible_date_is_refused_in_words(app, staff, organisations):
    response = staff.post("/dialogforum/nytt", event_data(date="2000-02-30"))
    assert response.status_code in (200, 400, 422)
    assert "Ange ett datum som ÅÅÅÅ-MM-DD, till exempel 2015-06-30." in text(response)


# --------------------------------------------------------------------------- numbers in imports

def test_an_scb_population_of_ten_to_the_22_is_refused_in_the_preview_naming_its_row(app, staff):
    lines = scb_file(2020).decode("latin-1").split("\r\n")
    line = next(i for i, row in enumerate(lines, start=1) if re.match(r'"\d{4} ', row))
    lines[line - 1] = lines[line - 1].rsplit(";", 1)[0] + ';"10000000000000000000000"'
    data = "\r\n".join(lines)
    response = upload(staff, data.encode("latin-1"))
    assert response.status_code == 422
    page = text(response)
    # The value is shown shortened (20 characters) and the row named.
    assert f"Rad {line}: folkmängden '{'1' + '0' * 18}…' är för stor för att vara en kommuns" in page, page[:2000]
    assert "Inget har sparats" in page
    with app.app_context():
        assert db.session.scalars(select(PopulationImport)).all() == []


# --------------------------------------------------------------------------- line breaks in names

def test_a_contact_name_with_a_line_break_is_refused_at_entry(app, sites, staff):
    response = staff.post(f"/kontakter/plats/{sites[0]}/ny", {
        "role": "socialchef", "name": "Anna\r\nBcc: alla@example.se", "email": "anna@kommun.example.se"})
    assert response.status_code in (200, 400, 422)
    assert "Skriv på en rad." in text(response)
    with app.app_context():
        assert db.session.scalars(select(Contact)).all() == []


def test_a_contact_name_with_a_line_break_is_refused_in_an_import_naming_its_row(app, sites, staff):
    with app.app_context():
        from coordinator.sampling.models import Site
        site = db.session.get(Site, sites[0])
        code, enhet = site.kommunkod, site.enhet or ""
    rows = io.StringIO()
    writer = csv.writer(rows, delimiter=";")
    writer.writerow(["kommunkod", "enhet", "roll", "namn", "e-post"])
    writer.writerow([code, enhet, "socialchef", "Bo Ek", "bo@kommun.example.se"])
    writer.writerow([code, enhet, "socialchef", "Anna\nAndersson", "anna@kommun.example.se"])
    response = staff.post("/kontakter/import", {"file": (io.BytesIO(rows.getvalue().encode()), "kontakter.csv")},
                          content_type="multipart/form-data")
    assert response.status_code in (200, 400, 422)
    assert "Rad 3: ett fält innehåller en radbrytning eller ett styrtecken." in text(response), text(response)[:2000]
    with app.app_context():
        assert db.session.scalars(select(Contact)).all() == []


def test_a_user_name_with_a_line_break_is_refused(app, admin):
    response = admin.post("/anvandare/ny", {"email": "ny@test.se", "name": "Ny\nPerson", "role": "staff",
                                            "active": "y"})
    assert response.status_code in (200, 400, 422)
    assert "Skriv på en rad." in text(response)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "ny@test.se")) is None


# --------------------------------------------------------------------------- the 500 page

def failing_app(app):
    """The app on this test's database, with one route (only here) that fails after a refused statement."""
    broken = create_app({"TESTING": True, "PROPAGATE_EXCEPTIONS": False,
                         "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "SERVER_NAME": None})

    @broken.route("/test/fel")
    def fails():
        db.session.execute(sql("SELECT * FROM no_such_table"))  # PostgreSQL's transaction is broken after this
        return "not reached"

    return broken


@pytest.mark.parametrize("lang, heading, body", [
    ("sv", "Något gick fel", "Det blev ett fel hos oss, och det du skickade har inte sparats."),
    ("en", "Something went wrong", "Something went wrong on our side, and what you sent has not been saved."),
])
def test_the_500_page_is_in_the_apps_layout_and_language(app, lang, heading, body):
    broken = failing_app(app)
    try:
        client = Client(broken, USERS["staff"])
        client.get(f"/sprak/{lang}")
        response = client.get("/test/fel")
        html = response.get_data(as_text=True)
        assert response.status_code == 500
        assert f"<h1>{heading}</h1>" in html and body in text(response)
        assert 'aria-label="Huvudmeny"' in html or 'aria-label="Main menu"' in html  # the app's layout
        assert "Internal Server Error" not in html and "no_such_table" not in html
    finally:
        with broken.app_context():
            db.engine.dispose()


# --------------------------------------------------------------------------- CSV exports

def test_formulas_a_kommun_types_are_neutralised_in_the_offices_csv_export(app, sites, staff, anon):
    """A kommun answers =HYPERLINK(…) and @SUM(A1) through its link; the export shows them as text, and a
    negative number stays a number."""
    questions = [{"text": "Vad vill ni berätta?", "kind": "text"},
                 {"text": "Hur många ärenden?", "kind": "tal"},
                 {"text": "Något mer?", "kind": "text"}]
    qn = make_questionnaire(app, questions, rules={})
    request_id, token = make_request(app, sites[0], qn["id"])
    data = form(app, request_id, qn["q"], {1: '=HYPERLINK("http://x","y")', 2: "-3", 3: "@SUM(A1)"}, action="skicka")
    response = anon.post(f"/matning/{token}", data)
    assert response.status_code == 302, text(response)[:1500]
    export = staff.get(f"/matningar/{qn['id']}/resultat/svar.csv")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig")), delimiter=";"))
    answers = [r[8] for r in rows[1:]]
    assert answers == ['\'=HYPERLINK("http://x","y")', "-3", "'@SUM(A1)"]


@pytest.mark.parametrize("cell, written", [
    ("=1+1", "'=1+1"), ("+46 8 123", "'+46 8 123"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("-3", "-3"), ("-3,5", "-3,5"), ("Ja", "Ja"), ("", ""), (-3, "-3"),
])
def test_every_text_cell_that_a_spreadsheet_would_run_gets_a_leading_apostrophe(cell, written):
    from coordinator.csvexport import csv_bytes

    data = csv_bytes(["Svar"], [[cell]]).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(data), delimiter=";"))[1] == [written]


def test_a_date_of_only_a_line_break_is_refused_as_missing(app, sites, staff):
    make_plan(app, sites[0], [[("pagar", True)]])
    response = staff.post(f"/handlingsplaner/plats/{sites[0]}/lankar", {"valid_through": "\r\n "})
    assert response.status_code == 400
    assert "Ange ett datum (ÅÅÅÅ-MM-DD)." in text(response)
