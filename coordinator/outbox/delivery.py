"""Delivery of the outbox over SMTP: claimed one message at a time, retried with back-off.

A message is written by the change it announces (same transaction) with status `pending`.
`deliver_pending` claims a due message (PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED; SQLite: a
conditional UPDATE whose row count says who won), marks it `sending` with a lease and commits,
so no other worker takes it; then sends it and commits `sent` at once. A failure puts it back to
`pending` with `next_attempt_at = now + backoff · 2^(attempts-1)`, or `failed` after
OUTBOX_MAX_ATTEMPTS. A worker that dies between claim and commit leaves a `sending` message
whose lease runs out; it is then sent again (the only case of a double delivery, and the only
alternative would be to risk losing it).

Addresses with å/ä/ö (letters.needs_utf8): the message goes with SMTPUTF8 when the server offers it.
When it does not, the message still goes to every other recipient, with its To header rewritten
without the addresses the server cannot take, and is recorded as sent with those recipients named
as not reached (code `utf8_partly`); only a message whose every recipient needs SMTPUTF8 fails
(code `utf8`, at once: trying again cannot help until the server changes). One message row per
mail keeps the outbox's guarantees (claimed once, committed `sent` at once) unchanged.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from email.parser import HeaderParser
from email.utils import parseaddr
from typing import Mapping

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from ..extensions import db
from ..timeutil import utcnow
from . import letters, mailstatus
from .models import FAILED, PENDING, SENT, OutboxMessage

# Delivery works on the table, not through the ORM: the cron command runs on create_cli_app, which has not
# imported the models that OutboxMessage's relationships name (Visit, Event), so the mappers cannot be configured
# there. The statements are the same either way.
OUTBOX = OutboxMessage.__table__
SENDING = "sending"
STATUSES = (PENDING, SENDING, SENT, FAILED)
LEASE = timedelta(minutes=10)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0    # gave up after the last attempt
    retried: int = 0   # failed this time, will be tried again later

    def as_dict(self) -> dict:
        return asdict(self)


def settings(config: Mapping) -> dict:
    return {
        "host": config.get("SMTP_HOST") or "127.0.0.1",
        "port": int(config.get("SMTP_PORT") or 25),
        "starttls": bool(config.get("SMTP_STARTTLS")),
        "ssl": bool(config.get("SMTP_SSL")),
        "username": config.get("SMTP_USERNAME") or "",
        "password": config.get("SMTP_PASSWORD") or "",
        "timeout": float(config.get("SMTP_TIMEOUT") or 30),
        "mail_from": config.get("MAIL_FROM") or "",
        "max_attempts": max(1, int(config.get("OUTBOX_MAX_ATTEMPTS") or 8)),
        "backoff": max(0, int(config.get("OUTBOX_BACKOFF_SECONDS") if config.get("OUTBOX_BACKOFF_SECONDS")
                              is not None else 60)),
    }


def _aware(dt: datetime) -> datetime:
    """UTC: SQLite keeps the digits only, so every time in the outbox must be in one zone."""
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def backoff_delay(attempts: int, base_seconds: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base, 2·base, 4·base, …"""
    return timedelta(seconds=base_seconds * 2 ** max(0, attempts - 1))


class SmtpConnection:
    """One SMTP session, opened on first use and reused for the batch; reopened after an error."""

    def __init__(self, conf: dict):
        self.conf = conf
        self.smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        c = self.conf
        if c["ssl"]:
            smtp = smtplib.SMTP_SSL(c["host"], c["port"], timeout=c["timeout"],
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(c["host"], c["port"], timeout=c["timeout"])
            if c["starttls"]:
                smtp.ehlo()
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
        if c["username"]:
            smtp.login(c["username"], c["password"])
        return smtp

    def offers_utf8(self) -> bool:
        """Whether the server takes addresses and headers in UTF-8 (the SMTPUTF8 extension)."""
        if self.smtp is None:
            self.smtp = self._open()
        self.smtp.ehlo_or_helo_if_needed()
        return self.smtp.has_extn("smtputf8")

    def send(self, sender: str, recipients: list[str], data: bytes, utf8: bool = False) -> dict:
        if self.smtp is None:
            self.smtp = self._open()
        options: list[str] = []
        if utf8:
            options = ["SMTPUTF8"] + (["BODY=8BITMIME"] if self.smtp.has_extn("8bitmime") else [])
        return self.smtp.sendmail(sender, recipients, data, mail_options=options)

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except Exception:
                try:
                    self.smtp.close()
                except Exception:
                    pass
            self.smtp = None


def describe_error(e: BaseException, conf: dict) -> str:
    """What `last_error` keeps of a failed attempt: the reason's code (mailstatus puts it in words for
    the pages) and a short technical description for "Tekniska detaljer"; never the password."""
    where = f"{conf['host']}:{conf['port']}"
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(f"{addr}: {code} {msg.decode('utf-8', 'replace') if isinstance(msg, bytes) else msg}"
                           for addr, (code, msg) in e.recipients.items())
        code, text = mailstatus.RECIPIENT, f"E-postservern {where} tog inte emot någon mottagare ({detail})"
    elif isinstance(e, smtplib.SMTPAuthenticationError):
        code, text = mailstatus.AUTH, f"Inloggningen på e-postservern {where} misslyckades ({e.smtp_code})"
    elif isinstance(e, smtplib.SMTPResponseException):
        msg = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
        code = mailstatus.SENDER if isinstance(e, smtplib.SMTPSenderRefused) else mailstatus.REFUSED
        text = f"E-postservern {where} svarade {e.smtp_code}: {msg}"
    elif isinstance(e, smtplib.SMTPServerDisconnected):
        code, text = mailstatus.DISCONNECTED, f"E-postservern {where} bröt förbindelsen ({e})"
    elif isinstance(e, (ssl.SSLError, smtplib.SMTPNotSupportedError)):
        code, text = mailstatus.TLS, f"Krypteringen mot e-postservern {where} misslyckades: {type(e).__name__}: {e}"
    elif isinstance(e, TimeoutError):
        code, text = mailstatus.TIMEOUT, f"E-postservern {where} svarade inte i tid: {type(e).__name__}: {e}"
    elif isinstance(e, (ConnectionError, OSError)):
        code, text = mailstatus.UNREACHABLE, f"Kunde inte nå e-postservern {where}: {type(e).__name__}: {e}"
    else:
        code, text = mailstatus.OTHER, f"Sändningen misslyckades: {type(e).__name__}: {e}"
    if conf.get("password"):
        text = text.replace(conf["password"], "***")
    return mailstatus.tagged(code, text)[:1000]


def _due(now: datetime):
    return and_(OUTBOX.c.status.in_((PENDING, SENDING)), OUTBOX.c.next_attempt_at <= now)


def _claim(session: Session, now: datetime, lease_until: datetime) -> tuple[int, str] | None:
    """Take one due message for this worker; returns (id, previous status) or None."""
    order = (OUTBOX.c.next_attempt_at, OUTBOX.c.id)
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(
            select(OUTBOX.c.id, OUTBOX.c.status).where(_due(now)).order_by(*order).limit(1)
            .with_for_update(skip_locked=True)).first()
        if row is None:
            session.rollback()
            return None
        session.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(status=SENDING, next_attempt_at=lease_until))
        session.commit()
        return row.id, row.status
    skipped: list[int] = []
    while True:
        query = select(OUTBOX.c.id, OUTBOX.c.status).where(_due(now)).order_by(*order).limit(1)
        if skipped:
            query = query.where(OUTBOX.c.id.notin_(skipped))
        row = session.execute(query).first()
        if row is None:
            session.rollback()
            return None
        result = session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == row.id, OUTBOX.c.status == row.status, _due(now))
            .values(status=SENDING, next_attempt_at=lease_until))
        session.commit()
        if result.rowcount == 1:
            return row.id, row.status
        skipped.append(row.id)  # another worker was quicker


def _finish(session: Session, message_id: int, lease_until: datetime, **values) -> None:
    """Record the outcome, unless the lease was lost (then another worker owns the message)."""
    session.execute(update(OUTBOX)
                    .where(OUTBOX.c.id == message_id, OUTBOX.c.status == SENDING,
                           OUTBOX.c.next_attempt_at == lease_until)
                    .values(**values))
    session.commit()


def envelope_sender(message_text: str, conf: dict) -> str:
    if conf["mail_from"]:
        return letters.smtp_address(conf["mail_from"])
    headers = HeaderParser().parsestr(message_text, headersonly=True)
    return letters.smtp_address(parseaddr(str(headers.get("From", "")))[1])


class NoUtf8Recipient(Exception):
    """Every recipient has an address the server cannot take (it lacks SMTPUTF8)."""

    def __init__(self, recipients: list[str]):
        super().__init__(", ".join(recipients))
        self.recipients = recipients


def send_message(connection: SmtpConnection, text: str, recipients: list[str], conf: dict) -> tuple[dict, list[str]]:
    """Send one stored message. Returns (the recipients the server refused, those that were left out because
    their address needs SMTPUTF8 and the server lacks it). Raises what smtplib raises, or NoUtf8Recipient."""
    sender = envelope_sender(text, conf)
    wide = [r for r in recipients if letters.needs_utf8(r)]
    if (wide or not text.isascii()) and connection.offers_utf8():
        return connection.send(sender, [letters.smtp_address(r) for r in recipients], text.encode("utf-8"),
                               utf8=True), []
    if wide:
        if len(wide) == len(recipients):
            raise NoUtf8Recipient(wide)
        text = letters.without_utf8_recipients(text)
    narrow = [letters.smtp_address(r) for r in recipients if r not in wide]
    return connection.send(sender, narrow, text.encode("utf-8")), wide


def deliver_pending(app_config: Mapping, now: datetime | None = None, limit: int = 100) -> DeliveryReport:
    """Send the messages that are due (at most `limit`). Needs an application context.

    Works in a session of its own and commits as it goes (each claim, each outcome); the caller's
    session is left alone. On SQLite the caller must not hold uncommitted writes meanwhile.
    """
    conf = settings(app_config)
    now = _aware(now) if now is not None else utcnow()
    report = DeliveryReport()
    connection = SmtpConnection(conf)
    session = Session(db.engine, expire_on_commit=True)
    try:
        for _ in range(limit):
            lease_until = now + LEASE
            claimed = _claim(session, now, lease_until)
            if claimed is None:
                break
            message_id, previous = claimed
            message = session.execute(select(OUTBOX.c.recipients, OUTBOX.c.attempts, OUTBOX.c.message)
                                      .where(OUTBOX.c.id == message_id)).one()
            recipients = [r.strip() for r in message.recipients.split(",") if r.strip()]
            attempts = (message.attempts or 0) + 1
            text = message.message
            if "\r\n" not in text:
                text = text.replace("\n", "\r\n")
            try:
                refused, left_out = send_message(connection, text, recipients, conf)
            except NoUtf8Recipient as e:
                # Trying again cannot help until the server (or the address) changes: failed at once.
                error = mailstatus.tagged(mailstatus.UTF8, "E-postservern erbjuder inte SMTPUTF8 och kan inte ta "
                                                           f"emot: {e}")[:1000]
                _finish(session, message_id, lease_until, status=FAILED, attempts=attempts, last_error=error,
                        next_attempt_at=now)
                report.failed += 1
                continue
            except Exception as e:  # noqa: BLE001 - every failure is recorded and retried
                connection.close()
                error = describe_error(e, conf)
                if attempts >= conf["max_attempts"]:
                    _finish(session, message_id, lease_until, status=FAILED, attempts=attempts, last_error=error,
                            next_attempt_at=now)
                    report.failed += 1
                else:
                    _finish(session, message_id, lease_until, status=PENDING, attempts=attempts, last_error=error,
                            next_attempt_at=now + backoff_delay(attempts, conf["backoff"]))
                    report.retried += 1
                continue
            note = ""
            if left_out:
                note = mailstatus.tagged(mailstatus.UTF8_PARTLY, "Skickat, men inte till (servern saknar SMTPUTF8): "
                                         + ", ".join(sorted(left_out + list(refused or ()))))
            elif refused:
                note = mailstatus.tagged(mailstatus.PARTLY_REFUSED,
                                         "Skickat, men avvisat för: " + ", ".join(sorted(refused)))
            elif previous == SENDING:
                note = mailstatus.tagged(mailstatus.RESENT,
                                         "Skickat igen efter en avbruten sändning (kan ha kommit fram två gånger).")
            # Committed at once: a message the server accepted is never sent again.
            _finish(session, message_id, lease_until, status=SENT, attempts=attempts, sent_at=utcnow(),
                    last_error=note)
            report.sent += 1
    finally:
        connection.close()
        session.close()
    return report


# The outbox page's filter: a mail waits (pending or being sent), was sent, or could not be sent.
FILTERS = {PENDING: (PENDING, SENDING), SENDING: (PENDING, SENDING), SENT: (SENT,), FAILED: (FAILED,)}


def filtered(status: str | None):
    """The outbox's messages with a filter's statuses (all for None), newest first, as a select."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    return query.where(OutboxMessage.status.in_(FILTERS[status])) if status in FILTERS else query


def messages(status: str | None = None, limit: int = 200) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(db.session.scalars(query))


def retry(message: OutboxMessage, user=None) -> OutboxMessage:
    """Put a failed message back in the queue for immediate delivery (attempts start again). No commit."""
    if message.status != FAILED:
        return message
    message.status, message.attempts, message.next_attempt_at = PENDING, 0, utcnow()
    from ..audit import actor_of, record  # here: the delivery, which the cron command runs, records nothing
    record("outbox.retry", message, visit_id=message.visit_id, **actor_of(user))
    return message


def message_json(m: OutboxMessage) -> dict:
    return {
        "id": m.id, "visit_id": m.visit_id, "kind": m.kind, "sequence": m.sequence, "status": m.status,
        "attempts": m.attempts, "recipients": [r.strip() for r in m.recipients.split(",") if r.strip()],
        "subject": m.subject, "created_at": m.created_at, "next_attempt_at": m.next_attempt_at,
        "sent_at": m.sent_at, "last_error": m.last_error,
    }
