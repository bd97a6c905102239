"""The office's day in a real browser, on the demo assignment (as of 2016-10-31): the start page as staff and
as the ministry's reader, a site page reached from the start page and from the registry, the one-page
briefing, and a task taken and closed from the list. Every page is checked with axe-core (no violation of
any impact) and saved as a screenshot in SHOTS.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.sampling.models import Site

from .conftest import SHOTS, assert_no_axe_violations, browser_login

pytestmark = pytest.mark.browser


@pytest.fixture
def page(demo_page):
    return demo_page


def login(page, role: str = "staff") -> None:
    """Logged in, on the start page."""
    browser_login(page, role)
    expect(page.get_by_role("heading", level=1)).to_have_text("Översikt")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def _round_counts(app, round_: int) -> tuple[int, int, int]:
    """(visits, held, booked) of a round in the database, to read the page's figures against."""
    from coordinator.scheduling.models import GENOMFORD, INSTALLD, Visit
    with app.app_context():
        rows = db.session.scalars(select(Visit).where(Visit.round == round_, Visit.status != INSTALLD)).all()
        return (len(rows), sum(v.status == GENOMFORD for v in rows),
                sum(v.booked and v.status != GENOMFORD for v in rows))


def test_the_start_page_shows_the_office_what_is_due_in_the_demo(page, demo):
    total, held, booked = _round_counts(demo, 2)
    assert total == 50 and 25 < held < 40 and booked > 5  # the demo stands in round 2's autumn
    login(page)
    expect(page.get_by_text("Läget den 31 oktober 2016.")).to_be_visible()
    for heading in ("Uppdragets läge", "Besök de närmaste 14 dagarna", "Anteckningar att skriva",
                    "Inbjudningar och svar", "E-post", "Handlingsplaner: aktiviteter efter sista dag",
                    "Enkäter utan svar", "Rapporter till statsrådet", "Omgång 2: inte bokat", "Mina uppgifter"):
        expect(page.get_by_role("heading", name=re.compile("^" + re.escape(heading)))).to_be_visible()
    expect(page.locator("section[aria-labelledby=laget]")).to_contain_text(
        f"Omgång 2 (pågår): {held} av {total} genomförda, {booked} bokade")
    notes = page.locator("section[aria-labelledby=anteckningar]")
    expect(notes.get_by_role("listitem")).to_have_count(2)
    expect(notes).to_contain_text("inte skriven")
    expect(notes).to_contain_text("3 frågor saknar text")
    reports = page.locator("section[aria-labelledby=rapporter]")
    expect(reports).to_contain_text("Nästa rapport, Kvartal 4 2016, ska lämnas 2017-01-14.")
    expect(reports).to_contain_text("Nästa avstämning:")
    assert_no_axe_violations(page, "the start page (staff)")
    shot(page, "overview-staff")

    # Each item leads to where it is dealt with: the note that is not written opens its editor.
    notes.get_by_role("link").filter(has_text="omgång 2").last.click()
    expect(page).to_have_url(re.compile(r"/dialog/besok/\d+$"))


def test_a_site_page_reached_from_the_start_page_and_from_the_registry(page, demo):
    with demo.app_context():
        stockholm = db.session.scalars(select(Site).where(Site.kommunkod == "0180", Site.enhet == "")).one()
        stockholm_id = stockholm.id
    login(page)
    tasks = page.locator("section[aria-labelledby=uppgifter]")
    link = tasks.locator("a[href*='/platser/']").first
    label = link.inner_text()
    link.click()
    expect(page).to_have_url(re.compile(r"/platser/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(label)
    for heading in ("Kommunen", "I urvalet", "Besöken", "Handlingsplan", "Kontakter", "Öppna uppgifter",
                    "Dialogforum som platsens folk deltog i", "Länkar och kalenderflöden till kommunen", "Tidslinje"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert_no_axe_violations(page, "a site page from the start page")

    page.goto("/register/kommun/0180")
    sites = page.locator("section[aria-labelledby=besoksplatser]")
    expect(sites.locator("a[href*='/platser/']")).to_have_count(3)  # beside them, links to their feedback letters
    sites.get_by_role("link", name="Stockholm", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/platser/{stockholm_id}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stockholm")
    expect(page.locator("dl.facts").first).to_contain_text("Andra besöksplatser i kommunen")
    timeline = page.locator("ol.timeline li")
    expect(timeline.first).to_contain_text("2016")
    assert_no_axe_violations(page, "Stockholm's site page")
    shot(page, "site-stockholm")

    # The one-page briefing to take along.
    response = page.request.get(page.get_by_role("link", name=re.compile("Underlag inför besöket")).get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    from coordinator.sites.briefing import page_count
    assert page_count(response.body()) == 1


def test_a_task_is_taken_and_closed_from_my_tasks(page):
    login(page)
    page.get_by_role("link", name="Mina uppgifter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uppgifter")
    assert_no_axe_violations(page, "the tasks")
    first = page.locator("tbody th a").first
    title = first.inner_text()
    first.click()
    page.get_by_role("button", name="Jag tar uppgiften").click()
    expect(page.get_by_text("Du är ansvarig för uppgiften.")).to_be_visible()
    page.get_by_label("Vad blev resultatet?").fill("Klart inför besöket.")
    page.get_by_role("button", name="Markera som klar").click()
    expect(page.get_by_text("Uppgiften är markerad som klar.")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("Klar")
    assert_no_axe_violations(page, "a closed task")
    page.goto("/uppgifter/?visa=klara")
    expect(page.locator("tbody")).to_contain_text(title)


def test_the_reader_sees_issued_reports_the_next_due_day_and_the_protocol(page):
    login(page, "reader")
    expect(page.get_by_role("heading", name="Nästa rapport")).to_be_visible()
    expect(page.get_by_text("Kvartal 4 2016 ska lämnas senast 14 januari 2017.")).to_be_visible()
    issued = page.locator("section[aria-labelledby=utfardade] li")
    expect(issued.first).to_contain_text("Kvartalsrapport")
    expect(page.get_by_role("link", name="Läs urvalsprotokollet")).to_be_visible()
    expect(page.get_by_role("heading", name="Anteckningar att skriva")).to_have_count(0)
    assert_no_axe_violations(page, "the start page (reader)")
    shot(page, "overview-reader")
    issued.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/rapporter/utfardade/\d+/$"))
