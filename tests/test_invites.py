"""Calendar invitations (iTIP/iMIP), the outbox against a real SMTP server, replies and feeds.

The SMTP server is aiosmtpd on loopback; every calendar is read back with two parsers that are
independent of the generator (icalendar): `ical` and `vobject`.
"""
from __future__ import annotations

import email
import re
import threading
import uuid
from datetime import date, datetime, time, timedelta, timezone
from email import policy
from zoneinfo import ZoneInfo

import pytest
import vobject
from aiosmtpd.controller import Controller
from ical.calendar_stream import IcsCalendarStream
from sqlalchemy import func, select

from coordinator.audit import AuditEvent
from coordinator.contacts.models import Attendee, Contact
from coordinator.extensions import db
from coordinator.invites import ical, mail, service
from coordinator.invites.models import FeedToken
from coordinator.outbox import delivery as outbox
from coordinator.outbox import letters
from coordinator.outbox.models import FAILED, PENDING, SENT, OutboxMessage
from coordinator.sampling.models import Sample
from coordinator.scheduling.models import BEKRAFTAD, FORSLAG, INBJUDEN, INSTALLD, Visit, VisitPart

from .helpers import confirm_through_page, free_port

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Both sides of the spring change (2016-03-27) and the autumn change (2015-10-25).
DST_CASES = [
    (date(2016, 3, 24), "20160324T080000Z"),  # CET, UTC+1
    (date(2016, 3, 29), "20160329T070000Z"),  # CEST, UTC+2
    (date(2015, 10, 22), "20151022T070000Z"),  # CEST
    (date(2015, 10, 27), "20151027T080000Z"),  # CET
]


# --------------------------------------------------------------------------- helpers

def parse_with_ical(data: bytes):
    return IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))


def parse_with_vobject(data: bytes):
    return vobject.readOne(data.decode("utf-8"))


def read_back(data: bytes) -> list[dict]:
    """Each VEVENT as read by both independent parsers; asserts that they agree."""
    a = parse_with_ical(data)
    b = parse_with_vobject(data)
    b_events = list(getattr(b, "vevent_list", []))
    assert len(a.events) == len(b_events)
    out = []
    for ea, eb in zip(a.events, b_events):
        assert ea.uid == eb.uid.value
        assert ea.dtstart == eb.dtstart.value and ea.dtend == eb.dtend.value
        assert ea.sequence == int(eb.sequence.value)
        out.append({
            "uid": ea.uid, "sequence": ea.sequence, "status": str(ea.status.value if ea.status else ""),
            "start": ea.dtstart.astimezone(STOCKHOLM), "end": ea.dtend.astimezone(STOCKHOLM),
            "vobject_start": eb.dtstart.value.astimezone(STOCKHOLM),
            "summary": ea.summary, "location": ea.location,
            "organizer": eb.contents.get("organizer", [None])[0],
            "attendees": eb.contents.get("attendee", []),
            "ical_attendees": ea.attendees,
        })
    return out


def method_of(data: bytes) -> str | None:
    m = parse_with_vobject(data).contents.get("method")
    return m[0].value if m else None


def event(day: date = date(2016, 3, 24), start: time = time(9), end: time = time(15), sequence: int = 0,
          attendees=2) -> ical.Event:
    return ical.Event(
        uid="4b0d6f3e-test@samordnaren.example.se", sequence=sequence,
        start=datetime.combine(day, start, tzinfo=STOCKHOLM), end=datetime.combine(day, end, tzinfo=STOCKHOLM),
        summary="Besök av nationella samordnaren – Åre (omgång 1)", location="Åre kommunhus",
        description="Program:\n- 09.00–11.00 Dialog med ledningen",
        organizer_name="Nationella samordnaren", organizer_email="samordnaren@example.se",
        attendees=tuple(ical.Person(f"Åsa Öberg {i}", f"asa{i}@are.example.se") for i in range(attendees)),
        programme=(ical.ProgrammeItem("Dialog med ledningen", time(9), time(11), ("Åsa Öberg 0 (Socialchef)",)),
                   ical.ProgrammeItem("Samtal med barn och vårdnadshavare", time(13), time(14))),
    )


class Collector:
    """aiosmtpd handler that keeps every accepted message."""

    def __init__(self, delay: float = 0.0):
        self.received: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio
            await asyncio.sleep(self.delay)
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(c, policy=policy.default) for _, _, c in self.received]

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages()]


class SmtpServer:
    def __init__(self):
        self.port = free_port()
        self.handler = Collector()
        self.controller = None

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(app):
    server = SmtpServer()
    server.start()
    keys = ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_SSL", "SMTP_USERNAME", "SMTP_PASSWORD",
            "OUTBOX_MAX_ATTEMPTS", "OUTBOX_BACKOFF_SECONDS", "SMTP_TIMEOUT", "MAIL_FROM")
    saved = {k: app.config.get(k) for k in keys}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_STARTTLS=False, SMTP_SSL=False,
                      SMTP_USERNAME="", SMTP_PASSWORD="", OUTBOX_MAX_ATTEMPTS=8, OUTBOX_BACKOFF_SECONDS=60,
                      SMTP_TIMEOUT=5, MAIL_FROM="")
    yield server
    server.stop()
    app.config.update(saved)


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def sites(app):
    """The 50 visit sites of an adopted sample (ids), drawn and adopted through the CLI."""
    import json
    data = json.loads(cli(app, "sample", "draw", "--year", "2014", "--seed", "7", "--save", "--json").output)
    assert cli(app, "sample", "adopt", str(data["id"]), "--json").exit_code == 0
    with app.app_context():
        sample = db.session.get(Sample, data["id"])
        return [s.id for s in sample.active_sites]


def make_visit(site_id: int, day: date | None = date(2016, 3, 24), round: int = 1, status: str = INBJUDEN,
               n_attendees: int = 2, location: str = "", start: time = time(9), end: time = time(15)) -> Visit:
    """A visit with contacts, attendees and a two-part programme (added to the session, not committed)."""
    from coordinator.sampling.models import Site
    site = db.session.get(Site, site_id)
    visit = Visit(site=site, round=round, date=day, start_time=start, end_time=end, location=location,
                  status=status, uid=f"{uuid.uuid4()}@samordnaren.example.se", sequence=0)
    db.session.add(visit)
    contacts = []
    for i in range(n_attendees):
        role = ("socialchef", "ks_ordforande", "facklig")[i % 3]
        contact = Contact(site=site, role=role, name=f"Kontakt {i} i {site.kommun.namn}",
                          email=f"k{i}.{site.kommunkod}.{round}@kommun.example.se")
        db.session.add(contact)
        contacts.append(contact)
        visit.attendees.append(Attendee(contact=contact, name=contact.name, email=contact.email))
    visit.parts.append(VisitPart(position=0, kind="ledning", title="Dialog med ledningen",
                                 start_time=time(9), end_time=time(11), contacts=contacts[:2]))
    visit.parts.append(VisitPart(position=1, kind="fack", title="Dialog med fackliga företrädare",
                                 start_time=time(11), end_time=time(12), contacts=contacts[2:]))
    db.session.flush()
    return visit


def calendar_part(msg):
    return next(p for p in msg.walk() if p.get_content_type() == "text/calendar")


def calendar_of(msg) -> bytes:
    return calendar_part(msg).get_payload(decode=True)


def deliver(app, now=None, **kw):
    with app.app_context():
        return outbox.deliver_pending(app.config, now=now, **kw)


def without_dtstamp(data: bytes) -> bytes:
    return re.sub(rb"DTSTAMP:[0-9TZ]+\r\n", b"", data)


# --------------------------------------------------------------------------- ical.py (pure)

@pytest.mark.parametrize("day,utc", DST_CASES)
def test_request_times_read_back_as_local_time_around_dst(day, utc):
    data = ical.to_bytes(ical.request(event(day)))
    assert f"DTSTART:{utc}".encode() in data
    (ev,) = read_back(data)
    assert ev["start"] == datetime.combine(day, time(9), tzinfo=STOCKHOLM)
    assert ev["start"].replace(tzinfo=None) == datetime.combine(day, time(9))
    assert ev["end"].replace(tzinfo=None) == datetime.combine(day, time(15))
    assert ev["vobject_start"].replace(tzinfo=None) == datetime.combine(day, time(9))


def test_request_has_every_itip_property():
    data = ical.to_bytes(ical.request(event(sequence=3)))
    assert method_of(data) == "REQUEST"
    cal = parse_with_vobject(data)
    assert cal.version.value == "2.0" and cal.prodid.value and cal.calscale.value == "GREGORIAN"
    (ev,) = read_back(data)
    assert ev["uid"] == "4b0d6f3e-test@samordnaren.example.se" and ev["sequence"] == 3
    assert ev["status"] == "CONFIRMED"
    assert ev["summary"] == "Besök av nationella samordnaren – Åre (omgång 1)" and ev["location"] == "Åre kommunhus"
    assert ev["organizer"].value == "mailto:samordnaren@example.se"
    assert ev["organizer"].params["CN"] == ["Nationella samordnaren"]
    assert len(ev["attendees"]) == 2
    for a in ev["attendees"]:
        assert a.value.startswith("mailto:asa")
        assert a.params["ROLE"] == ["REQ-PARTICIPANT"] and a.params["PARTSTAT"] == ["NEEDS-ACTION"]
        assert a.params["RSVP"] == ["TRUE"] and a.params["CN"][0].startswith("Åsa Öberg")
    assert {a.common_name for a in ev["ical_attendees"]} == {"Åsa Öberg 0", "Åsa Öberg 1"}
    vevent = cal.vevent
    assert vevent.dtstamp.value.tzinfo is not None and vevent.dtstamp.value.utcoffset() == timedelta(0)
    assert "Dialog med ledningen" in vevent.description.value


def test_request_asks_everyone_again_even_if_they_had_answered():
    answered = event()
    answered = ical.Event(**{**answered.__dict__, "attendees": (ical.Person("A", "a@x.se", partstat="ACCEPTED"),)})
    (ev,) = read_back(ical.to_bytes(ical.request(answered)))
    assert ev["attendees"][0].params["PARTSTAT"] == ["NEEDS-ACTION"]


def test_cancel_has_same_uid_and_cancelled_status():
    data = ical.to_bytes(ical.cancel(event(sequence=4)))
    assert method_of(data) == "CANCEL"
    (ev,) = read_back(data)
    assert ev["uid"] == "4b0d6f3e-test@samordnaren.example.se" and ev["sequence"] == 4
    assert ev["status"] == "CANCELLED"


def test_feed_has_many_events_and_no_personal_data():
    events = [event(day) for day, _ in DST_CASES]
    events = [ical.Event(**{**e.__dict__, "uid": f"u{i}@x"}) for i, e in enumerate(events)]
    data = ical.to_bytes(ical.feed(events, "Samordnarens besök"))
    cal = parse_with_vobject(data)
    assert cal.contents["x-wr-calname"][0].value == "Samordnarens besök"
    assert method_of(data) == "PUBLISH"
    read = read_back(data)
    assert [e["start"].replace(tzinfo=None) for e in read] == [datetime.combine(d, time(9)) for d, _ in DST_CASES]
    assert b"ATTENDEE" not in data and b"ORGANIZER" not in data and b"\xc3\x85sa" not in data
    assert "Dialog med ledningen" in read_back(data)[0]["summary"] + cal.vevent.description.value


def test_event_needs_aware_times():
    with pytest.raises(ValueError):
        ical.Event(**{**event().__dict__, "start": datetime(2016, 3, 24, 9)})


def test_parse_reply():
    reply = ical.build_reply("u@x", 2, "Asa@Are.example.se", "ACCEPTED", "samordnaren@example.se",
                             comment="Vi kommer gärna")
    (r,) = ical.parse_reply(reply)
    assert r.dtstamp is not None and r.dtstamp.utcoffset() == timedelta(0)  # the answer's own time stamp
    assert r == ical.Reply("u@x", 2, "asa@are.example.se", "ACCEPTED", "Vi kommer gärna", dtstamp=r.dtstamp)


@pytest.mark.parametrize("data,message", [
    (b"", "Svaret är tomt"),
    (b"\x00\xff\xfe", "inte en kalenderfil"),
    (b"Hej! Vi kommer.", "ingen kalenderfil"),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:trasigt", "kunde inte läsas"),
    (b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "ingen händelse"),
    (b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "saknar ATTENDEE"),
])
def test_parse_reply_rejects_garbage_in_swedish(data, message):
    with pytest.raises(ical.ICalError, match=message):
        ical.parse_reply(data)


def test_parse_reply_rejects_a_request():
    with pytest.raises(ical.ICalError, match="inget svar på en inbjudan.*REQUEST"):
        ical.parse_reply(ical.to_bytes(ical.request(event())))


# --------------------------------------------------------------------------- mail.py (pure)

def assert_imip_structure(msg, method: str):
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html", "text/calendar"]
    cal = alternative.get_payload()[2]
    assert cal.get_param("method") == method
    assert cal.get_content_charset() == "utf-8"
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content_disposition() == "attachment" and attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == cal.get_payload(decode=True)
    assert method_of(cal.get_payload(decode=True)) == method


def test_mail_structure_headers_and_swedish_body():
    ev = event()
    cal = ical.to_bytes(ical.request(ev))
    msg = mail.build_message(ev, "REQUEST", cal)
    text = letters.as_text(msg)
    text.encode("ascii")  # transfer-encoded: goes through any SMTP server
    parsed = email.message_from_string(text, policy=policy.default)
    assert_imip_structure(parsed, "REQUEST")
    assert parsed["Subject"].startswith("Inbjudan: Besök av nationella samordnaren – Åre")
    assert "torsdag 24 mars 2016 09.00" in parsed["Subject"]
    assert parsed["From"].addresses[0].addr_spec == "samordnaren@example.se"
    assert [a.addr_spec for a in parsed["To"].addresses] == ["asa0@are.example.se", "asa1@are.example.se"]
    assert parsed["Message-ID"] and parsed["Date"]
    plain = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    for body in (plain, html):
        assert "torsdag 24 mars 2016" in body and "09.00–15.00" in body and "Åre kommunhus" in body
        assert "09.00–11.00 Dialog med ledningen (inbjudna: Åsa Öberg 0 (Socialchef))" in body
        assert "13.00–14.00 Samtal med barn och vårdnadshavare" in body
    assert '<html lang="sv">' in html


def test_cancel_mail():
    ev = event(sequence=1)
    msg = mail.build_message(ev, "CANCEL", ical.to_bytes(ical.cancel(ev)))
    parsed = email.message_from_string(letters.as_text(msg), policy=policy.default)
    assert_imip_structure(parsed, "CANCEL")
    assert parsed["Subject"].startswith("Inställt:")
    assert "inställt" in parsed.get_body(("plain",)).get_content()


# --------------------------------------------------------------------------- service: queueing (DB)

def test_invite_is_delivered_over_smtp_with_imip_structure(app, sites, smtp):
    with app.app_context():
        visit = make_visit(sites[0], day=date(2016, 3, 29))
        message = service.queue_request(visit)
        assert visit.sent_sequence == 0 and message.status == PENDING
        db.session.commit()
        visit_id, uid = visit.id, visit.uid
        recipients = sorted(a.email for a in visit.attendees)
        label = visit.site.label
        event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "invite.queued"))
        assert event_.object_id == str(visit_id) and event_.details["sequence"] == 0
        assert "@" not in str(event_.details)  # no addresses, no content in the log
    report = deliver(app)
    assert (report.sent, report.failed, report.retried) == (1, 0, 0)
    ((mail_from, rcpt, _),) = smtp.handler.received
    assert mail_from == "samordnaren@example.se" and sorted(rcpt) == recipients
    (msg,) = smtp.handler.messages()
    assert_imip_structure(msg, "REQUEST")
    assert label in msg["Subject"]
    (ev,) = read_back(calendar_of(msg))
    assert ev["uid"] == uid and ev["sequence"] == 0
    assert ev["start"].replace(tzinfo=None) == datetime(2016, 3, 29, 9, 0)  # CEST
    assert ev["summary"] == f"Besök av nationella samordnaren – {label} (omgång 1)"
    assert sorted(a.value for a in ev["attendees"]) == [f"mailto:{r}" for r in recipients]
    with app.app_context():
        stored = db.session.scalar(select(OutboxMessage))
        assert stored.status == SENT and stored.sent_at is not None and stored.attempts == 1
        assert stored.visit_id == visit_id


def test_reschedule_keeps_uid_and_raises_sequence_then_cancel(app, sites, smtp):
    with app.app_context():
        visit = make_visit(sites[0], day=date(2015, 10, 22))
        service.queue_request(visit)
        db.session.commit()
        visit_id = visit.id
    deliver(app)
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        visit.attendees[0].partstat = "ACCEPTED"
        # What the visits code does when time or place of a sent visit changes:
        visit.date = date(2015, 10, 27)
        visit.location = "Stadshuset, sal 3"
        visit.sequence += 1
        service.queue_request(visit)
        assert visit.sent_sequence == 1
        assert visit.attendees[0].partstat == "NEEDS-ACTION"  # asked again for the new time
        db.session.commit()
    deliver(app)
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert service.queue_cancel(visit) is not None
        assert visit.sequence == 2 and visit.sent_sequence == 2
        db.session.commit()
        uid = visit.uid
    deliver(app)
    first, second, third = smtp.handler.messages()
    a, b, c = (read_back(calendar_of(m))[0] for m in (first, second, third))
    assert a["uid"] == b["uid"] == c["uid"] == uid
    assert (a["sequence"], b["sequence"], c["sequence"]) == (0, 1, 2)
    assert a["start"].replace(tzinfo=None) == datetime(2015, 10, 22, 9)  # CEST
    assert b["start"].replace(tzinfo=None) == datetime(2015, 10, 27, 9)  # CET
    assert b["location"] == "Stadshuset, sal 3"
    assert second["Subject"].startswith("Ändrad tid eller plats")
    assert method_of(calendar_of(third)) == "CANCEL" and c["status"] == "CANCELLED"
    assert_imip_structure(third, "CANCEL")
    assert third["Subject"].startswith("Inställt")
    assert len({m["Message-ID"] for m in (first, second, third)}) == 3


def test_queue_request_without_attendees_is_refused_in_swedish(app, sites):
    with app.app_context():
        visit = make_visit(sites[0], n_attendees=0)
        with pytest.raises(service.InviteError, match="Besöket har inga inbjudna kontakter"):
            service.queue_request(visit)
        visit.date = None
        with pytest.raises(service.InviteError, match="inget datum"):
            service.calendar_for(visit)


def test_outbox_row_belongs_to_the_callers_transaction(app, sites):
    with app.app_context():
        visit = make_visit(sites[0])
        db.session.commit()
        visit_id = visit.id
        service.queue_request(visit)
        db.session.rollback()  # the visit change failed: no mail either
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert db.session.get(Visit, visit_id).sent_sequence is None


def test_cancel_of_an_unsent_visit_queues_nothing(app, sites):
    with app.app_context():
        visit = make_visit(sites[0], status=FORSLAG)
        assert service.queue_cancel(visit) is None
        assert visit.sequence == 1
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_visit_event_uses_kommun_name_when_no_location(app, sites):
    with app.app_context():
        visit = make_visit(sites[0])
        ev = service.visit_event(visit)
        assert ev.location == visit.site.kommun.namn
        assert ev.summary.endswith("(omgång 1)")
        assert "Dialog med ledningen" in ev.description and "Kontakt 0" in ev.description
        assert ev.organizer_email == "samordnaren@example.se"


# --------------------------------------------------------------------------- outbox: outage and recovery

def test_outage_then_recovery_delivers_every_message_exactly_once(app, sites, smtp):
    with app.app_context():
        for i in range(3):
            service.queue_request(make_visit(sites[i]))
        db.session.commit()
    smtp.stop()
    t0 = datetime.now(timezone.utc) + timedelta(seconds=5)
    report = deliver(app, now=t0)
    assert (report.sent, report.retried, report.failed) == (0, 3, 0)
    with app.app_context():
        for m in db.session.scalars(select(OutboxMessage)):
            assert m.status == PENDING and m.attempts == 1
            assert "Kunde inte nå e-postservern 127.0.0.1" in m.last_error
            assert outbox._aware(m.next_attempt_at) == t0 + timedelta(seconds=60)
    # Not yet due: nothing is tried.
    assert deliver(app, now=t0 + timedelta(seconds=30)).as_dict() == {"sent": 0, "failed": 0, "retried": 0}
    # Still down: back-off doubles.
    t1 = t0 + timedelta(seconds=61)
    assert deliver(app, now=t1).retried == 3
    with app.app_context():
        for m in db.session.scalars(select(OutboxMessage)):
            assert m.attempts == 2 and outbox._aware(m.next_attempt_at) == t1 + timedelta(seconds=120)
    assert smtp.handler.received == []
    smtp.start()
    assert deliver(app, now=t1 + timedelta(seconds=60)).sent == 0  # the server is up, but not yet due
    t2 = t1 + timedelta(seconds=121)
    report = deliver(app, now=t2)
    assert (report.sent, report.retried, report.failed) == (3, 0, 0)
    assert deliver(app, now=t2 + timedelta(days=1)).sent == 0
    ids = smtp.handler.message_ids()
    assert len(ids) == 3 and len(set(ids)) == 3
    with app.app_context():
        stored = {m.message.split("Message-ID: ")[1].split("\r\n")[0] for m in db.session.scalars(select(OutboxMessage))}
        assert stored == set(ids)  # every queued message arrived, each exactly once
        assert all(m.status == SENT and m.attempts == 3 for m in db.session.scalars(select(OutboxMessage)))


def test_gives_up_after_max_attempts_and_can_be_retried(app, sites, smtp, staff):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    with app.app_context():
        service.queue_request(make_visit(sites[0]))
        db.session.commit()
    smtp.stop()
    t0 = datetime.now(timezone.utc) + timedelta(seconds=5)
    assert deliver(app, now=t0).retried == 1
    assert deliver(app, now=t0 + timedelta(hours=1)).failed == 1
    with app.app_context():
        m = db.session.scalar(select(OutboxMessage))
        assert m.status == FAILED and m.attempts == 2
        message_id = m.id
    page = staff.get("/utkorg").get_data(as_text=True)
    assert "kunde inte skickas" in page and "Försök igen" in page and "E-postservern svarar inte." in page
    smtp.start()
    response = staff.post(f"/utkorg/{message_id}/forsok-igen")
    assert response.status_code == 302
    response = staff.post("/utkorg/skicka", follow_redirects=True)
    assert "1 meddelanden skickades" in response.get_data(as_text=True)
    assert len(smtp.handler.received) == 1
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status == SENT
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.retry")) is not None


def test_two_concurrent_workers_never_send_a_message_twice(app, sites, smtp):
    smtp.handler.delay = 0.02  # a slow server widens the window for a race
    with app.app_context():
        for i in range(12):
            service.queue_request(make_visit(sites[i]))
        db.session.commit()
    reports, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            with app.app_context():
                barrier.wait()
                reports.append(outbox.deliver_pending(app.config))
                db.session.remove()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sum(r.sent for r in reports) == 12
    ids = smtp.handler.message_ids()
    assert len(ids) == 12 and len(set(ids)) == 12
    assert len(reports) == 2 and all(r.sent >= 1 for r in reports)  # both really worked in parallel
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.status == SENT)) == 12


def test_a_second_worker_never_claims_the_row_the_first_one_holds(app, sites):
    """PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED passes a locked row by without waiting.
    SQLite: the conditional UPDATE of the status makes a claimed row unclaimable."""
    from sqlalchemy.orm import Session
    with app.app_context():
        for i in range(2):
            service.queue_request(make_visit(sites[i]))
        db.session.commit()
        now = datetime.now(timezone.utc) + timedelta(seconds=5)
        with Session(db.engine) as holder, Session(db.engine) as worker:
            if app.config["BACKEND"] == "postgresql":
                held = holder.scalars(select(OutboxMessage).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                                      .limit(1).with_for_update()).one().id
            else:
                held = outbox._claim(holder, now, now + outbox.LEASE)[0]
            claimed = outbox._claim(worker, now, now + outbox.LEASE)
            assert claimed is not None and claimed[0] != held
            assert outbox._claim(worker, now, now + outbox.LEASE) is None
            if app.config["BACKEND"] == "postgresql":
                holder.rollback()  # the lock is released and the row is due again
                assert outbox._claim(worker, now, now + outbox.LEASE)[0] == held


def test_a_stale_claim_is_sent_again_after_the_lease(app, sites, smtp):
    """A worker that died after claiming leaves 'sending'; after the lease another worker sends it."""
    with app.app_context():
        service.queue_request(make_visit(sites[0]))
        db.session.commit()
        m = db.session.scalar(select(OutboxMessage))
        t0 = datetime.now(timezone.utc) + timedelta(seconds=5)
        m.status, m.next_attempt_at = outbox.SENDING, t0 + outbox.LEASE
        db.session.commit()
    assert deliver(app, now=t0 + timedelta(minutes=1)).sent == 0
    assert deliver(app, now=t0 + outbox.LEASE + timedelta(seconds=1)).sent == 1
    with app.app_context():
        assert "avbruten" in db.session.scalar(select(OutboxMessage)).last_error


def test_error_text_never_contains_the_password(app, smtp):
    conf = outbox.settings({**app.config, "SMTP_PASSWORD": "hemligt-lösen"})
    import smtplib
    text = outbox.describe_error(smtplib.SMTPResponseException(535, b"bad hemligt-l\xc3\xb6sen"), conf)
    assert "hemligt" not in text and "535" in text


def test_delivery_leaves_the_callers_session_alone(app, sites, smtp):
    """deliver_pending works in its own session: it neither commits nor discards the caller's work."""
    with app.app_context():
        visit = make_visit(sites[0])
        service.queue_request(visit)
        db.session.commit()
        visit.location = "Ändrad men inte sparad"
        assert outbox.deliver_pending(app.config).sent == 1
        assert db.session.is_modified(visit) and visit.location == "Ändrad men inte sparad"
        db.session.rollback()
        assert visit.location == ""


# --------------------------------------------------------------------------- CLI

def test_cli_ics_prints_the_current_request(app, sites):
    with app.app_context():
        visit = make_visit(sites[0], day=date(2016, 3, 29))
        visit.sequence = 4
        db.session.commit()
        visit_id, uid = visit.id, visit.uid
        expected = service.calendar_for(visit)
    result = cli(app, "invites", "ics", str(visit_id))
    assert result.exit_code == 0, result.output
    printed = result.stdout_bytes  # (result.output turns CRLF into LF)
    assert printed.startswith(b"BEGIN:VCALENDAR\r\n") and printed.endswith(b"END:VCALENDAR\r\n")
    assert without_dtstamp(printed) == without_dtstamp(expected)
    assert method_of(printed) == "REQUEST"
    (ev,) = read_back(printed)
    assert ev["uid"] == uid and ev["sequence"] == 4
    assert ev["start"].replace(tzinfo=None) == datetime(2016, 3, 29, 9)
    assert cli(app, "invites", "ics", "999999").exit_code == 1


def test_cli_outbox_send_and_list(app, sites, smtp):
    import json
    with app.app_context():
        service.queue_request(make_visit(sites[0]))
        db.session.commit()
    listed = json.loads(cli(app, "outbox", "list", "--json").output)["messages"]
    assert len(listed) == 1 and listed[0]["status"] == "pending" and listed[0]["kind"] == "request"
    result = cli(app, "outbox", "send", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"sent": 1, "failed": 0, "retried": 0}
    assert json.loads(cli(app, "outbox", "list", "--json").output)["messages"][0]["status"] == "sent"
    assert "Skickade: 0" in cli(app, "outbox", "send").output
    assert len(smtp.handler.received) == 1


def test_the_cron_command_sends_the_stored_mail_as_it_is(app, sites, smtp, tmp_path):
    """`coordinator outbox send` as cron runs it: a process of its own, on the light app (create_cli_app, no
    pages). The SMTP server receives the stored message as the app sends it, and the outbox says it was sent."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    import coordinator

    with app.app_context():
        service.queue_request(make_visit(sites[0]))
        db.session.commit()
        (stored,) = db.session.scalars(select(OutboxMessage)).all()
        text, recipients, organizer = stored.message, stored.recipients.split(","), service.organizer()
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "COORDINATOR_TODAY")}
    env.update(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], COORDINATOR_INSTANCE=str(tmp_path),
               SECRET_KEY="cron-test", SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port), SMTP_TIMEOUT="5",
               SMTP_STARTTLS="", SMTP_SSL="", SMTP_USERNAME="", SMTP_PASSWORD="", MAIL_FROM="",
               PYTHONPATH=str(Path(coordinator.__file__).resolve().parent.parent))
    done = subprocess.run([sys.executable, "-m", "coordinator", "outbox", "send", "--json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"sent": 1, "failed": 0, "retried": 0}
    ((mail_from, rcpt_tos, content),) = smtp.handler.received
    def lines(data: bytes) -> bytes:  # the message's lines, however the line ends were written
        return data.replace(b"\r\n", b"\n").rstrip(b"\n")

    assert lines(content) == lines(text.encode())
    assert sorted(rcpt_tos) == sorted(r.strip() for r in recipients) and mail_from == organizer[1]
    with app.app_context():
        db.session.expire_all()
        message = db.session.scalars(select(OutboxMessage)).one()
        assert (message.status, message.attempts, message.last_error) == (SENT, 1, "")
        assert message.sent_at is not None


# --------------------------------------------------------------------------- pages: .ics, replies, access

def test_staff_pages_need_login_and_staff_role(app, sites, anon, reader):
    with app.app_context():
        visit = make_visit(sites[0])
        db.session.commit()
        visit_id = visit.id
    urls = ["/utkorg", "/kalenderflöden", f"/besok/{visit_id}/svar", f"/besok/{visit_id}/inbjudan.ics"]
    for url in urls:
        response = anon.get(url)
        assert response.status_code == 302 and "/logga-in" in response.headers["Location"], url
        assert reader.get(url).status_code == 403, url
    assert anon.post("/utkorg/skicka").status_code in (302, 400)
    assert reader.post("/utkorg/skicka").status_code == 403
    assert reader.post("/kalenderflöden/ny", {"site_id": "kontoret"}).status_code == 403


def test_visit_ics_download(app, sites, staff):
    with app.app_context():
        visit = make_visit(sites[0], day=date(2015, 10, 27))
        db.session.commit()
        visit_id, uid = visit.id, visit.uid
    response = staff.get(f"/besok/{visit_id}/inbjudan.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    (ev,) = read_back(response.data)
    assert ev["uid"] == uid and ev["start"].replace(tzinfo=None) == datetime(2015, 10, 27, 9)
    assert method_of(response.data) == "REQUEST"
    assert staff.get("/besok/999999/inbjudan.ics").status_code == 404


def _sent_visit(app, site_id, **kw):
    with app.app_context():
        visit = make_visit(site_id, **kw)
        service.queue_request(visit)
        db.session.commit()
        return visit.id, visit.uid, [(a.id, a.email) for a in visit.attendees]


def test_pasted_accepted_reply_updates_partstat(app, sites, staff):
    visit_id, uid, attendees = _sent_visit(app, sites[0])
    (a_id, a_email), (b_id, _) = attendees
    reply = ical.build_reply(uid, 0, a_email.upper(), "ACCEPTED", "samordnaren@example.se", comment="Vi kommer")
    response = staff.post(f"/besok/{visit_id}/svar", {"text": reply.decode()}, follow_redirects=True)
    assert response.status_code == 200
    assert "Svaret är registrerat" in response.get_data(as_text=True)
    with app.app_context():
        a, b = db.session.get(Attendee, a_id), db.session.get(Attendee, b_id)
        assert a.partstat == "ACCEPTED" and a.comment == "Vi kommer" and a.responded_at is not None
        assert b.partstat == "NEEDS-ACTION"
        logged = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "invite.reply"))
        assert logged.details["partstat"] == "ACCEPTED" and "Vi kommer" not in str(logged.details)
    page = staff.get(f"/besok/{visit_id}/svar").get_data(as_text=True)
    assert "Tackat ja" in page


def test_uploaded_reply_file_updates_partstat(app, sites, staff):
    import io
    visit_id, uid, attendees = _sent_visit(app, sites[0])
    a_id, a_email = attendees[1]
    reply = ical.build_reply(uid, 0, a_email, "DECLINED", "samordnaren@example.se")
    response = staff.post(f"/besok/{visit_id}/svar", {"file": (io.BytesIO(reply), "svar.ics")},
                          content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Attendee, a_id).partstat == "DECLINED"


@pytest.mark.parametrize("make_text,message", [
    (lambda uid, email: ical.build_reply("okand-uid@example.se", 0, email, "ACCEPTED", "s@x.se").decode(),
     "Svaret gäller en kalenderhändelse som inte finns här"),
    (lambda uid, email: ical.build_reply(uid, 0, "okand@example.se", "ACCEPTED", "s@x.se").decode(),
     "okand@example.se är inte inbjuden till besöket"),
    (lambda uid, email: "Tack, vi kommer!", "Det här är ingen kalenderfil"),
    (lambda uid, email: "BEGIN:VCALENDAR\r\nskräp", "Kalenderfilen kunde inte läsas"),
    (lambda uid, email: "", "Välj en .ics-fil"),
])
def test_bad_replies_give_swedish_errors(app, sites, staff, make_text, message):
    visit_id, uid, attendees = _sent_visit(app, sites[0])
    response = staff.post(f"/besok/{visit_id}/svar", {"text": make_text(uid, attendees[0][1])})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert all(db.session.get(Attendee, a).partstat == "NEEDS-ACTION" for a, _ in attendees)


def test_reply_for_another_visit_is_refused(app, sites, staff):
    visit_id, _, _ = _sent_visit(app, sites[0])
    _, other_uid, other_attendees = _sent_visit(app, sites[1])
    reply = ical.build_reply(other_uid, 0, other_attendees[0][1], "ACCEPTED", "s@x.se").decode()
    response = staff.post(f"/besok/{visit_id}/svar", {"text": reply})
    assert response.status_code == 400 and "Svaret gäller ett annat besök" in response.get_data(as_text=True)


def test_reply_to_an_older_sequence_is_ignored(app, sites, staff):
    visit_id, uid, attendees = _sent_visit(app, sites[0])
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        visit.date, visit.sequence = date(2016, 3, 29), visit.sequence + 1
        service.queue_request(visit)
        db.session.commit()
    stale = ical.build_reply(uid, 0, attendees[0][1], "ACCEPTED", "s@x.se").decode()
    response = staff.post(f"/besok/{visit_id}/svar", {"text": stale}, follow_redirects=True)
    assert "äldre version" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Attendee, attendees[0][0]).partstat == "NEEDS-ACTION"
        updated = service.apply_reply(ical.build_reply(uid, 1, attendees[0][1], "TENTATIVE", "s@x.se"))
        assert [a.id for a in updated] == [attendees[0][0]] and updated[0].partstat == "TENTATIVE"
        db.session.rollback()


def test_staff_set_an_answer_by_hand(app, sites, staff):
    visit_id, _, attendees = _sent_visit(app, sites[0])
    a_id = attendees[0][0]
    response = staff.post(f"/besok/{visit_id}/svar/{a_id}", {"partstat": "TENTATIVE", "comment": "Ringde"})
    assert response.status_code == 302
    with app.app_context():
        a = db.session.get(Attendee, a_id)
        assert a.partstat == "TENTATIVE" and a.comment == "Ringde"
    assert staff.post(f"/besok/{visit_id}/svar/{a_id}", {"partstat": "KANSKE"}).status_code == 400
    assert staff.post(f"/besok/{visit_id}/svar/999999", {"partstat": "ACCEPTED"}).status_code == 404


def test_outbox_page_lists_messages(app, sites, staff):
    _sent_visit(app, sites[0])
    page = staff.get("/utkorg").get_data(as_text=True)
    assert "Skicka nu" in page and "väntar" in page and "Inbjudan" in page


# --------------------------------------------------------------------------- feeds

def _token(app, feed_id: int) -> str:
    with app.app_context():
        return db.session.get(FeedToken, feed_id).token


def test_site_feed_shows_only_that_sites_visits_and_needs_no_login(app, sites, staff, anon):
    with app.app_context():
        booked = make_visit(sites[0], round=1, day=date(2016, 3, 24), status=BEKRAFTAD)
        service.queue_request(booked)
        cancelled = make_visit(sites[0], round=2, day=date(2016, 10, 27), status=INBJUDEN)
        service.queue_request(cancelled)
        service.queue_cancel(cancelled)
        cancelled.status = INSTALLD
        proposal = make_visit(sites[1], round=1, day=date(2015, 10, 22), status=FORSLAG)
        other = make_visit(sites[2], round=1, day=date(2015, 10, 27), status=INBJUDEN)
        db.session.commit()
        uids = {"booked": booked.uid, "cancelled": cancelled.uid, "proposal": proposal.uid, "other": other.uid}
        site_label = booked.site.label
    response = staff.post("/kalenderflöden/ny", {"site_id": str(sites[0])})
    assert response.status_code == 302
    with app.app_context():
        feed = db.session.scalar(select(FeedToken).where(FeedToken.site_id == sites[0]))
        feed_id, token = feed.id, feed.token
        assert len(token) >= 43
        logged = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "feed.created"))
        assert logged.object_id == str(feed_id) and token not in str(logged.details)
        assert logged.actor == "staff@test.se" and logged.user_id is not None
    page = staff.get("/kalenderflöden").get_data(as_text=True)
    assert f"http://localhost/kalender/{token}.ics" in page

    response = anon.get(f"/kalender/{token}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    events = {e["uid"]: e for e in read_back(response.data)}
    assert set(events) == {uids["booked"], uids["cancelled"]}
    assert events[uids["booked"]]["status"] == "CONFIRMED"
    assert events[uids["cancelled"]]["status"] == "CANCELLED"
    assert events[uids["booked"]]["start"].replace(tzinfo=None) == datetime(2016, 3, 24, 9)
    assert events[uids["cancelled"]]["start"].replace(tzinfo=None) == datetime(2016, 10, 27, 9)
    assert site_label in parse_with_vobject(response.data).contents["x-wr-calname"][0].value
    assert b"@kommun.example.se" not in response.data and b"Kontakt 0" not in response.data

    # The office feed: every dated visit, the proposal as tentative.
    staff.post("/kalenderflöden/ny", {"site_id": "kontoret"})
    with app.app_context():
        office_token = db.session.scalar(select(FeedToken).where(FeedToken.site_id.is_(None))).token
    office = {e["uid"]: e for e in read_back(anon.get(f"/kalender/{office_token}.ics").data)}
    assert set(office) == set(uids.values())
    assert office[uids["proposal"]]["status"] == "TENTATIVE"
    assert office[uids["proposal"]]["start"].replace(tzinfo=None) == datetime(2015, 10, 22, 9)


def test_revoked_feed_is_410_and_unknown_feed_404(app, sites, staff, anon):
    staff.post("/kalenderflöden/ny", {"site_id": str(sites[0])})
    with app.app_context():
        feed = db.session.scalar(select(FeedToken))
        feed_id, token = feed.id, feed.token
    assert anon.get(f"/kalender/{token}.ics").status_code == 200
    # The confirmation step changes nothing; its button revokes.
    assert staff.get(f"/kalenderflöden/{feed_id}/aterkalla").status_code == 200
    assert staff.post(f"/kalenderflöden/{feed_id}/aterkalla").status_code == 200
    assert anon.get(f"/kalender/{token}.ics").status_code == 200
    assert confirm_through_page(staff, f"/kalenderflöden/{feed_id}/aterkalla").status_code == 302
    gone = anon.get(f"/kalender/{token}.ics")
    assert gone.status_code == 410 and gone.mimetype == "text/plain"  # Gone: clients stop asking
    assert "återkallat" in gone.get_data(as_text=True)
    assert anon.get("/kalender/inte-en-riktig-nyckel.ics").status_code == 404
    with app.app_context():
        logged = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "feed.revoked"))
        assert logged.object_id == str(feed_id) and token not in str(logged.details)
    page = staff.get("/kalenderflöden").get_data(as_text=True)
    assert token not in page and "Återkallat" in page
    # A feed for a site that is not in the adopted sample cannot be made: refused in words, nothing made.
    with app.app_context():
        feeds_before = db.session.scalar(select(func.count()).select_from(FeedToken))
    refused = staff.post("/kalenderflöden/ny", {"site_id": "999999"}, follow_redirects=True)
    assert refused.status_code == 200 and "den valda platsen finns inte i det antagna urvalet" in \
        refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeedToken)) == feeds_before


# --------------------------------------------------------------------------- in a browser

@pytest.mark.browser
def test_invitation_pages_are_accessible(app, sites, page, smtp):
    from .conftest import SHOTS, assert_accessible, browser_login

    def shot(page, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"invites-{name}.png", full_page=True)

    visit_id, _, _ = _sent_visit(app, sites[0])
    browser_login(page, "staff")
    page.goto("/utkorg")
    assert_accessible(page, "utkorgen")
    page.get_by_role("button", name="Skicka nu").click()
    page.get_by_text("1 meddelanden skickades").wait_for()
    page.goto("/utkorg")
    shot(page, "utkorg")
    page.goto(f"/besok/{visit_id}/svar")
    assert_accessible(page, "svarssidan")
    page.get_by_label("Svar från Kontakt 0", exact=False).select_option("ACCEPTED")
    page.get_by_role("button", name="Spara svar").first.click()
    page.get_by_text("är sparat: Tackat ja").wait_for()
    shot(page, "svar")
    page.get_by_role("button", name="Registrera svaret").click()
    page.get_by_text("Välj en .ics-fil").wait_for()
    assert_accessible(page, "svarssidan med fel")
    page.goto("/kalenderflöden")
    page.get_by_role("button", name="Skapa flöde för hela kontoret").click()
    page.get_by_text("Ett nytt kalenderflöde har skapats").wait_for()
    assert_accessible(page, "kalenderflöden")
    shot(page, "kalenderfloden")
    url = page.locator("input[readonly]").first.input_value()
    assert "/kalender/" in url and url.endswith(".ics")
