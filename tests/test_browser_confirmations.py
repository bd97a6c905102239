"""Every confirmation step in a real browser, reached the way staff reach it (a link or a form on the
page where the action starts), checked with axe-core for ZERO violations of any impact, then
confirmed; and the undo of a decline. The same assignment as tests/test_confirmations.py.

Screenshots go to SHOTS as confirm-*.png.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.sampling.models import Sample, Site
from coordinator.scheduling.models import Visit

from .conftest import SHOTS, assert_no_axe_violations, browser_login
from .helpers import cli_json
from .test_confirmations import PERIOD, TODAY, build_world

pytestmark = pytest.mark.browser


@pytest.fixture
def world(app, admin):
    saved = app.config.get("COORDINATOR_TODAY")
    app.config["COORDINATOR_TODAY"] = TODAY
    yield build_world(app, admin)
    app.config["COORDINATOR_TODAY"] = saved


def step(page, name: str, heading: str | re.Pattern) -> None:
    """On a confirmation step: its heading, what happens, what cannot be undone, a way back; axe; a shot."""
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("heading", level=2, name="Det här händer")).to_be_visible()
    expect(page.get_by_text("Kan inte ångras:")).to_be_visible()
    expect(page.get_by_role("link", name="Avbryt", exact=True)).to_be_visible()
    assert_no_axe_violations(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"confirm-{name}.png", full_page=True)


def done(page, message: str | re.Pattern) -> None:
    expect(page.get_by_role("status").filter(has_text=message).first).to_be_visible()


def test_adopting_a_sample(page, app):
    sample_id = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "8", "--save")["id"]
    browser_login(page, "staff")
    page.goto(f"/urval/{sample_id}")
    page.get_by_role("link", name="Anta urvalet …").click()
    step(page, "anta", "Anta urvalet ”Dragning år 2014, frö 8”?")
    expect(page.get_by_text("Urvalet med 50 besöksplatser blir det antagna")).to_be_visible()
    page.get_by_role("button", name="Anta urvalet").click()
    done(page, "Urvalet är antaget.")
    with app.app_context():
        assert db.session.get(Sample, sample_id).adopted


def test_undo_a_decline_register_one_delete_a_draft_and_cancel_a_visit(page, app, world):
    with app.app_context():
        declining = db.session.get(Site, world["declining"]).label
        replacement = db.session.get(Site, world["replacement"]).label
        visit = db.session.get(Visit, world["visit"])
        visited = visit.site.label
    browser_login(page, "admin")

    # Undo the decline registered by mistake, from the list of declines on the sample page.
    page.goto(f"/urval/{world['sample']}")
    page.get_by_role("link", name=f"Ångra avböjandet från {declining}").click()
    step(page, "angra-avbojande", f"Ångra att {declining} avböjer?")
    expect(page.get_by_text(f"{declining} kommer tillbaka i urvalet som besöksplats.")).to_be_visible()
    expect(page.get_by_text(re.compile(f"{re.escape(replacement)}:s 2 föreslagna besök tas bort"))).to_be_visible()
    page.get_by_role("button", name="Ångra avböjandet").click()
    done(page, f"Avböjandet är ångrat: {declining} är med i urvalet igen.")
    declines = page.locator("#avbojande-%d" % world["decline"])
    expect(declines).to_contain_text("ångrat")
    assert_no_axe_violations(page, "urvalet efter ångrat avböjande")
    with app.app_context():
        assert db.session.get(Site, world["declining"]).active

    # Register a decline of the invited visit's site: the preview names the reserve and the mail.
    decline = page.get_by_role("region", name="Registrera att en kommun avböjer")
    decline.get_by_label("Besöksplats som avböjer").select_option(label=visited)
    decline.get_by_label("Datum").fill("2015-01-25")
    decline.get_by_label("Skäl").fill("Kommunen har en pågående omorganisation.")
    decline.get_by_role("button", name="Visa vad som händer").click()
    step(page, "avboj", f"Registrera att {visited} avböjer?")
    expect(page.get_by_text(re.compile(r"^Reserven .+ ersätter"))).to_be_visible()
    expect(page.get_by_text("Ett återkallande av inbjudan skickas till 2 personer.", exact=False)).to_be_visible()
    page.get_by_role("button", name="Registrera avböjandet").click()
    done(page, re.compile(f"{re.escape(visited)} avböjer. Ersättare: "))

    # Delete the draft sample.
    page.goto(f"/urval/{world['draft']}")
    page.get_by_role("link", name="Ta bort utkastet …").click()
    step(page, "ta-bort-utkast", "Ta bort utkastet ”Dragning år 2014, frö 8”?")
    page.get_by_role("button", name="Ta bort utkastet").click()
    done(page, "Utkastet är borttaget.")

    # Cancel a visit (another site's: the declined one's visit was cancelled with its decline).
    with app.app_context():
        other = db.session.scalar(select(Visit).where(Visit.site_id == world["plan_site"], Visit.round == 2))
        other_id, other_label = other.id, other.site.label
    page.goto(f"/besok/{other_id}")
    page.get_by_role("link", name="Ställ in besöket …").click()
    step(page, "stall-in-besok", f"Ställa in besöket i {other_label}, omgång 2?")
    expect(page.get_by_text("Ingen inbjudan har skickats, så inget meddelande går ut.")).to_be_visible()
    page.get_by_label("Skäl").fill("Dubbelbokning.")
    page.get_by_role("button", name="Ställ in besöket").click()
    done(page, "Besöket är inställt.")


def test_plan_links_goals_activities_questionnaires_feeds_forums_and_drafts(page, app, world):
    browser_login(page, "admin")
    plan = f"/handlingsplaner/plats/{world['plan_site']}"

    page.goto(plan)
    page.get_by_role("link", name=f"Återkalla … länk {world['link']}").click()
    step(page, "aterkalla-planlank", re.compile(rf"Återkalla länk {world['link']} till handlingsplanen för .+\?"))
    page.get_by_role("button", name="Återkalla länken").click()
    done(page, "Länken är återkallad.")

    page.goto(f"{plan}/aktivitet/{world['activity']}")
    page.get_by_role("link", name="Ta bort aktiviteten …").click()
    step(page, "ta-bort-aktivitet", re.compile(r"Ta bort aktivitet 1\.1 i handlingsplanen för .+\?"))
    page.get_by_role("button", name="Ta bort aktiviteten").click()
    done(page, "Aktiviteten är borttagen.")

    page.goto(f"{plan}/mal/{world['goal']}")
    page.get_by_role("link", name="Ta bort målet …").click()
    step(page, "ta-bort-mal", re.compile(r"Ta bort mål 1 i handlingsplanen för .+\?"))
    page.get_by_role("button", name="Ta bort målet").click()
    done(page, "Målet och dess aktiviteter är borttagna.")

    page.goto(f"/matningar/omgang/1/plats/{world['asked']}")
    page.get_by_role("link", name="Återkalla länken …").click()
    step(page, "aterkalla-matlank", re.compile(r"Återkalla länken till enkäten för .+, omgång 1\?"))
    page.get_by_role("button", name="Återkalla länken").click()
    done(page, "Länken är återkallad.")

    page.goto(f"/matningar/enkater/{world['questionnaire']}/fragor/{world['question']}")
    page.get_by_role("link", name="Ta bort fråga 2 …").click()
    step(page, "ta-bort-fraga", "Ta bort fråga 2 i ”Inför besöket”?")
    page.get_by_role("button", name="Ta bort frågan").click()
    done(page, "Fråga 2 är borttagen")

    page.goto("/kalenderflöden")
    page.locator(f"#flode-{world['feed']}").get_by_role("link", name="Återkalla …").click()
    step(page, "aterkalla-flode", re.compile(r"Återkalla kalenderflödet för .+\?"))
    page.get_by_role("button", name="Återkalla flödet").click()
    done(page, "Kalenderflödet är återkallat.")

    page.goto(f"/dialogforum/{world['event']}")
    page.get_by_role("link", name="Ta bort … Per Ek").click()
    step(page, "ta-bort-person", "Ta bort Per Ek från de inbjudna?")
    page.get_by_role("button", name="Ta bort personen").click()
    done(page, "Personen är borttagen")
    page.get_by_role("link", name="Ställ in dialogforumet …").click()
    step(page, "stall-in-forum", "Ställa in ”Hearing om placeringar av barn”?")
    page.get_by_label("Skäl").fill("Departementet flyttar hearingen.")
    page.get_by_role("button", name="Ställ in dialogforumet").click()
    done(page, "Dialogforumet är inställt.")

    page.goto(f"/dialog/besok/{world['round1_visit']}")
    page.get_by_role("link", name="Kasta utkastet …").click()
    step(page, "kasta-utkast", "Kasta ditt osparade utkast?")
    page.get_by_role("button", name="Kasta utkastet").click()
    done(page, "Utkastet är kastat.")


def test_issuing_a_report_and_the_settings_steps(page, app, world):
    browser_login(page, "admin")
    page.goto(f"/rapporter/{PERIOD}/")
    page.get_by_label("Vad är nytt i den här versionen?").fill("Första versionen.")
    page.get_by_role("button", name="Utfärda version 1 …").click()
    step(page, "utfarda", re.compile(r"Utfärda version 1 av Kvartalsrapport: .+\?"))
    page.get_by_role("button", name="Utfärda version 1", exact=True).click()
    expect(page).to_have_url(re.compile(r"/rapporter/utfardade/\d+/$"))

    page.goto(f"/besok/uppdrag/faser/{world['phase']}")
    page.get_by_role("link", name=re.compile(r"^Ta bort fas \d+ …$")).click()
    step(page, "ta-bort-fas", re.compile(r"Ta bort fas \d+, .+\?"))
    page.get_by_role("button", name="Ta bort fasen").click()
    done(page, "är borttagen")

    page.goto(f"/besok/uppdrag/uppehall/{world['blackout']}")
    page.get_by_role("link", name=re.compile(r"^Ta bort ”.+” …$")).click()
    step(page, "ta-bort-uppehall", re.compile(r"Ta bort uppehållet ”.+”\?"))
    page.get_by_role("button", name="Ta bort uppehållet").click()
    done(page, "är borttaget")

    page.goto("/register/installningar")
    page.get_by_role("link", name="Återställ standard …").click()
    step(page, "aterstall-grupper", "Återställa ÖJ-grupperna och fördelningen till standard?")
    page.get_by_role("button", name="Återställ standard").click()
    done(page, "ÖJ-grupperna hade redan standardvärdena.")
