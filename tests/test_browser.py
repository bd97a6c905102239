"""The main flow in a real browser: registry, drawing the sample of 50 visit sites, the protocol.

Each test drives the UI as a user would (accessible names, labels, the keyboard), checks the page
with axe-core, and saves a screenshot of each main page in SHOTS for a human to look at.
"""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, SHOTS, USERS, assert_accessible, browser_login

pytestmark = pytest.mark.browser

SEED = 7


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def main_nav(page):
    return page.get_by_role("navigation", name="Huvudmeny")


def nav_link(page, name: str):
    return main_nav(page).get_by_role("link", name=name, exact=True)


def section(page, heading: str):
    """A <section aria-labelledby=…> by its heading: the region role carries the heading's text."""
    return page.get_by_role("region", name=heading, exact=True)


def draw_sample(page, seed: int = SEED) -> None:
    """From anywhere while logged in as staff: Urval → Slumpfrö → Dra urval, landing on the sample."""
    nav_link(page, "Urval").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Urval av besöksplatser")
    page.get_by_label("Slumpfrö").fill(str(seed))
    page.get_by_role("button", name="Dra urval").click()
    expect(page.get_by_text("Urvalet är draget och sparat som utkast")).to_be_visible()


def site_rows(page):
    return section(page, "Besöksplatser").locator("tbody tr")


# --------------------------------------------------------------------------- logging in

def test_wrong_password_is_refused_in_swedish_and_the_right_one_opens_the_overview(page):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/logga-in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    assert_accessible(page, "inloggningssidan")
    shot(page, "login")

    page.get_by_label("E-postadress").fill(USERS["staff"])
    page.get_by_label("Lösenord").fill("fel-lösenord")
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("alert")).to_have_text("Fel e-postadress eller lösenord.")
    expect(page).to_have_url(re.compile(r"/logga-in"))
    assert_accessible(page, "inloggningssidan med felmeddelande")

    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Översikt")
    expect(page.get_by_text("Inget urval är antaget än.")).to_be_visible()
    expect(main_nav(page).get_by_role("link")).to_have_text(["Översikt", "Kommuner", "Urval", "Besök", "Dialoger",
                                                          "Handlingsplaner", "Mätningar", "Dialogforum", "Rapporter",
                                                          "Urvalsprotokoll"])
    assert_accessible(page, "översikten")
    shot(page, "overview")


# --------------------------------------------------------------------------- the sample

def test_staff_draws_adopts_and_replaces_a_declining_site_and_reads_the_protocol(page):
    browser_login(page, "staff")
    nav_link(page, "Urval").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Urval av besöksplatser")
    expect(nav_link(page, "Urval")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("cell", name="Inga urval ännu.")).to_be_visible()
    assert_accessible(page, "urvalssidan")
    shot(page, "sampling-index")

    # Draw with a fixed seed: a draft with 50 visit sites.
    page.get_by_label("Slumpfrö").fill(str(SEED))
    page.get_by_role("button", name="Dra urval").click()
    expect(page).to_have_url(re.compile(r"/urval/\d+$"))
    expect(page.get_by_role("status")).to_contain_text("Urvalet är draget och sparat som utkast")
    facts = section(page, "Urvalet i korthet")
    expect(facts.locator("dt:has-text('Slumpfrö') + dd")).to_have_text(str(SEED))
    expect(facts.locator("dt:has-text('Status') + dd")).to_have_text("Utkast, inte antaget")
    expect(facts.locator("dt:has-text('Besöksplatser') + dd")).to_have_text("50")
    expect(site_rows(page)).to_have_count(50)
    expect(section(page, "Besöksplatser").get_by_role("columnheader", name="π")).to_be_visible()
    # Groups: 10 visit sites in each of the five ÖJ groups, 50 in all.
    groups = section(page, "Grupper och fördelning")
    expect(groups.locator("tbody td:last-child")).to_have_text(["10"] * 5)
    expect(groups.locator("tfoot td").last).to_have_text("50")

    # Diagnostics: spatial balance, and every one of the 21 län has at least one kommun.
    diagnostics = section(page, "Diagnostik")
    expect(diagnostics.get_by_text("Rumslig balans")).to_be_visible()
    per_lan = diagnostics.get_by_role("table", name=re.compile("Valda kommuner per län"))
    expect(per_lan.locator("tbody tr")).to_have_count(21)
    expect(per_lan.get_by_role("rowheader", name="Gotlands län")).to_be_visible()
    counts = [int(c) for c in per_lan.locator("tbody td").all_inner_texts()]
    assert len(counts) == 21 and min(counts) >= 1, counts
    assert_accessible(page, "urvalet (utkast)")
    shot(page, "sample-draft")

    # Adopt it, through its confirmation step.
    page.get_by_role("link", name="Anta urvalet …").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Anta urvalet")
    page.get_by_role("button", name="Anta urvalet").click()
    expect(page.get_by_role("status")).to_contain_text("Urvalet är antaget.")
    expect(facts.locator("dt:has-text('Status') + dd")).to_contain_text("Antaget")
    expect(page.get_by_role("link", name="Anta urvalet …")).to_have_count(0)
    nav_link(page, "Urval").click()
    saved = section(page, "Sparade urval")
    expect(saved.locator("tbody tr")).to_have_count(1)
    expect(saved.locator("tbody tr").first).to_contain_text("antaget")
    saved.get_by_role("link").first.click()

    # A kommun declines: it is struck out, a reserve from the same group takes its place, and the
    # decline is logged with date and reason.
    def group_of(row):
        return row.locator("td").first.inner_text().strip()

    def kommun_of(row):  # "Åtvidaberg (0561)" -> "Åtvidaberg"
        return re.sub(r" \(\d{4}\)$", "", row.locator("td").nth(1).inner_text().strip())

    in_group_1 = site_rows(page).filter(has=page.locator("td:first-child", has_text=re.compile(r"^1$")))
    declining = kommun_of(in_group_1.first)
    decline = section(page, "Registrera att en kommun avböjer")
    site = decline.get_by_label("Besöksplats som avböjer")
    expect(site.locator("option")).to_have_count(51)  # the 50 sites and "Välj besöksplats"
    expect(site).to_have_value("0")  # nothing preselected
    site.select_option(label=declining)
    decline.get_by_label("Datum").fill("2015-03-02")
    decline.get_by_label("Skäl").fill("Kommunen har en pågående omorganisation av socialtjänsten.")
    decline.get_by_role("button", name="Visa vad som händer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Registrera att {declining} avböjer?")
    page.get_by_role("button", name="Registrera avböjandet").click()
    flash = page.get_by_role("status").filter(has_text="avböjer")
    expect(flash).to_contain_text(f"{declining} avböjer. Ersättare: ")
    replacement = re.search(r"Ersättare: (.+)\.$", flash.inner_text().strip()).group(1)
    expect(site_rows(page)).to_have_count(51)
    struck = site_rows(page).filter(has=page.locator(".badge", has_text="avböjt"))
    incoming = site_rows(page).filter(has=page.locator(".badge", has_text="ersättare"))
    expect(struck).to_have_count(1)
    expect(incoming).to_have_count(1)
    assert kommun_of(struck) == declining and kommun_of(incoming) == replacement
    assert group_of(struck) == group_of(incoming) == "1"
    expect(facts.locator("dt:has-text('Besöksplatser') + dd")).to_have_text("50")
    expect(per_lan.locator("tbody td").filter(has_text=re.compile(r"^0$"))).to_have_count(0)
    log = section(page, "Avböjanden och ersättare").locator("tbody tr")
    expect(log).to_have_count(1)
    expect(log.locator("td")).to_have_text(
        ["2015-03-02", declining, "Kommunen har en pågående omorganisation av socialtjänsten.", replacement,
         re.compile(r"Test staff"), re.compile(f"Ångra avböjandet från {declining}")])
    assert_accessible(page, "urvalet (antaget, med avböjande)")
    shot(page, "sample-adopted")

    # The protocol page, and the same protocol as a PDF.
    page.get_by_role("main").get_by_role("link", name="Urvalsprotokoll").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Urvalsprotokoll")
    expect(section(page, "Avböjanden och ersättare").locator("tbody tr")).to_have_count(1)
    assert_accessible(page, "urvalsprotokollet")
    shot(page, "protocol")
    pdf_link = page.get_by_role("link", name="Ladda ned som PDF")
    response = page.request.get(pdf_link.get_attribute("href"))
    assert response.status == 200, response.status
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    # The overview now points at the adopted sample.
    page.get_by_role("link", name="Samordnaren").click()
    expect(page.get_by_text(re.compile(r"Antaget urval: .*50 besöksplatser"))).to_be_visible()


def test_a_hand_picked_selection_without_gotland_is_refused_and_kept_for_correction(page, app):
    # The office's own list: the seed-7 draw, but with Gotland (the only kommun in Gotlands län) left out.
    draw = app.test_cli_runner().invoke(args=["sample", "draw", "--year", "2014", "--seed", str(SEED), "--json"])
    assert draw.exit_code == 0, draw.output
    sites = [s for s in json.loads(draw.output)["sites"] if s["kommunkod"] != "0980"]
    assert len(sites) == 49
    typed = "\n".join(f"{s['kommunkod']},{s['enhet'] or ''}" for s in sites)

    browser_login(page, "staff")
    nav_link(page, "Urval").click()
    page.get_by_role("link", name="Ange ett handplockat urval").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Handplockat urval")
    page.get_by_label("Besöksplatser").fill(typed)
    page.get_by_role("button", name="Pröva mot reglerna").click()
    problems = page.get_by_role("alert")
    expect(problems.get_by_role("heading")).to_contain_text("Urvalet bryter mot")
    expect(problems.get_by_role("listitem").filter(has_text=re.compile(r"^Gotlands län saknas$"))).to_have_count(1)
    # The typed list is still in the box, ready to be corrected.
    expect(page.get_by_label("Besöksplatser")).to_have_value(typed)
    assert_accessible(page, "handplockat urval med fel")
    shot(page, "manual-problems")

    # Putting Gotland back makes the selection pass the same rules.
    page.get_by_label("Besöksplatser").press("Control+End")
    page.get_by_label("Besöksplatser").press_sequentially("\n0980,")
    page.get_by_role("button", name="Pröva mot reglerna").click()
    expect(page.get_by_role("status")).to_have_text("Urvalet följer alla regler (50 besöksplatser).")
    expect(page.get_by_role("alert")).to_have_count(0)
    # Checking saves nothing.
    nav_link(page, "Urval").click()
    expect(page.get_by_role("cell", name="Inga urval ännu.")).to_be_visible()


# --------------------------------------------------------------------------- the registry

def test_registry_list_filters_by_group_and_leads_to_a_kommun_page(page):
    browser_login(page, "staff")
    nav_link(page, "Kommuner").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kommuner")
    expect(page.get_by_text("290 av 290 kommuner")).to_be_visible()
    assert_accessible(page, "kommunlistan")
    shot(page, "registry-list")

    filters = page.get_by_role("search", name="Filtrera kommuner")
    filters.get_by_label("ÖJ-grupp").select_option(label="Grupp 5")
    filters.get_by_role("button", name="Visa").click()
    expect(page).to_have_url(re.compile(r"grupp=5"))
    expect(page.get_by_text("4 av 290 kommuner")).to_be_visible()
    table = page.get_by_role("table", name=re.compile("Kommuner med folkmängd"))
    expect(table.get_by_role("rowheader")).to_have_text(["Göteborg", "Malmö", "Stockholm", "Uppsala"])
    assert_accessible(page, "kommunlistan, grupp 5")

    filters = page.get_by_role("search", name="Filtrera kommuner")
    filters.get_by_label("ÖJ-grupp").select_option(label="Alla grupper")
    filters.get_by_label("Län").select_option(label="Gotlands län")
    filters.get_by_role("button", name="Visa").click()
    expect(page.get_by_text("1 av 290 kommuner")).to_be_visible()
    expect(table.get_by_role("rowheader")).to_have_text(["Gotland"])

    page.goto("/register/?grupp=5")
    table.get_by_role("link", name="Stockholm").click()
    expect(page).to_have_url(re.compile(r"/register/kommun/0180$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Stockholm")
    expect(page.get_by_text("Kommun i Stockholms län")).to_be_visible()
    expect(page.locator("dt:has-text('Kommunkod') + dd")).to_have_text("0180")
    expect(page.get_by_role("heading", name="Stadsdelar")).to_be_visible()
    # The län map is a group of links (one per neighbouring kommun), named by its title.
    lan_map = page.get_by_role("group", name=re.compile(r"^Karta över Stockholms län"))
    expect(lan_map).to_be_visible()
    expect(lan_map.get_by_role("link", name="Solna")).to_be_visible()
    assert_accessible(page, "kommunsidan för Stockholm")
    shot(page, "kommun-0180")


def test_registry_groups_per_lan_and_the_map(page):
    browser_login(page, "staff")
    page.goto("/register/")
    page.get_by_role("navigation", name="Kommunregistret").get_by_role("link", name="ÖJ-grupper per län").click()
    expect(page).to_have_url(re.compile(r"/register/grupper"))
    table = page.get_by_role("table").first
    # 21 län, plus the total row; the total column holds 290.
    expect(table.locator("tbody tr")).to_have_count(21)
    expect(table).to_contain_text("Gotlands län")
    expect(table.locator("tfoot")).to_contain_text("290")
    assert_accessible(page, "grupper per län")
    shot(page, "registry-groups")

    page.get_by_role("navigation", name="Kommunregistret").get_by_role("link", name="Karta").click()
    expect(page).to_have_url(re.compile(r"/register/karta"))
    svg = page.get_by_role("group", name=re.compile(r"^Sveriges kommuner efter ÖJ-grupp"))
    expect(svg).to_be_visible()
    expect(svg.locator("xpath=self::*[local-name()='svg']")).to_have_count(1)
    expect(svg.locator("path")).to_have_count(290)
    assert_accessible(page, "kartan")
    shot(page, "registry-map")


# --------------------------------------------------------------------------- roles

def test_the_ministry_reader_sees_only_reports_and_the_protocol(page):
    browser_login(page, "reader")
    expect(main_nav(page).get_by_role("link")).to_have_text(["Översikt", "Rapporter", "Urvalsprotokoll"])
    nav_link(page, "Urvalsprotokoll").click()
    expect(page.get_by_text("Inget urval är antaget än.")).to_be_visible()
    assert_accessible(page, "protokollet utan antaget urval")
    response = page.goto("/urval/")
    assert response.status == 403
    response = page.goto("/register/")
    assert response.status == 403


def test_the_ministry_reader_reads_the_adopted_protocol_but_not_a_draft(page, app):
    runner = app.test_cli_runner()
    adopted = json.loads(runner.invoke(args=["sample", "draw", "--year", "2014", "--seed", str(SEED),
                                             "--save", "--json"]).output)["id"]
    assert runner.invoke(args=["sample", "adopt", str(adopted)]).exit_code == 0
    draft = json.loads(runner.invoke(args=["sample", "draw", "--year", "2014", "--seed", "8",
                                           "--save", "--json"]).output)["id"]

    browser_login(page, "reader")
    nav_link(page, "Urvalsprotokoll").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Urvalsprotokoll: Dragning år 2014, frö {SEED}")
    expect(site_rows(page)).to_have_count(50)
    # Reading only: nothing to adopt, decline or delete.
    expect(page.get_by_role("main").get_by_role("button")).to_have_count(0)
    pdf = page.request.get(page.get_by_role("link", name="Ladda ned som PDF").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert_accessible(page, "protokollet för läsaren")
    shot(page, "protocol-reader")
    assert page.goto(f"/urval/{draft}/protokoll").status == 403
    assert page.request.get(f"/urval/{draft}/protokoll.pdf").status == 403


# --------------------------------------------------------------------------- keyboard and no JavaScript

def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page):
    browser_login(page, "staff")
    page.goto("/urval/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Hoppa till innehållet")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()

    # From there the draw form is reached and sent with the keyboard alone: year, then seed, Enter.
    page.keyboard.press("Tab")
    expect(page.get_by_label("Referensår för befolkningen")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Slumpfrö")).to_be_focused()
    page.keyboard.type(str(SEED))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Urvalet är draget och sparat som utkast")
    expect(site_rows(page)).to_have_count(50)


def test_login_and_drawing_work_without_javascript(browser, live_server, app):
    context = browser.new_context(base_url=live_server, locale="sv-SE", java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        browser_login(page, "staff")
        expect(page.get_by_role("heading", level=1)).to_have_text("Översikt")
        draw_sample(page, seed=SEED)
        expect(site_rows(page)).to_have_count(50)
        page.get_by_role("link", name="Anta urvalet …").click()
        page.get_by_role("button", name="Anta urvalet").click()
        expect(page.get_by_role("status")).to_contain_text("Urvalet är antaget.")
    finally:
        context.close()
