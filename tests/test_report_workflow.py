"""The reports' workflow: narratives with revisions and optimistic locking, issuing frozen versions,
the archive, the final-report basis and `coordinator report issue`.

Every test runs on SQLite and PostgreSQL (the `app` fixture). The report's content (figures.py,
pdf.py, _body.html) is tested elsewhere; here the point is what happens around it: an issued
version is stored once and never changes, whatever happens to the data afterwards, while the draft
follows the data.
"""
from __future__ import annotations

import hashlib
import html as htmllib
import io
import json
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import event, insert, select

from coordinator.audit import AuditEvent
from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.reports import figures, service
from coordinator.reports.models import FINAL, QUARTERLY, IssuedReport, Narrative, NarrativeRevision
from coordinator.scheduling.models import Visit

from .helpers import form_fields, hold_a_quarter

PERIOD = "2015Q3"
STAFF = "staff@test.se"


# --------------------------------------------------------------------------- helpers

@pytest.fixture
def quarter_visits(app):
    """An adopted sample with its visits; three round-1 visits fall in 2015 Q3: two held, one booked.

    Returns the ids (held, held, booked); the first has a dialogue note with one passage."""
    with app.app_context():
        from coordinator.dialogue import notes

        ids = hold_a_quarter(app)
        user = db.session.scalar(select(User).where(User.email == STAFF))
        note = notes.get_or_create_note(db.session.get(Visit, ids[0]))
        db.session.flush()
        notes.apply(note, {"sections": {notes.question_key(1): [
            {"text": "Ledningen beskrev en stabil personalgrupp sedan förra året."}]}}, user, note.version)
        db.session.commit()
        return ids


def save_text(client, section: str, text: str, version, period: str = PERIOD):
    """Post one section's form as the draft page sends it (the form's fields carry the section as prefix)."""
    return client.post(f"/rapporter/{period}/text/{section}", data={
        f"{section}-text": text, f"{section}-version": str(version), f"{section}-csrf_token": client.token})


def issue(client, version, comment: str = "Första versionen.", period: str = PERIOD):
    """Issue as the draft page does: its form, then the confirmation step's button."""
    url = f"/rapporter/{period}/utfarda"
    first = client.post(url, data={"version": str(version), "comment": comment})
    if first.status_code != 200 or 'name="confirmed"' not in first.get_data(as_text=True):
        return first  # refused before the confirmation step (an empty comment…)
    return client.post(url, data=form_fields(first.get_data(as_text=True), url))


def page_text(response) -> str:
    """The page as plain text: tags removed, entities decoded, whitespace one space."""
    html = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", htmllib.unescape(html).replace("\u00a0", " "))


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages).replace("\u00a0", " "))


def hidden_value(response, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', response.get_data(as_text=True))
    assert match, f"no field {name}"
    return match.group(1)


def stored_narrative(app, section: str, period: str = PERIOD) -> Narrative | None:
    with app.app_context():
        row = service.narrative(period, section)
        if row is not None:
            db.session.expunge(row)
        return row


def revisions(app, section: str, period: str = PERIOD) -> list[tuple[int, str, str | None]]:
    """(number, text, user's e-mail) of every revision, oldest first."""
    with app.app_context():
        rows = db.session.scalars(select(NarrativeRevision).join(Narrative).where(
            Narrative.period == period, Narrative.section == section).order_by(NarrativeRevision.number))
        return [(r.number, r.text, r.user.email if r.user else None) for r in rows]


def issued_rows(app, period: str = PERIOD) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(select(IssuedReport).where(IssuedReport.period == period)
                                  .order_by(IssuedReport.version_number))
        return [{"id": r.id, "kind": r.kind, "version": r.version_number, "sha256": r.sha256, "size": r.size,
                 "pdf": bytes(r.pdf), "html": r.html, "figures": r.figures, "comment": r.comment,
                 "title": r.title, "issued_by": r.issued_by.email if r.issued_by else None} for r in rows]


def audit(app, action: str) -> list[dict]:
    with app.app_context():
        return [e.details for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


def comparable(figs: dict) -> dict:
    """The figures as the archive's JSON column gives them back, without the moment they were computed."""
    out = json.loads(json.dumps(figs))
    out.pop("generated_at", None)
    return out


# --------------------------------------------------------------------------- narratives

def test_each_saved_change_of_a_narrative_is_a_numbered_revision_and_is_audited_without_text(app, staff):
    assert save_text(staff, "iakttagelser", "Kommunerna beskriver svårigheter att rekrytera.", 0).status_code == 302
    response = save_text(staff, "iakttagelser", "Kommunerna beskriver svårigheter att rekrytera.\n\nNytt stycke.", 1)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/rapporter/{PERIOD}/#text-iakttagelser")
    unchanged = save_text(staff, "iakttagelser", "Kommunerna beskriver svårigheter att rekrytera.\r\n\r\n"
                                                 "Nytt stycke.  ", 2)
    assert unchanged.status_code == 302  # the same text (line endings, trailing blanks) is no new revision

    assert revisions(app, "iakttagelser") == [
        (1, "Kommunerna beskriver svårigheter att rekrytera.", STAFF),
        (2, "Kommunerna beskriver svårigheter att rekrytera.\n\nNytt stycke.", STAFF)]
    assert stored_narrative(app, "iakttagelser").version == 2
    assert revisions(app, "analys") == []
    saved = audit(app, "report.narrative_saved")
    assert [(d["period"], d["section"], d["revision"]) for d in saved] == [
        (PERIOD, "iakttagelser", 1), (PERIOD, "iakttagelser", 2)]
    assert "rekrytera" not in json.dumps(saved)

    draft = staff.get(f"/rapporter/{PERIOD}/")
    assert draft.status_code == 200
    assert "UTKAST" in page_text(draft) and "Nytt stycke." in page_text(draft)
    history = page_text(staff.get(f"/rapporter/{PERIOD}/text/iakttagelser/historik"))
    assert "Version 2 gällande" in history and "Version 1" in history and "Test staff" in history


def test_a_stale_narrative_save_is_refused_and_what_was_typed_is_kept(app, staff, admin):
    assert save_text(staff, "analys", "Kansliets första analys.", 0).status_code == 302
    assert save_text(admin, "analys", "Administratörens analys.", 1).status_code == 302

    refused = save_text(staff, "analys", "Min analys som kom för sent.", 1)

    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert "Någon annan har ändrat texten" in body
    assert re.search(r"<textarea[^>]*>\s*Min analys som kom för sent.</textarea>", body)  # still in the form
    assert "Administratörens analys." in page_text(refused)  # beside what is stored now
    assert stored_narrative(app, "analys").text == "Administratörens analys."
    assert [n for n, _, _ in revisions(app, "analys")] == [1, 2]

    # The refused form now carries the version the user has seen: saving again is deliberate and works.
    again = save_text(staff, "analys", "Min analys som kom för sent.", hidden_value(refused, "analys-version"))
    assert again.status_code == 302
    assert stored_narrative(app, "analys").text == "Min analys som kom för sent."


def test_two_first_saves_of_the_same_section_do_not_overwrite_each_other(app, staff, admin):
    assert save_text(admin, "atgarder", "Första förslaget.", 0).status_code == 302
    refused = save_text(staff, "atgarder", "Ett annat första förslag.", 0)
    assert refused.status_code == 409
    assert "Ett annat första förslag." in refused.get_data(as_text=True)
    assert revisions(app, "atgarder") == [(1, "Första förslaget.", "admin@test.se")]


def test_a_too_long_narrative_is_refused_on_the_field_and_kept(app, staff):
    long_text = "x" * (service.TEXT_MAX + 1)
    refused = save_text(staff, "analys", long_text, 0)
    assert refused.status_code == 400
    assert "högst" in page_text(refused) and long_text in refused.get_data(as_text=True)
    assert stored_narrative(app, "analys") is None


def test_restoring_an_old_revision_makes_it_current_as_a_new_revision(app, staff):
    save_text(staff, "atgarder", "Förslag A: nationellt stöd för rekrytering.", 0)
    save_text(staff, "atgarder", "Förslag B: ändrat förslag.", 1)
    page = staff.get(f"/rapporter/{PERIOD}/text/atgarder/historik/1")
    assert page.status_code == 200 and "Förslag A: nationellt stöd för rekrytering." in page_text(page)

    stale = staff.post(f"/rapporter/{PERIOD}/text/atgarder/historik/1/aterstall", data={"version": "1"})
    assert stale.status_code == 302 and [n for n, _, _ in revisions(app, "atgarder")] == [1, 2]

    response = staff.post(f"/rapporter/{PERIOD}/text/atgarder/historik/1/aterstall",
                          data={"version": hidden_value(page, "version")})
    assert response.status_code == 302
    assert revisions(app, "atgarder") == [(1, "Förslag A: nationellt stöd för rekrytering.", STAFF),
                                          (2, "Förslag B: ändrat förslag.", STAFF),
                                          (3, "Förslag A: nationellt stöd för rekrytering.", STAFF)]
    assert stored_narrative(app, "atgarder").text == "Förslag A: nationellt stöd för rekrytering."
    restored = audit(app, "report.narrative_restored")
    assert restored == [{"period": PERIOD, "section": "atgarder", "revision": 3, "restored_from": 1}]
    assert staff.get(f"/rapporter/{PERIOD}/text/atgarder/historik/9").status_code == 404


# --------------------------------------------------------------------------- issuing and the archive

def test_issuing_creates_version_1_then_2_and_the_archive_lists_both(app, staff, quarter_visits):
    first = issue(staff, 1, "Första versionen.")
    assert first.status_code == 302
    save_text(staff, "iakttagelser", "Ett tillägg efter första versionen.", 0)
    second = issue(staff, 2, "Lade till iakttagelser.")
    assert second.status_code == 302

    rows = issued_rows(app)
    assert [(r["kind"], r["version"], r["comment"], r["issued_by"]) for r in rows] == [
        (QUARTERLY, 1, "Första versionen.", STAFF), (QUARTERLY, 2, "Lade till iakttagelser.", STAFF)]
    assert second.headers["Location"].endswith(f"/rapporter/utfardade/{rows[1]['id']}/")
    with app.app_context():
        title = service.title(figures.parse_period(PERIOD))
    for r in rows:
        assert r["sha256"] == hashlib.sha256(r["pdf"]).hexdigest() and r["size"] == len(r["pdf"])
        assert r["title"] == title == "Kvartalsrapport: Kvartal 3 2015"
    assert rows[0]["sha256"] != rows[1]["sha256"]
    assert [(d["period"], d["version"], d["sha256"]) for d in audit(app, "report.issued")] == [
        (PERIOD, 1, rows[0]["sha256"]), (PERIOD, 2, rows[1]["sha256"])]

    archive = page_text(staff.get("/rapporter/"))
    assert "Första versionen." in archive and "Lade till iakttagelser." in archive
    assert "Version 1" in archive and "Version 2" in archive
    old = page_text(staff.get(f"/rapporter/utfardade/{rows[0]['id']}/"))
    assert "Det finns en senare version av rapporten: version 2" in old
    assert rows[0]["sha256"] in old and "kvartalsrapport-2015Q3-v1.pdf" in old
    assert "1 den här versionen" in old and "Lade till iakttagelser." in old


def test_an_issue_form_that_is_out_of_date_or_without_comment_issues_nothing(app, staff, quarter_visits):
    draft = staff.get(f"/rapporter/{PERIOD}/")
    assert hidden_value(draft, "version") == "1" and "Utfärda version 1" in page_text(draft)
    assert issue(staff, 1, "Första versionen.").status_code == 302

    twice = issue(staff, 1, "Ett andra klick på samma formulär.")  # a double click, or a colleague first
    assert twice.status_code == 409
    assert "Någon annan har utfärdat version 1" in page_text(twice)
    assert "Ett andra klick på samma formulär." in twice.get_data(as_text=True)
    assert hidden_value(twice, "version") == "2"

    empty = issue(staff, 2, "  ")
    assert empty.status_code == 400 and "Skriv vad som är nytt" in page_text(empty)
    assert [r["version"] for r in issued_rows(app)] == [1]


def test_an_issued_report_never_changes_when_the_data_changes_but_the_draft_does(app, staff, quarter_visits):
    save_text(staff, "iakttagelser", "Iakttagelse när version 1 utfärdades.", 0)
    assert issue(staff, 1).status_code == 302
    (stored,) = issued_rows(app)
    before = staff.get(f"/rapporter/utfardade/{stored['id']}.pdf")
    page_before = staff.get(f"/rapporter/utfardade/{stored['id']}/").get_data(as_text=True)
    assert before.data == stored["pdf"] and stored["html"] in page_before
    with app.app_context():
        at_issue = comparable(figures.compute(PERIOD))
    assert comparable(stored["figures"]) == at_issue

    # The data changes: a booked visit is held, a note gets a passage, the narrative is rewritten.
    with app.app_context():
        from coordinator.dialogue import notes
        from coordinator.dialogue.models import Note
        from coordinator.scheduling import service as visits

        visits.complete(db.session.get(Visit, quarter_visits[2]))
        note = db.session.scalar(select(Note).where(Note.visit_id == quarter_visits[0]))
        content = notes.snapshot(note)
        content["sections"][notes.question_key(2)] = [{"text": "Ett nytt stycke efter utfärdandet."}]
        notes.apply(note, content, db.session.scalar(select(User).where(User.email == STAFF)), note.version)
        db.session.commit()
    assert save_text(staff, "iakttagelser", "Omskriven iakttagelse efter utfärdandet.", 1).status_code == 302

    after = staff.get(f"/rapporter/utfardade/{stored['id']}.pdf")
    assert after.data == before.data == stored["pdf"]
    assert hashlib.sha256(after.data).hexdigest() == stored["sha256"]
    (unchanged,) = issued_rows(app)
    assert unchanged == stored  # bytes, HTML, figures and hash as they were stored
    page_after = staff.get(f"/rapporter/utfardade/{stored['id']}/").get_data(as_text=True)
    assert stored["html"] in page_after
    assert "Omskriven iakttagelse" not in page_after and "Iakttagelse när version 1 utfärdades." in page_after
    assert "Omskriven iakttagelse" not in pdf_text(after.data)

    # The draft follows the data.
    with app.app_context():
        assert comparable(figures.compute(PERIOD)) != at_issue
    draft_pdf = staff.get(f"/rapporter/{PERIOD}/utkast.pdf")
    assert draft_pdf.status_code == 200 and draft_pdf.data != stored["pdf"]
    assert "Omskriven iakttagelse efter utfärdandet." in pdf_text(draft_pdf.data)
    assert "Omskriven iakttagelse efter utfärdandet." in page_text(staff.get(f"/rapporter/{PERIOD}/"))
    # … and so does the next version.
    assert issue(staff, 2, "Besöket den 22 september är genomfört.").status_code == 302
    newer = issued_rows(app)[1]
    assert comparable(newer["figures"]) != at_issue and newer["sha256"] != stored["sha256"]


def test_an_issued_row_cannot_be_changed_through_the_application(app, quarter_visits):
    with app.app_context():
        row = service.issue(figures.parse_period(PERIOD), "Första versionen.", None)
        row.comment = "Ändrad i efterhand."
        with pytest.raises(service.ReportError):
            db.session.flush()
        db.session.rollback()
    assert [r["comment"] for r in issued_rows(app)] == ["Första versionen."]


def test_the_download_is_the_stored_bytes_with_its_hash_as_etag(app, staff, quarter_visits):
    issue(staff, 1)
    issue(staff, 2, "Andra versionen.")
    (first, second) = issued_rows(app)
    response = staff.get(f"/rapporter/utfardade/{second['id']}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    assert hashlib.sha256(response.data).hexdigest() == second["sha256"]
    assert response.headers["ETag"] == f'"{second["sha256"]}"'
    assert 'filename="kvartalsrapport-2015Q3-v2.pdf"' in response.headers["Content-Disposition"]
    assert staff.get(f"/rapporter/utfardade/{second['id']}.pdf",
                     headers={"If-None-Match": f'"{second["sha256"]}"'}).status_code == 304
    assert staff.get(f"/rapporter/utfardade/{first['id']}.pdf").data == first["pdf"]


def test_two_issues_at_once_never_share_a_version_number(app, quarter_visits):
    """Someone else's issue of the same period commits between our read of the number and our insert."""
    armed = []

    def competitor(mapper, connection, target):
        if not armed:
            return
        armed.pop()
        with db.engine.begin() as other:  # a second connection: a real concurrent commit
            other.execute(insert(IssuedReport).values(
                kind=target.kind, period=target.period, version_number=target.version_number, title="Samtidig",
                issued_at=target.issued_at, comment="utfärdad samtidigt", sha256="0" * 64, size=1, figures={},
                pdf=b"%PDF", html="<p>samtidig</p>"))

    event.listen(IssuedReport, "before_insert", competitor)
    try:
        with app.app_context():
            period = figures.parse_period(PERIOD)
            user = db.session.scalar(select(User).where(User.email == STAFF))
            armed.append(True)
            row = service.issue(period, "Från kommandoraden.", user)  # no expected number: takes the next free one
            assert row.version_number == 2
            armed.append(True)
            with pytest.raises(service.IssueConflict):  # the form offered version 3: refused, nothing issued
                service.issue(period, "Från formuläret.", user, expected_version=3)
            db.session.rollback()
    finally:
        event.remove(IssuedReport, "before_insert", competitor)
    assert [(r["version"], r["comment"]) for r in issued_rows(app)] == [
        (1, "utfärdad samtidigt"), (2, "Från kommandoraden."), (3, "utfärdad samtidigt")]


def test_the_final_report_basis_goes_through_the_same_pages(app, staff, quarter_visits):
    draft = staff.get("/rapporter/slut/")
    assert draft.status_code == 200 and "Slutrapport" in page_text(draft)
    assert save_text(staff, "analys", "Analys av hela uppdraget.", 0, period="slut").status_code == 302
    assert stored_narrative(app, "analys", period="slut").text == "Analys av hela uppdraget."
    assert stored_narrative(app, "analys") is None  # the quarter's narrative is its own
    assert issue(staff, 1, "Underlaget.", period="slut").status_code == 302
    (row,) = issued_rows(app, "slut")
    assert row["kind"] == FINAL and row["title"] == "Slutrapport"
    pdf = staff.get(f"/rapporter/utfardade/{row['id']}.pdf")
    assert 'filename="slutrapport-v1.pdf"' in pdf.headers["Content-Disposition"]
    assert "Slutrapport" in page_text(staff.get("/rapporter/"))


@pytest.mark.parametrize("url", [
    "/rapporter/2099Q1/", "/rapporter/2015Q5/", "/rapporter/nonsense/", "/rapporter/2099Q1/utkast.pdf",
    "/rapporter/2015Q3/text/okant", "/rapporter/2015Q3/text/okant/historik", "/rapporter/2015Q3/text/analys/historik/1",
    "/rapporter/utfardade/999/", "/rapporter/utfardade/999.pdf"])
def test_a_period_section_or_version_that_does_not_exist_is_not_found(app, staff, url):
    assert staff.get(url).status_code == 404


def test_a_bad_period_in_a_post_is_not_found_and_saves_nothing(app, staff):
    assert save_text(staff, "analys", "Text.", 0, period="2099Q1").status_code == 404
    assert issue(staff, 1, period="2099Q1").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Narrative)) is None


def test_the_command_line_issues_the_next_version_and_prints_its_hash(app, quarter_visits):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["report", "issue", PERIOD, "--comment", "Från kommandoraden.", "--as", STAFF, "--yes"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["report", "issue", PERIOD], input="y\n")
    assert second.exit_code == 0, second.output
    rows = issued_rows(app)
    assert [(r["version"], r["comment"], r["issued_by"]) for r in rows] == [
        (1, "Från kommandoraden.", STAFF), (2, "", None)]
    assert "version 1" in first.output and rows[0]["sha256"] in first.output
    assert rows[1]["sha256"] in second.output
    assert audit(app, "report.issued")[0]["version"] == 1

    bad = runner.invoke(args=["report", "issue", "2015Q9"])
    assert bad.exit_code != 0 and "2015Q9" in bad.output
    nobody = runner.invoke(args=["report", "issue", PERIOD, "--as", "ingen@test.se", "--yes"])
    assert nobody.exit_code != 0 and "ingen@test.se" in nobody.output
    assert len(issued_rows(app)) == 2
