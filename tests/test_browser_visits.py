"""The visits in a real browser: plan a round and save it, open a visit, invite its contacts,
confirm, move it (through the warning step), cancel it; and the list, calendar and map.

Every page is checked with axe-core and saved as a screenshot in SHOTS.
"""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from coordinator.contacts.models import Contact
from coordinator.extensions import db
from coordinator.outbox.models import OutboxMessage
from coordinator.sampling.models import Sample
from coordinator.scheduling.models import Visit

from .conftest import SHOTS, assert_accessible, browser_login

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"visits-{name}.png", full_page=True)


def nav_link(page, name: str):
    return page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name=name, exact=True)


@pytest.fixture
def adopted(app):
    """The seed-7 sample, adopted through the CLI, with three contacts at its first site."""
    runner = app.test_cli_runner()
    data = json.loads(runner.invoke(args=["sample", "draw", "--year", "2014", "--seed", "7", "--save",
                                          "--json"]).output)
    assert runner.invoke(args=["sample", "adopt", str(data["id"]), "--json"]).exit_code == 0
    saved = app.config.get("PLAN_TIME_LIMIT")
    app.config["PLAN_TIME_LIMIT"] = 3.0
    with app.app_context():
        site = db.session.get(Sample, data["id"]).active_sites[0]
        for i, (role, name) in enumerate((("socialchef", "Åsa Öberg"), ("ks_ordforande", "Per Ek"),
                                          ("facklig", "Lena Fack"))):
            db.session.add(Contact(site=site, role=role, name=name,
                                   email=f"kontakt{i}.{site.kommunkod}@kommun.example.se"))
        db.session.commit()
        yield {"site_id": site.id, "label": site.label}
    app.config["PLAN_TIME_LIMIT"] = saved


def test_plan_a_round_then_invite_confirm_move_and_cancel_a_visit(page, app, adopted):
    browser_login(page, "staff")
    nav_link(page, "Besök").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Besök")
    expect(nav_link(page, "Besök")).to_have_attribute("aria-current", "page")
    for name in ("Kontakter", "Utkorg", "Uppdraget"):
        expect(page.get_by_role("navigation", name="Besök").get_by_role("link", name=name)).to_be_visible()
    assert_accessible(page, "besök: att göra")
    shot(page, "index-empty")

    # Plan round 1: a proposal is shown, nothing is saved yet.
    page.get_by_label("Omgång").select_option(label="Omgång 1")
    page.get_by_role("button", name="Föreslå datum").click()
    proposal = page.get_by_role("region", name="Förslag: omgång 1")
    expect(proposal).to_be_visible(timeout=60_000)
    expect(proposal.get_by_role("table", name="Föreslagna datum").locator("tbody tr")).to_have_count(50)
    expect(proposal.locator("dt:has-text('Resdagar') + dd")).to_have_text(re.compile(r"^\d+$"))
    with app.app_context():
        assert db.session.scalar(select(Visit).where(Visit.date.isnot(None))) is None
    assert_accessible(page, "besök: förslag")
    shot(page, "proposal")
    page.get_by_role("button", name="Spara förslaget").click()
    expect(page.get_by_role("status").filter(has_text="Planen är sparad")).to_contain_text("50 besök har datum",
                                                                                        timeout=60_000)
    expect(page.get_by_role("heading", level=1)).to_have_text("Alla besök")
    expect(page.get_by_role("table").locator("tbody tr")).to_have_count(50)
    assert_accessible(page, "besök: lista")
    shot(page, "list")

    # Open the visit of the site with contacts.
    page.get_by_role("table").get_by_role("link", name=adopted["label"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Besök i {adopted['label']}, omgång 1")
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.site_id == adopted["site_id"], Visit.round == 1))
        visit_id, planned = visit.id, visit.date
    expect(page.locator("dt:has-text('Status') + dd")).to_have_text("förslag")
    # Invite two of the three contacts to the leadership dialogue.
    leadership = page.get_by_role("group", name=re.compile("^Programpunkt 1"))
    leadership.get_by_label("Åsa Öberg (Socialchef/förvaltningschef)").check()
    leadership.get_by_label("Per Ek (Kommunstyrelsens ordförande)").check()
    leadership.get_by_label("Från").fill("09:15")
    page.get_by_role("button", name="Spara programmet").click()
    expect(page.get_by_role("status")).to_contain_text("Programmet är sparat.")
    expect(page.get_by_role("group", name=re.compile("^Programpunkt 1")).get_by_label("Från")).to_have_value("09:15")
    assert_accessible(page, "besöket (förslag)")
    shot(page, "visit-proposal")

    page.get_by_role("button", name="Bjud in").click()
    expect(page.get_by_role("status")).to_contain_text("Inbjudan ligger i utkorgen och skickas vid nästa utskick")
    expect(page.locator("dt:has-text('Status') + dd")).to_have_text("inbjuden")
    attendees = page.get_by_role("table", name="De som fått inbjudan").locator("tbody tr")
    expect(attendees).to_have_count(2)
    expect(attendees.first).to_contain_text("Inte svarat")
    expect(page.get_by_role("link", name="Ladda ned kalenderfilen (.ics)")).to_have_attribute(
        "href", f"/besok/{visit_id}/inbjudan.ics")

    page.get_by_role("button", name="Bekräfta").click()
    expect(page.get_by_role("status")).to_contain_text("Besöket är bekräftat.")
    expect(page.locator("dt:has-text('Status') + dd")).to_have_text("bekräftad")
    # The page says what moving a booked visit sends.
    expect(page.get_by_text(re.compile("går en ny inbjudan till samma kalenderhändelse"))).to_be_visible()
    assert_accessible(page, "besöket (bekräftat)")
    shot(page, "visit-confirmed")

    # Move it to the Saturday of the same week: the rules are shown first, nothing is saved yet.
    saturday = planned + timedelta(days=5 - planned.weekday())
    move = page.get_by_role("region", name="Flytta besöket")
    move.get_by_label("Datum").fill(saturday.isoformat())
    move.get_by_label("Plats").fill("Kommunhuset, sammanträdesrum 2")
    move.get_by_role("button", name="Flytta", exact=True).click()
    warnings = page.get_by_role("alert")
    expect(warnings).to_contain_text(f"{saturday.isoformat()} är en lördag")
    expect(page.get_by_role("button", name="Flytta ändå")).to_be_visible()
    assert_accessible(page, "flytta: varningar")
    shot(page, "move-warning")
    page.get_by_role("button", name="Flytta ändå").click()
    expect(page.get_by_role("status").first).to_contain_text("En ny inbjudan till samma kalenderhändelse ligger i utkorgen")
    expect(page.locator("dt:has-text('Status') + dd")).to_have_text("flyttad")
    expect(page.locator("dt:has-text('Datum') + dd")).to_contain_text(saturday.isoformat())
    with app.app_context():
        kinds = [(m.kind, m.sequence) for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        assert kinds == [("request", 0), ("request", 1)]

    # Cancel: a confirmation page, then a cancellation to the invitees.
    page.get_by_role("link", name="Ställ in besöket …").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ställa in besöket")
    expect(page.get_by_text(re.compile("Ett återkallande av inbjudan skickas till"))).to_be_visible()
    expect(page.get_by_text(re.compile("METHOD:CANCEL"))).to_be_hidden()  # under "Tekniska detaljer"
    assert_accessible(page, "ställ in")
    shot(page, "cancel-confirm")
    page.get_by_label("Skäl").fill("Kommunen har bett att få skjuta upp besöket.")
    page.get_by_role("button", name="Ställ in besöket").click()
    expect(page.get_by_role("status")).to_contain_text("Besöket är inställt.")
    expect(page.locator("dt:has-text('Status') + dd")).to_have_text("inställd")
    expect(page.get_by_role("button", name="Bjud in")).to_have_count(0)
    assert_accessible(page, "besöket (inställt)")
    shot(page, "visit-cancelled")
    with app.app_context():
        last = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert (last.kind, last.sequence) == ("cancel", 2)

    # The calendar of the first planned month, and the round's map.
    page.get_by_role("navigation", name="Besök").get_by_role("link", name="Kalender", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kalender:")
    expect(page.get_by_role("table").get_by_role("link").first).to_be_visible()
    assert_accessible(page, "kalendern")
    shot(page, "calendar")
    page.goto("/besok/kalender?ar=2015&manad=4")
    expect(page.get_by_text("Långfredagen")).to_be_visible()
    shot(page, "calendar-april")
    page.get_by_role("navigation", name="Besök").get_by_role("link", name="Karta").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Karta över besöken, omgång 1")
    expect(page.locator("svg.karta")).to_be_visible()
    assert_accessible(page, "kartan")
    shot(page, "map")
    page.get_by_role("navigation", name="Besök").get_by_role("link", name="Att göra och planering").click()
    assert_accessible(page, "besök: att göra (med plan)")
    shot(page, "index")
