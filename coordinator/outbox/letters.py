"""Mail messages without a calendar, and how any message is stored in the outbox: pure (no Flask, no database).

A letter from the office (links, reminders, digests) is plain text with an HTML alternative, in Swedish. The
invitations' iMIP messages (coordinator/invites/mail.py) use the same addresses and the same stored form.
Every part is transfer-encoded, so a stored message is ASCII with CRLF line ends, except the To header when a
recipient's address has å/ä/ö before the @ (RFC 6532; the outbox's delivery deals with servers that cannot
take it). A non-ASCII domain is written in its ASCII (IDNA) form, which every server takes.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Sequence

import idna

SMTP_POLICY = policy.SMTP  # CRLF line ends, RFC 2047 headers


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


def address(name: str, email: str) -> Address:
    local, _, domain = email.strip().partition("@")
    if local.isascii():
        domain = ascii_domain(domain)
    # A name with a line break cannot go into a header: one line, always.
    return Address(display_name=one_line(name), username=local, domain=domain)


def letter(subject_: str, sender: tuple[str, str], recipients: Sequence[tuple[str, str]], plain: str,
           html_: str | None = None, now: datetime | None = None) -> EmailMessage:
    """A mail from the office without a calendar (links, reminders, digests): `sender` and `recipients` are
    (name, e-mail); plain text, with an HTML alternative when given; Swedish."""
    if not recipients:
        raise ValueError("a mail needs at least one recipient")
    now = now or datetime.now(timezone.utc)
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Subject"] = one_line(subject_)
    msg["From"] = address(*sender)
    msg["To"] = [address(name, email) for name, email in recipients]
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
    kept = [address(a.display_name, a.addr_spec) for a in parsed["To"].addresses if not needs_utf8(a.addr_spec)]
    holder = EmailMessage(policy=SMTP_POLICY)
    if kept:
        holder["To"] = kept
        line = SMTP_POLICY.fold("To", holder["To"])
    else:
        line = "To: undisclosed-recipients:;\r\n"
    return text[:span[0]] + line + text[span[1]:]
