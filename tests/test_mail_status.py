"""Mail in words: "skickad" only after delivery, "väntar i utkorgen" until then, failures in plain Swedish.

The SMTP server is aiosmtpd on loopback (the fixtures of test_invites.py); a stopped server is a real
refused connection, a refusing handler a real SMTP 550.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlalchemy import event, select

from coordinator.extensions import db
from coordinator.invites import service
from coordinator.outbox.mailstatus import invitation_status, mail_status, split_error
from coordinator.outbox.models import FAILED, PENDING, SENT, OutboxMessage
from coordinator.scheduling.models import Visit

from . import test_invites
from .helpers import free_port
from .test_invites import deliver, make_visit

# The loopback SMTP server and the adopted sample's sites, as test_invites.py makes them.
smtp, sites = test_invites.smtp, test_invites.sites

TZ = ZoneInfo("Europe/Stockholm")


def visible(html: str) -> str:
    """The page's text without what is folded under a <details> disclosure."""
    html = re.sub(r"<details.*?</details>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def folded(html: str) -> str:
    return " ".join(re.findall(r"<details.*?</details>", html, flags=re.S))


def queued_visit(app, site_id: int) -> int:
    with app.app_context():
        visit = make_visit(site_id, day=date(2016, 11, 24))
        service.queue_request(visit)
        db.session.commit()
        return visit.id


def test_a_queued_invitation_waits_in_the_outbox_until_the_server_has_taken_it(app, sites, smtp, staff):
    visit_id = queued_visit(app, sites[0])
    page = visible(staff.get(f"/besok/{visit_id}").get_data(as_text=True))
    assert "Inbjudan väntar i utkorgen." in page and "har skickats" not in page
    assert "väntar i utkorgen" in visible(staff.get("/utkorg").get_data(as_text=True))
    replies = visible(staff.get(f"/besok/{visit_id}/svar").get_data(as_text=True))
    assert "Inbjudan väntar i utkorgen." in replies

    assert deliver(app).sent == 1
    page = visible(staff.get(f"/besok/{visit_id}").get_data(as_text=True))
    assert "Inbjudan har skickats." in page and "väntar i utkorgen" not in page
    assert "Skickad " in visible(staff.get(f"/besok/{visit_id}/svar").get_data(as_text=True))

    # A change goes out again: the second delivery is counted, the latest change named.
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        visit.date, visit.sequence = date(2016, 11, 25), visit.sequence + 1
        service.queue_request(visit)
        db.session.commit()
    assert "Inbjudan väntar i utkorgen." in visible(staff.get(f"/besok/{visit_id}").get_data(as_text=True))
    assert deliver(app).sent == 1
    assert ("Inbjudan har skickats 2 gånger; den senaste ändringen har skickats."
            in visible(staff.get(f"/besok/{visit_id}").get_data(as_text=True)))


def test_the_calendar_internals_are_folded_away_on_the_visit_page(app, sites, staff):
    visit_id = queued_visit(app, sites[1])
    html = staff.get(f"/besok/{visit_id}").get_data(as_text=True)
    for word in ("SEQUENCE", "UID", "METHOD"):
        assert word not in visible(html), word
        assert word in folded(html), word
    assert "<summary>Tekniska detaljer</summary>" in html


def test_a_failed_attempt_says_why_and_when_it_is_tried_again_then_what_to_do(app, sites, smtp, staff):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    visit_id = queued_visit(app, sites[2])
    smtp.stop()
    t0 = (datetime.now(timezone.utc) + timedelta(seconds=5)).replace(microsecond=0)
    assert deliver(app, now=t0).retried == 1
    retry = (t0 + timedelta(seconds=60)).astimezone(TZ)
    # Today only the time is said (a run a minute before midnight would see tomorrow's date).
    when = (f"kl. {retry:%H.%M}" if retry.date() == t0.astimezone(TZ).date()
            else f"den {retry.date().isoformat()} kl. {retry:%H.%M}")
    with app.app_context():
        m = db.session.scalar(select(OutboxMessage))
        assert m.status == PENDING and split_error(m.last_error)[0] == "unreachable"
        status = mail_status(m, now=t0)
        assert status.text == ("Väntar i utkorgen. E-postservern svarar inte. "
                               f"Utskicket görs om automatiskt {when}.")
        assert status.label == "väntar i utkorgen" and not status.sent
        earlier = mail_status(m, now=t0 - timedelta(days=2))  # not today: the date is said too
        assert earlier.text.endswith(f"automatiskt den {retry.date().isoformat()} kl. {retry:%H.%M}.")
        assert "ConnectionRefusedError" in status.technical
        assert invitation_status([m], now=t0) == ("Inbjudan väntar i utkorgen. E-postservern svarar inte. "
                                                  f"Utskicket görs om automatiskt {when}.")
    html = staff.get("/utkorg").get_data(as_text=True)
    assert "E-postservern svarar inte." in visible(html) and "Utskicket görs om automatiskt" in visible(html)
    assert "ConnectionRefusedError" not in visible(html) and "ConnectionRefusedError" in folded(html)

    assert deliver(app, now=t0 + timedelta(hours=1)).failed == 1
    html = staff.get("/utkorg?status=failed").get_data(as_text=True)
    text = visible(html)
    assert "kunde inte skickas" in text and "Kunde inte skickas. E-postservern svarar inte." in text
    assert "Välj ”Försök igen” i utkorgen när e-postservern fungerar igen." in text
    assert "Försök igen" in text and "ConnectionRefusedError" not in text
    page = visible(staff.get(f"/besok/{visit_id}").get_data(as_text=True))
    assert "Inbjudan kunde inte skickas. E-postservern svarar inte." in page


class Refusing:
    """aiosmtpd handler that refuses every recipient, as a server does for an unknown mailbox."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 Mailbox unavailable"


def test_a_refused_address_is_named_in_words_with_what_to_do(app, sites, staff):
    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    saved = {k: app.config.get(k) for k in ("SMTP_HOST", "SMTP_PORT", "OUTBOX_MAX_ATTEMPTS")}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, OUTBOX_MAX_ATTEMPTS=1)
    try:
        queued_visit(app, sites[3])
        assert deliver(app).failed == 1
    finally:
        controller.stop()
        app.config.update(saved)
    with app.app_context():
        status = mail_status(db.session.scalar(select(OutboxMessage)))
    assert status.text == ("Kunde inte skickas. Mottagarens adress godtogs inte av e-postservern. "
                           "Kontrollera mottagarens e-postadress och välj sedan ”Försök igen” i utkorgen.")
    assert "550" in status.technical and "550" not in status.text


def test_errors_stored_before_the_reason_codes_are_still_put_in_words():
    old = OutboxMessage(status=FAILED, attempts=8, last_error="Kunde inte nå e-postservern 127.0.0.1:25: "
                        "ConnectionRefusedError: [Errno 111] Connection refused", next_attempt_at=None)
    assert mail_status(old).reason == "E-postservern svarar inte."
    sent = OutboxMessage(status=SENT, attempts=1, sent_at=datetime(2016, 10, 31, 13, 5, tzinfo=timezone.utc),
                         last_error="")
    assert mail_status(sent).text == "Skickad den 2016-10-31 kl. 14.05."


def add_messages(app, n: int, status: str) -> None:
    with app.app_context():
        now = datetime.now(timezone.utc)
        for i in range(n):
            db.session.add(OutboxMessage(kind="request", recipients=f"k{i}@kommun.example.se", subject=f"Ämne {i}",
                                         message="", status=status, attempts=1 if status != PENDING else 0,
                                         next_attempt_at=now, sent_at=now if status == SENT else None,
                                         created_at=now - timedelta(minutes=i), last_error=""))
        db.session.commit()


def statements_for(app, client, url: str) -> int:
    count = [0]

    def counter(*args):
        count[0] += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
    return count[0]


def test_the_outbox_is_filtered_by_status_and_paged_with_the_filter_kept(app, staff):
    add_messages(app, 5, SENT)
    add_messages(app, 3, FAILED)
    add_messages(app, 4, PENDING)
    small = statements_for(app, staff, "/utkorg")
    failed = staff.get("/utkorg?status=failed").get_data(as_text=True)
    assert failed.count('<tr id="meddelande-') == 3 and "Kunde inte skickas" in failed
    assert "Visar 1–3 av 3 e-brev." in failed
    waiting = staff.get("/utkorg?status=sending").get_data(as_text=True)  # still in the outbox: one filter
    assert waiting.count('<tr id="meddelande-') == 4

    add_messages(app, 60, SENT)
    assert statements_for(app, staff, "/utkorg") == small  # a full page costs what a short one does
    first = staff.get("/utkorg?status=sent").get_data(as_text=True)
    assert first.count('<tr id="meddelande-') == 50 and "Sida 1 av 2" in first
    assert re.search(r'href="/utkorg\?(sida=2&amp;status=sent|status=sent&amp;sida=2)"', first)
    second = staff.get("/utkorg?status=sent&sida=2").get_data(as_text=True)
    assert second.count('<tr id="meddelande-') == 15
    assert staff.get("/utkorg?status=nonsense&sida=-4").status_code == 200


def test_the_mail_status_is_english_when_english_is_chosen(app, sites, staff):
    queued_visit(app, sites[4])
    staff.get("/sprak/en")
    text = visible(staff.get("/utkorg").get_data(as_text=True))
    assert "Waiting in the outbox." in text and "waiting in the outbox" in text
    assert "Väntar" not in text
