"""The avstämning log in a real browser: staff find it from the reports, log an avstämning about an
issued report, add an action with an owner and a due date, close it with an outcome, and see the
delete confirmation. Every page is checked with axe-core with ZERO violations of any impact, and
saved as a screenshot in SHOTS (at 1280 px, and the avstämning page at 390 px too).
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.reports import figures, service
from coordinator.reports.models import Avstamning
from coordinator.tasks.models import Task

from .conftest import SHOTS, assert_no_axe_violations, browser_login

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"avstamningar-{name}.png", full_page=True)


@pytest.fixture
def issued(app):
    """One issued report (2015Q3) to discuss."""
    with app.app_context():
        return service.issue(figures.parse_period("2015Q3"), "Första versionen.", None).id


def test_log_an_avstamning_add_an_action_and_close_it_with_its_outcome(page, app, issued):
    browser_login(page, "staff")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Rapporter", exact=True).click()
    page.get_by_role("link", name="Avstämningarna").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Avstämningar med statsrådet")
    expect(page.get_by_text("Ingen avstämning är loggad än.")).to_be_visible()
    assert_no_axe_violations(page, "avstämningar, tom lista")

    page.get_by_role("link", name="Logga en avstämning").click()
    page.get_by_label("Datum").fill("2015-10-21")
    page.get_by_label("Vilka deltog").fill("Statsrådet, statssekreteraren, samordnaren")
    page.get_by_label("Rapport som diskuterades").select_option(value=str(issued))
    page.get_by_label("Statsrådets återkoppling").fill("Statsrådet vill se fler exempel från små kommuner.")
    page.get_by_label("Beslut").fill("Nästa rapport redovisar exempel från små kommuner.")
    assert_no_axe_violations(page, "ny avstämning")
    shot(page, "ny")
    page.get_by_role("button", name="Spara avstämningen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Avstämning med statsrådet 2015-10-21")
    expect(page.get_by_role("status")).to_contain_text("Avstämningen den 2015-10-21 är sparad.")
    expect(page.get_by_role("link", name="Kvartalsrapport: Kvartal 3 2015, version 1")).to_have_attribute(
        "href", f"/rapporter/utfardade/{issued}/")

    # An empty action is refused in words, and the page stays accessible with its errors.
    page.get_by_role("link", name="Lägg till åtgärd").click()
    page.get_by_role("button", name="Spara åtgärden").click()
    expect(page.get_by_role("alert")).to_contain_text("Välj vem som är ansvarig.")
    assert_no_axe_violations(page, "ny åtgärd med fel")
    page.get_by_label("Åtgärd").fill("Ta fram exempel från små kommuner")
    page.get_by_label("Ansvarig").select_option(label="Test staff")
    page.get_by_label("Klar senast").fill("2015-11-30")
    page.get_by_role("button", name="Spara åtgärden").click()
    actions = page.get_by_role("table", name="Åtgärder efter avstämningen")
    row = actions.get_by_role("row").filter(has_text="Ta fram exempel från små kommuner")
    expect(row).to_contain_text("Test staff")
    expect(row).to_contain_text("2015-11-30")
    assert_no_axe_violations(page, "avstämning med öppen åtgärd")

    row.get_by_role("link", name=re.compile("Markera som klar")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Markera åtgärden som klar")
    page.get_by_label("Utfall").fill("Tre exempel finns i rapporten för kvartal 4.")
    assert_no_axe_violations(page, "markera som klar")
    page.get_by_role("button", name="Markera som klar").click()
    expect(page.get_by_role("status")).to_contain_text("är klar")
    expect(row).to_contain_text("Tre exempel finns i rapporten för kvartal 4.")
    expect(row).to_contain_text(re.compile(r"klar \d{4}-\d{2}-\d{2}"))
    expect(row.get_by_role("button", name=re.compile("Öppna igen"))).to_be_visible()
    assert_no_axe_violations(page, "avstämning med klar åtgärd")
    shot(page, "avstamning")
    with app.app_context():
        task = db.session.scalar(select(Task))
        assert task.done_at is not None and task.outcome == "Tre exempel finns i rapporten för kvartal 4."

    # The phone width: no sideways scroll of the page; the table scrolls in its own region.
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "avstamning-390")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="Ta bort avstämningen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ta bort avstämningen den 2015-10-21?")
    expect(page.get_by_text("Dess 1 åtgärd tas också bort")).to_be_visible()
    assert_no_axe_violations(page, "ta bort avstämningen")
    shot(page, "ta-bort")
    page.get_by_role("link", name="Avbryt").click()
    page.get_by_role("navigation", name="Avstämningar").get_by_role("link", name="Avstämningar med statsrådet").click()
    expect(page.get_by_role("table", name="Avstämningar, den senaste först")).to_contain_text("0 öppna av 1")
    assert_no_axe_violations(page, "avstämningar, lista")
    shot(page, "lista")
    with app.app_context():
        assert db.session.scalar(select(Avstamning.held_on)).isoformat() == "2015-10-21"
