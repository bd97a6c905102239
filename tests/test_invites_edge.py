"""Invitations in their edge cases (issue 11): cancellations to one removed person, the download of a
cancelled occasion, resends that keep answers, the order of replies, events' reply upload, feeds with
conditional GET, and addresses with å/ä/ö, against a real SMTP server (aiosmtpd on loopback) with
and without SMTPUTF8. Calendars are read back with `icalendar`, `vobject` and `ical`.
"""
from __future__ import annotations

import email
from datetime import date, datetime, time, timedelta, timezone
from email import policy

import icalendar
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.invites import ical, mail, outbox, service
from coordinator.invites.mailstatus import mail_status
from coordinator.invites.models import FAILED, SENT, Attendee, Contact, OutboxMessage
from coordinator.scheduling.models import INBJUDEN, Visit

from .test_invites import (Collector, calendar_of, deliver, free_port, make_visit, method_of, read_back,  # noqa: F401
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
    text = mail.as_text(mail.build_message(event, ical.REQUEST, ical.to_bytes(ical.request(event))))
    assert text.isascii() and "xn--vxj-qla6g.se" in text
    parsed = email.message_from_string(text, policy=policy.default)
    assert parsed["Subject"].startswith("Inbjudan: Möte rad två") and parsed["From"].addresses[0].display_name == \
        "Samordnaren X"
    wide = ical.Event(**{**event.__dict__, "attendees": (ical.Person("Åsa", "åsa@kommun.se"),
                                                         ical.Person("Per", "per@kommun.se"))})
    text = mail.as_text(mail.build_message(wide, ical.REQUEST, ical.to_bytes(ical.request(wide))))
    head, _, body = text.partition("\r\n\r\n")
    assert body.isascii() and [line for line in head.split("\r\n") if not line.isascii()][0].startswith("To:")
    narrow = mail.without_utf8_recipients(text)
    assert narrow.isascii() and "per@kommun.se" in narrow and "åsa" not in narrow
    assert narrow.partition("\r\n\r\n")[2] == body
