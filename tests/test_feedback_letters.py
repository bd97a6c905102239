"""Feedback letters (återkopplingsbrev): drafted, approved and sent by staff, read on the kommun's own link.

On the demo assignment (made once per backend): the whole flow through the pages, a letter delivered to
a real SMTP server on loopback whose link opens the letter (also in a real browser), the PDF and the Word
file opened by their readers, a concurrent edit refused, roles and links kept apart, what the letter
leaves out (uncleared quotes, personnummer, the talks with children), the command line, the start page.
"""
from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event, select

from coordinator.extensions import db

from .conftest import SHOTS, USERS, Client, assert_accessible, browser_login
from .helpers import audit_events, confirm_through_page, form_fields
from .test_invites import SmtpServer

UNCLEARED = "Ett okvitterat citat som inte får knytas till kommunen"
CLEARED = "Ett godkänt citat som får knytas till kommunen"
PNR = "Barnet med personnummer 121212-1212 nämndes"
CHILDREN = "Ett samtal med ett barn om hemmet"


def _held_without_letter(app, skip: int = 0):
    """(site id, round, site label) of a held visit with active contacts and no letter yet."""
    from coordinator.contacts.models import Contact
    from coordinator.feedback.models import FeedbackLetter
    from coordinator.scheduling.models import GENOMFORD, Visit
    with app.app_context():
        taken = {(r.site_id, r.round) for r in db.session.scalars(select(FeedbackLetter))}
        with_contacts = set(db.session.scalars(select(Contact.site_id).where(Contact.active.is_(True))))
        visits = [v for v in db.session.scalars(select(Visit).where(Visit.status == GENOMFORD).order_by(Visit.id))
                  if (v.site_id, v.round) not in taken and v.site_id in with_contacts]
        v = visits[skip]
        return v.site_id, v.round, v.site.label


def _letter(app, site_id: int, round_: int):
    from coordinator.feedback.models import FeedbackLetter
    with app.app_context():
        row = db.session.scalar(select(FeedbackLetter).where(FeedbackLetter.site_id == site_id,
                                                             FeedbackLetter.round == round_))
        if row is not None:
            db.session.expunge(row)
        return row


def _plant_passages(app, site_id: int, round_: int) -> None:
    """Passages the letter must leave out (and one cleared quote it must keep) in the visit's note."""
    from coordinator.dialogue.models import Note, Passage
    from coordinator.scheduling.models import Visit
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.site_id == site_id, Visit.round == round_))
        note = db.session.scalar(select(Note).where(Note.visit_id == visit.id))
        if note is None:
            note = Note(visit_id=visit.id)
            db.session.add(note)
            db.session.flush()
        db.session.add_all([
            Passage(note_id=note.id, section="fraga-1", position=90, text=UNCLEARED, citat=True,
                    attribution_cleared=False),
            Passage(note_id=note.id, section="fraga-1", position=91, text=CLEARED, citat=True,
                    attribution_cleared=True),
            Passage(note_id=note.id, section="fraga-2", position=92, text=PNR),
            Passage(note_id=note.id, section="barn", position=93, text=CHILDREN),
        ])
        db.session.commit()


def _base(site_id: int, round_: int) -> str:
    return f"/aterkoppling/plats/{site_id}/omgang/{round_}"


@pytest.fixture(scope="module")
def mailserver(demo):
    server = SmtpServer()
    server.start()
    keys = ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_SSL", "SMTP_USERNAME", "SMTP_PASSWORD", "MAIL_FROM")
    saved = {k: demo.config.get(k) for k in keys}
    demo.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_STARTTLS=False, SMTP_SSL=False,
                       SMTP_USERNAME="", SMTP_PASSWORD="", MAIL_FROM="")
    yield server
    server.stop()
    demo.config.update(saved)


@pytest.fixture(scope="module")
def sent(demo, mailserver):
    """A letter taken through the whole flow by staff on the pages, and its mail delivered over SMTP."""
    from coordinator.outbox import delivery as outbox
    app = demo
    site_id, round_, label = _held_without_letter(app)
    _plant_passages(app, site_id, round_)
    staff = Client(app, USERS["staff"])
    base = _base(site_id, round_)

    page = staff.get(base).get_data(as_text=True)
    assert "Skapa utkast" in page
    assert staff.post(f"{base}/skapa", form_fields(page, f"{base}/skapa")).status_code == 302
    page = staff.get(base).get_data(as_text=True)
    assert "Utkast" in page and UNCLEARED not in page and PNR not in page and CHILDREN not in page
    assert CLEARED in page  # the preview already shows what will go out
    fields = form_fields(page, f"{base}/texter")
    fields.update(inledning="Tack för besöket hos er.", sammanfattning="Vi såg ett gott samarbete med skolan.",
                  fortsattning="Vi ses vid det andra besöket.")
    response = staff.post(f"{base}/texter", fields)
    assert response.status_code == 302
    assert "version 1" in staff.get(base).get_data(as_text=True)

    # Sending before approval is refused in words, and nothing is sent.
    refused = staff.get(f"{base}/skicka").get_data(as_text=True)
    assert "Brevet måste godkännas innan det skickas." in refused and "confirmed" not in refused
    confirmation = staff.get(f"{base}/godkann").get_data(as_text=True)
    assert "Godkänna återkopplingsbrevet till" in confirmation and "Brevet skickas inte än" in confirmation
    assert confirm_through_page(staff, f"{base}/godkann").status_code == 302
    letter = _letter(app, site_id, round_)
    assert letter.status == "godkant" and letter.approved_by_id is not None and letter.approved_at is not None

    confirmation = staff.get(f"{base}/skicka").get_data(as_text=True)
    assert "Skicka återkopplingsbrevet till" in confirmation and "kan inte tas tillbaka" in confirmation
    assert confirm_through_page(staff, f"{base}/skicka").status_code == 302
    page = staff.get(base).get_data(as_text=True)
    assert "Skickat" in page and "väntar i utkorgen" in page.lower()

    with app.app_context():
        report = outbox.deliver_pending(app.config)
    assert report.sent >= 1
    messages = [m for m in mailserver.handler.messages() if label in str(m["Subject"])]
    assert len(messages) == 1
    mail = messages[0]
    body = mail.get_body(("plain",)).get_content()
    url = re.search(r"https?://\S+/aterkoppling/brev/\S+", body).group(0)
    return {"site_id": site_id, "round": round_, "label": label, "url": url, "path": urlsplit(url).path,
            "mail": mail, "staff": staff, "base": base}


def test_a_letter_is_drafted_approved_sent_and_delivered_over_smtp(demo, sent):
    mail = sent["mail"]
    assert str(mail["Subject"]) == f"Återkoppling efter besöket – {sent['label']}"
    assert mail["To"] and "@" in str(mail["To"])
    page = sent["staff"].get(sent["base"]).get_data(as_text=True)
    assert "Skickad" in page
    assert sent["path"] in page  # staff see the kommun's link to pass on if needed
    # The log says who approved and sent, never the letter's words.
    events = [e for e in audit_events(demo, "feedback.") if e.object_id == str(_letter(demo, sent["site_id"],
                                                                                             sent["round"]).id)]
    actions = [e.action for e in events]
    assert {"feedback.letter_created", "feedback.letter_saved", "feedback.letter_approved",
            "feedback.letter_sent"} <= set(actions)
    assert all(e.actor == USERS["staff"] for e in events)
    for e in events:
        assert "Tack för besöket" not in str(e.details) and "samarbete" not in str(e.details)
    # A sent letter no longer changes: there is no text form, and a save is refused.
    assert f'action="{sent["base"]}/texter"' not in page


def test_the_kommun_opens_its_letter_as_page_pdf_and_word_without_a_login(demo, sent):
    import docx
    import pypdfium2

    anon = Client(demo, None)
    response = anon.get(sent["path"])
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer" and "no-store" in response.headers["Cache-Control"]
    page = response.get_data(as_text=True)
    assert "Återkoppling efter besöket" in page and sent["label"] in page and "Tack för besöket hos er." in page
    assert "Vad vi samtalade om" in page and "Er handlingsplan" in page and "Era svar på mätningen" in page
    assert CLEARED in page
    for words in (UNCLEARED, PNR, CHILDREN):
        assert words not in page

    pdf = anon.get(f"{sent['path']}/brev.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    doc = pypdfium2.PdfDocument(pdf.data)
    text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    assert len(doc) >= 1 and "Återkoppling efter besöket" in text and "Tack för besöket hos er." in text
    assert UNCLEARED not in text and "UTKAST" not in text

    word = anon.get(f"{sent['path']}/brev.docx")
    assert word.status_code == 200 and word.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    d = docx.Document(io.BytesIO(word.data))
    headings = [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert ("Heading 1", "Vad vi samtalade om") in headings and ("Heading 1", "Er handlingsplan") in headings
    assert any(p.style.name == "Quote" and p.text == CLEARED for p in d.paragraphs)
    assert d.tables, "the plan and the measurement are Word tables"
    assert UNCLEARED not in "\n".join(p.text for p in d.paragraphs)


def test_links_open_their_own_letter_only(demo, sent):
    from coordinator.feedback import service
    from coordinator.feedback.models import FeedbackLetter, FeedbackLink
    from coordinator.plans import service as plans
    from coordinator.plans.models import PlanLink

    anon = Client(demo, None)
    token = sent["path"].rsplit("/", 1)[1]
    with demo.app_context():
        other = db.session.scalar(select(FeedbackLetter).where(FeedbackLetter.status == "skickat",
                                                               FeedbackLetter.site_id != sent["site_id"])
                                  .order_by(FeedbackLetter.id))
        other_label, other_link_id = other.site.label, other.links[0].id
        other_token = service.token_for(other.links[0])
        plan_link = db.session.scalar(select(PlanLink))
        plan_token = plans.token_for(plan_link) if plan_link else None
    mine = anon.get(sent["path"]).get_data(as_text=True).split("<main", 1)[-1]
    theirs = anon.get(f"/aterkoppling/brev/{other_token}").get_data(as_text=True).split("<main", 1)[-1]
    assert other_label in theirs and other_label not in mine
    assert sent["label"] not in theirs
    # A tampered token, and another kind of link (a plan's), open nothing.
    head, signature = token.rsplit(".", 1)
    tampered = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"  # a first character carries 6 whole bits
    assert anon.get(f"/aterkoppling/brev/{tampered}").status_code == 404
    if plan_token:
        assert anon.get(f"/aterkoppling/brev/{plan_token}").status_code == 404
    # A revoked link says so (403) and opens no letter, nor its files.
    with demo.app_context():
        link = db.session.get(FeedbackLink, other_link_id)
        link.revoked_at = link.created_at
        db.session.commit()
    refused = anon.get(f"/aterkoppling/brev/{other_token}")
    assert refused.status_code == 403 and "återkallats" in refused.get_data(as_text=True)
    assert anon.get(f"/aterkoppling/brev/{other_token}/brev.pdf").status_code == 403


def test_staff_pages_need_staff_and_readers_see_no_letter(demo, sent):
    reader = Client(demo, USERS["reader"])
    anon = Client(demo, None)
    for url in ("/aterkoppling/", sent["base"], f"{sent['base']}/brev.pdf", f"{sent['base']}/brev.docx",
                f"{sent['base']}/godkann"):
        assert reader.get(url).status_code == 403, url
        assert anon.get(url).status_code in (302, 401), url
    assert reader.post(f"{sent['base']}/texter", {"version": "1", "inledning": "x"}).status_code == 403


def test_a_concurrent_edit_is_refused_and_what_was_typed_stays(demo):
    site_id, round_, _label = _held_without_letter(demo)
    base = _base(site_id, round_)
    first, second = Client(demo, USERS["staff"]), Client(demo, USERS["admin"])
    page = first.get(base).get_data(as_text=True)
    assert first.post(f"{base}/skapa", form_fields(page, f"{base}/skapa")).status_code == 302
    a = form_fields(first.get(base).get_data(as_text=True), f"{base}/texter")
    b = form_fields(second.get(base).get_data(as_text=True), f"{base}/texter")
    assert a["version"] == b["version"]
    assert first.post(f"{base}/texter", {**a, "inledning": "Första personens text"}).status_code == 302
    refused = second.post(f"{base}/texter", {**b, "inledning": "Andra personens text"})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "Någon annan har ändrat brevet" in html and "Andra personens text" in html
    assert _letter(demo, site_id, round_).texts["inledning"] == "Första personens text"
    # Saving again from the conflict page is deliberate and wins; an approved letter edited becomes a draft.
    again = form_fields(html, f"{base}/texter")
    assert second.post(f"{base}/texter", {**again, "inledning": "Andra personens text"}).status_code == 302
    assert confirm_through_page(first, f"{base}/godkann").status_code == 302
    fields = form_fields(first.get(base).get_data(as_text=True), f"{base}/texter")
    texts = {"inledning": "Andra personens text", "sammanfattning": "", "fortsattning": "Mer"}
    assert first.post(f"{base}/texter", {**fields, **texts}).status_code == 302
    letter = _letter(demo, site_id, round_)
    assert letter.status == "utkast" and letter.approved_at is None and letter.texts["inledning"] == "Andra personens text"
    # Approving with a stale version approves nothing.
    stale = confirm_through_page(first, f"{base}/godkann", {"version": "1"}, follow_redirects=True)
    assert "Ingenting godkändes" in stale.get_data(as_text=True)
    assert _letter(demo, site_id, round_).status == "utkast"


def test_a_letter_is_only_drafted_after_the_visit_and_bad_ids_are_not_found(demo):
    from coordinator.scheduling.models import GENOMFORD, Visit
    staff = Client(demo, USERS["staff"])
    with demo.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.status != GENOMFORD).order_by(Visit.id))
        site_id, round_ = visit.site_id, visit.round
    base = _base(site_id, round_)
    page = staff.get(base).get_data(as_text=True)
    assert "inte genomfört än" in page and "Skapa utkast" not in page
    response = staff.post(f"{base}/skapa", {"version": "0"}, follow_redirects=True)
    assert "brevet skrivs efter besöket" in response.get_data(as_text=True)
    assert _letter(demo, site_id, round_) is None
    for url in ("/aterkoppling/plats/99999999999999999999/omgang/1", f"/aterkoppling/plats/{site_id}/omgang/3",
                f"/aterkoppling/plats/{site_id}/omgang/0/brev.pdf"):
        assert staff.get(url).status_code == 404, url


def test_the_command_line_writes_pdf_and_docx_and_explains_errors(demo, sent, tmp_path):
    import docx
    from coordinator.sampling.models import Site

    with demo.app_context():
        site = db.session.get(Site, sent["site_id"])
        code, unit = site.kommunkod, site.enhet
    extra = ["--unit", unit] if unit else []
    runner = demo.test_cli_runner()
    pdf, word = tmp_path / "brev.pdf", tmp_path / "brev.DOCX"
    result = runner.invoke(args=["feedback", "letter", code, "--round", str(sent["round"]), "--out", str(pdf), *extra])
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF") and "skickat" in result.output
    result = runner.invoke(args=["feedback", "letter", code, "--round", str(sent["round"]), "--out", str(word), *extra])
    assert result.exit_code == 0, result.output
    assert docx.Document(str(word)).paragraphs[0].text == "Återkoppling efter besöket"
    bad = runner.invoke(args=["feedback", "letter", code, "--round", "1", "--out", str(tmp_path / "brev.txt")])
    assert bad.exit_code == 1 and "måste sluta på .pdf eller .docx" in bad.output
    bad = runner.invoke(args=["feedback", "letter", "12", "--round", "1", "--out", str(pdf)])
    assert bad.exit_code == 1 and "Ogiltig kommunkod" in bad.output
    bad = runner.invoke(args=["feedback", "letter", code, "--round", "3", "--out", str(pdf)])
    assert bad.exit_code == 2


def test_the_start_page_lists_letters_due_and_the_list_reads_a_fixed_number_of_statements(demo):
    from coordinator.feedback import service
    staff = Client(demo, USERS["staff"])
    with demo.app_context():
        due = service.due_rows()
        assert due, "the demo leaves some held visits without an approved letter"
        first = due[0]
        url = _base(first.visit.site_id, first.visit.round)
    page = staff.get("/").get_data(as_text=True)
    assert "Återkopplingsbrev att skicka" in page and f'href="{url}"' in page

    def statements() -> int:
        count = [0]

        def counter(*args):
            count[0] += 1
        with demo.app_context():
            event.listen(db.engine, "before_cursor_execute", counter)
            try:
                assert staff.get("/aterkoppling/").status_code == 200
            finally:
                event.remove(db.engine, "before_cursor_execute", counter)
        return count[0]

    before = statements()
    site_id, round_, _label = _held_without_letter(demo)
    with demo.app_context():
        from coordinator.sampling.models import Site
        service.create_draft(db.session.get(Site, site_id), round_)
        db.session.commit()
    assert statements() == before


def test_the_letter_opens_in_a_browser_on_the_kommuns_link(demo, sent, demo_page):
    page = demo_page
    page.goto(sent["path"])
    assert page.get_by_role("heading", level=1).inner_text() == "Återkoppling efter besöket"
    assert page.get_by_role("heading", name="Vad vi samtalade om").is_visible()
    assert page.get_by_role("link", name="Ladda ned brevet som PDF").is_visible()
    assert_accessible(page, "the kommun's letter")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
        assert not overflow, f"the letter scrolls sideways at {width} px"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"feedback-kommun-{width}.png"), full_page=True)
    browser_login(page, "staff")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(sent["base"])
    assert page.get_by_role("heading", name="Brevet som det godkändes").is_visible()
    assert_accessible(page, "the staff's letter page")
    page.screenshot(path=str(SHOTS / "feedback-staff-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 900})
    page.screenshot(path=str(SHOTS / "feedback-staff-390.png"), full_page=True)


def test_the_letter_puts_the_kommuns_answers_beside_its_group_and_the_weighted_national_figure(demo):
    from coordinator.feedback import content, document
    from coordinator.feedback.models import FeedbackLetter
    from coordinator.measurement.weighted import national_estimates

    with demo.test_request_context():
        letter = next(b for b in db.session.scalars(select(FeedbackLetter).order_by(FeedbackLetter.id))
                      if content.measurement_content(b.site, b.round) is not None)
        m = content.measurement_content(letter.site, letter.round)
        national = {q["question_id"]: q for q in national_estimates(m["questionnaire_id"], letter.round)["questions"]}
        by_position = {q["position"]: q for q in national.values()}
        checked = 0
        for q in m["questions"]:
            nat = by_position[q["position"]]
            if q["kind"] == "tal":
                assert q["national_mean"] == nat["weighted_mean"]
                continue
            for o in q["options"]:
                n = next(x for x in nat["options"] if x["label"] == o["label"])
                assert o["national_share"] == (None if n["suppressed"] else n["weighted_share"])
                checked += 1
        assert checked
        from coordinator.feedback import service
        text = " ".join(b.text + " ".join(" ".join(r) for r in b.rows) for b in document.blocks(service.compose(letter)))
        assert "Så räknar vi:" in text and "1/π" in text


def test_the_kommuns_plan_page_links_to_its_sent_letters(demo):
    from datetime import date, timedelta

    from coordinator.feedback import service
    from coordinator.feedback.models import FeedbackLetter
    from coordinator.plans import service as plans
    from coordinator.plans.models import ActionPlan

    with demo.app_context():
        plan_sites = set(db.session.scalars(select(ActionPlan.site_id)))
        letter = next(b for b in db.session.scalars(select(FeedbackLetter).where(FeedbackLetter.status == "skickat")
                                                    .order_by(FeedbackLetter.id))
                      if b.site_id in plan_sites and service.active_link(b) is not None)
        plan = db.session.scalar(select(ActionPlan).where(ActionPlan.site_id == letter.site_id))
        link = plans.create_link(plan, date.today() + timedelta(days=30))
        db.session.commit()
        plan_token, letter_path = plans.token_for(link), f"/aterkoppling/brev/{service.token_for(service.active_link(letter))}"
    page = Client(demo, None).get(f"/plan/{plan_token}").get_data(as_text=True)
    assert f'href="{letter_path}"' in page and "Läs återkopplingsbrevet efter besök" in page
