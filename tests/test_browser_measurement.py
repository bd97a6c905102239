"""The measurement in a real browser: a kommun fills in half, leaves, comes back through its link,
finds what it typed, completes and submits; the office then sees the answers on the visit page
and in the overview. The kommun's form is checked with axe-core (also with errors showing).
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from coordinator.extensions import db
from coordinator.measurement import service
from coordinator.measurement.models import MeasurementRequest
from coordinator.scheduling.models import FORSLAG

from .conftest import SHOTS, assert_accessible, browser_login
from .test_invites import make_visit, sites  # noqa: F401  (fixture)
from .test_measurement import QUESTIONS, make_questionnaire, make_request

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"measurement-{name}.png", full_page=True)


def question(page, n: int):
    return page.locator(f"#fraga-{n}")


def test_a_kommun_saves_half_returns_later_and_submits_and_staff_see_it(page, browser, live_server, app, sites):
    ids = make_questionnaire(app)
    with app.app_context():
        visit = make_visit(sites[0], day=service.today() + timedelta(days=14), status=FORSLAG)
        db.session.commit()
        visit_id, label = visit.id, visit.site.label
    rid, token = make_request(app, sites[0], ids["id"])

    # The kommun opens its link (no login) and answers the first questions.
    page.goto(f"/matning/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inför besöket")
    expect(page.get_by_text(f"Mätning inför den nationella samordnarens besök i {label}")).to_be_visible()
    assert_accessible(page, "kommunens formulär")
    first = question(page, 1)
    # The skip rule: "Nej" hides question 2 at once; another answer shows it again.
    first.get_by_label("Nej", exact=True).check()
    expect(question(page, 2)).to_be_hidden()
    first.get_by_label("Ja", exact=True).check()
    expect(question(page, 2)).to_be_visible()
    page.get_by_label(f"2. {QUESTIONS[1]['text']}").fill("2015")
    page.get_by_label("Kommentar till fråga 3 (frivillig)").fill("Två tjänster är vakanta")
    page.get_by_role("button", name="Spara och fortsätt senare").click()
    expect(page.get_by_text("Ni kan stänga sidan och fortsätta senare med samma länk")).to_be_visible()
    page.goto("about:blank")  # leaves; the return is in a fresh browser (nothing kept on this side)

    # Later, in a fresh browser, through the same link: what was typed is there.
    later = browser.new_context(base_url=live_server, locale="sv-SE", viewport={"width": 1280, "height": 900})
    try:
        kommun = later.new_page()
        kommun.set_default_timeout(15_000)
        kommun.goto(f"/matning/{token}")
        expect(question(kommun, 1).get_by_label("Ja", exact=True)).to_be_checked()
        expect(kommun.get_by_label(f"2. {QUESTIONS[1]['text']}")).to_have_value("2015")
        expect(kommun.get_by_label("Kommentar till fråga 3 (frivillig)")).to_have_value("Två tjänster är vakanta")

        # Submitting too early: the errors are on the fields and in a summary; nothing typed is lost.
        kommun.get_by_role("button", name="Skicka in").click()
        summary = kommun.get_by_role("alert")
        expect(summary).to_contain_text("Svaren skickades inte in: 2 frågor behöver rättas")
        expect(kommun.get_by_label(f"2. {QUESTIONS[1]['text']}")).to_have_value("2015")
        assert_accessible(kommun, "kommunens formulär med fel")
        shot(kommun, "kommun-fel")
        expect(summary.get_by_role("link", name="Fråga 3")).to_have_attribute("href", re.compile(r"^#q\d+$"))

        kommun.get_by_label(f"3. {QUESTIONS[2]['text']}").fill("1 234,5")
        fourth = question(kommun, 4)
        fourth.get_by_label("BBIC").check()
        fourth.get_by_label("Annat, ange", exact=True).check()
        fourth.get_by_label("Om annat, ange vad:").fill("Egen modell")
        kommun.get_by_role("button", name="Skicka in").click()
        expect(kommun.get_by_text("Tack! Svaren skickades in")).to_be_visible()
        expect(kommun.get_by_role("button", name="Skicka in")).to_have_count(0)
        expect(kommun.get_by_text("Egen modell")).to_be_visible()
        shot(kommun, "kommun-inskickad")
    finally:
        later.close()
    with app.app_context():
        assert db.session.get(MeasurementRequest, rid).submitted_at is not None

    # The office: on the visit page, and in the overview.
    office = browser.new_context(base_url=live_server, locale="sv-SE", viewport={"width": 1280, "height": 900})
    try:
        staff = office.new_page()
        staff.set_default_timeout(15_000)
        browser_login(staff, "staff")
        staff.goto(f"/besok/{visit_id}")
        panel = staff.locator("section", has=staff.get_by_role("heading", name="Mätning före besöket"))
        expect(panel).to_contain_text("inskickad")
        expect(panel).to_contain_text("1234,5")
        expect(panel).to_contain_text("Egen modell")
        expect(panel).to_contain_text("Två tjänster är vakanta")
        staff.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Mätningar", exact=True).click()
        expect(staff.get_by_role("status")).to_contain_text("1 av 50 har svarat")
        row = staff.get_by_role("row", name=label)
        expect(row).to_contain_text("inskickad")
        assert_accessible(staff, "mätningarnas översikt")
        shot(staff, "oversikt")
        row.get_by_role("link", name=label).click()
        expect(staff.get_by_role("heading", level=1)).to_contain_text(f"Mätning för {label}, omgång 1")
        expect(staff.get_by_role("heading", name="Svaren")).to_be_visible()
        assert_accessible(staff, "en besöksplats mätning")
        # The questionnaire is locked now; a copy can be changed, rules included.
        staff.get_by_role("link", name="Inför besöket").first.click()
        expect(staff.get_by_text("Enkäten är låst.")).to_be_visible()
        staff.get_by_role("button", name="Gör en kopia att ändra").click()
        expect(staff.get_by_role("heading", level=1)).to_have_text("Kopia av Inför besöket")
        assert_accessible(staff, "enkätens redigering")
        staff.get_by_role("link", name="Ändra fråga 1").click()
        assert_accessible(staff, "en fråga med hoppregler")
        staff.get_by_label("Om svaret är ”Vet ej”, gå vidare till").select_option(label="Slutet av enkäten")
        staff.get_by_role("button", name="Spara fråga 1").click()
        expect(staff.get_by_text("Om du svarar ”Vet ej” är du klar")).to_be_visible()
        shot(staff, "enkat")
    finally:
        office.close()
