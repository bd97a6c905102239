"""Layout at a desktop's width (1280 px) and a phone's (390 px), with the demo assignment.

- no GET page of the app scrolls sideways at 1280 px, nor at 390 px;
- the overview (as staff and as the ministry's reader), a city district's site page with a plan, a held
  visit, its note, and the kommun's two link pages (action plan, questionnaire) have no sideways scroll at
  either width, keep the main menu whole and marked, and axe finds nothing on them at 390 px;
- long words (an e-mail address, an organisation's name) wrap instead of widening the page;
- a table wider than the phone's screen scrolls inside its own region: named, focusable, with a visible
  cue (edge shadows from CSS alone, and a hint "Tabellen kan rullas i sidled" while it is wider), and the
  keyboard scrolls it; where the table fits there is no hint.

The demo is made once per backend (module-scoped) and only read, apart from the two kommun links and one
contact with long words that the fixtures add; each test opens its own browser context instead of the
`page` fixture, whose database reset would empty the demo. Screenshots go to SHOTS as layout-*.png.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, text

from coordinator.extensions import db

from .conftest import PASSWORD, SHOTS, USERS, Client, assert_no_axe_violations
from .helpers import demo_ids
from .test_navigation import page_urls

WIDTHS = (1280, 390)
HINT = "Tabellen kan rullas i sidled"
LONG_EMAIL = "ifo.mottagningen.barn.och.unga.socialforvaltningen@stadsdelsforvaltningen-for-barn-och-unga.example.se"
LONG_ORGANISATION = "Stadsdelsförvaltningensbarnochungdomsvårdsutvecklingsenhet"


@pytest.fixture(scope="module")
def ids(demo):
    """The demo's ids for every page, and the pages the issue names: the city district with a plan that has
    the most goals, its held visit with a note, and a kommun link to its plan and to a questionnaire."""
    from coordinator.measurement import service as measurement
    from coordinator.measurement.models import MeasurementRequest
    from coordinator.plans import service as plans
    from coordinator.plans.models import ActionPlan

    values = demo_ids(demo)
    with demo.app_context():
        site_id = db.session.execute(text(
            "SELECT s.id FROM site s JOIN action_plan p ON p.site_id = s.id JOIN plan_goal g ON g.plan_id = p.id "
            "WHERE s.enhet <> '' GROUP BY s.id ORDER BY count(g.id) DESC, s.id")).scalars().first()
        visit_id = db.session.execute(text(
            f"SELECT v.id FROM visit v JOIN note n ON n.visit_id = v.id WHERE v.site_id = {site_id} "
            "ORDER BY v.id")).scalars().first()
        # Links are valid from today's real date on (the demo's "today" is 2016), so they are made to last.
        last_day = date.today() + timedelta(days=30)
        link = plans.create_link(db.session.scalar(select(ActionPlan).where(ActionPlan.site_id == site_id)), last_day)
        request = db.session.scalars(select(MeasurementRequest).where(MeasurementRequest.submitted_at.is_(None))
                                     .order_by(MeasurementRequest.id)).first()
        measurement.set_last_day(request, last_day)
        db.session.commit()
        values.update(layout_site=site_id, layout_visit=visit_id, plan_token=plans.token_for(link),
                      questionnaire_token=measurement.token_for(request))
    # A contact whose address and organisation are each one long word, added as staff would.
    staff = Client(demo, USERS["staff"])
    response = staff.post(f"/kontakter/plats/{site_id}/ny", {
        "role": "ifo_chef", "name": "Demo Långordsson", "email": LONG_EMAIL, "phone": "",
        "organisation": LONG_ORGANISATION})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return values


def named_pages(ids) -> dict[str, tuple[str | None, str]]:
    """The pages the issue names: (who opens it, path); None is the kommun, with no login."""
    return {
        "overview-staff": ("staff", "/"),
        "overview-reader": ("reader", "/"),
        "site": ("staff", f"/platser/{ids['layout_site']}/"),
        "visit": ("staff", f"/besok/{ids['layout_visit']}"),
        "note": ("staff", f"/dialog/besok/{ids['layout_visit']}"),
        "kommun-plan": (None, f"/plan/{ids['plan_token']}"),
        "kommun-questionnaire": (None, f"/matning/{ids['questionnaire_token']}"),
    }


def open_context(browser, live_server, width: int, role: str | None, javascript: bool = True):
    context = browser.new_context(base_url=live_server, locale="sv-SE", viewport={"width": width, "height": 900},
                                  java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(15_000)
    if role:
        page.goto("/logga-in")
        page.get_by_label("E-postadress").fill(USERS[role])
        page.get_by_label("Lösenord").fill(PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        expect(page.get_by_role("navigation", name="Huvudmeny")).to_be_visible()
    return context, page


# What sticks out past the page's right edge, outside any scroll region: named in a failure's message.
SIDEWAYS = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  const scrolls = el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true; } return false; };
  const out = [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1 && !scrolls(el))
    .slice(-3).map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).trim()
      .replace(/\\s+/g, '.') : '') + ' (' + Math.round(el.getBoundingClientRect().right) + ' px)');
  return root.scrollWidth + ' px wide in ' + root.clientWidth + ': ' + out.join(', ');
}"""


def sideways(page) -> str | None:
    """None if the page has no sideways scroll; else what makes it wider than the window."""
    return page.evaluate(SIDEWAYS)


def shot(page, name: str, backend: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"layout-{name}-{backend}.png", full_page=True)


# --------------------------------------------------------------------------- every page

@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_of_the_app_scrolls_sideways(browser, live_server, demo, ids, width):
    pages = page_urls(demo, ids)
    assert len(pages) > 80
    context, page = open_context(browser, live_server, width, "admin")
    wide = {}
    try:
        for _endpoint, url in pages:
            page.goto(url)
            if problem := sideways(page):
                wide[url] = problem
    finally:
        context.close()
    assert wide == {}


# --------------------------------------------------------------------------- the pages the issue names

@pytest.mark.parametrize("name", ["overview-staff", "overview-reader", "site", "visit", "note", "kommun-plan",
                                  "kommun-questionnaire"])
def test_the_named_pages_fit_a_desktop_and_a_phone(browser, live_server, demo, ids, name):
    role, path = named_pages(ids)[name]
    for width in WIDTHS:
        context, page = open_context(browser, live_server, width, role)
        try:
            response = page.goto(path)
            assert response.status == 200, (name, width)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            assert sideways(page) is None, f"{name} at {width} px: {sideways(page)}"
            if role:
                # The whole menu is there and on the screen, with the current section marked.
                menu = page.get_by_role("navigation", name="Huvudmeny")
                rights = menu.get_by_role("link").evaluate_all(
                    "links => links.map(a => a.getBoundingClientRect().right)")
                assert rights and max(rights) <= width, (name, width, rights)
                if name.startswith("overview"):
                    expect(menu.locator("a[aria-current=page]")).to_have_text("Översikt")
            shot(page, f"{name}-{width}", demo.config["BACKEND"])
            if width == 390:
                assert_no_axe_violations(page, f"{name} at 390 px")
        finally:
            context.close()


def test_long_words_wrap_on_a_phone_instead_of_widening_the_site_page(browser, live_server, ids):
    context, page = open_context(browser, live_server, 390, "staff")
    try:
        page.goto(f"/platser/{ids['layout_site']}/")
        address = page.get_by_role("link", name=LONG_EMAIL)
        expect(address).to_be_visible()
        box = address.bounding_box()
        assert box["x"] + box["width"] <= 390 and box["height"] > 30  # on more than one line, inside the screen
        organisation = page.get_by_text(LONG_ORGANISATION)
        assert organisation.evaluate("el => el.getBoundingClientRect().right") <= 390
        assert sideways(page) is None
    finally:
        context.close()


def test_the_header_menu_on_a_phone_is_one_keyboard_usable_navigation(browser, live_server, ids):
    context, page = open_context(browser, live_server, 390, "admin")
    try:
        page.goto(f"/besok/{ids['layout_visit']}")
        menu = page.get_by_role("navigation", name="Huvudmeny")
        expect(menu).to_have_count(1)
        expect(menu.locator("a[aria-current=page]")).to_have_text("Besök")
        # Tab from the top: the skip link, the brand, then the menu's items in order.
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Hoppa till innehållet")).to_be_focused()
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        expect(menu.get_by_role("link", name="Översikt")).to_be_focused()
        page.keyboard.press("Tab")
        expect(menu.get_by_role("link", name="Kommuner")).to_be_focused()
        assert sideways(page) is None
    finally:
        context.close()


# --------------------------------------------------------------------------- wide tables

def region_facts(region) -> dict:
    return region.evaluate("""r => ({
        scrollable: r.scrollWidth > r.clientWidth, marked: r.classList.contains('is-scrollable'),
        tabindex: r.getAttribute('tabindex'), shadows: getComputedStyle(r).backgroundImage.split('gradient').length - 1,
        hint: !!(r.previousElementSibling && r.previousElementSibling.classList.contains('scroll-hint')
                 && !r.previousElementSibling.hidden && r.previousElementSibling.offsetHeight > 0)})""")


def test_a_wide_table_scrolls_in_its_own_named_region_with_a_visible_cue(browser, live_server, demo, ids):
    context, page = open_context(browser, live_server, 390, "staff")
    try:
        page.goto("/register/")
        caption = page.locator("caption#kommuntabell")
        region = page.get_by_role("region", name=caption.inner_text())
        facts = region_facts(region)
        assert facts == {"scrollable": True, "marked": True, "tabindex": "0", "shadows": 4, "hint": True}
        expect(page.get_by_text(HINT).first).to_be_visible()
        assert sideways(page) is None
        shot(page, "wide-table-390", demo.config["BACKEND"])

        # The keyboard scrolls it, and the focus shows.
        region.focus()
        assert region.evaluate("r => getComputedStyle(r).outlineStyle") == "solid"
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("r => r.scrollLeft > 0", arg=region.element_handle())
        assert_no_axe_violations(page, "/register/ at 390 px")

        # The site page's table of goals: wider than a phone, not than a desktop, where there is no hint.
        page.goto(f"/platser/{ids['layout_site']}/")
        goals = page.get_by_role("region", name="Utvecklingsmål och hur långt de har kommit")
        assert region_facts(goals)["hint"] is True
        page.set_viewport_size({"width": 1280, "height": 900})
        page.wait_for_function("r => !r.classList.contains('is-scrollable')", arg=goals.element_handle())
        assert region_facts(goals) == {"scrollable": False, "marked": False, "tabindex": "0", "shadows": 4,
                                       "hint": False}
        expect(page.locator(".scroll-hint:visible")).to_have_count(0)
    finally:
        context.close()


def test_without_javascript_a_wide_table_still_scrolls_with_its_edge_shadows(browser, live_server):
    context, page = open_context(browser, live_server, 390, "staff", javascript=False)
    try:
        page.goto("/register/")
        region = page.locator(".table-scroll").filter(has=page.locator("caption#kommuntabell"))
        facts = region_facts(region)
        assert facts == {"scrollable": True, "marked": False, "tabindex": "0", "shadows": 4, "hint": False}
        assert sideways(page) is None
    finally:
        context.close()
