"""Date offers in a real browser, on the demo assignment.

The office offers dates to a kommun on a visit page (through the confirmation step); the kommun opens its
link in a fresh browser context (no login) and picks one; the visit shows as booked (agreed, "Datum valt
av kommunen"); a re-plan keeps the date; a kommun that answers "none fits" shows up on the office's start
page. Every page is checked with axe-core.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from coordinator.extensions import db

from .conftest import SHOTS, assert_accessible, browser_login

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"offers-{name}.png", full_page=True)


def _unbooked(app) -> list[int]:
    """Unbooked visits without an offer yet (the demo has made offers for two others)."""
    from coordinator.scheduling.models import FORSLAG, DateOffer, Visit
    with app.app_context():
        offered = set(db.session.scalars(select(DateOffer.visit_id)))
        return [i for i in db.session.scalars(select(Visit.id).where(Visit.status == FORSLAG, Visit.date.isnot(None))
                                              .order_by(Visit.date, Visit.id)) if i not in offered]


def _offer_link(page, visit_id: int) -> str:
    """The office offers the pre-checked dates on the visit page; the kommun's link (from the page's
    technical details)."""
    page.goto(f"/besok/{visit_id}")
    expect(page.get_by_role("heading", name="Erbjud datum till kommunen")).to_be_visible()
    assert_accessible(page, "visit page with the offer form")
    page.get_by_role("button", name="Erbjud datum …").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("datum för besöket?")
    expect(page.get_by_text(re.compile(r"aktiva kontakter för"))).to_be_visible()
    assert_accessible(page, "offer confirmation")
    page.get_by_role("button", name="Skicka datumen till kommunen").click()
    expect(page.get_by_text("Datumen väntar i utkorgen")).to_be_visible()
    expect(page.get_by_text("väntar på kommunens svar")).to_be_visible()
    page.locator("#datumerbjudande-avsnitt summary").click()
    return page.locator("#datumerbjudande-avsnitt code").inner_text()


def test_the_kommun_picks_an_offered_date_and_the_visit_keeps_it(demo_page, demo, browser, live_server):
    from coordinator.scheduling.models import Visit
    app, page = demo, demo_page
    visit_id = _unbooked(app)[0]
    browser_login(page, "staff")
    link = _offer_link(page, visit_id)
    shot(page, "visit-offered")

    kommun = browser.new_context(locale="sv-SE")  # a fresh context: no login, no cookies
    try:
        k = kommun.new_page()
        k.goto(link)
        expect(k.get_by_role("heading", level=1)).to_contain_text("Välj datum för besöket i")
        assert_accessible(k, "the kommun's page")
        radios = k.get_by_role("radio")
        assert radios.count() == 3
        second = radios.nth(1)
        second.check()
        picked = date.fromisoformat(second.get_attribute("value"))
        k.locator("#valj-namn").fill("Karin Kommunsson")
        k.get_by_role("button", name="Välj datum").click()
        expect(k.get_by_role("heading", name="Tack för ert svar!")).to_be_visible()
        assert_accessible(k, "thank-you page")
        shot(k, "kommun-thanks")
    finally:
        kommun.close()

    page.goto(f"/besok/{visit_id}")
    expect(page.get_by_text("Datum valt av kommunen").first).to_be_visible()
    expect(page.get_by_text(re.compile("Karin Kommunsson valde"))).to_be_visible()
    page.goto("/besok/lista")
    expect(page.get_by_text("Datum valt av kommunen").first).to_be_visible()
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.date == picked and visit.agreed and visit.fixed
        round_ = visit.round
    # What the pick changed, for the office (a re-plan computed, nothing saved).
    page.goto(f"/besok/{visit_id}")
    page.get_by_role("link", name="Se vad valet ändrar för de andra besöken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vad kommunens val ändrar")
    assert_accessible(page, "pick effect")
    # A re-plan of the round on the plan page, proposed and saved, keeps the kommun's date.
    page.goto("/besok/")
    page.get_by_label("Omgång", exact=True).select_option(str(round_))
    page.get_by_role("button", name="Föreslå datum").click()
    expect(page.get_by_role("heading", name=re.compile("^Förslag: omgång")).first).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Spara förslaget").click()
    expect(page.get_by_text(re.compile("Planen är sparad"))).to_be_visible(timeout=60_000)
    page.goto(f"/besok/{visit_id}")
    expect(page.get_by_text("Datum valt av kommunen").first).to_be_visible()
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.date == picked and visit.agreed


def test_a_kommun_that_answers_none_fits_shows_on_the_start_page(demo_page, demo, browser):
    app, page = demo, demo_page
    visit_id = _unbooked(app)[1]
    browser_login(page, "staff")
    link = _offer_link(page, visit_id)
    kommun = browser.new_context(locale="sv-SE")
    try:
        k = kommun.new_page()
        k.goto(link)
        k.get_by_label("Egen dag 1", exact=True).fill("2016-12-14")
        k.get_by_label("Egen dag 2", exact=True).fill("2016-13-40")
        k.get_by_label("Kommentar").fill("Nämndmöte hela veckan.")
        k.locator("#inget-namn").fill("Karin Kommunsson")
        k.get_by_role("button", name="Inget av datumen passar").click()
        expect(k.get_by_text("är inget datum")).to_be_visible()
        expect(k.get_by_label("Kommentar")).to_have_value("Nämndmöte hela veckan.")  # what was typed is kept
        k.get_by_label("Egen dag 2", exact=True).fill("")
        k.get_by_role("button", name="Inget av datumen passar").click()
        expect(k.get_by_role("heading", name="Tack för ert svar!")).to_be_visible()
        expect(k.get_by_text("Kansliet hör av sig med nya datum.")).to_be_visible()
    finally:
        kommun.close()
    page.goto("/")
    section = page.locator('section[aria-labelledby="datumsvar"]')
    expect(section.get_by_role("heading", name="Kommuner som svarat att inget datum passar")).to_be_visible()
    expect(section).to_contain_text("2016-12-14")
    assert_accessible(page, "start page with none fits")
    shot(page, "overview-none-fits")
    from coordinator.scheduling.models import Visit
    with app.app_context():
        label = db.session.get(Visit, visit_id).site.label
    section.get_by_role("link", name=re.compile(re.escape(label) + ", omgång")).click()
    expect(page.get_by_text("svarade att inget av datumen passar")).to_be_visible()
    expect(page.get_by_text("Nämndmöte hela veckan.")).to_be_visible()
