"""Navigation and language in a real browser (Chromium), with the demo assignment; axe finds nothing on any page.

The demo is made once per backend (module-scoped) and only read: the pages here use their own
browser context per test instead of the `page` fixture, whose database reset would empty the demo.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.scheduling.models import Visit

from .conftest import PASSWORD, USERS, assert_no_axe_violations


@pytest.fixture
def page(demo_page):
    return demo_page


def login(page, role: str = "staff") -> None:
    page.goto("/logga-in")
    page.get_by_label("E-postadress").fill(USERS[role])
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("navigation", name="Huvudmeny")).to_be_visible()


def main_menu(page):
    return page.get_by_role("navigation", name="Huvudmeny")


def crumbs(page):
    return page.get_by_role("navigation", name="Brödsmulor")


def test_the_dialogue_menu_is_reachable_from_dialog_and_on_a_note(page):
    login(page)
    main_menu(page).get_by_role("link", name="Dialoger", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dialog/$"))
    menu = page.get_by_role("navigation", name="Dialoger")
    expect(menu.get_by_role("link", name="Anteckningar")).to_have_attribute("aria-current", "page")
    expect(main_menu(page).get_by_role("link", name="Dialoger", exact=True)).to_have_attribute("aria-current", "page")
    assert_no_axe_violations(page, "/dialog/")

    # Every compiled page is one click away, and marks itself.
    for name, path in (("Översikt per tema", "/dialog/oversikt"), ("Sök", "/dialog/sok"), ("Teman", "/dialog/teman"),
                       ("Goda exempel", "/dialog/goda-exempel"), ("Hinder", "/dialog/hinder"),
                       ("Frågor för nationell nivå", "/dialog/nationella-fragor"), ("Citat", "/dialog/citat")):
        page.get_by_role("navigation", name="Dialoger").get_by_role("link", name=name, exact=True).click()
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        expect(page.get_by_role("navigation", name="Dialoger").get_by_role("link", name=name, exact=True)) \
            .to_have_attribute("aria-current", "page")
    assert_no_axe_violations(page, "/dialog/citat")

    # A note from the list: the section's menu is there too, with the notes marked.
    page.get_by_role("navigation", name="Dialoger").get_by_role("link", name="Anteckningar").click()
    page.get_by_role("table", name=re.compile("Besöken i omgång 1")).get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/dialog/besok/\d+$"))
    menu = page.get_by_role("navigation", name="Dialoger")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("link", name="Anteckningar")).to_have_attribute("aria-current", "page")
    assert_no_axe_violations(page, "a note")
    page.get_by_role("navigation", name="Anteckningen").get_by_role("link", name="Historik").click()
    expect(page.get_by_role("navigation", name="Dialoger")).to_be_visible()
    assert_no_axe_violations(page, "a note's history")


def test_breadcrumbs_on_a_visit_and_a_note_lead_to_the_site_page(page, demo):
    with demo.app_context():
        visit = db.session.scalars(select(Visit).where(Visit.status == "genomford").order_by(Visit.id)).first()
        visit_id, site_id, label, round_ = visit.id, visit.site_id, visit.site.label, visit.round

    login(page)
    page.goto(f"/besok/{visit_id}")
    trail = crumbs(page)
    expect(trail.get_by_role("listitem")).to_have_text(["Besök", label, f"Besöket i omgång {round_}"])
    expect(trail.locator("[aria-current=page]")).to_have_text(f"Besöket i omgång {round_}")
    assert_no_axe_violations(page, "a visit")
    trail.get_by_role("link", name=label).click()
    expect(page).to_have_url(re.compile(rf"/platser/{site_id}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(label)

    page.goto(f"/dialog/besok/{visit_id}")
    trail = crumbs(page)
    expect(trail.get_by_role("listitem")).to_have_text(["Dialoger", label, f"Anteckningar från omgång {round_}"])
    trail.get_by_role("link", name=label).click()
    expect(page).to_have_url(re.compile(rf"/platser/{site_id}/$"))

    # The visit's facts name the site with a link to the same page.
    page.goto(f"/besok/{visit_id}")
    page.locator("dt:has-text('Besöksplats') + dd").get_by_role("link", name=label).click()
    expect(page).to_have_url(re.compile(rf"/platser/{site_id}/$"))


def test_the_section_of_every_page_is_marked_in_the_main_menu_and_shows(page):
    login(page, "admin")
    for path, item in (("/", "Översikt"), ("/register/", "Kommuner"), ("/urval/", "Urval"), ("/besok/lista", "Besök"),
                       ("/utkorg", "Besök"), ("/handlingsplaner", "Handlingsplaner"), ("/rapporter/", "Rapporter"),
                       ("/urval/protokoll", "Urvalsprotokoll"), ("/logg/", "Logg")):
        page.goto(path)
        menu = main_menu(page)
        marked = menu.locator("a[aria-current=page]")
        expect(marked).to_have_count(1)
        expect(marked).to_have_text(item)
        # Marked so that it shows, not only for screen readers: bolder than the other items.
        weights = menu.locator("a").evaluate_all("links => links.map(a => getComputedStyle(a).fontWeight)")
        current = marked.evaluate("a => getComputedStyle(a).fontWeight")
        assert int(current) > max(int(w) for w in weights if w != current), path
    assert_no_axe_violations(page, "/logg/")
    page.goto("/konto/losenord")
    expect(page.locator("header a[aria-current=page]")).to_have_text("Test admin")


def test_the_audit_log_filtered_by_person(page):
    login(page, "admin")  # the login itself is in the log, by Test admin
    main_menu(page).get_by_role("link", name="Logg").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Logg över ändringar")
    page.get_by_label("Vem").select_option(label="Test admin")
    page.get_by_role("button", name="Visa").click()
    expect(page).to_have_url(re.compile(r"vem=u\d+"))
    rows = page.get_by_role("table", name="Senaste händelserna först").locator("tbody tr")
    expect(rows.first).to_contain_text("Inloggning.")
    for i in range(rows.count()):
        expect(rows.nth(i).locator("td").nth(1)).to_have_text("Test admin")
    assert_no_axe_violations(page, "the log by person")

    page.get_by_label("Vem").select_option(label="Systemet")
    page.get_by_label("Slags objekt").select_option(label="Besök")
    page.get_by_role("button", name="Visa").click()
    first = page.get_by_role("table", name="Senaste händelserna först").locator("tbody tr").first
    expect(first.locator("td").nth(1)).to_have_text("systemet")
    expect(first.locator("td").nth(2)).to_contain_text(re.compile(r"^Besöket i .+ \(omgång \d\)"))
    # The raw record is folded away, one click from the sentence.
    expect(first.get_by_text("visit.", exact=False)).to_be_hidden()
    first.locator("summary").click()
    expect(first.locator("code").first).to_contain_text("visit.")
    # The next page keeps the filters.
    page.get_by_role("navigation", name="Sidor").get_by_role("link", name="Nästa sida").click()
    expect(page).to_have_url(re.compile(r"(?=.*vem=systemet)(?=.*slag=visit)(?=.*sida=2)"))
    expect(page.get_by_label("Slags objekt")).to_have_value("visit")
    assert_no_axe_violations(page, "the log, page 2")


def test_english_on_a_visit_page_and_the_sample_protocol(page, demo):
    with demo.app_context():
        visit_id = db.session.scalar(select(Visit.id).where(Visit.status == "bekraftad").order_by(Visit.id))
    login(page)
    page.goto(f"/besok/{visit_id}")
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(rf"/besok/{visit_id}$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"^Visit to .+, round \d"))
    expect(page.locator("dt:has-text('Invitation') + dd")).to_contain_text("The invitation has been sent")
    expect(page.get_by_role("navigation", name="Breadcrumbs").get_by_role("listitem").first).to_have_text("Visits")
    expect(page.get_by_text("Tekniska detaljer")).to_have_count(0)
    assert_no_axe_violations(page, "a visit in English")

    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Sampling record").click()
    method = page.get_by_text(re.compile("^The municipalities are divided into groups by their population"))
    expect(method).to_be_visible()
    expect(page.get_by_text(re.compile("local pivotal method"))).to_be_visible()
    expect(page.get_by_text(re.compile("Kommunerna delas in"))).to_have_count(0)
    assert_no_axe_violations(page, "the sample protocol in English")
    page.get_by_role("link", name="Svenska").click()
    expect(page.get_by_text(re.compile("^Kommunerna delas in i grupper"))).to_be_visible()
