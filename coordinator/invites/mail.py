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
server offers it, and otherwise to the other recipients with that header rewritten (outbox/delivery.py).
The addresses and the stored form are the outbox's (coordinator/outbox/letters.py).
A non-ASCII domain is written in its ASCII (IDNA) form, which every server takes.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Sequence

from ..formatting import swedish_date
from ..outbox.letters import SMTP_POLICY, address, ascii_domain, one_line
from .ical import CANCEL, REQUEST, STAFF_LABEL, Event, Person, hhmm, programme_lines


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
    msg["From"] = address(from_name if from_name is not None else event.organizer_name, sender)
    msg["To"] = [address(p.name, p.email) for p in recipients]
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
