"""iMIP (RFC 6047): the invitation as an e-mail, pure (no Flask, no database).

Structure, as Outlook/Exchange and Google expect it:

    multipart/mixed
      multipart/alternative
        text/plain; charset="utf-8"
        text/html; charset="utf-8"
        text/calendar; charset="UTF-8"; method=REQUEST|CANCEL   (method matches METHOD)
      application/ics; name="invite.ics"  (attachment, for clients that ignore the inline part)

Every part is transfer-encoded (quoted-printable or base64), so the stored message is plain
ASCII with CRLF line ends and goes through any SMTP server as it is, with one exception: an
address with å/ä/ö before the @ has no ASCII form, so when a recipient has one the To header
alone is written in UTF-8 (RFC 6532). The outbox sends such a message with SMTPUTF8 when the
server offers it, and otherwise to the other recipients with that header rewritten (outbox.py).
A non-ASCII domain is written in its ASCII (IDNA) form, which every server takes.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Sequence

import idna

from .ical import CANCEL, REQUEST, STAFF_LABEL, Event, Person, hhmm, programme_lines, swedish_date

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
    update_subject: str = "Ändrad tid eller plats"
    removed: str = ("Du är inte längre inbjuden till besöket nedan. Besöket blir av som planerat, men "
                    "kalenderhändelsen tas bort ur din kalender när du öppnar det här meddelandet.")
    details: bool = False


VISIT = Wording()


def one_line(text: str | None) -> str:
    """Text for a header or a calendar parameter: line breaks and tabs (old data) become spaces."""
    return " ".join(str(text or "").split())


def ascii_domain(domain: str) -> str:
    """The domain as the mail servers know it: 'växjö.se' -> 'xn--vxj-qla6g.se' (IDNA)."""
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return domain  # not a valid name; the server refuses it for this recipient alone


def needs_utf8(email: str) -> bool:
    """True for an address that only an SMTPUTF8 server can take (å/ä/ö before the @)."""
    local, _, domain = (email or "").strip().partition("@")
    return not (local.isascii() and ascii_domain(domain).isascii())


def smtp_address(email: str) -> str:
    """The address for the SMTP envelope: the domain in its IDNA form when the local part is ASCII."""
    local, _, domain = (email or "").strip().partition("@")
    return f"{local}@{ascii_domain(domain)}" if local.isascii() else email.strip()


def _address(name: str, email: str) -> Address:
    local, _, domain = email.strip().partition("@")
    if local.isascii():
        domain = ascii_domain(domain)
    # A name with a line break cannot go into a header: one line, always.
    return Address(display_name=one_line(name), username=local, domain=domain)


def subject(event: Event, method: str, update: bool = False, removed: bool = False,
            wording: Wording = VISIT) -> str:
    when = f"{swedish_date(event.local_start)} {hhmm(event.local_start)}"
    if method == CANCEL and removed:
        return f"Inte längre inbjuden: {event.summary}, {when}"
    if method == CANCEL:
        return f"Inställt: {event.summary}, {when}"
    if update:
        return f"{wording.update_subject}: {event.summary}, {when}"
    return f"Inbjudan: {event.summary}, {when}"


def _intro(event: Event, method: str, update: bool, wording: Wording = VISIT, removed: bool = False) -> str:
    if method == CANCEL and removed:
        return wording.removed
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
    ] + ([(STAFF_LABEL, ", ".join(" ".join(n.split()) for n in event.staff))] if event.staff else [])


def plain_body(event: Event, method: str, update: bool = False, wording: Wording = VISIT,
               extra: Sequence[tuple[str, str]] = (), removed: bool = False) -> str:
    lines = ["Hej,", "", _intro(event, method, update, wording, removed), ""]
    lines += [f"{label}: {value}" for label, value in _facts(event, wording)]
    if wording.details and event.description:
        lines += ["", event.description]
    if event.programme:
        lines += ["", "Program:"] + ["- " + line for line in programme_lines(event.programme)]
    if event.attendees and not removed:
        lines += ["", "Inbjudna:"] + [f"- {one_line(p.name)} <{p.email}>" for p in event.attendees]
    for text, url in extra:  # e.g. the link to the pre-visit measurement
        lines += ["", text, url]
    lines += ["", "Med vänliga hälsningar", event.organizer_name, event.organizer_email, ""]
    return "\n".join(lines)


def html_body(event: Event, method: str, update: bool = False, wording: Wording = VISIT,
              extra: Sequence[tuple[str, str]] = (), removed: bool = False) -> str:
    e = html.escape
    rows = "\n".join(f'<tr><th scope="row" style="text-align:left;padding-right:1em">{e(label)}</th>'
                     f"<td>{e(value)}</td></tr>" for label, value in _facts(event, wording))
    parts = [
        '<!doctype html>\n<html lang="sv">\n<head><meta charset="utf-8">'
        f"<title>{e(subject(event, method, update, removed, wording))}</title></head>\n<body>",
        "<p>Hej,</p>",
        f"<p>{e(_intro(event, method, update, wording, removed))}</p>",
        f"<table>\n{rows}\n</table>",
    ]
    if wording.details and event.description:
        parts += [f"<p>{e(paragraph)}</p>".replace("\n", "<br>\n") for paragraph in event.description.split("\n\n")]
    if event.programme:
        items = "\n".join(f"<li>{e(line)}</li>" for line in programme_lines(event.programme))
        parts.append(f"<h2>Program</h2>\n<ul>\n{items}\n</ul>")
    if event.attendees and not removed:
        people = "\n".join(f"<li>{e(p.name)} &lt;{e(p.email)}&gt;</li>" for p in event.attendees)
        parts.append(f"<h2>Inbjudna</h2>\n<ul>\n{people}\n</ul>")
    parts += [f'<p>{e(text)}<br>\n<a href="{e(url)}">{e(url)}</a></p>' for text, url in extra]
    parts.append(f"<p>Med vänliga hälsningar<br>\n{e(event.organizer_name)}<br>\n{e(event.organizer_email)}</p>")
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def build_message(event: Event, method: str, calendar: bytes, update: bool = False,
                  now: datetime | None = None, from_name: str | None = None,
                  from_email: str | None = None, wording: Wording = VISIT,
                  to: tuple[Person, ...] | None = None, extra: Sequence[tuple[str, str]] = (),
                  removed: bool = False) -> EmailMessage:
    """The iMIP message for `calendar` (the bytes of a METHOD:REQUEST or METHOD:CANCEL calendar).

    From is the organizer (the ORGANIZER of the calendar) unless from_name/from_email are given;
    To is every attendee, or `to` (people added after the invitation went out get it alone).
    `extra`: (text, URL) paragraphs for the mail's text only, not the calendar (the measurement's link).
    `removed`: a CANCEL to a person taken off the list (the occasion itself goes ahead).
    """
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"unsupported iTIP method {method}")
    recipients = event.attendees if to is None else to
    if not recipients:
        raise ValueError("an invitation needs at least one attendee")
    now = now or datetime.now(timezone.utc)
    sender = from_email or event.organizer_email
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Subject"] = one_line(subject(event, method, update, removed, wording))
    msg["From"] = _address(from_name if from_name is not None else event.organizer_name, sender)
    msg["To"] = [_address(p.name, p.email) for p in recipients]
    msg["Date"] = format_datetime(now.astimezone(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=ascii_domain(sender.partition("@")[2]) or None)

    msg.set_content(plain_body(event, method, update, wording, extra, removed), subtype="plain", charset="utf-8",
                    cte="quoted-printable")
    msg.add_alternative(html_body(event, method, update, wording, extra, removed), subtype="html", charset="utf-8",
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
    msg["Subject"] = one_line(subject_)
    msg["From"] = _address(*sender)
    msg["To"] = [_address(name, email) for name, email in recipients]
    msg["Date"] = format_datetime(now.astimezone(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=ascii_domain(sender[1].partition("@")[2]) or None)
    msg.set_content(plain, subtype="plain", charset="utf-8", cte="quoted-printable")
    if html_ is not None:
        msg.add_alternative(html_, subtype="html", charset="utf-8", cte="quoted-printable")
    msg["Content-Language"] = "sv"  # after the content: set_content drops the Content-* headers set before it
    return msg


def as_text(msg: EmailMessage) -> str:
    """The message as stored in the outbox and sent: CRLF line ends, and ASCII unless a recipient's
    address needs UTF-8 (then the To header, and it alone, is written in UTF-8)."""
    to = msg["To"]
    if to is None or not any(needs_utf8(a.addr_spec) for a in to.addresses):
        return msg.as_bytes(policy=SMTP_POLICY).decode("ascii")
    del msg["To"]
    try:
        rest = msg.as_bytes(policy=SMTP_POLICY).decode("ascii")
    finally:
        msg["To"] = to
    return policy.SMTPUTF8.fold("To", to) + rest


def _header_span(text: str, name: str) -> tuple[int, int] | None:
    """Where the (possibly folded) header `name` is in the message's header block."""
    head_end = text.find("\r\n\r\n")
    head_end = len(text) if head_end < 0 else head_end + 2
    match = re.search(rf"(?im)^{re.escape(name)}:.*\r\n(?:[ \t].*\r\n)*", text[:head_end])
    return (match.start(), match.end()) if match else None


def without_utf8_recipients(text: str) -> str:
    """The stored message for a server without SMTPUTF8: the To header keeps only the addresses it can take
    (display names encoded as usual). Everything else stays byte for byte."""
    span = _header_span(text, "To")
    if span is None:
        return text
    from email.parser import HeaderParser
    parsed = HeaderParser(policy=policy.default).parsestr(text[span[0]:span[1]] + "\r\n")
    kept = [_address(a.display_name, a.addr_spec) for a in parsed["To"].addresses if not needs_utf8(a.addr_spec)]
    holder = EmailMessage(policy=SMTP_POLICY)
    if kept:
        holder["To"] = kept
        line = SMTP_POLICY.fold("To", holder["To"])
    else:
        line = "To: undisclosed-recipients:;\r\n"
    return text[:span[0]] + line + text[span[1]:]
