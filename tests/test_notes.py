"""Dialogue notes: the editor (themes, flags), revisions and restore, concurrent edits (no lost update),
personnummer refused before saving, autosaved drafts, roles, and no note text in the audit log.

Every database test runs on SQLite and PostgreSQL (the `app` fixture). The pages are driven like a
browser would: the editor's form is read from the HTML and posted back whole.
"""
from __future__ import annotations

import json
import logging
import re
from datetime import date
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select, update

from coordinator.audit import AuditEvent
from coordinator.dialogue import notes, personnummer
from coordinator.dialogue.models import Note, NoteDraft, NoteRevision, Theme
from coordinator.extensions import db
from coordinator.sampling.models import Sample
from coordinator.scheduling.models import Visit
from tests.conftest import SHOTS, assert_accessible, browser_login
from tests.helpers import adopt_sample, confirm_through_page

TODAY = date(2025, 6, 1)


# --------------------------------------------------------------------------- personnummer (pure)

@pytest.mark.parametrize("text, masked", [
    ("19121212-1212", "19121212-****"),
    ("191212121212", "19121212-****"),
    ("121212-1212", "121212-****"),
    ("1212121212", "121212-****"),
    ("121212+1212", "121212+****"),          # + : a hundred years or older
    ("19121212+1212", "19121212+****"),
    ("701063-2391", "701063-****"),          # samordningsnummer: day 3 + 60
    ("19701063-2391", "19701063-****"),
    ("000229-1235", "000229-****"),          # 29 February 2000
    ("Barnet (19121212-1212) berättade.", "19121212-****"),
])
def test_valid_personnummer_and_samordningsnummer_are_found(text, masked):
    found = personnummer.find(text, today=TODAY)
    assert [m.masked for m in found] == [masked]
    assert personnummer.contains(text, today=TODAY)


def test_samordningsnummer_is_recognised_with_the_real_birth_date():
    (m,) = personnummer.find("Samordningsnummer 701063-2391.", today=TODAY)
    assert m.samordningsnummer and m.born == date(1970, 10, 3)
    assert m.text == "701063-2391" and (m.start, m.end) == (18, 29)
    (plus,) = personnummer.find("121212+1212", today=TODAY)
    assert plus.born == date(1912, 12, 12)
    (short,) = personnummer.find("121212-1212", today=TODAY)
    assert short.born == date(2012, 12, 12)


@pytest.mark.parametrize("text", [
    "19121212-1213",          # wrong check digit
    "121212-1213",
    "1212121213",
    "701063-2392",            # samordningsnummer with wrong check digit
    "0701234567",             # a mobile number, check digit does not hold
    "070-123 45 67",
    "08-123 456 78",
    "121312-1211",            # check digit holds but month 13
    "701093-2395",            # check digit holds but day 93 - 60 = 33
    "20150316-0000",          # a date and a serial number that fails the check
    "Mötet 2015-03-16 kl. 10-12",
    "1234567890123",          # a longer number is not a personnummer
    "",
])
def test_invalid_check_digits_and_dates_are_not_flagged(text):
    assert personnummer.find(text, today=TODAY) == []


def test_a_date_of_birth_in_the_future_is_not_plausible():
    assert personnummer.find("20300101-0002", today=TODAY) == []  # Luhn holds, but not born yet
    assert personnummer.luhn_valid("3001010002")


# --------------------------------------------------------------------------- helpers

@pytest.fixture
def visit_ids(app):
    """An adopted sample (drawn and adopted through the CLI) and its visits; ids of round 1 then round 2."""
    sample_id = adopt_sample(app)
    with app.app_context():
        from coordinator.scheduling.service import ensure_visits

        assert db.session.get(Sample, sample_id).active_sites
        ensure_visits()
        db.session.commit()
        return list(db.session.scalars(select(Visit.id).order_by(Visit.round, Visit.id)))


class FormReader(HTMLParser):
    """The fields a browser would send for the form whose action ends with `action`."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.fields, self._textarea = action, False, [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = (a.get("action") or "").endswith(self.action)
        elif not self.inside or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            elif kind != "submit":
                self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "textarea":
            self._textarea = [a["name"], ""]

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea:
            self.fields.append(tuple(self._textarea))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data


class NoteForm:
    """The note editor's form as a browser holds it: read from the page, changed, posted back."""

    def __init__(self, html: str, visit_id: int):
        reader = FormReader(f"/dialog/besok/{visit_id}")
        reader.feed(html)
        self.fields: dict[str, list[str]] = {}
        for name, value in reader.fields:
            self.fields.setdefault(name, []).append(unescape(value).lstrip("\n") if name.endswith(".text") else value)
        assert "csrf_token" in self.fields and "version" in self.fields, "no note form on the page"

    def __getitem__(self, name):
        values = self.fields.get(name, [])
        return values[0] if len(values) == 1 else values

    def set(self, name: str, value):
        if value is None or value is False:
            self.fields.pop(name, None)
        elif isinstance(value, list):
            self.fields[name] = [str(v) for v in value]
        else:
            self.fields[name] = ["1" if value is True else str(value)]
        return self

    @property
    def version(self) -> str:
        return self.fields["version"][0]

    def data(self) -> dict:
        return {k: v if len(v) > 1 else v[0] for k, v in self.fields.items()}


def open_note(client, visit_id: int) -> NoteForm:
    response = client.get(f"/dialog/besok/{visit_id}")
    assert response.status_code == 200, response.status_code
    return NoteForm(response.get_data(as_text=True), visit_id)


def post_note(client, visit_id: int, form: NoteForm, **kw):
    return client.post(f"/dialog/besok/{visit_id}", data=form.data(), **kw)


def text(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", unescape(html))


def textarea(response, name: str) -> str:
    m = re.search(r'<textarea[^>]*name="' + re.escape(name) + r'"[^>]*>(.*?)</textarea>',
                  response.get_data(as_text=True), re.S)
    assert m, f"no textarea {name}"
    return unescape(m.group(1)).lstrip("\n")


def theme_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Theme.id).where(Theme.name == name))


def note_of(app, visit_id: int) -> dict:
    """The note as saved (its snapshot), plus its revision count."""
    with app.app_context():
        note = db.session.scalar(select(Note).where(Note.visit_id == visit_id))
        snap = notes.snapshot(note)
        snap["revisions"] = len(note.revisions)
        return snap


def audit_details(app) -> str:
    with app.app_context():
        return json.dumps([[e.action, e.details] for e in db.session.scalars(select(AuditEvent))],
                          ensure_ascii=False)


RECRUIT = "Personalrörlighet och rekrytering"
FAMILY = "Brist på familjehem"
CHILD = "Barnets bästa och barns delaktighet"


# --------------------------------------------------------------------------- save with themes and flags

def test_save_with_themes_and_flags(app, visit_ids, staff):
    vid = visit_ids[0]
    form = open_note(staff, vid)
    assert form["fraga-1.0.text"] == "" and form.version == "1"
    recruit, family = theme_id(app, RECRUIT), theme_id(app, FAMILY)
    form.set("fraga-1.0.text", "Socialtjänsten har svårt att rekrytera erfarna socialsekreterare.")
    form.set("fraga-1.0.themes", [recruit, family]).set("fraga-1.0.hinder", True)
    form.set("fraga-1.0.nationell_fraga", True)
    form.set("fack.0.text", "”Vi hinner inte träffa barnen.”")
    form.set("fack.0.citat", True).set("fack.0.quote_reason", "manga").set("fack.0.attribution_cleared", True)
    form.set("fack.0.gott_exempel", False)
    response = post_note(staff, vid, form)
    assert response.status_code == 302, text(response)[:2000]

    saved = note_of(app, vid)
    (q1,) = saved["sections"]["fraga-1"]
    assert q1["text"] == "Socialtjänsten har svårt att rekrytera erfarna socialsekreterare."
    assert sorted(q1["themes"]) == sorted([recruit, family]) and q1["hinder"] and q1["nationell_fraga"]
    assert not q1["citat"] and q1["quote_reason"] is None
    (fack,) = saved["sections"]["fack"]
    assert fack["citat"] and fack["quote_reason"] == "manga" and fack["attribution_cleared"]
    assert saved["revisions"] == 1 and saved["version"] == 2
    with app.app_context():
        rev = db.session.scalar(select(NoteRevision))
        assert rev.number == 1 and rev.content["sections"]["fraga-1"][0]["theme_names"] == sorted([FAMILY, RECRUIT])
        assert rev.content["sections"]["fack"][0]["citat"] is True
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "note.saved"))
        assert event.details["sections_changed"] == ["fraga-1", "fack"] and event.details["passages"] == 2

    page = staff.get(f"/dialog/besok/{vid}", follow_redirects=True)
    assert "Socialtjänsten har svårt att rekrytera" in textarea(page, "fraga-1.0.text")
    again = NoteForm(page.get_data(as_text=True), vid)
    assert sorted(again["fraga-1.0.themes"]) == sorted([str(recruit), str(family)])
    assert again["fack.0.quote_reason"] == "manga" and again["fack.0.attribution_cleared"] == "1"
    assert again["fraga-1.1.text"] == ""  # one empty slot after the passage
    # Removing a passage and leaving a text empty drops them; the list shows the count and who saved.
    again.set("fack.0.remove", True)
    assert post_note(staff, vid, again).status_code == 302
    assert "fack" not in note_of(app, vid)["sections"]
    listing = text(staff.get("/dialog/"))
    assert "1 stycke" in listing and "Test staff" in listing and "Ingen anteckning" in listing


def test_the_list_of_notes_is_paged_and_filtered_by_round_lan_and_note(app, visit_ids, staff, monkeypatch):
    from coordinator.dialogue import views
    from coordinator.sampling.models import Site
    monkeypatch.setattr(views, "INDEX_PAGE", 30)  # 100 visits make four pages of 30
    written = [visit_ids[0], visit_ids[-1]]  # a visit of round 1 and one of round 2
    for vid in written:
        form = open_note(staff, vid).set("fraga-1.0.text", "Ett stycke om samverkan med skolan.")
        assert post_note(staff, vid, form).status_code == 302
    with app.app_context():
        ordered = list(db.session.scalars(select(Visit.id).join(Site).order_by(
            Visit.round, Visit.date.is_(None), Visit.date, Site.position, Visit.id)))
        visits = {v.id: (v.round, v.site.kommun.lanskod) for v in db.session.scalars(select(Visit))}

    def ids(response) -> list[int]:
        return [int(i) for i in re.findall(r'<th scope="row"><a href="/dialog/besok/(\d+)">',
                                            response.get_data(as_text=True))]

    pages = [staff.get(f"/dialog/?sida={n}") for n in (1, 2, 3, 4)]
    assert sum((ids(p) for p in pages), []) == ordered
    second = pages[1].get_data(as_text=True)
    assert "Visar 31–60 av 100 besök." in text(pages[1]) and "2 av 100 besök har anteckningar." in text(pages[1])
    assert re.findall(r'<h2 id="omgang-(\d)">', second) == ["1", "2"]  # rows 31–50 of round 1, 51–60 of round 2
    assert 'href="/dialog/?sida=3" rel="next"' in second
    # Only the visits whose note has passages, or only those without; the pager keeps the filters.
    with_note = staff.get("/dialog/?anteckning=med")
    assert sorted(ids(with_note)) == sorted(written) and "Visar 1–2 av 2 besök (av 100 i allt)." in text(with_note)
    assert text(with_note).count("1 stycke") == 2
    without = staff.get("/dialog/?omgang=2&anteckning=utan")
    round_2_without = [v for v in ordered if visits[v][0] == 2 and v not in written]
    assert ids(without) == round_2_without[:30] and "Visar 1–30 av 49 besök (av 100 i allt)." in text(without)
    link = unescape(re.search(r'href="([^"]+)" rel="next"', without.get_data(as_text=True)).group(1))
    assert "omgang=2" in link and "anteckning=utan" in link and "sida=2" in link
    assert ids(staff.get(link)) == round_2_without[30:]
    lan = visits[written[0]][1]
    in_lan = staff.get(f"/dialog/?lan={lan}")
    assert ids(in_lan) == [v for v in ordered if visits[v][1] == lan][:30]
    assert re.search(rf'<option value="{lan}"\s+selected>', in_lan.get_data(as_text=True))
    only = staff.get(f"/dialog/?lan={lan}&omgang=2&anteckning=med")
    expected = [written[1]] if visits[written[1]][1] == lan else []
    assert ids(only) == expected and ("Inga besök matchar filtret." in text(only)) == (not expected)


def test_a_quote_needs_its_reason_and_retired_themes_show_only_where_attached(app, visit_ids, staff):
    vid = visit_ids[0]
    form = open_note(staff, vid)
    form.set("ovrigt.0.text", "Ett citat utan skäl.").set("ovrigt.0.citat", True)
    response = post_note(staff, vid, form)
    assert response.status_code == 422
    assert "ange varför citatet valdes" in text(response)
    assert textarea(response, "ovrigt.0.text") == "Ett citat utan skäl."
    family = theme_id(app, FAMILY)
    form.set("ovrigt.0.quote_reason", "unik").set("ovrigt.0.themes", [family])
    assert post_note(staff, vid, form).status_code == 302
    with app.app_context():
        db.session.execute(update(Theme).where(Theme.id == family).values(retired=True))
        db.session.commit()
    page = staff.get(f"/dialog/besok/{vid}").get_data(as_text=True)
    assert page.count(f'value="{family}"') == 1  # offered only on the passage that has it
    assert "utgått" in page


# --------------------------------------------------------------------------- concurrent edits

def test_concurrent_edit_is_refused_with_both_versions_and_no_lost_update(app, visit_ids, staff, admin):
    vid = visit_ids[1]
    first = open_note(staff, vid)
    first.set("fraga-1.0.text", "Grundtext om rekrytering.")
    assert post_note(staff, vid, first).status_code == 302

    # Two people open the same version.
    mine = open_note(staff, vid)
    theirs = open_note(admin, vid)
    assert mine.version == theirs.version == "2"

    mine.set("fraga-1.0.text", "Grundtext om rekrytering. Staff lade till en mening om introduktion.")
    mine.set("fraga-2.0.text", "Staff skrev om barnets rättigheter.")
    assert post_note(staff, vid, mine).status_code == 302
    saved_by_staff = note_of(app, vid)

    theirs.set("fraga-1.0.text", "Grundtext om rekrytering. Admin skrev något helt annat här.")
    theirs.set("fraga-3.0.text", "Admin om välfärdsteknik.")
    response = post_note(admin, vid, theirs)
    assert response.status_code == 409
    page = text(response)
    assert "Anteckningen har sparats av någon annan" in page
    assert "Din version" in page and "Sparad version (av Test staff" in page
    html = response.get_data(as_text=True)
    # Both texts on the page, the differences marked; the admin's own text is kept in the form.
    assert "Staff lade till en mening om introduktion." in page and "Admin skrev något helt annat här." in page
    assert '<ins class="diff">' in html and '<del class="diff">' in html
    assert textarea(response, "fraga-1.0.text") == "Grundtext om rekrytering. Admin skrev något helt annat här."
    assert "fraga-3.0.text" in html and textarea(response, "fraga-3.0.text") == "Admin om välfärdsteknik."
    # What only the other added is brought into the form, so saving the merge loses nothing.
    assert textarea(response, "fraga-2.0.text") == "Staff skrev om barnets rättigheter."
    merged = NoteForm(html, vid)
    assert merged.version == "3"

    # Nothing was overwritten: the database holds the first save.
    assert note_of(app, vid) == saved_by_staff
    assert saved_by_staff["sections"]["fraga-1"][0]["text"].endswith("om introduktion.")

    # The admin merges by hand and saves on top of the current version.
    merged.set("fraga-1.0.text", "Grundtext om rekrytering. Staff lade till en mening om introduktion. "
                                 "Admin skrev något helt annat här.")
    assert post_note(admin, vid, merged).status_code == 302
    final = note_of(app, vid)
    assert final["revisions"] == 3
    assert final["sections"]["fraga-1"][0]["text"].endswith("Admin skrev något helt annat här.")
    assert final["sections"]["fraga-2"][0]["text"] == "Staff skrev om barnets rättigheter."
    assert final["sections"]["fraga-3"][0]["text"] == "Admin om välfärdsteknik."


def test_a_passage_only_the_other_changed_takes_their_text_in_the_merge(app, visit_ids, staff, admin):
    vid = visit_ids[2]
    form = open_note(staff, vid)
    form.set("fraga-1.0.text", "Ett.").set("fraga-4.0.text", "Fyra.")
    assert post_note(staff, vid, form).status_code == 302
    mine, theirs = open_note(staff, vid), open_note(admin, vid)
    theirs.set("fraga-4.0.text", "Fyra, rättat av admin.")
    assert post_note(admin, vid, theirs).status_code == 302
    mine.set("fraga-1.0.text", "Ett, ändrat av staff.")
    response = post_note(staff, vid, mine)
    assert response.status_code == 409
    assert textarea(response, "fraga-1.0.text") == "Ett, ändrat av staff."
    assert textarea(response, "fraga-4.0.text") == "Fyra, rättat av admin."  # not reverted to the stale text
    assert post_note(staff, vid, NoteForm(response.get_data(as_text=True), vid)).status_code == 302
    final = note_of(app, vid)["sections"]
    assert final["fraga-1"][0]["text"] == "Ett, ändrat av staff."
    assert final["fraga-4"][0]["text"] == "Fyra, rättat av admin."


def test_a_race_past_the_version_check_is_caught_by_the_database(app, visit_ids, staff):
    """Two saves that both pass the check: the row's version (StaleDataError) refuses the second."""
    vid = visit_ids[0]
    form = open_note(staff, vid)
    form.set("fraga-1.0.text", "Först sparad text.")
    assert post_note(staff, vid, form).status_code == 302
    with app.app_context():
        from coordinator.auth.models import User

        user = db.session.scalar(select(User).where(User.email == "staff@test.se"))
        note = db.session.scalar(select(Note).where(Note.visit_id == vid))
        version = note.version
        content = notes.snapshot(note)
        content["sections"]["fraga-1"][0]["text"] = "Andra sparningen."
        with db.engine.begin() as other:  # someone else's save commits in between
            other.execute(update(Note).where(Note.id == note.id).values(version=Note.version + 1))
        with pytest.raises(notes.NoteConflict):
            notes.apply(note, content, user, version)
        db.session.rollback()
    assert note_of(app, vid)["sections"]["fraga-1"][0]["text"] == "Först sparad text."


# --------------------------------------------------------------------------- revisions

def test_revision_restore_brings_back_old_text_and_tags_as_a_new_revision(app, visit_ids, staff):
    vid = visit_ids[0]
    recruit, child = theme_id(app, RECRUIT), theme_id(app, CHILD)
    form = open_note(staff, vid)
    form.set("fraga-1.0.text", "Den ursprungliga texten.").set("fraga-1.0.themes", [recruit])
    form.set("fraga-1.0.gott_exempel", True)
    assert post_note(staff, vid, form).status_code == 302
    form = open_note(staff, vid)
    form.set("fraga-1.0.text", "En omskriven text.").set("fraga-1.0.themes", [child])
    form.set("fraga-1.0.gott_exempel", False)
    form.set("barn.0.text", "Samtal med två vårdnadshavare.")
    assert post_note(staff, vid, form).status_code == 302

    history = text(staff.get(f"/dialog/besok/{vid}/historik"))
    assert "Version 2" in history and "Version 1" in history
    assert "Fråga 1, Samtal med barn och vårdnadshavare" in history  # the sections version 2 changed
    old = staff.get(f"/dialog/besok/{vid}/historik/1")
    assert old.status_code == 200 and "Den ursprungliga texten." in text(old) and RECRUIT in text(old)
    version = re.search(r'name="version"[^>]*value="(\d+)"', old.get_data(as_text=True)).group(1)
    assert version == "3"

    response = staff.post(f"/dialog/besok/{vid}/historik/1/aterstall", data={"version": version})
    assert response.status_code == 302
    saved = note_of(app, vid)
    (p,) = saved["sections"]["fraga-1"]
    assert p["text"] == "Den ursprungliga texten." and p["themes"] == [recruit] and p["gott_exempel"]
    assert "barn" not in saved["sections"] and saved["revisions"] == 3
    with app.app_context():
        rev = db.session.scalar(select(NoteRevision).where(NoteRevision.number == 3))
        assert rev.restored_from == 1 and rev.content["sections"]["fraga-1"][0]["text"] == "Den ursprungliga texten."
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "note.restored"))
        assert event.details["restored_from"] == 1 and event.details["revision"] == 3
    assert "Återställde version 1." in text(staff.get(f"/dialog/besok/{vid}/historik"))
    # Version 2 is still there and can be restored in its turn; a stale restore is refused.
    assert "En omskriven text." in text(staff.get(f"/dialog/besok/{vid}/historik/2"))
    stale = staff.post(f"/dialog/besok/{vid}/historik/2/aterstall", data={"version": version}, follow_redirects=True)
    assert "Ingenting återställdes" in text(stale)
    assert note_of(app, vid)["revisions"] == 3


def test_restoring_follows_a_theme_merged_since(app, visit_ids, staff):
    vid = visit_ids[0]
    recruit, family = theme_id(app, RECRUIT), theme_id(app, FAMILY)
    form = open_note(staff, vid)
    form.set("fraga-1.0.text", "Text med ett tema som sedan slås ihop.").set("fraga-1.0.themes", [recruit])
    assert post_note(staff, vid, form).status_code == 302
    form = open_note(staff, vid)
    form.set("fraga-1.0.text", "Annan text.").set("fraga-1.0.themes", None)
    assert post_note(staff, vid, form).status_code == 302
    with app.app_context():  # the codebook merges "recruit" into "family" (as codebook.merge leaves it)
        db.session.execute(update(Theme).where(Theme.id == recruit).values(retired=True, merged_into_id=family))
        db.session.commit()
    assert RECRUIT in text(staff.get(f"/dialog/besok/{vid}/historik/1"))  # as it was tagged then
    version = str(note_of(app, vid)["version"])
    assert staff.post(f"/dialog/besok/{vid}/historik/1/aterstall", data={"version": version}).status_code == 302
    (p,) = note_of(app, vid)["sections"]["fraga-1"]
    assert p["text"] == "Text med ett tema som sedan slås ihop." and p["themes"] == [family]


# --------------------------------------------------------------------------- personnummer in a note

def test_a_valid_personnummer_blocks_the_save_and_keeps_the_text(app, visit_ids, staff):
    vid = visit_ids[0]
    form = open_note(staff, vid)
    typed = "Pojken med personnummer 19121212-1212 har väntat länge på en utredning."
    form.set("fraga-2.0.text", "En vanlig mening.")
    form.set("barn.0.text", typed)
    response = post_note(staff, vid, form)
    assert response.status_code == 422
    page = text(response)
    assert "Anteckningen är inte sparad" in page
    assert "Samtal med barn och vårdnadshavare, stycke 1" in page and "19121212-****" in page
    assert textarea(response, "barn.0.text") == typed
    assert textarea(response, "fraga-2.0.text") == "En vanlig mening."
    assert note_of(app, vid)["sections"] == {} and note_of(app, vid)["revisions"] == 0
    # A samordningsnummer too.
    form.set("barn.0.text", "Samordningsnummer 701063-2391 nämndes.")
    assert "701063-****" in text(post_note(staff, vid, form))

    # An invalid check digit is not a personnummer: saved.
    form.set("barn.0.text", "Telefon 19121212-1213 till handläggaren.")
    assert post_note(staff, vid, form).status_code == 302
    assert note_of(app, vid)["sections"]["barn"][0]["text"] == "Telefon 19121212-1213 till handläggaren."
    assert "19121212-1212" not in audit_details(app)


# --------------------------------------------------------------------------- drafts

def test_draft_is_autosaved_offered_back_and_dropped_on_save(app, visit_ids, staff):
    vid = visit_ids[3]
    form = open_note(staff, vid)
    form.set("fraga-5.0.text", "Halvfärdig mening om kvalitetsarbete")
    form.set("fraga-5.0.themes", [theme_id(app, CHILD)])
    response = staff.post(f"/dialog/besok/{vid}/utkast", data=form.data())
    assert response.status_code == 204 and response.get_data() == b""
    with app.app_context():
        draft = db.session.scalar(select(NoteDraft))
        assert draft.base_version == 1
        assert draft.content["sections"]["fraga-5"][0]["text"] == "Halvfärdig mening om kvalitetsarbete"
    # Without the CSRF token it is refused.
    without_token = {k: v for k, v in form.data().items() if k != "csrf_token"}
    assert staff.post(f"/dialog/besok/{vid}/utkast", data=without_token, csrf=False).status_code == 400

    page = staff.get(f"/dialog/besok/{vid}")
    assert "Du har ett osparat utkast från" in text(page)
    assert textarea(page, "fraga-5.0.text") == ""  # not loaded until asked for
    restored = staff.get(f"/dialog/besok/{vid}?utkast=1")
    assert textarea(restored, "fraga-5.0.text") == "Halvfärdig mening om kvalitetsarbete"
    loaded = NoteForm(restored.get_data(as_text=True), vid)
    assert loaded["fraga-5.0.themes"] == str(theme_id(app, CHILD))
    loaded.set("fraga-5.0.text", "Hel mening om kvalitetsarbete.")
    assert post_note(staff, vid, loaded).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(NoteDraft)) == 0
    assert "osparat utkast" not in text(staff.get(f"/dialog/besok/{vid}"))

    # A draft can be thrown away.
    staff.post(f"/dialog/besok/{vid}/utkast", data=open_note(staff, vid).set("ovrigt.0.text", "Skräp").data())
    assert "osparat utkast" in text(staff.get(f"/dialog/besok/{vid}"))
    step = staff.get(f"/dialog/besok/{vid}/utkast/kasta")  # the confirmation step keeps the draft
    assert "Utkastet går inte att få tillbaka." in text(step)
    assert "osparat utkast" in text(staff.get(f"/dialog/besok/{vid}"))
    gone = confirm_through_page(staff, f"/dialog/besok/{vid}/utkast/kasta", follow_redirects=True)
    assert "Utkastet är kastat." in text(gone) and "osparat utkast" not in text(gone)


def test_a_draft_begun_before_someone_elses_save_opens_as_a_merge(app, visit_ids, staff, admin):
    vid = visit_ids[3]
    mine = open_note(staff, vid)
    mine.set("fraga-1.0.text", "Mitt utkast.")
    assert staff.post(f"/dialog/besok/{vid}/utkast", data=mine.data()).status_code == 204
    theirs = open_note(admin, vid)
    theirs.set("fraga-1.0.text", "Admins sparade text.")
    assert post_note(admin, vid, theirs).status_code == 302
    page = staff.get(f"/dialog/besok/{vid}")
    assert "Du har ett osparat utkast" in text(page)
    restored = staff.get(f"/dialog/besok/{vid}?utkast=1")
    assert "Anteckningen har sparats av någon annan" in text(restored)
    assert textarea(restored, "fraga-1.0.text") == "Mitt utkast."
    assert "Admins sparade text." in text(restored)
    assert NoteForm(restored.get_data(as_text=True), vid).version == str(note_of(app, vid)["version"])


# --------------------------------------------------------------------------- roles, audit

def test_reader_gets_403_on_every_note_page(app, visit_ids, staff, reader):
    vid = visit_ids[0]
    form = open_note(staff, vid)
    form.set("fraga-1.0.text", "Något.")
    post_note(staff, vid, form)
    for url in ("/dialog/", f"/dialog/besok/{vid}", f"/dialog/besok/{vid}/historik",
                f"/dialog/besok/{vid}/historik/1"):
        assert reader.get(url).status_code == 403, url
    for url in (f"/dialog/besok/{vid}", f"/dialog/besok/{vid}/utkast", f"/dialog/besok/{vid}/utkast/kasta",
                f"/dialog/besok/{vid}/historik/1/aterstall"):
        data = {k: v for k, v in form.data().items() if k != "csrf_token"}  # the reader's own token is sent
        assert reader.post(url, data=data).status_code == 403, url
    assert staff.get("/dialog/besok/999999").status_code == 404


def test_no_note_text_in_the_audit_log_or_the_logs(app, visit_ids, staff, admin, caplog):
    caplog.set_level(logging.DEBUG)
    vid = visit_ids[0]
    secret = "Hemlig formulering om familjehemsplaceringar"
    form = open_note(staff, vid)
    other = open_note(admin, vid)
    form.set("fraga-1.0.text", secret + " ett.").set("fraga-1.0.citat", True).set("fraga-1.0.quote_reason", "unik")
    assert post_note(staff, vid, form).status_code == 302
    other.set("fraga-1.0.text", secret + " två.")
    assert post_note(admin, vid, other).status_code == 409           # conflict
    other.set("fraga-1.0.text", secret + " 19121212-1212")
    assert post_note(admin, vid, other).status_code in (409, 422)    # personnummer
    staff.post(f"/dialog/besok/{vid}/utkast", data=open_note(staff, vid).set("fraga-1.1.text", secret).data())
    form = open_note(staff, vid)
    form.set("fraga-1.0.text", secret + " tre.")
    assert post_note(staff, vid, form).status_code == 302
    version = note_of(app, vid)["version"]
    assert staff.post(f"/dialog/besok/{vid}/historik/1/aterstall", data={"version": version}).status_code == 302
    details = audit_details(app)
    assert "note.saved" in details and "note.restored" in details and "note.created" in details
    assert "Hemlig" not in details and "19121212" not in details
    assert "Hemlig" not in caplog.text and "19121212" not in caplog.text


# --------------------------------------------------------------------------- in a browser

def test_browser_autosave_offers_the_draft_back_and_the_editor_is_accessible(page, app, visit_ids):
    vid = visit_ids[0]
    browser_login(page, "staff")
    page.goto(f"/dialog/besok/{vid}")
    assert_accessible(page, "note editor")
    area = page.get_by_label("Text, Fråga 1, stycke 1")
    area.fill("Skrivet i webbläsaren, inte sparat.")
    page.locator("#autosave-status").filter(has_text="Utkast sparat").wait_for(timeout=12_000)
    # A second passage through the button (JavaScript), then leave the page without saving.
    page.locator("#avsnitt-fraga-1").get_by_role("button", name="Lägg till ett stycke").click()
    page.get_by_label("Text, Fråga 1, stycke 2").fill("Andra stycket.")
    page.goto("/dialog/")
    page.goto(f"/dialog/besok/{vid}")
    page.get_by_text("Du har ett osparat utkast från").wait_for()
    page.get_by_role("link", name="Återställ utkastet").click()
    assert page.get_by_label("Text, Fråga 1, stycke 1").input_value() == "Skrivet i webbläsaren, inte sparat."
    assert page.get_by_label("Text, Fråga 1, stycke 2").input_value() == "Andra stycket."
    page.get_by_label("Text, Fråga 1, stycke 1").fill("Skrivet i webbläsaren och sparat.")
    page.locator("#p-fraga-1-0-hinder").check()
    page.get_by_role("button", name="Spara anteckningen").click()
    page.get_by_text("Anteckningen är sparad").wait_for()
    saved = note_of(app, vid)["sections"]["fraga-1"]
    assert [p["text"] for p in saved] == ["Skrivet i webbläsaren och sparat.", "Andra stycket."]
    assert saved[0]["hinder"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(NoteDraft)) == 0
    assert_accessible(page, "note editor with passages")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"note-editor-{app.config['BACKEND']}.png"), full_page=True)
