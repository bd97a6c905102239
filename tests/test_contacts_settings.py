"""Assignment settings (phases, blackouts, rules) and contacts per visit site (pages and CSV import)."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path
from datetime import date, time
from html import unescape
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from coordinator.audit import AuditEvent
from coordinator.contacts import service as contact_service
from coordinator.contacts.models import CONTACT_ROLES, Contact
from coordinator.extensions import db
from coordinator.sampling.models import Site
from coordinator.sampling.service import adopted_sample
from coordinator.scheduling.models import Assignment, Blackout, Phase

from .helpers import adopt_sample, confirm_through_page

SETTINGS = "/besok/uppdrag"


def text(response) -> str:
    """Page text with tags removed and every kind of space made plain (for robust asserts)."""
    html = response.get_data(as_text=True)
    plain = unescape(re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"[\s\u00a0\u202f]+", " ", plain)


def form_values(client, url: str) -> dict[str, str]:
    """The named inputs, selects and textareas of the first form with a version or the page's form."""
    html = client.get(url).get_data(as_text=True)
    data = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "csrf_token" or name.group(1) in data:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*selected', body)
        data[name] = next(g for g in chosen.groups() if g is not None) if chosen else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[name] = unescape(body).strip()
    return data


def input_value(html: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    value = tag and re.search(r'value="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else None


def audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return events


def adopt(app) -> list[dict]:
    """Draw and adopt the 50 visit sites; returns them as (id, kommunkod, enhet, label) dicts."""
    adopt_sample(app)
    with app.app_context():
        return [{"id": s.id, "kommunkod": s.kommunkod, "enhet": s.enhet, "label": s.label}
                for s in adopted_sample().active_sites]


def count_contacts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Contact))


# =========================================================================== assignment settings

def test_staff_reads_the_settings_and_only_admin_may_save(app, staff, reader, anon):
    response = staff.get(SETTINGS)
    page = text(response)
    assert response.status_code == 200
    assert "Bara en administratör kan ändra" in page and "Spara uppdraget" not in page
    assert "2015-01-07 – 2015-12-31" in page  # round 1 window
    assert "Utforskande fas" in page and "Juli 2016" in page  # phases and blackouts
    # Holidays come from the `holidays` package, without ordinary Sundays; the 2014–2017 assignment is over,
    # so its whole period is shown.
    assert "Midsommarafton" in page and "2015-06-19" in page and "Juldagen" in page
    assert "Helgdagar under uppdraget (2014-11-01–2017-04-30)" in page
    assert "Söndag" not in page.replace("söndag", "")  # only holiday names, not "Söndag" entries
    assert "Ändra" not in page and "Lägg till fas" not in page
    assert staff.post(SETTINGS, {"name": "x"}).status_code == 403
    assert staff.get("/besok/uppdrag/faser/ny").status_code == 403
    assert reader.get(SETTINGS).status_code == 403
    assert anon.get(SETTINGS).status_code == 302


def test_holiday_window_is_the_next_twelve_months_while_the_assignment_runs(app):
    from coordinator.scheduling.settings import holiday_window, public_holidays

    a = SimpleNamespace(start_date=date(2014, 11, 1), end_date=date(2017, 4, 30))
    assert holiday_window(a, date(2015, 3, 10)) == (date(2015, 3, 10), date(2016, 3, 10), True)
    assert holiday_window(a, date(2014, 1, 1)) == (date(2014, 11, 1), date(2015, 11, 1), True)
    assert holiday_window(a, date(2017, 1, 31)) == (date(2017, 1, 31), date(2017, 4, 30), True)
    assert holiday_window(a, date(2020, 1, 1)) == (date(2014, 11, 1), date(2017, 4, 30), False)
    with app.test_request_context():
        found = dict(public_holidays(date(2015, 12, 20), date(2016, 1, 10)))
    assert found == {date(2015, 12, 24): "Julafton", date(2015, 12, 25): "Juldagen",
                     date(2015, 12, 26): "Annandag jul", date(2015, 12, 31): "Nyårsafton",
                     date(2016, 1, 1): "Nyårsdagen", date(2016, 1, 6): "Trettondedag jul"}


def test_admin_sees_the_form_prefilled_with_the_shipped_defaults(app, admin):
    html = admin.get(SETTINGS).get_data(as_text=True)
    assert input_value(html, "round2_start") == "2016-04-01"
    assert input_value(html, "home_name") == "Stockholm"
    lat, lon = float(input_value(html, "home_lat")), float(input_value(html, "home_lon"))
    assert 59.2 < lat < 59.5 and 17.8 < lon < 18.3
    assert input_value(html, "default_start") == "09:00"
    assert input_value(html, "version") == "1"


def test_admin_saves_the_settings_and_the_change_is_audited_without_personal_values(app, admin):
    data = form_values(admin, SETTINGS)
    data.update(max_per_week="4", min_gap_days="100", home_lat="59,5", default_end="16:30",
                organizer_name="Anna Andersson", organizer_email="anna.andersson@regeringskansliet.se")
    response = admin.post(SETTINGS, data)
    assert response.status_code == 302
    assert "sparade (6 ändringar)" in text(admin.get(response.headers["Location"]))
    with app.app_context():
        a = db.session.get(Assignment, 1)
        assert (a.max_per_week, a.min_gap_days, a.home_lat, a.default_end) == (4, 100, 59.5, time(16, 30))
        assert a.organizer_email == "anna.andersson@regeringskansliet.se"
        assert a.version == 2
    [event] = audit(app, "assignment.changed")
    assert event.actor == "admin@test.se" and event.object_type == "assignment" and event.object_id == "1"
    assert set(event.details["fields"]) == {"max_per_week", "min_gap_days", "home_lat", "default_end",
                                            "organizer_name", "organizer_email"}
    assert event.details["old"]["max_per_week"] == 3 and event.details["new"]["max_per_week"] == 4
    assert event.details["new"]["default_end"] == "16:30"
    dumped = json.dumps(event.details, ensure_ascii=False)
    assert "anna.andersson" not in dumped and "Anna Andersson" not in dumped
    # Saving the same values again changes nothing and logs nothing.
    again = form_values(admin, SETTINGS)
    assert again["version"] == "2" and again["home_lat"] == "59.5"
    admin.post(SETTINGS, again)
    assert len(audit(app, "assignment.changed")) == 1


def test_invalid_settings_show_swedish_errors_and_keep_what_was_typed(app, admin):
    data = form_values(admin, SETTINGS)
    typed = dict(end_date="2014-10-01", round2_start="2015-11-30", max_per_day="0", min_gap_days="-1",
                 home_lat="70,1", home_lon="öst", organizer_email="inte-en-adress", default_end="08:00",
                 report_interval_months="tre", round1_start="2015-02-30")
    data.update(typed)
    response = admin.post(SETTINGS, data)
    html, page = response.get_data(as_text=True), text(response)
    assert response.status_code == 422
    assert "Formuläret innehåller fel" in page
    assert "Uppdraget kan inte sluta före det börjar (2014-11-01)." in page
    assert "Omgång 2 måste börja efter att omgång 1 slutar (2015-12-31)." in page
    assert "Ange ett heltal från 1 till 10." in page
    assert "Ange ett heltal från 0 till 730." in page
    assert "Ska ligga inom Sverige: mellan 55 och 69,5." in page
    assert "Ange ett tal i decimalgrader" in page
    assert "Ange en giltig e-postadress" in page
    assert "Besöket måste sluta efter att det börjar (09:00)." in page
    assert "Ange ett heltal." in page
    assert "Ange ett datum som ÅÅÅÅ-MM-DD" in page
    for name, value in typed.items():
        assert input_value(html, name) == value, name
    assert 'aria-invalid="true"' in html and 'href="#end_date"' in html
    with app.app_context():
        a = db.session.get(Assignment, 1)
        assert a.end_date == date(2017, 4, 30) and a.max_per_day == 1 and a.version == 1
    assert audit(app, "assignment.changed") == []


def test_round_windows_must_lie_inside_the_assignment(app, admin):
    data = form_values(admin, SETTINGS)
    data.update(round1_start="2014-10-01", round2_end="2017-05-31", round1_end="2015-12-31")
    response = admin.post(SETTINGS, data)
    page = text(response)
    assert response.status_code == 422
    assert page.count("Ska ligga inom uppdraget, 2014-11-01–2017-04-30.") >= 2
    data = form_values(admin, SETTINGS)
    data.update(round1_end="2015-01-01", round1_start="2015-03-01", max_per_day="3", max_per_week="2",
                home_lat="", final_report_due="2014-01-01")
    page = text(admin.post(SETTINGS, data))
    assert "Omgång 1 kan inte sluta före den börjar (2015-03-01)." in page
    assert "Kan inte vara färre än högst antal besök per dag (3)." in page
    assert "Ange koordinaten i decimalgrader." in page
    assert "Slutrapporten kan inte lämnas innan uppdraget börjar." in page


def test_a_stale_save_is_refused_and_shows_the_stored_values(app, admin):
    mine = form_values(admin, SETTINGS)
    theirs = dict(mine, max_per_week="5")
    assert admin.post(SETTINGS, theirs).status_code == 302
    mine["min_gap_days"] = "120"
    response = admin.post(SETTINGS, mine)
    html, page = response.get_data(as_text=True), text(response)
    assert response.status_code == 409
    assert "Uppdraget har ändrats av någon annan" in page and "Dina ändringar sparades inte" in page
    assert input_value(html, "max_per_week") == "5"        # the stored value is shown
    assert input_value(html, "min_gap_days") == "90"
    assert input_value(html, "version") == "2"
    assert re.search(r"Minsta antal dagar mellan en besöksplats två besök\s*</th>\s*<td>120</td>\s*<td>90</td>", html)
    with app.app_context():
        a = db.session.get(Assignment, 1)
        assert (a.max_per_week, a.min_gap_days, a.version) == (5, 90, 2)
    assert len(audit(app, "assignment.changed")) == 1


def test_phase_add_edit_delete(app, admin, staff):
    page = text(admin.get(SETTINGS))
    assert "Lägg till fas" in page
    data = form_values(admin, "/besok/uppdrag/faser/ny")
    assert data["number"] == "6"
    # Errors first: end before start, outside the assignment, a number that is taken, no name.
    bad = dict(data, number="2", name="", start_date="2016-05-01", end_date="2016-04-01")
    response = admin.post("/besok/uppdrag/faser/ny", bad)
    page = text(response)
    assert response.status_code == 422
    assert "Det finns redan en fas med nummer 2." in page and "Ange fasens namn." in page
    assert "Kan inte vara före startdatum (2016-05-01)." in page
    assert input_value(response.get_data(as_text=True), "end_date") == "2016-04-01"
    page = text(admin.post("/besok/uppdrag/faser/ny", dict(data, name="Efterarbete", start_date="2017-04-01",
                                                             end_date="2017-06-30")))
    assert "Ska ligga inom uppdraget, 2014-11-01–2017-04-30." in page
    good = dict(data, name="Hearing med myndigheter", start_date="2015-03-16", end_date="2015-03-16",
                description="Nationell dialog")
    response = admin.post("/besok/uppdrag/faser/ny", good)
    assert response.status_code == 302 and response.headers["Location"].endswith("#faser")
    with app.app_context():
        phase = db.session.scalar(select(Phase).where(Phase.number == 6))
        assert (phase.name, phase.start_date, phase.description) == ("Hearing med myndigheter", date(2015, 3, 16),
                                                                     "Nationell dialog")
        phase_id = phase.id
    assert "Hearing med myndigheter" in text(staff.get(SETTINGS))
    # Edit.
    url = f"/besok/uppdrag/faser/{phase_id}"
    data = form_values(admin, url)
    assert data["name"] == "Hearing med myndigheter" and data["start_date"] == "2015-03-16"
    assert admin.post(url, dict(data, end_date="2015-03-17")).status_code == 302
    with app.app_context():
        assert db.session.get(Phase, phase_id).end_date == date(2015, 3, 17)
    [changed] = audit(app, "phase.changed")
    assert changed.details == {"fields": ["end_date"], "old": {"end_date": "2015-03-16"},
                               "new": {"end_date": "2015-03-17"}}
    # Delete (admin only).
    assert staff.post(f"{url}/ta-bort").status_code == 403
    assert staff.get(f"{url}/ta-bort").status_code == 403
    step = admin.get(f"{url}/ta-bort")  # the confirmation step says what goes and removes nothing
    assert step.status_code == 200 and "Hearing med myndigheter" in text(step) and "Kan inte ångras" in text(step)
    assert confirm_through_page(admin, f"{url}/ta-bort").status_code == 302
    with app.app_context():
        assert db.session.get(Phase, phase_id) is None
        assert db.session.scalar(select(func.count()).select_from(Phase)) == 5
    assert [e.action for e in audit(app, "phase.created") + audit(app, "phase.deleted")] == \
        ["phase.created", "phase.deleted"]
    assert admin.get(url).status_code == 404


def test_blackout_add_edit_delete(app, admin):
    url = "/besok/uppdrag/uppehall/ny"
    response = admin.post(url, {"name": "Sportlov", "start_date": "2016-02-29", "end_date": "2016-02-22"})
    assert response.status_code == 422
    assert "Kan inte vara före startdatum (2016-02-29)." in text(response)
    response = admin.post(url, {"name": "", "start_date": "", "end_date": "2016-02-22"})
    assert "Ange ett namn" in text(response) and "Ange ett datum (ÅÅÅÅ-MM-DD)." in text(response)
    assert admin.post(url, {"name": "Sportlov", "start_date": "2016-02-22", "end_date": "2016-02-26"}).status_code == 302
    with app.app_context():
        b = db.session.scalar(select(Blackout).where(Blackout.name == "Sportlov"))
        blackout_id = b.id
        assert b.end_date == date(2016, 2, 26)
    assert "Sportlov" in text(admin.get(SETTINGS))
    edit = f"/besok/uppdrag/uppehall/{blackout_id}"
    data = form_values(admin, edit)
    assert data == {"name": "Sportlov", "start_date": "2016-02-22", "end_date": "2016-02-26"}
    assert admin.post(edit, dict(data, name="Sportlov v. 8")).status_code == 302
    with app.app_context():
        assert db.session.get(Blackout, blackout_id).name == "Sportlov v. 8"
    assert admin.post(f"{edit}/ta-bort").status_code == 200  # without its confirmation: the step, nothing removed
    with app.app_context():
        assert db.session.get(Blackout, blackout_id) is not None
    assert confirm_through_page(admin, f"{edit}/ta-bort").status_code == 302
    with app.app_context():
        assert db.session.get(Blackout, blackout_id) is None
    actions = [e.action for e in audit(app, "blackout.created") + audit(app, "blackout.changed")
               + audit(app, "blackout.deleted")]
    assert actions == ["blackout.created", "blackout.changed", "blackout.deleted"]


# =========================================================================== contacts

def test_role_labels_match_the_model():
    assert list(contact_service.ROLE_LABELS.items()) == list(CONTACT_ROLES)


def test_contacts_are_staff_only(app, reader, anon, staff):
    for url in ("/kontakter", "/kontakter/plats/1", "/kontakter/import", "/kontakter/1"):
        assert reader.get(url).status_code == 403, url
        assert anon.get(url).status_code == 302, url
    assert reader.post("/kontakter/import").status_code == 403
    assert reader.post("/kontakter/1/inaktivera", {"version": "1"}).status_code == 403


def test_without_an_adopted_sample_the_pages_say_so(app, staff):
    for url in ("/kontakter", "/kontakter/import"):
        response = staff.get(url)
        assert response.status_code == 200
        assert "Inget urval är antaget än" in text(response)
        assert 'href="/urval/"' in response.get_data(as_text=True)
    assert staff.get("/kontakter/plats/1").status_code == 404


def test_contact_add_edit_deactivate_and_audit(app, staff):
    sites = adopt(app)
    site = sites[0]
    base = f"/kontakter/plats/{site['id']}"
    assert site["label"] in text(staff.get(base))
    # Invalid: e-mail and phone; what was typed stays.
    typed = {"role": "socialchef", "name": "Åsa Öberg", "email": "asa.oberg@", "phone": "ring mig",
             "organisation": "Socialförvaltningen"}
    response = staff.post(f"{base}/ny", typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Ange en giltig e-postadress" in text(response) and "Ange ett telefonnummer" in text(response)
    assert input_value(html, "name") == "Åsa Öberg" and input_value(html, "email") == "asa.oberg@"
    assert re.search(r'<option[^>]*selected[^>]*value="socialchef"|<option[^>]*value="socialchef"[^>]*selected', html)
    assert count_contacts(app) == 0
    # Valid.
    typed.update(email="asa.oberg@kommun.se", phone="08-123 456 78")
    response = staff.post(f"{base}/ny", typed)
    assert response.status_code == 302
    page = text(staff.get(base))
    assert "Åsa Öberg" in page and "asa.oberg@kommun.se" in page and "Socialchef/förvaltningschef" in page
    with app.app_context():
        contact = db.session.scalar(select(Contact))
        contact_id, version = contact.id, contact.version
        assert (contact.site_id, contact.role, contact.active) == (site["id"], "socialchef", True)
    [created] = audit(app, "contact.created")
    assert created.details == {"site_id": site["id"], "role": "socialchef"} and created.object_id == str(contact_id)
    # The same e-mail twice at one site is refused (case-insensitive).
    response = staff.post(f"{base}/ny", dict(typed, name="Någon annan", email="ASA.OBERG@kommun.se"))
    assert response.status_code == 422 and "Det finns redan en kontakt med den e-postadressen" in text(response)
    # Edit: only which fields changed is logged, not the values.
    url = f"/kontakter/{contact_id}"
    data = form_values(staff, url)
    assert data["version"] == str(version) and data["phone"] == "08-123 456 78"
    assert staff.post(url, dict(data, phone="070-111 22 33", name="Åsa Öberg-Ek")).status_code == 302
    [updated] = audit(app, "contact.updated")
    assert updated.details == {"site_id": site["id"], "fields": ["name", "phone"]}
    assert "070" not in json.dumps(updated.details) and "Ek" not in json.dumps(updated.details)
    # A stale edit (the form of the first version) is refused with the stored values shown.
    response = staff.post(url, dict(data, organisation="IFO"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Kontakten har ändrats av någon annan" in text(response)
    assert input_value(html, "phone") == "070-111 22 33" and input_value(html, "organisation") == "Socialförvaltningen"
    assert re.search(r"Organisation\s*</th>\s*<td>IFO</td>\s*<td>Socialförvaltningen</td>", html)
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        assert contact.organisation == "Socialförvaltningen"
        version = contact.version
    # Deactivate: a stale version is refused, the current one works; reactivate.
    response = staff.post(f"{url}/inaktivera", {"version": str(version - 1)}, follow_redirects=True)
    assert "har ändrats av någon annan" in text(response)
    with app.app_context():
        assert db.session.get(Contact, contact_id).active
    assert staff.post(f"{url}/inaktivera", {"version": str(version)}).status_code == 302
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        assert not contact.active
        version = contact.version
    page = text(staff.get(base))
    assert "inaktiv" in page and "Aktivera" in page
    assert staff.post(f"{url}/aktivera", {"version": str(version)}).status_code == 302
    with app.app_context():
        assert db.session.get(Contact, contact_id).active
    assert [e.action for e in audit(app, "contact.deactivated") + audit(app, "contact.activated")] == \
        ["contact.deactivated", "contact.activated"]
    # A site outside the adopted sample has no contact pages.
    assert staff.get("/kontakter/plats/999999").status_code == 404


def test_missing_role_summary(app, staff):
    sites = adopt(app)
    kommun = next(s for s in sites if not s["enhet"] and s["kommunkod"] != "0180")
    district = next(s for s in sites if s["enhet"])
    page = text(staff.get("/kontakter"))
    assert "50 av 50 besöksplatser saknar någon av de viktiga rollerna." in page
    for role in ("ks_ordforande", "sn_ordforande", "kommunrevision", "kommundirektor"):
        staff.post(f"/kontakter/plats/{kommun['id']}/ny",
                   {"role": role, "name": f"Person {role}", "email": f"{role}@kommun.se"})
    staff.post(f"/kontakter/plats/{district['id']}/ny",
               {"role": "sn_ordforande", "name": "Ordförande", "email": "ordf@stad.se"})
    with app.app_context():
        rows = {r.site.id: r for r in contact_service.overview(adopted_sample().active_sites)}
    assert rows[kommun["id"]].missing == ["socialchef"]
    assert rows[kommun["id"]].counts == {"ks_ordforande": 1, "sn_ordforande": 1, "kommunrevision": 1,
                                         "kommundirektor": 1}
    assert rows[district["id"]].missing == ["socialchef"]  # a district has no kommunstyrelse of its own
    html = staff.get("/kontakter").get_data(as_text=True)
    row = re.search(rf'<tr>\s*<th scope="row"><a href="/kontakter/plats/{kommun["id"]}">.*?</tr>', html, re.S).group(0)
    assert "Saknas" in row and "Socialchef/förvaltningschef" in row and "Kommundirektör" not in row
    site_page = text(staff.get(f"/kontakter/plats/{kommun['id']}"))
    assert "Det saknas en aktiv kontakt för: Socialchef/förvaltningschef." in site_page
    assert "Lägg till kontakt: Socialchef/förvaltningschef" in site_page
    staff.post(f"/kontakter/plats/{kommun['id']}/ny", {"role": "socialchef", "name": "Chef", "email": "chef@kommun.se"})
    assert "49 av 50 besöksplatser saknar" in text(staff.get("/kontakter"))
    assert "Alla viktiga roller har en aktiv kontakt." in text(staff.get(f"/kontakter/plats/{kommun['id']}"))
    # A deactivated contact no longer counts.
    with app.app_context():
        chef = db.session.scalar(select(Contact).where(Contact.email == "chef@kommun.se"))
        chef_id, version = chef.id, chef.version
    staff.post(f"/kontakter/{chef_id}/inaktivera", {"version": str(version)})
    assert "50 av 50 besöksplatser saknar" in text(staff.get("/kontakter"))


def test_the_overview_is_paged_and_can_show_only_the_sites_that_lack_a_role(app, staff, monkeypatch):
    from coordinator.invites import contacts
    monkeypatch.setattr(contacts, "CONTACTS_PAGE", 20)  # the 50 sites make three pages of 20
    sites = adopt(app)
    complete = [s for s in sites if s["enhet"]][:1] + [s for s in sites if not s["enhet"]][-1:]
    for site in complete:
        roles = contact_service.important_roles(SimpleNamespace(enhet=site["enhet"]))
        for role in roles:
            assert staff.post(f"/kontakter/plats/{site['id']}/ny", {"role": role, "name": f"Person {role}",
                                                                  "email": f"{role}.{site['id']}@kommun.se"}).status_code == 302

    def shown(response) -> list[int]:
        return [int(i) for i in re.findall(r'<th scope="row"><a href="/kontakter/plats/(\d+)">',
                                            response.get_data(as_text=True))]

    pages = [staff.get(f"/kontakter?sida={n}") for n in (1, 2, 3)]
    assert sum((shown(p) for p in pages), []) == [s["id"] for s in sites]
    last = text(pages[2])
    assert "48 av 50 besöksplatser saknar någon av de viktiga rollerna." in last  # over every site, on every page
    assert "Visar 41–50 av 50 besöksplatser." in last and "Sida 3 av 3" in last
    # Only the sites that lack an important role, paged too; the pager keeps the filter.
    link = unescape(re.search(r'href="([^"]*saknas=1[^"]*)"', pages[0].get_data(as_text=True)).group(1))
    missing = staff.get(link)
    lacking = [s["id"] for s in sites if s not in complete]
    assert shown(missing) == lacking[:20] and "Visar 1–20 av 48 besöksplatser." in text(missing)
    assert "Besöksplatser som saknar en viktig roll" in text(missing) and "Visa alla besöksplatser" in text(missing)
    following = unescape(re.search(r'href="([^"]+)" rel="next"', missing.get_data(as_text=True)).group(1))
    assert "saknas=1" in following and "sida=2" in following
    assert shown(staff.get(following)) == lacking[20:40]
    assert shown(staff.get("/kontakter?saknas=1&sida=3")) == lacking[40:]


# --------------------------------------------------------------------------- CSV import

def upload(client, data: bytes, name: str = "kontakter.csv"):
    return client.post("/kontakter/import", {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def confirm(client, preview_html: str):
    token = input_value(preview_html, "token")
    filename = input_value(preview_html, "filename")
    return client.post("/kontakter/import/bekrafta", {"token": token, "filename": filename})


def test_csv_import_latin1_semicolon_new_and_updated(app, staff):
    sites = adopt(app)
    kommun = next(s for s in sites if not s["enhet"] and s["kommunkod"] != "0180")
    district = next(s for s in sites if s["enhet"])
    # An existing contact with the same site and e-mail (other case) is updated, not duplicated.
    staff.post(f"/kontakter/plats/{kommun['id']}/ny",
               {"role": "annan", "name": "Gammalt namn", "email": "maria.angstrom@kommun.se", "phone": "08-1111111"})
    lines = [
        "kommunkod;enhet;roll;namn;e-post;telefon;organisation",
        f"{kommun['kommunkod']};;Socialchef/förvaltningschef;Åsa Öberg;asa.oberg@kommun.se;08-123 45;Socialförvaltningen",
        f"{int(kommun['kommunkod'])};;KOMMUNDIREKTÖR;Märta Ängström;Maria.Angstrom@kommun.se;;",
        f"{district['kommunkod']};{district['enhet'].upper()};sn_ordforande;Örjan Ås;orjan.as@stad.se;;Stadsdelsnämnden",
    ]
    data = ("\r\n".join(lines) + "\r\n").encode("latin-1")
    before = count_contacts(app)
    response = upload(staff, data, "kontakter_åäö.csv")
    html, page = response.get_data(as_text=True), text(response)
    assert response.status_code == 200, page
    assert "Inget är sparat ännu" in page and "semikolon" in page and "cp1252" in page
    assert "Åsa Öberg" in page and "Märta Ängström" in page and "Örjan Ås" in page
    assert re.search(r"Nya\s*</dt>\s*<dd>2</dd>", html) and re.search(r"Uppdateras\s*</dt>\s*<dd>1</dd>", html)
    assert count_contacts(app) == before  # the preview writes nothing
    # The uploaded file waits for confirmation readable by its owner only: it holds personal data.
    stashed = list((Path(app.instance_path) / "contact_imports").iterdir())
    assert stashed and all(f.stat().st_mode & 0o777 == 0o600 for f in stashed)
    response = confirm(staff, html)
    assert response.status_code == 302
    assert "Kontakterna är importerade: 2 nya, 1 uppdaterade och 0 oförändrade." in text(staff.get("/kontakter"))
    with app.app_context():
        rows = {c.email.casefold(): c for c in db.session.scalars(select(Contact))}
        assert len(rows) == 3
        asa = rows["asa.oberg@kommun.se"]
        assert (asa.name, asa.role, asa.site_id, asa.phone, asa.organisation) == \
            ("Åsa Öberg", "socialchef", kommun["id"], "08-123 45", "Socialförvaltningen")
        marta = rows["maria.angstrom@kommun.se"]
        assert (marta.name, marta.role, marta.phone) == ("Märta Ängström", "kommundirektor", "08-1111111")
        assert rows["orjan.as@stad.se"].site_id == district["id"]
    [event] = audit(app, "contacts.imported")
    assert event.details["new"] == 2 and event.details["updated"] == 1 and event.details["unchanged"] == 0
    assert event.details["rows"] == 3
    dumped = json.dumps(event.details, ensure_ascii=False)
    assert "Öberg" not in dumped and "@" not in dumped
    # The same file again: everything is unchanged.
    html = upload(staff, data).get_data(as_text=True)
    assert re.search(r"Oförändrade\s*</dt>\s*<dd>3</dd>", html)
    # A used upload cannot be confirmed twice (the stash is removed after the import).
    response = confirm(staff, html)
    assert response.status_code == 302
    assert count_contacts(app) == 3


def test_csv_import_accepts_the_role_titles_shown_in_english(app, staff):
    """The import page lists role titles in the user's language; those titles must work in the file."""
    sites = adopt(app)
    kommun = next(s for s in sites if not s["enhet"] and s["kommunkod"] != "0180")
    english_title = re.search(r"<td>([^<]*[Mm]unicipal[^<]*)</td>", text(staff.get("/sprak/en", follow_redirects=True))
                              + staff.get("/kontakter/import").get_data(as_text=True))
    assert english_title, "the import page lists the role titles"
    data = ("kommunkod,roll,namn,e-post\n"
            f"{kommun['kommunkod']},{english_title.group(1)},Anna Berg,anna.berg@kommun.se\n").encode()
    response = upload(staff, data)
    assert response.status_code == 200, text(response)
    assert "Anna Berg" in text(response)


def test_csv_import_with_errors_writes_nothing_and_names_every_line(app, staff):
    sites = adopt(app)
    kommun = next(s for s in sites if not s["enhet"])
    code = kommun["kommunkod"]
    lines = [
        "\ufeffkommunkod,enhet,roll,namn,e-post,telefon,organisation",        # 1 (UTF-8 with BOM, commas)
        f"{code},,socialchef,Åsa Öberg,asa@kommun.se,,",                     # 2 fine
        f"{code},,ks_ordforande,Kim Karlsson,kim@kommun.se,,",               # 3 fine
        f"{code},,rektor,Rut Rektor,rut@kommun.se,,",                        # 4 unknown role
        f"{code},,ifo_chef,,ifo@kommun.se,,",                                # 5 name missing
        "",                                                                  # 6 blank: skipped
        f"{code},,facklig,Fia Facklig,fia(at)kommun.se,,",                   # 7 bad e-mail
        f"{code},,annan,Åsa Öberg igen,ASA@kommun.se,,",                     # 8 same site+e-mail as line 2
        "0999,,socialchef,Nils Nilsson,nils@kommun.se,,",                    # 9 no such site
        f"{code},Kungsholmen,socialchef,Nils Nilsson,nils@kommun.se,,",      # 10 no such district
        f"{code},,socialchef,Olle,olle@kommun.se,ring,",                     # 11 bad phone
        f"{code},,socialchef,Olle,olle2@kommun.se,,,extra",                  # 12 too many fields
    ]
    data = "\n".join(lines).encode("utf-8")
    before = count_contacts(app)
    response = upload(staff, data)
    page = text(response)
    assert response.status_code == 422
    assert "Filen importerades inte: 8 problem" in page and "Inget har sparats." in page
    expected = [
        "Rad 4: okänd roll 'rektor'.",
        "Rad 5: namn saknas.",
        "Rad 7: ogiltig e-postadress.",
        "Rad 8: samma e-postadress för samma besöksplats som på rad 2.",
        "Rad 9: 0999 är ingen besöksplats i det antagna urvalet.",
        f"Rad 10: {code} Kungsholmen är ingen besöksplats i det antagna urvalet.",
        "Rad 11: ogiltigt telefonnummer.",
        "Rad 12: raden har 8 fält men rubrikraden har 7.",
    ]
    for message in expected:
        assert message in page, message
    assert count_contacts(app) == before == 0
    assert audit(app, "contacts.imported") == []
    # A file without the required columns, and one that is not a text file.
    page = text(upload(staff, b"kommunkod;namn\n0180;Anna\n"))
    assert "Rad 1: kolumn saknas: roll, e-post." in page
    page = text(upload(staff, b"0180;;socialchef;Anna;anna@x.se\n"))
    assert "Rad 1: rubrikrad saknas." in page
    assert "Filen verkar vara en Excel-fil" in text(upload(staff, b"PK\x03\x04rest", "kontakter.xlsx"))
    assert "Välj en fil att importera." in text(staff.post("/kontakter/import", {}, content_type="multipart/form-data"))
    assert count_contacts(app) == 0


def test_import_confirm_rechecks_the_file(app, staff):
    sites = adopt(app)
    site = sites[1]
    data = (f"kommunkod;enhet;roll;namn;e-post\n{site['kommunkod']};{site['enhet']};socialchef;Anna;anna@k.se\n"
            ).encode("utf-8")
    html = upload(staff, data).get_data(as_text=True)
    # A bad token is refused; an unknown one asks for a new upload.
    assert staff.post("/kontakter/import/bekrafta", {"token": "../../etc", "filename": "x"}).status_code == 400
    response = staff.post("/kontakter/import/bekrafta", {"token": "0" * 64, "filename": "x"}, follow_redirects=True)
    assert "Filen finns inte längre kvar" in text(response)
    # The site declined between preview and confirmation: the import is refused, nothing is written.
    with app.app_context():
        db.session.get(Site, site["id"]).active = False
        db.session.commit()
    response = confirm(staff, html)
    assert response.status_code == 422
    assert "Rad 2:" in text(response) and "ingen besöksplats i det antagna urvalet" in text(response)
    assert count_contacts(app) == 0


# --------------------------------------------------------------------------- the parser on its own

def _sites():
    return {("0180", ""): SimpleNamespace(id=1, label="Stockholm"),
            ("0180", "bromma"): SimpleNamespace(id=2, label="Stockholm, Bromma"),
            ("2584", ""): SimpleNamespace(id=3, label="Kiruna")}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1"])
@pytest.mark.parametrize("delimiter", [";", ","])
def test_parser_reads_encodings_and_delimiters(encoding, delimiter):
    rows = [["Kommunkod", "Enhet", "Roll", "Namn", "E-post", "Telefon", "Organisation"],
            ["180", "Bromma", "Socialnämndens ordförande", "Björn Ärlig", "bjorn@stockholm.se", "+46 8 508 000 00", ""],
            ["2584", "", "förvaltningschef", "Gun Ödman", "gun@kiruna.se", "", "Kiruna kommun"]]
    text_ = "\r\n".join(delimiter.join(r) for r in rows)
    parsed = contact_service.parse_contacts_csv(text_.encode(encoding), _sites())
    assert parsed.problems == [] and parsed.delimiter == delimiter
    assert [(r.site_id, r.role, r.name, r.line) for r in parsed.rows] == \
        [(2, "sn_ordforande", "Björn Ärlig", 2), (3, "socialchef", "Gun Ödman", 3)]


def test_parser_quoted_cells_and_line_numbers():
    data = ('"kommunkod";"roll";"namn";"e-post"\n'
            '"0180";"IFO-chef/enhetschef barn och unga";"Lind, Eva";"eva@stockholm.se"\n'
            '\n'
            '"0180";"utvecklingsledare";"Per";"per@"\n').encode("utf-8")
    parsed = contact_service.parse_contacts_csv(data, _sites())
    assert parsed.problems == ["Rad 4: ogiltig e-postadress."] and parsed.rows == []
    parsed = contact_service.parse_contacts_csv(data.replace(b"per@", b"per@region.se"), _sites())
    assert [(r.name, r.role) for r in parsed.rows] == [("Lind, Eva", "ifo_chef"), ("Per", "utvecklingsledare")]
    assert contact_service.parse_contacts_csv(b"", _sites()).problems == ["Filen är tom."]
    assert contact_service.parse_contacts_csv(b"kommunkod;roll;namn;e-post\n", _sites()).problems == \
        ["Filen innehåller inga kontakter."]
