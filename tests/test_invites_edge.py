"""Invitations in their edge cases (issue 11): cancellations to one removed person, the download of a
cancelled occasion, resends that keep answers, the order of replies, events' reply upload, feeds with
conditional GET, and addresses with å/ä/ö, against a real SMTP server (aiosmtpd on loopback) with
and without SMTPUTF8. Calendars are read back with `icalendar`, `vobject` and `ical`.
"""
from __future__ import annotations

import email
from datetime import date, datetime, timedelta, timezone
from email import policy

import icalendar
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from coordinator.contacts.models import Attendee, Contact
from coordinator.extensions import db
from coordinator.invites import ical, mail, service
from coordinator.outbox import letters
from coordinator.outbox.mailstatus import mail_status
from coordinator.outbox.models import FAILED, SENT, OutboxMessage
from coordinator.scheduling.models import INBJUDEN, Visit

from .helpers import free_port
from .test_invites import (Collector, calendar_of, deliver, make_visit, method_of, read_back,  # noqa: F401
                           sites, smtp)


def icalendar_event(data: bytes) -> icalendar.Event:
    """The one VEVENT as the third parser (icalendar) reads it."""
    (vevent,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    return vevent


# --------------------------------------------------------------------------- addresses with å/ä/ö

class Utf8Server:
    """aiosmtpd on loopback, with or without the SMTPUTF8 extension."""

    def __init__(self, utf8: bool):
        self.port = free_port()
        self.handler = Collector()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     enable_SMTPUTF8=utf8)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def _visit_with(app, site_id: int, people: list[tuple[str, str]]) -> int:
    with app.app_context():
        visit = make_visit(site_id, n_attendees=0)
        for name, address in people:
            contact = Contact(site=visit.site, role="annan", name=name, email=address)
            visit.attendees.append(Attendee(contact=contact, name=name, email=address))
        db.session.flush()
        service.queue_request(visit)
        db.session.commit()
        return visit.id


PEOPLE = [("Åsa Öberg", "åsa.öberg@kommun.example.se"),       # å/ö before the @: needs SMTPUTF8
          ("Per Ek", "per.ek@växjö.example.se"),                # å/ö in the domain only: IDNA will do
          ("Lisa\nBerg", "lisa.berg@kommun.example.se")]        # a line break in a stored name


def _delivered_to(server) -> list[str]:
    return [r for _, rcpts, _ in server.handler.received for r in rcpts]


@pytest.mark.parametrize("utf8", [True, False], ids=["smtputf8", "no-smtputf8"])
def test_an_address_with_a_ring_does_not_stop_the_invitation_to_the_others(app, sites, utf8):
    """One recipient's å/ä/ö never blocks the others: a server with SMTPUTF8 gets everyone in one message;
    one without it gets the others (the domain in its IDNA form) and the message says who was left out."""
    visit_id = _visit_with(app, sites[0], PEOPLE)
    with Utf8Server(utf8) as server:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_TIMEOUT=5, MAIL_FROM="",
                          SMTP_STARTTLS=False, SMTP_SSL=False, SMTP_USERNAME="", SMTP_PASSWORD="")
        report = deliver(app)
    assert report.sent == 1 and report.failed == 0 and report.retried == 0
    ((_, _, content),) = server.handler.received
    arrived = email.message_from_string(content.decode("utf-8"), policy=policy.default)  # RFC 6532 headers
    to = [a.addr_spec for a in arrived["To"].addresses]
    names = [a.display_name for a in arrived["To"].addresses]
    assert "Lisa Berg" in names  # the line break became a space, and the mail went
    if utf8:
        assert sorted(_delivered_to(server)) == sorted(["åsa.öberg@kommun.example.se",
                                                        "per.ek@xn--vxj-qla6g.example.se",
                                                        "lisa.berg@kommun.example.se"])
        assert "åsa.öberg@kommun.example.se" in to
    else:
        assert sorted(_delivered_to(server)) == ["lisa.berg@kommun.example.se", "per.ek@xn--vxj-qla6g.example.se"]
        assert "åsa.öberg@kommun.example.se" not in to and "per.ek@xn--vxj-qla6g.example.se" in to
        assert server.handler.received[0][2].isascii()  # nothing a server without SMTPUTF8 cannot take
    (ev,) = read_back(calendar_of(arrived))
    assert method_of(calendar_of(arrived)) == "REQUEST" and len(ev["attendees"]) == 3
    assert str(icalendar_event(calendar_of(arrived))["attendee"][2].params["CN"]) == "Lisa Berg"
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.visit_id == visit_id))
        status = mail_status(message)
        assert message.status == SENT
        if utf8:
            assert status.reason is None
        else:
            assert "åsa.öberg@kommun.example.se" in status.technical
            assert "fick inget meddelande" in status.text and "SMTPUTF8" not in status.text


def test_when_every_address_needs_smtputf8_and_the_server_lacks_it_the_mail_fails_at_once(app, sites):
    """A message nobody can be sent is failed with a plain reason and advice, not retried for ever."""
    _visit_with(app, sites[0], PEOPLE[:1])
    with Utf8Server(False) as server:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_TIMEOUT=5, MAIL_FROM="",
                          SMTP_STARTTLS=False, SMTP_SSL=False, SMTP_USERNAME="", SMTP_PASSWORD="")
        report = deliver(app)
    assert report.failed == 1 and server.handler.received == []
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        status = mail_status(message)
        assert message.status == FAILED
        assert "å, ä, ö" in status.text and "e-postadress utan å, ä och ö" in status.text


def test_a_stored_message_is_ascii_unless_an_address_needs_utf8():
    """Only the To header may carry UTF-8, and only for an address that has no ASCII form."""
    event = ical.Event(uid="u@x", sequence=0, start=datetime(2027, 3, 16, 9, tzinfo=timezone.utc),
                       end=datetime(2027, 3, 16, 10, tzinfo=timezone.utc), summary="Möte\nrad två",
                       location="", description="", organizer_name="Samordnaren\r\nX",
                       organizer_email="s@example.se",
                       attendees=(ical.Person("Per\nEk", "per@växjö.se"),))
    text = letters.as_text(mail.build_message(event, ical.REQUEST, ical.to_bytes(ical.request(event))))
    assert text.isascii() and "xn--vxj-qla6g.se" in text
    parsed = email.message_from_string(text, policy=policy.default)
    assert parsed["Subject"].startswith("Inbjudan: Möte rad två") and parsed["From"].addresses[0].display_name == \
        "Samordnaren X"
    wide = ical.Event(**{**event.__dict__, "attendees": (ical.Person("Åsa", "åsa@kommun.se"),
                                                         ical.Person("Per", "per@kommun.se"))})
    text = letters.as_text(mail.build_message(wide, ical.REQUEST, ical.to_bytes(ical.request(wide))))
    head, _, body = text.partition("\r\n\r\n")
    assert body.isascii() and [line for line in head.split("\r\n") if not line.isascii()][0].startswith("To:")
    narrow = letters.without_utf8_recipients(text)
    assert narrow.isascii() and "per@kommun.se" in narrow and "åsa" not in narrow
    assert narrow.partition("\r\n\r\n")[2] == body


def test_an_address_with_a_ring_before_the_at_is_refused_at_entry_unless_the_server_takes_it(app, sites, staff):
    """Contact form and CSV import refuse å/ä/ö before the @ with a plain Swedish message unless SMTP_UTF8 is
    on; a non-ASCII domain is always accepted (it goes as IDNA)."""
    from coordinator.contacts import service as contact_service
    from coordinator.sampling.models import Site

    app.config["SMTP_UTF8"] = False
    typed = {"role": "annan", "name": "Åsa Öberg", "email": "åsa@kommun.se", "phone": ""}
    response = staff.post(f"/kontakter/plats/{sites[0]}/ny", typed)
    page = response.get_data(as_text=True)
    assert response.status_code in (200, 422) and "före @" in page and "åsa@kommun.se" in page  # kept as typed
    assert staff.post(f"/kontakter/plats/{sites[0]}/ny", {**typed, "email": "asa@växjö.se"}).status_code == 302
    with app.test_request_context():
        site = db.session.get(Site, sites[0])
        data = ("kommunkod;enhet;roll;namn;e-post\r\n"
                f"{site.kommunkod};{site.enhet or ''};annan;Örjan Ås;örjan@kommun.se\r\n").encode("utf-8")
        parsed = contact_service.parse_contacts_csv(data)
        assert not parsed.rows and any("Rad 2" in p and "före @" in p for p in parsed.problems)
        app.config["SMTP_UTF8"] = True
        assert contact_service.parse_contacts_csv(data).rows
    try:
        assert staff.post(f"/kontakter/plats/{sites[0]}/ny", typed).status_code == 302
    finally:
        app.config["SMTP_UTF8"] = False
    with app.app_context():
        assert {c.email for c in db.session.scalars(select(Contact).where(Contact.site_id == sites[0]))} >= {
            "åsa@kommun.se", "asa@växjö.se"}


# --------------------------------------------------------------------------- a person taken off the list

def _invited_visit(app, site_id: int, n: int = 3) -> tuple[int, str, list[tuple[int, str, int]]]:
    """A visit whose invitation has gone out: (id, UID, [(attendee id, e-mail, contact id)])."""
    with app.app_context():
        visit = make_visit(site_id, n_attendees=n)
        service.queue_request(visit)
        db.session.commit()
        return visit.id, visit.uid, [(a.id, a.email, a.contact_id) for a in visit.attendees]


def _cancel_checked(data: bytes, uid: str, sequence: int, only: str) -> None:
    """A CANCEL for `only`, read by all three parsers."""
    assert method_of(data) == "CANCEL"
    (ev,) = read_back(data)
    assert ev["uid"] == uid and ev["sequence"] == sequence and ev["status"] == "CANCELLED"
    assert [a.value for a in ev["attendees"]] == [f"mailto:{only}"]
    vevent = icalendar_event(data)
    assert str(vevent["uid"]) == uid and int(vevent["sequence"]) == sequence
    assert str(vevent["attendee"]) == f"mailto:{only}"


def test_a_person_removed_from_a_visit_gets_a_cancel_and_the_others_nothing(app, sites, staff, smtp):
    """Removing someone asks first (saying who gets what), then sends that person alone a CANCEL with the same
    UID and a higher SEQUENCE; they leave the programme too, so a later resend does not invite them again."""
    from .helpers import confirm_through_page

    visit_id, uid, people = _invited_visit(app, sites[0])
    assert deliver(app).sent == 1
    (gone_id, gone_email, _), (stays_id, _, _), _ = people
    url = f"/besok/{visit_id}/svar/{gone_id}/ta-bort"
    step = staff.get(url)
    words = step.get_data(as_text=True)
    assert step.status_code == 200 and "får nu ett meddelande om att den inte längre gäller" in words
    assert "De andra inbjudna får inget meddelande" in words and "CANCEL" not in words
    with app.app_context():
        assert len(db.session.get(Visit, visit_id).attendees) == 3  # asking changes nothing
    response = confirm_through_page(staff, url, follow_redirects=True)
    assert "ligger i utkorgen" in response.get_data(as_text=True)
    assert deliver(app).sent == 1
    mail_from, rcpt, content = smtp.handler.received[-1]
    assert rcpt == [gone_email]
    cancel = smtp.handler.messages()[-1]
    assert cancel["Subject"].startswith("Inte längre inbjuden: ")
    assert "inte längre inbjuden" in cancel.get_body(("plain",)).get_content()
    _cancel_checked(calendar_of(cancel), uid, 1, gone_email)
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert [a.id for a in visit.attendees] == [p[0] for p in people[1:]]
        assert visit.sequence == 1 and visit.status == INBJUDEN
        assert all(c.id != people[0][2] for part in visit.parts for c in part.contacts)
        # The programme resend goes to those still on the list, without bringing the removed one back.
        from coordinator.scheduling import programme
        programme.send_update(visit)
        db.session.commit()
    deliver(app)
    assert gone_email not in smtp.handler.received[-1][1]
    assert staff.get(f"/besok/{visit_id}/svar/{gone_id}/ta-bort").status_code == 404


def test_a_person_removed_from_an_event_gets_a_cancel(app, staff, smtp):
    from tests.test_events import add_person, create_event, version_of
    from coordinator.events.models import Event
    from .helpers import confirm_through_page

    event_id = create_event(staff)
    add_person(app, staff, event_id, "Åsa Öberg", "asa@sos.example.se")
    add_person(app, staff, event_id, "Per Ek", "per@ivo.example.se")
    staff.post(f"/dialogforum/{event_id}/inbjudan", {"version": version_of(app, Event, event_id)})
    assert deliver(app).sent == 1
    with app.app_context():
        event = db.session.get(Event, event_id)
        uid, per = event.uid, next(a.id for a in event.attendees if a.name == "Per Ek")
    url = f"/dialogforum/{event_id}/personer/{per}/ta-bort"
    assert "får nu ett meddelande om att den inte längre gäller" in staff.get(url).get_data(as_text=True)
    assert confirm_through_page(staff, url).status_code == 302
    assert deliver(app).sent == 1
    assert smtp.handler.received[-1][1] == ["per@ivo.example.se"]
    cancel = smtp.handler.messages()[-1]
    assert "inte längre inbjuden till hearingen" in cancel.get_body(("plain",)).get_content()
    _cancel_checked(calendar_of(cancel), uid, 1, "per@ivo.example.se")
    with app.app_context():
        assert [a.name for a in db.session.get(Event, event_id).attendees] == ["Åsa Öberg"]


def test_deactivating_an_invited_contact_asks_first_then_sends_them_a_cancel(app, sites, staff, smtp):
    from .helpers import form_fields

    visit_id, uid, people = _invited_visit(app, sites[0], n=2)
    assert deliver(app).sent == 1
    _, email_address, contact_id = people[0]
    with app.app_context():
        version = db.session.get(Contact, contact_id).version
    step = staff.post(f"/kontakter/{contact_id}/inaktivera", {"version": str(version)})
    words = step.get_data(as_text=True)
    assert step.status_code == 200 and "får nu ett meddelande om att den inte längre gäller" in words
    with app.app_context():
        assert db.session.get(Contact, contact_id).active  # the question changed nothing
    done = staff.post(f"/kontakter/{contact_id}/inaktivera", form_fields(words, f"/kontakter/{contact_id}/inaktivera"))
    assert done.status_code == 302
    assert deliver(app).sent == 1
    assert smtp.handler.received[-1][1] == [email_address]
    _cancel_checked(calendar_of(smtp.handler.messages()[-1]), uid, 1, email_address)
    with app.app_context():
        assert not db.session.get(Contact, contact_id).active
        assert [a.email for a in db.session.get(Visit, visit_id).attendees] == [people[1][1]]


# --------------------------------------------------------------------------- downloads after a cancellation

def test_the_download_of_a_cancelled_visit_or_event_is_the_cancel(app, sites, staff):
    """Page and command line give the CANCEL at the cancellation's SEQUENCE: a REQUEST would re-create it."""
    from tests.test_events import add_person, create_event, version_of
    from coordinator.events.models import Event
    from coordinator.scheduling import service as visits
    from .helpers import form_fields
    from .test_invites import cli

    visit_id, uid, _ = _invited_visit(app, sites[0])
    before = staff.get(f"/besok/{visit_id}/inbjudan.ics")
    assert method_of(before.data) == "REQUEST"
    with app.app_context():
        visits.cancel(db.session.get(Visit, visit_id))
        db.session.commit()
    for data, content_type in ((staff.get(f"/besok/{visit_id}/inbjudan.ics").data, None),
                               (cli(app, "invites", "ics", str(visit_id)).stdout_bytes, None)):
        assert method_of(data) == "CANCEL"
        (ev,) = read_back(data)
        assert ev["uid"] == uid and ev["sequence"] == 1 and ev["status"] == "CANCELLED"
        assert icalendar_event(data)["status"] == "CANCELLED"
    assert "method=CANCEL" in staff.get(f"/besok/{visit_id}/inbjudan.ics").headers["Content-Type"]

    event_id = create_event(staff)
    add_person(app, staff, event_id, "Per Ek", "per@ivo.example.se")
    staff.post(f"/dialogforum/{event_id}/inbjudan", {"version": version_of(app, Event, event_id)})
    step = staff.post(f"/dialogforum/{event_id}/installt", {"version": version_of(app, Event, event_id)})
    staff.post(f"/dialogforum/{event_id}/installt", form_fields(step.get_data(as_text=True),
                                                                f"/dialogforum/{event_id}/installt"))
    data = staff.get(f"/dialogforum/{event_id}/inbjudan.ics").data
    assert method_of(data) == "CANCEL"
    (ev,) = read_back(data)
    assert ev["sequence"] == 1 and ev["status"] == "CANCELLED"


# --------------------------------------------------------------------------- resends keep answers

def test_a_programme_resend_keeps_every_answer_and_goes_to_those_it_concerns(app, sites, smtp):
    """Same SEQUENCE, a new programme: ACCEPTED stays ACCEPTED (in the database and in the calendar sent), and
    whoever declined is not written to again."""
    from coordinator.scheduling import programme

    visit_id, uid, people = _invited_visit(app, sites[0])
    (yes_id, yes_email, _), (no_id, no_email, _), (open_id, open_email, _) = people
    with app.app_context():
        service.record_partstat(db.session.get(Attendee, yes_id), "ACCEPTED")
        service.record_partstat(db.session.get(Attendee, no_id), "DECLINED")
        visit = db.session.get(Visit, visit_id)
        visit.parts[0].title = "Dialog med ledningen och nämnden"
        programme.send_update(visit)
        db.session.commit()
        assert db.session.get(Attendee, yes_id).partstat == "ACCEPTED"
        assert db.session.get(Attendee, no_id).partstat == "DECLINED"
    assert deliver(app).sent == 2
    assert sorted(smtp.handler.received[-1][1]) == sorted([yes_email, open_email])
    data = calendar_of(smtp.handler.messages()[-1])
    (ev,) = read_back(data)
    assert ev["uid"] == uid and ev["sequence"] == 0
    answers = {a.value[7:]: (a.params["PARTSTAT"][0], a.params["RSVP"][0]) for a in ev["attendees"]}
    assert answers[yes_email] == ("ACCEPTED", "FALSE") and answers[open_email] == ("NEEDS-ACTION", "TRUE")
    assert {str(a): a.params["PARTSTAT"] for a in icalendar_event(data)["attendee"]}[f"mailto:{yes_email}"] == \
        "ACCEPTED"


# --------------------------------------------------------------------------- the order of answers

def _reply(uid: str, sequence: int, address: str, partstat: str, when: datetime) -> str:
    return ical.build_reply(uid, sequence, address, partstat, "samordnaren@example.se", now=when).decode()


def test_replies_are_applied_in_order_and_only_for_a_version_that_was_sent(app, sites, staff):
    visit_id, uid, people = _invited_visit(app, sites[0], n=2)
    a_id, a_email, _ = people[0]
    t0 = datetime(2027, 1, 10, 9, tzinfo=timezone.utc)
    url = f"/besok/{visit_id}/svar"

    def partstat():
        with app.app_context():
            return db.session.get(Attendee, a_id).partstat

    # A newer answer is applied.
    assert staff.post(url, {"text": _reply(uid, 0, a_email, "ACCEPTED", t0 + timedelta(hours=2))}).status_code == 302
    assert partstat() == "ACCEPTED"
    # An older one (by DTSTAMP) arriving late is ignored, with a plain message.
    late = staff.post(url, {"text": _reply(uid, 0, a_email, "DECLINED", t0)}, follow_redirects=True)
    assert "Det här svaret är äldre och har inte registrerats" in late.get_data(as_text=True)
    assert partstat() == "ACCEPTED"
    # A SEQUENCE that was never sent is refused and changes nothing.
    bogus = staff.post(url, {"text": _reply(uid, 5, a_email, "DECLINED", t0 + timedelta(hours=3))})
    assert bogus.status_code == 400
    assert f"Svaret från {a_email} gäller en version av inbjudan (5) som aldrig har skickats" in \
        bogus.get_data(as_text=True)
    assert partstat() == "ACCEPTED"
    # A still newer answer to the same version is applied.
    assert staff.post(url, {"text": _reply(uid, 0, a_email, "TENTATIVE", t0 + timedelta(hours=4))}).status_code == 302
    assert partstat() == "TENTATIVE"
    # After a new time (SEQUENCE 1) an answer to version 0 is out of date, one to version 1 counts.
    with app.app_context():
        from coordinator.scheduling import service as visits
        visits.move(db.session.get(Visit, visit_id), date(2016, 3, 29))
        db.session.commit()
    old = staff.post(url, {"text": _reply(uid, 0, a_email, "ACCEPTED", t0 + timedelta(hours=5))},
                     follow_redirects=True)
    assert "äldre version av inbjudan" in old.get_data(as_text=True) and partstat() == "NEEDS-ACTION"
    assert staff.post(url, {"text": _reply(uid, 1, a_email, "ACCEPTED", t0)}).status_code == 302
    assert partstat() == "ACCEPTED"


def test_events_take_an_uploaded_reply(app, staff):
    import io
    from tests.test_events import add_person, create_event, version_of
    from coordinator.events.models import Event

    event_id = create_event(staff)
    add_person(app, staff, event_id, "Per Ek", "per@ivo.example.se")
    staff.post(f"/dialogforum/{event_id}/inbjudan", {"version": version_of(app, Event, event_id)})
    with app.app_context():
        uid = db.session.get(Event, event_id).uid
    page = staff.get(f"/dialogforum/{event_id}").get_data(as_text=True)
    assert "Registrera ett svar från en kalender" in page
    reply = ical.build_reply(uid, 0, "per@ivo.example.se", "ACCEPTED", "s@example.se")
    response = staff.post(f"/dialogforum/{event_id}/svar", {"file": (io.BytesIO(reply), "svar.ics")},
                          content_type="multipart/form-data", follow_redirects=True)
    assert "Svaret är registrerat: Per Ek" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Event, event_id).attendees[0].partstat == "ACCEPTED"
    stranger = ical.build_reply(uid, 0, "okand@example.se", "ACCEPTED", "s@example.se").decode()
    refused = staff.post(f"/dialogforum/{event_id}/svar", {"text": stranger})
    assert refused.status_code == 400 and "inte inbjuden till dialogforumet" in refused.get_data(as_text=True)
    assert "okand@example.se" in refused.get_data(as_text=True)
    assert staff.post(f"/dialogforum/{event_id}/svar", {"text": ""}).status_code == 400


# --------------------------------------------------------------------------- feeds

def test_feeds_answer_conditional_gets_mark_cancellations_and_the_office_feed_has_events(app, sites, staff, anon):
    from tests.test_events import create_event
    from coordinator.invites.models import FeedToken
    from coordinator.scheduling import service as visits

    visit_id, uid, _ = _invited_visit(app, sites[0])
    event_id = create_event(staff, title="Rundabord om placeringar", kind="rundabord")
    staff.post("/kalenderflöden/ny", {"site_id": str(sites[0])})
    staff.post("/kalenderflöden/ny", {"site_id": "kontoret"})
    with app.app_context():
        site_token = db.session.scalar(select(FeedToken).where(FeedToken.site_id == sites[0])).token
        office_token = db.session.scalar(select(FeedToken).where(FeedToken.site_id.is_(None))).token
    url = f"/kalender/{site_token}.ics"
    first = anon.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.status_code == 200 and etag and modified
    assert anon.get(url).data == first.data  # the same content, the same bytes
    again = anon.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert anon.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    # A change shows: a new ETag, and the cancelled visit says so in its title.
    with app.app_context():
        visits.cancel(db.session.get(Visit, visit_id))
        db.session.commit()
    changed = anon.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    (ev,) = read_back(changed.data)
    assert ev["uid"] == uid and ev["status"] == "CANCELLED" and ev["summary"].startswith("INSTÄLLT: ")
    assert str(icalendar_event(changed.data)["summary"]).startswith("INSTÄLLT: ")
    # The office's feed has the events beside the visits, without people.
    office = anon.get(f"/kalender/{office_token}.ics")
    summaries = {e["summary"] for e in read_back(office.data)}
    assert "Rundabord om placeringar" in summaries and any(s.startswith("INSTÄLLT: Besök") for s in summaries)
    assert b"ATTENDEE" not in office.data and b"@kommun.example.se" not in office.data
    # Revoked: 410 Gone, a plain page.
    with app.app_context():
        service.revoke_feed(db.session.scalar(select(FeedToken).where(FeedToken.token == office_token)))
        db.session.commit()
    gone = anon.get(f"/kalender/{office_token}.ics")
    assert gone.status_code == 410 and "återkallat" in gone.get_data(as_text=True)
    assert anon.get("/kalender/finns-inte.ics").status_code == 404
    assert event_id


def test_the_office_feed_costs_the_same_statements_with_ten_times_the_visits_and_events(app, sites, staff, anon):
    """Calendar clients ask for the feed all day: its visits' sites, people and programmes and its events'
    organisations and people are read with the visits and events, not one by one."""
    from sqlalchemy import event as sa_event

    from tests.test_events import create_event
    from coordinator.invites.models import FeedToken

    staff.post("/kalenderflöden/ny", {"site_id": "kontoret"})
    with app.app_context():
        url = f"/kalender/{db.session.scalar(select(FeedToken)).token}.ics"

    def add(n: int, offset: int) -> None:
        with app.app_context():
            for site_id in sites[offset:offset + n]:
                make_visit(site_id, n_attendees=2)
            db.session.commit()
        for i in range(n):
            create_event(staff, title=f"Rundabord {offset + i}", kind="rundabord")

    def statements() -> int:
        count = [0]

        def counter(*args):
            count[0] += 1

        with app.app_context():
            sa_event.listen(db.engine, "before_cursor_execute", counter)
            try:
                assert anon.get(url).status_code == 200
            finally:
                sa_event.remove(db.engine, "before_cursor_execute", counter)
        return count[0]

    add(2, 0)
    few = statements()
    add(18, 2)
    assert statements() == few
