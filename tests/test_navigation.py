"""Navigation and language on every page, with the demo assignment (made once per backend, read only).

- the main menu marks the section of every page, the account and the sample protocol included;
- the dialogue section's menu is on every page of the section, /dialog/ and the notes included;
- object pages have breadcrumbs that pass through their visit site's page;
- with English chosen, every GET page of the app is English: no Swedish text of the catalogue is left
  (the demo's own data, Swedish by nature, is taken out of the page before looking);
- the flagged-passage lists are paged and keep their filters.
"""
from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import url_for
from sqlalchemy import event, select, text

from coordinator.extensions import db

from .helpers import demo_ids
from .conftest import USERS, Client

ROOT = Path(__file__).parent.parent
# Pages that are not pages of the app for staff: a token instead of a login, downloads, the language switch.
NOT_PAGES = {"static", "set_language", "invites.feed", "measurement.kommun_form", "plans.kommun_plan",
             "plans.kommun_pdf", "feedback.kommun_letter"}


@pytest.fixture(scope="module")
def ids(demo):
    """An id for every kind of URL argument, from the demo's data: a booked visit and its site, and so on."""
    return demo_ids(demo)


def page_urls(app, ids: dict) -> list[tuple[str, str]]:
    """(endpoint, URL) of every GET page whose arguments the demo can fill."""
    urls = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in NOT_PAGES or re.search(r"\.(pdf|csv|ics|docx)$", rule.rule):
                continue
            values = {}
            for arg in rule.arguments:
                key = "plan_site" if arg == "site_id" and rule.endpoint.startswith("plans.") else arg
                if key == "visit_id" and rule.endpoint.startswith("dialogue.note"):
                    key = "held_visit"
                if key == "question_id" and rule.endpoint.startswith("dialogue."):
                    key = "dialogue_question_id"
                if ids.get(key) is None:
                    break
                values[arg] = ids[key]
            else:
                urls.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return urls


def nav(html: str, label: str) -> str | None:
    match = re.search(rf'<nav[^>]*aria-label="{re.escape(label)}"[^>]*>(.*?)</nav>', html, flags=re.S)
    return match.group(1) if match else None


def current_items(nav_html: str) -> list[str]:
    return [htmllib.unescape(re.sub(r"<[^>]+>", "", m)).strip()
            for m in re.findall(r'<a [^>]*aria-current="page"[^>]*>(.*?)</a>', nav_html, flags=re.S)]


# --------------------------------------------------------------------------- menus

@pytest.mark.parametrize("url, item", [
    ("/", "Översikt"), ("/register/", "Kommuner"), ("/register/kommun/0180", "Kommuner"), ("/urval/", "Urval"),
    ("/urval/protokoll", "Urvalsprotokoll"), ("/besok/", "Besök"), ("/besok/lista", "Besök"),
    ("/utkorg", "Besök"), ("/kontakter", "Besök"), ("/kalenderflöden", "Besök"), ("/besok/uppdrag", "Besök"),
    ("/dialog/", "Dialoger"), ("/dialog/citat", "Dialoger"), ("/handlingsplaner", "Handlingsplaner"),
    ("/matningar/", "Mätningar"), ("/dialogforum/", "Dialogforum"), ("/rapporter/", "Rapporter"),
    ("/anvandare/", "Användare"), ("/logg/", "Logg"),
])
def test_the_main_menu_marks_the_section_of_the_page(demo, url, item):
    html = Client(demo, USERS["admin"]).get(url).get_data(as_text=True)
    assert current_items(nav(html, "Huvudmeny")) == [item]


def test_the_account_page_marks_the_account_link_and_no_menu_item(demo):
    for url in ("/konto/", "/konto/losenord"):
        html = Client(demo, USERS["staff"]).get(url).get_data(as_text=True)
        assert current_items(nav(html, "Huvudmeny")) == []
        assert re.search(r'<a href="/konto/" aria-current="page">Test staff</a>', html)


def test_the_dialogue_menu_is_on_every_page_of_the_section_with_the_page_marked(demo, ids):
    admin = Client(demo, USERS["admin"])
    pages = [(e, u) for e, u in page_urls(demo, ids) if e.startswith("dialogue.")]
    assert {"dialogue.index", "dialogue.note", "dialogue.note_history", "dialogue.note_revision",
            "dialogue.event_note", "dialogue.overview", "dialogue.search_page", "dialogue.codebook",
            "dialogue.good_examples", "dialogue.quotes"} <= {e for e, _u in pages}
    expected = {"dialogue.index": "Anteckningar", "dialogue.note": "Anteckningar",
                "dialogue.event_note_history": "Anteckningar", "dialogue.overview": "Översikt per tema",
                "dialogue.search_page": "Sök", "dialogue.codebook_theme": "Teman", "dialogue.good_examples":
                "Goda exempel", "dialogue.obstacles": "Hinder", "dialogue.national_questions":
                "Frågor för nationell nivå", "dialogue.quotes": "Citat", "dialogue.question_new": "Dialogfrågor"}
    for endpoint, url in pages:
        html = admin.get(url).get_data(as_text=True)
        menu = nav(html, "Dialoger")
        assert menu is not None, url
        links = re.findall(r'<a href="([^"]+)"', menu)
        assert links[:2] == ["/dialog/", "/dialog/oversikt"] and len(links) == 9, url
        marked = current_items(menu)
        assert len(marked) == 1, (url, marked)
        if endpoint in expected:
            assert marked == [expected[endpoint]], url


@pytest.mark.parametrize("path, trail", [
    ("/besok/{visit_id}", ["Besök", "{site}", "Besöket i omgång {round}"]),
    ("/besok/{visit_id}/svar", ["Besök", "{site}", "Besöket i omgång {round}", "Svar på inbjudan"]),
    ("/dialog/besok/{held_visit}", ["Dialoger", "{held_site}", "Anteckningar från omgång {held_round}"]),
    ("/dialog/besok/{held_visit}/historik", ["Dialoger", "{held_site}", "Anteckningar från omgång {held_round}",
                                             "Historik"]),
    ("/handlingsplaner/plats/{plan_site}", ["Handlingsplaner", "{plan_label}", "Handlingsplanen"]),
    ("/handlingsplaner/plats/{plan_site}/mal/{goal_id}", ["Handlingsplaner", "{plan_label}", "Handlingsplanen",
                                                           "Mål 1"]),
    ("/kontakter/plats/{site_id}", ["Besök", "{site}", "Kontakter"]),
    ("/matningar/omgang/1/plats/{site_id}", ["Mätningar", "{site}", "Mätning, omgång 1"]),
])
def test_object_pages_have_breadcrumbs_through_the_site_page(demo, ids, path, trail):
    from coordinator.sampling.models import Site
    from coordinator.scheduling.models import Visit
    with demo.app_context():
        visit, held = db.session.get(Visit, ids["visit_id"]), db.session.get(Visit, ids["held_visit"])
        values = {**ids, "site": visit.site.label, "round": visit.round, "held_site": held.site.label,
                  "held_round": held.round, "plan_label": db.session.get(Site, ids["plan_site"]).label}
        site_of = {"{site}": ids["site_id"], "{held_site}": held.site_id, "{plan_label}": ids["plan_site"]}
    html = Client(demo, USERS["staff"]).get(path.format(**values)).get_data(as_text=True)
    crumbs = nav(html, "Brödsmulor")
    assert crumbs is not None and "<ol>" in crumbs
    items = [htmllib.unescape(re.sub(r"<[^>]+>", "", li)).strip() for li in re.findall(r"<li>(.*?)</li>", crumbs, re.S)]
    assert items == [t.format(**values) for t in trail]
    site_step = next(t for t in trail if t in site_of)
    assert f'href="/platser/{site_of[site_step]}/"' in crumbs
    assert re.search(r'<span aria-current="page">[^<]+</span></li>\s*</ol>', crumbs)


def test_the_visit_page_names_its_site_with_a_link_to_the_site_page(demo, ids):
    html = Client(demo, USERS["staff"]).get(f"/besok/{ids['visit_id']}").get_data(as_text=True)
    assert re.search(rf'<dt>Besöksplats</dt><dd><a href="/platser/{ids["site_id"]}/">', html)


# --------------------------------------------------------------------------- English everywhere

def swedish_needles() -> list[tuple[str, str]]:
    """Pieces of the catalogue's Swedish strings (between placeholders) that an English page must not show."""
    catalog = read_po((ROOT / "coordinator/translations/en/LC_MESSAGES/messages.po").open("rb"))
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w+\}|%[sd]")
    needles = []
    for m in catalog:
        if not m.id or not m.string:
            continue
        sv = m.id if isinstance(m.id, str) else m.id[0]
        en = " ".join(m.string) if isinstance(m.string, tuple) else m.string
        for piece in placeholder.split(sv):
            piece = piece.strip(" .,:;()–-")
            if len(piece) >= 14 and piece not in en and re.search(r"[a-zåäö]{3}", piece):
                needles.append((piece, sv))
    return needles


def data_texts(app) -> list[str]:
    """What the demo wrote (titles, names, texts): Swedish by nature, and shown as it is in English too."""
    columns = ["event.title", "event.description", "event.place", "visit_part.title", "contact.organisation",
               "contact.name", "passage.text", "report_narrative.text", "plan_goal.title", "plan_goal.description",
               "plan_goal.situation", "plan_activity.description", "plan_activity.responsible",
               "plan_activity.comment", "plan_activity.kommun_comment", "action_plan.challenges",
               "action_plan.followup_summary", "action_plan.most_urgent", "organisation.name", "phase.name",
               "phase.description", "blackout.name", "questionnaire.name", "questionnaire.intro", "question.text",
               "question.help", "task.title", "decline.reason", "attendee.comment", "visit.location",
               "assignment.name", "outbox_message.subject", "report_narrative_revision.text",
               "measurement_answer.comment", "measurement_answer.other_text",
               # An issued report is frozen in the report's language (Swedish), its title included.
               "issued_report.title", "avstamning.attendees", "avstamning.feedback", "avstamning.decisions"]
    texts = set()
    with app.app_context():
        inspector_tables = set(db.metadata.tables)
        for column in columns:
            table, name = column.split(".")
            if table in inspector_tables and name in db.metadata.tables[table].c:
                texts.update(v for v in db.session.execute(text(f"SELECT {name} FROM {table}")).scalars() if v)
        from coordinator.measurement.models import MeasurementAnswer
        for value in db.session.scalars(select(MeasurementAnswer.value)):  # free-text answers (JSON)
            texts.update(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))
        from coordinator.feedback.models import FeedbackLetter
        for letter_texts in db.session.scalars(select(FeedbackLetter.texts)):  # a feedback letter's staff texts
            texts.update(v for v in (letter_texts or {}).values() for v in v.split("\n\n") if isinstance(v, str))
    return sorted((t for t in texts if isinstance(t, str) and len(t) >= 4), key=len, reverse=True)


def test_every_page_is_english_when_english_is_chosen(demo, ids):
    admin = Client(demo, USERS["admin"])
    admin.get("/sprak/en")
    needles = swedish_needles()
    data = data_texts(demo)
    pages = page_urls(demo, ids)
    assert len(pages) > 80
    left: dict[str, list[str]] = {}
    for endpoint, url in pages:
        response = admin.get(url)
        if response.status_code in (301, 302):
            continue  # a page that sends elsewhere for this object (checked where it lands)
        assert response.status_code == 200, url
        body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
        assert 'lang="en"' in body[:200], url
        shown = " ".join([re.sub(r"<[^>]+>", " ", body),
                          *re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]*)"', body)])
        shown = re.sub(r"\s+", " ", htmllib.unescape(shown))
        for value in data:
            shown = shown.replace(re.sub(r"\s+", " ", value), " ")
        found = sorted({sv for piece, sv in needles if piece in shown})
        if found:
            left[url] = found
    assert left == {}


def test_the_sample_protocol_explains_the_method_in_english(demo):
    admin = Client(demo, USERS["admin"])
    admin.get("/sprak/en")
    page = admin.get("/urval/protokoll").get_data(as_text=True)
    assert "The municipalities are divided into groups by their population on 31 December" in page
    assert "local pivotal method" in page and "Kommunerna delas in" not in page
    pdf = admin.get(re.search(r'href="(/urval/\d+/protokoll\.pdf)"', page).group(1))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    admin.get("/sprak/sv")
    assert "Kommunerna delas in i grupper efter folkmängden" in admin.get("/urval/protokoll").get_data(as_text=True)


# --------------------------------------------------------------------------- long lists

@pytest.mark.parametrize("path", ["/dialog/goda-exempel", "/dialog/citat"])
def test_flagged_passages_are_paged_with_the_filters_kept(demo, path):
    app = demo
    staff = Client(app, USERS["staff"])
    first = staff.get(f"{path}?kalla=besok").get_data(as_text=True)
    pages = int(re.search(r"Sida 1 av (\d+)", first).group(1))
    assert pages >= 2 and first.count('<li class="flagged-passage') == 50
    assert re.search(rf'href="{path}\?(kalla=besok&amp;sida=2|sida=2&amp;kalla=besok)"', first)
    last = staff.get(f"{path}?kalla=besok&sida={pages}").get_data(as_text=True)
    assert 0 < last.count('<li class="flagged-passage') <= 50 and f"Sida {pages} av {pages}" in last
    assert "passage-forum" not in first + last  # the filter holds on every page

    counts = []
    for page in (1, pages):
        n = [0]

        def counter(*args):
            n[0] += 1

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", counter)
            try:
                staff.get(f"{path}?kalla=besok&sida={page}")
            finally:
                event.remove(db.engine, "before_cursor_execute", counter)
        counts.append(n[0])
    assert counts[0] == counts[1]
