"""iMIP (RFC 6047): the invitation as an e-mail, pure (no Flask, no database).

Structure, as Outlook/Exchange and Google expect it:

    multipart/mixed
      multipart/alternative
        text/plain; charset="utf-8"
        text/html; charset="utf-8"
        text/calendar; charset="UTF-8"; method=REQUEST|CANCEL   (method matches METHOD)
      application/ics; name="invite.ics"  (attachment, for clients that ignore the inline part)

Every part is transfer-encoded (quoted-printable or base64), so the stored message is plain
ASCII with CRLF line ends and goes through any SMTP server as it is.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Sequence

from .ical import CANCEL, REQUEST, Event, Person, hhmm, programme_lines, swedish_date

SMTP_POLICY = policy.SMTP  # CRLF line ends, RFC 2047 headers


@dataclass(frozen=True)
class Wording:
    """What the mail calls the occasion: a visit unless told otherwise (events name their kind).

    `label` heads the summary in the facts; the three texts open the mail; `details` adds the
    calendar DESCRIPTION to the body (an event's description; a visit shows its programme instead).
    """
    label: str = "Besök"
    invite: str = ("Nationella samordnaren för den sociala barn- och ungdomsvården bjuder in till ett besök "
                   "enligt nedan. Svara gärna med Acceptera eller Avböj i kalenderinbjudan.")
    update: str = ("Tiden eller platsen för besöket har ändrats. Den här inbjudan ersätter den tidigare; "
                   "svara gärna på nytt.")
    cancel: str = ("Besöket nedan är inställt. Kalenderhändelsen tas bort ur er kalender när ni öppnar "
                   "det här meddelandet.")
    details: bool = False


VISIT = Wording()


def _address(name: str, email: str) -> Address:
    local, _, domain = email.partition("@")
    return Address(display_name=name or "", username=local, domain=domain)


def subject(event: Event, method: str, update: bool = False) -> str:
    when = f"{swedish_date(event.local_start)} {hhmm(event.local_start)}"
    if method == CANCEL:
        return f"Inställt: {event.summary}, {when}"
    if update:
        return f"Ändrad tid eller plats: {event.summary}, {when}"
    return f"Inbjudan: {event.summary}, {when}"


def _intro(event: Event, method: str, update: bool, wording: Wording = VISIT) -> str:
    if method == CANCEL:
        return wording.cancel
    if update:
        return wording.update
    return wording.invite


def _facts(event: Event, wording: Wording = VISIT) -> list[tuple[str, str]]:
    return [
        (wording.label, event.summary),
        ("Datum", swedish_date(event.local_start)),
        ("Tid", f"{hhmm(event.local_start)}–{hhmm(event.local_end)}"),
        ("Plats", event.location or "meddelas senare"),
    ]


def plain_body(event: Event, method: str, update: bool = False, wording: Wording = VISIT,
               extra: Sequence[tuple[str, str]] = ()) -> str:
    lines = ["Hej,", "", _intro(event, method, update, wording), ""]
    lines += [f"{label}: {value}" for label, value in _facts(event, wording)]
    if wording.details and event.description:
        lines += ["", event.description]
    if event.programme:
        lines += ["", "Program:"] + ["- " + line for line in programme_lines(event.programme)]
    if event.attendees:
        lines += ["", "Inbjudna:"] + [f"- {p.name} <{p.email}>" for p in event.attendees]
    for text, url in extra:  # e.g. the link to the pre-visit measurement
        lines += ["", text, url]
    lines += ["", "Med vänliga hälsningar", event.organizer_name, event.organizer_email, ""]
    return "\n".join(lines)


def html_body(event: Event, method: str, update: bool = False, wording: Wording = VISIT,
              extra: Sequence[tuple[str, str]] = ()) -> str:
    e = html.escape
    rows = "\n".join(f'<tr><th scope="row" style="text-align:left;padding-right:1em">{e(label)}</th>'
                     f"<td>{e(value)}</td></tr>" for label, value in _facts(event, wording))
    parts = [
        '<!doctype html>\n<html lang="sv">\n<head><meta charset="utf-8">'
        f"<title>{e(subject(event, method, update))}</title></head>\n<body>",
        "<p>Hej,</p>",
        f"<p>{e(_intro(event, method, update, wording))}</p>",
        f"<table>\n{rows}\n</table>",
    ]
    if wording.details and event.description:
        parts += [f"<p>{e(paragraph)}</p>".replace("\n", "<br>\n") for paragraph in event.description.split("\n\n")]
    if event.programme:
        items = "\n".join(f"<li>{e(line)}</li>" for line in programme_lines(event.programme))
        parts.append(f"<h2>Program</h2>\n<ul>\n{items}\n</ul>")
    if event.attendees:
        people = "\n".join(f"<li>{e(p.name)} &lt;{e(p.email)}&gt;</li>" for p in event.attendees)
        parts.append(f"<h2>Inbjudna</h2>\n<ul>\n{people}\n</ul>")
    parts += [f'<p>{e(text)}<br>\n<a href="{e(url)}">{e(url)}</a></p>' for text, url in extra]
    parts.append(f"<p>Med vänliga hälsningar<br>\n{e(event.organizer_name)}<br>\n{e(event.organizer_email)}</p>")
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def build_message(event: Event, method: str, calendar: bytes, update: bool = False,
                  now: datetime | None = None, from_name: str | None = None,
                  from_email: str | None = None, wording: Wording = VISIT,
                  to: tuple[Person, ...] | None = None, extra: Sequence[tuple[str, str]] = ()) -> EmailMessage:
    """The iMIP message for `calendar` (the bytes of a METHOD:REQUEST or METHOD:CANCEL calendar).

    From is the organizer (the ORGANIZER of the calendar) unless from_name/from_email are given;
    To is every attendee, or `to` (people added after the invitation went out get it alone).
    `extra`: (text, URL) paragraphs for the mail's text only, not the calendar (the measurement's link).
    """
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"unsupported iTIP method {method}")
    recipients = event.attendees if to is None else to
    if not recipients:
        raise ValueError("an invitation needs at least one attendee")
    now = now or datetime.now(timezone.utc)
    sender = from_email or event.organizer_email
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Subject"] = subject(event, method, update)
    msg["From"] = _address(from_name if from_name is not None else event.organizer_name, sender)
    msg["To"] = [_address(p.name, p.email) for p in recipients]
    msg["Date"] = format_datetime(now.astimezone(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or None)

    msg.set_content(plain_body(event, method, update, wording, extra), subtype="plain", charset="utf-8",
                    cte="quoted-printable")
    msg.add_alternative(html_body(event, method, update, wording, extra), subtype="html", charset="utf-8",
                        cte="quoted-printable")
    # base64 keeps the calendar's CRLF line ends and folding byte for byte.
    msg.add_alternative(calendar.decode("utf-8"), subtype="calendar", charset="utf-8", cte="base64",
                        params={"method": method})
    calendar_part = msg.get_payload()[-1]
    calendar_part.set_param("charset", "UTF-8")
    msg.add_attachment(calendar, maintype="application", subtype="ics", filename="invite.ics")
    attachment = msg.get_payload()[-1]
    attachment.set_param("name", "invite.ics")
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]  # only the top-level message carries it
    msg["Content-Language"] = "sv"  # after the parts: set_content drops the Content-* headers set before it
    return msg


def letter(subject_: str, sender: tuple[str, str], recipients: Sequence[tuple[str, str]], plain: str,
           html_: str | None = None, now: datetime | None = None) -> EmailMessage:
    """A mail from the office without a calendar (links, reminders, digests): `sender` and `recipients` are
    (name, e-mail); plain text, with an HTML alternative when given; Swedish."""
    if not recipients:
        raise ValueError("a mail needs at least one recipient")
    now = now or datetime.now(timezone.utc)
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Subject"] = subject_
    msg["From"] = _address(*sender)
    msg["To"] = [_address(name, email) for name, email in recipients]
    msg["Date"] = format_datetime(now.astimezone(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=sender[1].partition("@")[2] or None)
    msg.set_content(plain, subtype="plain", charset="utf-8", cte="quoted-printable")
    if html_ is not None:
        msg.add_alternative(html_, subtype="html", charset="utf-8", cte="quoted-printable")
    msg["Content-Language"] = "sv"  # after the content: set_content drops the Content-* headers set before it
    return msg


def as_text(msg: EmailMessage) -> str:
    """The message as stored in the outbox and sent: ASCII, CRLF line ends."""
    return msg.as_bytes(policy=SMTP_POLICY).decode("ascii")
