"""The report workflow in a real browser: staff write a narrative and issue the quarter's report;
the ministry logs in and finds the issued version, and nothing else.

Every page is checked with axe-core and saved as a screenshot in SHOTS.
"""
from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.reports.models import IssuedReport

from .conftest import SHOTS, assert_accessible, browser_login
from .test_report_workflow import quarter_visits  # noqa: F401  (the fixture: a sample with visits in 2015 Q3)

pytestmark = pytest.mark.browser

TITLE = "Kvartalsrapport: Kvartal 3 2015"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"reports-{name}.png", full_page=True)


def menu(page):
    return page.get_by_role("navigation", name="Huvudmeny")


def test_staff_issue_a_report_and_the_ministry_reads_only_the_issued_version(page, app, quarter_visits):
    browser_login(page, "staff")
    menu(page).get_by_role("link", name="Rapporter", exact=True).click()
    assert_accessible(page, "rapporter för kansliet")
    page.get_by_role("link", name=TITLE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{TITLE} UTKAST")
    expect(page.get_by_text("Utkast, inte utfärdat.", exact=True)).to_be_visible()

    page.get_by_label("Iakttagelser", exact=True).fill("Flera kommuner beskriver att rekryteringen har blivit "
                                                       "lättare.\n\nDemotext, inte verkliga iakttagelser.")
    page.get_by_role("button", name="Spara iakttagelser").click()
    expect(page.get_by_role("status")).to_contain_text("Texten ”Iakttagelser” är sparad (version 1).")
    expect(page.get_by_label("Iakttagelser", exact=True)).to_have_value(re.compile("rekryteringen har blivit"))
    assert_accessible(page, "utkast")
    shot(page, "utkast")

    page.get_by_label("Vad är nytt i den här versionen?").fill("Första versionen.")
    page.get_by_role("button", name="Utfärda version 1 …").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Utfärda version 1 av")
    page.get_by_role("button", name="Utfärda version 1", exact=True).click()
    expect(page).to_have_url(re.compile(r"/rapporter/utfardade/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{TITLE}, version 1 Utfärdad")
    expect(page.locator(".report-issued")).to_contain_text("rekryteringen har blivit lättare")
    issued_url = page.url

    page.get_by_role("button", name="Logga ut").click()
    browser_login(page, "reader")
    # The ministry's own overview: the issued reports first, then the whole archive one click away.
    expect(page.get_by_role("heading", level=1)).to_have_text("Översikt")
    expect(page.locator("section[aria-labelledby=utfardade]")).to_contain_text(TITLE)
    page.get_by_role("link", name="Alla rapporter och versioner").click()
    expect(page).to_have_url(re.compile(r"/rapporter/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Utfärdade rapporter")
    links = [a.get_attribute("href") for a in menu(page).get_by_role("link").all()]
    assert not any(h.startswith(("/dialog", "/handlingsplaner", "/besok")) for h in links), links
    expect(page.get_by_role("link", name=re.compile("Utkast"))).to_have_count(0)
    assert_accessible(page, "arkiv för departementet")
    shot(page, "arkiv-lasare")

    page.get_by_role("link", name=TITLE, exact=True).click()
    expect(page).to_have_url(issued_url)
    expect(page.locator(".issued-facts")).to_contain_text("Första versionen.")
    assert_accessible(page, "utfärdad rapport")
    shot(page, "utfardad")

    download = page.get_by_role("link", name=re.compile(r"Ladda ner kvartalsrapport-2015Q3-v1\.pdf"))
    pdf = page.request.get(download.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    with app.app_context():
        stored = db.session.scalar(select(IssuedReport.sha256))
    assert hashlib.sha256(pdf.body()).hexdigest() == stored

    page.goto("/rapporter/2015Q3/")  # the draft, typed in by hand
    expect(page.get_by_role("heading", level=1)).to_have_text("Ingen behörighet")
