"""Notes from dialogue forums (events): the same editor as visit notes (themes, flags, revisions,
restore, conflicts, the personnummer check), the event's sections, and how event passages count in
the theme overview, the codebook, the flag pages and search: marked as coming from an event, and left
out by the visit-only filters (ÖJ group, län, round).

Every test runs on SQLite and PostgreSQL (the `app` fixture). Event notes are written through the
editor's form as a browser would; the visit passage beside them is made as in test_dialogue_search.py.
"""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from coordinator.audit import AuditEvent
from coordinator.dialogue import notes
from coordinator.dialogue.codebook import event_usage, usage
from coordinator.dialogue.models import Note, NoteRevision
from coordinator.extensions import db
from tests.test_dialogue_search import add_passages, hit_ids, theme_id, visits  # noqa: F401
from tests.test_events import create_event, organisations, text  # noqa: F401
from tests.test_notes import FormReader, textarea

BRIST, TECH = "Brist på familjehem", "Välfärdsteknik"


class EventNote:
    """The event note editor's fields as a browser holds them: read from the page, changed, posted back."""

    def __init__(self, client, event_id: int):
        self.client, self.url = client, f"/dialog/forum/{event_id}"
        response = client.get(self.url)
        assert response.status_code == 200, response.status_code
        self.html = response.get_data(as_text=True)
        reader = FormReader(self.url)
        reader.feed(self.html)
        self.fields: dict[str, list[str]] = {}
        for name, value in reader.fields:
            self.fields.setdefault(name, []).append(unescape(value).lstrip("\n") if name.endswith(".text") else value)
        assert "csrf_token" in self.fields and "version" in self.fields, "no note form on the page"

    def set(self, name: str, value) -> EventNote:
        if value is False:
            self.fields.pop(name, None)
        else:
            self.fields[name] = [str(v) for v in value] if isinstance(value, list) else \
                ["1" if value is True else str(value)]
        return self

    def post(self):
        return self.client.post(self.url, data={k: v if len(v) > 1 else v[0] for k, v in self.fields.items()})


def write(client, event_id: int, *passages: tuple[str, int, dict]):
    """Write passages (section, index, fields) into the event's note through its editor."""
    form = EventNote(client, event_id)
    for section, index, values in passages:
        for name, value in values.items():
            form.set(f"{section}.{index}.{name}", value)
    response = form.post()
    assert response.status_code == 302, text(response)[:2000]
    return response


def snapshot_of(app, event_id: int) -> dict:
    with app.app_context():
        note = db.session.scalar(select(Note).where(Note.event_id == event_id))
        snap = notes.snapshot(note)
        snap["revisions"] = len(note.revisions)
        return snap


# --------------------------------------------------------------------------- the editor

def test_event_note_saves_with_themes_flags_and_revisions(app, staff, admin, organisations):
    event_id = create_event(staff, kind="nationell_dialog", title="Nationell dialog med myndigheter",
                            date="2015-03-16")
    brist, tech = theme_id(app, BRIST), theme_id(app, TECH)
    form = EventNote(staff, event_id)
    # The seven questions and "Övriga iakttagelser"; a visit's union and children sections are not offered.
    assert "fraga-7.0.text" in form.fields and "ovrigt.0.text" in form.fields
    assert "fack.0.text" not in form.fields and "barn.0.text" not in form.fields
    assert "Får tillskrivas den som sa det" in form.html and form.fields["version"] == ["1"]
    form.set("fraga-1.0.text", "Myndigheterna ser att familjehemmen inte räcker till.")
    form.set("fraga-1.0.themes", [brist, tech]).set("fraga-1.0.hinder", True).set("fraga-1.0.nationell_fraga", True)
    form.set("ovrigt.0.text", "”Vi behöver en nationell familjehemsrekrytering.”")
    form.set("ovrigt.0.citat", True).set("ovrigt.0.quote_reason", "unik")
    assert form.post().status_code == 302

    saved = snapshot_of(app, event_id)
    (q1,) = saved["sections"]["fraga-1"]
    assert sorted(q1["themes"]) == sorted([brist, tech]) and q1["hinder"] and q1["nationell_fraga"]
    (other,) = saved["sections"]["ovrigt"]
    assert other["citat"] and other["quote_reason"] == "unik" and not other["attribution_cleared"]
    assert saved["revisions"] == 1 and saved["version"] == 2
    with app.app_context():
        note = db.session.scalar(select(Note).where(Note.event_id == event_id))
        assert note.visit_id is None
        logged = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "note.saved"))
        assert logged.details["event_id"] == event_id and "visit_id" not in logged.details
        assert logged.details["sections_changed"] == ["fraga-1", "ovrigt"]
        assert "familjehem" not in str(logged.details)  # never note text in the log

    # A section the event note does not have, and a personnummer, are refused; the text stays.
    form = EventNote(staff, event_id).set("fack.0.text", "Facket sa något.")
    r = form.post()
    assert r.status_code == 422 and "Avsnittet ”fack” finns inte" in text(r)
    form = EventNote(staff, event_id).set("fraga-2.0.text", "Barnet 19121212-1212 berättade.")
    r = form.post()
    assert r.status_code == 422 and "personnummer" in text(r)
    assert textarea(r, "fraga-2.0.text") == "Barnet 19121212-1212 berättade."

    # A second revision, then restore the first: a new revision, nothing lost.
    write(staff, event_id, ("fraga-1", 0, {"text": "Ändrad text om familjehem."}))
    history = text(staff.get(f"/dialog/forum/{event_id}/historik"))
    assert "Historik: Nationell dialog med myndigheter" in history and "Version 2" in history
    assert "Version 1" in text(staff.get(f"/dialog/forum/{event_id}/historik/1"))
    r = staff.post(f"/dialog/forum/{event_id}/historik/1/aterstall", {"version": "3"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/dialog/forum/{event_id}")
    restored = snapshot_of(app, event_id)
    assert restored["sections"]["fraga-1"][0]["text"] == "Myndigheterna ser att familjehemmen inte räcker till."
    assert restored["revisions"] == 3
    with app.app_context():
        assert db.session.scalar(select(NoteRevision.restored_from).where(NoteRevision.number == 3)) == 1

    # Two people from the same version: the second save is refused and shown as a merge, nothing lost.
    mine, theirs = EventNote(staff, event_id), EventNote(admin, event_id)
    mine.set("fraga-3.0.text", "Staff om välfärdsteknik.")
    theirs.set("fraga-4.0.text", "Admin om ledarskap.")
    assert mine.post().status_code == 302
    r = theirs.post()
    assert r.status_code == 409 and "Anteckningen har sparats av någon annan" in text(r)
    assert textarea(r, "fraga-4.0.text") == "Admin om ledarskap."
    assert "fraga-4" not in snapshot_of(app, event_id)["sections"]


def test_drafts_of_an_event_note_are_kept_and_offered(app, staff, organisations):
    event_id = create_event(staff, date="2015-03-16")
    form = EventNote(staff, event_id).set("fraga-1.0.text", "Osparad text.")
    data = {k: v[0] for k, v in form.fields.items()}
    assert staff.post(f"/dialog/forum/{event_id}/utkast", data).status_code == 204
    page = text(staff.get(f"/dialog/forum/{event_id}"))
    assert "Du har ett osparat utkast" in page
    r = staff.get(f"/dialog/forum/{event_id}", query_string={"utkast": "1"})
    assert textarea(r, "fraga-1.0.text") == "Osparad text."
    assert staff.post(f"/dialog/forum/{event_id}/utkast/kasta", {"version": "1", "confirmed": "1"}).status_code == 302
    assert "Du har ett osparat utkast" not in text(staff.get(f"/dialog/forum/{event_id}"))


# --------------------------------------------------------------------------- counted in the compiled pages

def _two_events_and_a_visit(app, staff, visits):  # noqa: F811
    """Event A (hearing): 2 passages, event B (samråd): 1 quote; one visit passage. Returns ids and texts."""
    brist, tech = theme_id(app, BRIST), theme_id(app, TECH)
    a = create_event(staff, kind="hearing", title="Hearing om familjehem", date="2015-09-01")
    b = create_event(staff, kind="samrad", title="Samråd med IVO", date="2015-10-01")
    write(staff, a, ("fraga-1", 0, {"text": "Kommunerna saknar familjehem i hela landet.", "themes": [brist, tech],
                                    "hinder": True}),
          ("fraga-5", 0, {"text": "Digital uppföljning av familjehem fungerar.", "themes": [brist],
                          "gott_exempel": True}))
    write(staff, b, ("ovrigt", 0, {"text": "Tillsynen visar brister i familjehemsutredningarna.",
                                   "themes": [brist], "citat": True, "quote_reason": "manga"}))
    vid = next(iter(visits))
    (visit_passage,) = add_passages(app, vid, {"text": "Vi har för få familjehem.", "themes": [brist]})
    with app.app_context():
        ids = {p["text"]: p["id"] for e in (a, b) for ps in notes.snapshot(
            db.session.scalar(select(Note).where(Note.event_id == e)))["sections"].values() for p in ps}
    return a, b, vid, visit_passage, ids


def test_event_notes_count_in_the_theme_overview_as_their_own_column(app, staff, visits):  # noqa: F811
    _a, _b, vid, _visit_passage, ids = _two_events_and_a_visit(app, staff, visits)
    brist, tech = theme_id(app, BRIST), theme_id(app, TECH)
    grupp, omgang = visits[vid][0], visits[vid][1]
    html = staff.get("/dialog/oversikt").get_data(as_text=True)
    cell = r'data-forum="(\d+)"><a href="[^"]+"[^>]*>(\d+)</a> <span class="events">\((\d+)\)'
    forum = {int(t): (int(n), int(e)) for t, n, e in re.findall(cell, html)}
    assert forum == {brist: (3, 2), tech: (1, 1)}  # passages (events)
    assert 'data-denominator="forum">2<' in html
    # The visit columns count the visit passage only.
    visit_cells = {}
    visit_cell = r'<a href="(/dialog/sok\?[^"]+)"[^>]*>(\d+)</a> <span class="sites">\((\d+)\)'
    for href, n, s in re.findall(visit_cell, html):
        args = {k: v[0] for k, v in parse_qs(urlsplit(href.replace("&amp;", "&")).query).items()}
        visit_cells[(int(args["tema"]), args.get("grupp"), int(args["omgang"]))] = (int(n), int(s))
    assert visit_cells == {(brist, str(grupp), omgang): (1, 1), (brist, None, omgang): (1, 1)}
    assert f'data-denominator="alla-{omgang}">1<' in html
    assert "2 dialogforum med anteckning." in text(staff.get("/dialog/oversikt"))
    # Restricted to a flag, and each forum count leads to exactly its passages.
    only_obstacles = staff.get("/dialog/oversikt", query_string={"flagga": "hinder"}).get_data(as_text=True)
    assert re.search(rf'data-forum="{brist}"><a href="[^"]*kalla=forum[^"]*flagga=hinder[^"]*"[^>]*>1</a>',
                     only_obstacles.replace("&amp;", "&"))
    assert hit_ids(app, tema=brist, kalla="forum") == set(ids.values())
    link = re.search(rf'data-forum="{brist}"><a href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "av 3 passager" in text(staff.get(link))

    # The codebook counts event passages, and the events they come from.
    with app.app_context():
        assert usage()[brist] == (4, 1) and usage()[tech] == (1, 0)
        assert event_usage() == {brist: 2, tech: 1}
    page = text(staff.get(f"/dialog/teman/{brist}"))
    assert re.search(r"4 passager ?, 1 besök, 2 dialogforum", page)


def test_event_passages_on_the_flag_pages_and_in_search_are_marked_and_visit_filters_leave_them_out(
        app, staff, visits):  # noqa: F811
    a, b, vid, visit_passage, ids = _two_events_and_a_visit(app, staff, visits)
    grupp, omgang, lan = visits[vid][0], visits[vid][1], visits[vid][2]
    obstacle = ids["Kommunerna saknar familjehem i hela landet."]
    example = ids["Digital uppföljning av familjehem fungerar."]
    quote = ids["Tillsynen visar brister i familjehemsutredningarna."]

    body = text(staff.get("/dialog/hinder"))
    assert "Dialogforum Hearing om familjehem, hearing" in body
    assert "Kommunerna saknar familjehem i hela landet." in body
    assert "1 passage från 1 dialogforum, av 2 dialogforum med anteckning." in body
    assert "0 passager från 0 besök, av 1 besök med anteckning." in body
    assert f'href="/dialog/forum/{a}#avsnitt-fraga-1"' in staff.get("/dialog/hinder").get_data(as_text=True)
    assert "Digital uppföljning av familjehem fungerar." in text(staff.get("/dialog/goda-exempel"))
    # Visit-only filters leave event passages out.
    for args in ({"grupp": grupp}, {"omgang": omgang}, {"kalla": "besok"}):
        assert "Kommunerna saknar familjehem" not in text(staff.get("/dialog/hinder", query_string=args)), args
    assert "Kommunerna saknar familjehem" in text(staff.get("/dialog/hinder", query_string={"kalla": "forum"}))
    # A quote from an event is not attributed unless cleared: the kind, not the title.
    quotes = text(staff.get("/dialog/citat"))
    assert "Tillsynen visar brister i familjehemsutredningarna." in quotes
    assert "Dialogforum Från ett dialogforum, samråd" in quotes and "Samråd med IVO" not in quotes

    # Search: found with the visit passage, marked as from an event; visit filters and the source filter.
    assert hit_ids(app, "familjehem") == {obstacle, example, quote, visit_passage}
    assert hit_ids(app, "familjehem", grupp=grupp) == {visit_passage}
    assert hit_ids(app, "familjehem", omgang=omgang) == {visit_passage}
    assert hit_ids(app, "familjehem", lan=lan) == {visit_passage}
    assert hit_ids(app, "familjehem", kalla="forum") == {obstacle, example, quote}
    assert hit_ids(app, "", kalla="besok") == {visit_passage}
    page = staff.get("/dialog/sok", query_string={"q": "familjehem"})
    body = text(page).replace(" ,", ",")
    assert "Visar 1–4 av 4 passager." in body
    assert "Dialogforum Hearing om familjehem, hearing" in body
    # The uncleared quote is anonymised in search as on /dialog/citat: the kind of forum, not its title.
    assert "Dialogforum Från ett dialogforum, samråd" in body and "Samråd med IVO" not in body
    assert f'href="/dialog/forum/{b}#avsnitt-ovrigt"' in page.get_data(as_text=True)
    listing = text(staff.get("/dialog/sok", query_string={"kalla": "forum"}))
    assert "Visar 1–3 av 3 passager." in listing and "Vi har för få familjehem." not in listing

    # The notes list shows the events with their notes.
    notes_page = text(staff.get("/dialog/"))
    assert "Hearing om familjehem Hearing 2015-09-01" in notes_page and "2 stycken" in notes_page
