"""A mail's status in plain words, for every page that shows mail: outbox, visit, answers, events, measurement.

Plain words: a mail is "skickad" only once the mail server has taken it (status `sent`). Until then
it "väntar i utkorgen", also while a worker is sending it or after a failed attempt that will be
retried; the page then says why in words and when the next attempt is made ("E-postservern svarar
inte. Utskicket görs om automatiskt kl. 14.05."). After the last attempt it "kunde inte skickas",
with what the user can do. The raw error (server address, exception, SMTP code) is kept for the
"Tekniska detaljer" disclosure and never shown as the message itself.

The outbox stores the reason as a short code in front of the technical text of `last_error`
("[unreachable] Kunde inte nå e-postservern 127.0.0.1:25: ConnectionRefusedError: …"), so the words
are chosen when the page is shown, in the reader's language. Errors stored before the codes existed
are recognised by their wording.

    mail_status(message, now=None) -> MailStatus        one message
    invitation_status(messages, now=None) -> str | None  a visit's or an event's invitations in one sentence
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from ..i18n import _, locale
from .models import FAILED, SENT

TZ = ZoneInfo("Europe/Stockholm")
SENDING = "sending"
WAITING = "waiting"  # pending or sending: the mail is still in the outbox

# Why a delivery failed (or what happened to a sent one), as stored in front of `last_error`.
UNREACHABLE, TIMEOUT, AUTH, RECIPIENT, SENDER, REFUSED, DISCONNECTED, TLS, OTHER = (
    "unreachable", "timeout", "auth", "recipient", "sender", "refused", "disconnected", "tls", "other")
PARTLY_REFUSED, RESENT = "partly_refused", "resent"
# An address with å/ä/ö before the @ and a server without SMTPUTF8: all recipients, or some of them.
UTF8, UTF8_PARTLY = "utf8", "utf8_partly"

_CODE = re.compile(r"^\[([a-z0-9_]+)\] ?")
# Errors written before the codes: recognised by their (Swedish, technical) wording.
_OLD_WORDING = (
    ("tog inte emot någon mottagare", RECIPIENT),
    ("Inloggningen på e-postservern", AUTH),
    ("bröt förbindelsen", DISCONNECTED),
    ("Kunde inte nå e-postservern", UNREACHABLE),
    ("svarade ", REFUSED),
    ("Skickat, men avvisat för", PARTLY_REFUSED),
    ("Skickat igen efter en avbruten", RESENT),
)


def tagged(code: str, technical: str) -> str:
    """What the outbox stores in `last_error`: the reason's code, then the technical text."""
    return f"[{code}] {technical}"


def split_error(last_error: str | None) -> tuple[str | None, str]:
    """(reason code, technical text) of a stored `last_error`; (None, "") when there is none."""
    text = (last_error or "").strip()
    if not text:
        return None, ""
    match = _CODE.match(text)
    if match:
        return match.group(1), text[match.end():]
    for words, code in _OLD_WORDING:
        if words in text:
            return code, text
    return OTHER, text


def reason_text(code: str | None) -> str | None:
    """The reason in words, in the reader's language."""
    if code is None:
        return None
    texts = {
        UNREACHABLE: _("E-postservern svarar inte."),
        TIMEOUT: _("E-postservern svarade inte i tid."),
        AUTH: _("E-postservern nekade inloggningen."),
        RECIPIENT: _("Mottagarens adress godtogs inte av e-postservern."),
        SENDER: _("Avsändarens adress godtogs inte av e-postservern."),
        REFUSED: _("E-postservern tog inte emot meddelandet."),
        DISCONNECTED: _("E-postservern bröt förbindelsen mitt i utskicket."),
        TLS: _("Den krypterade förbindelsen till e-postservern kunde inte öppnas."),
        PARTLY_REFUSED: _("E-postservern godtog inte alla mottagare."),
        RESENT: _("Meddelandet skickades igen efter ett avbrott och kan ha kommit fram två gånger."),
        UTF8: _("E-postservern kan inte skicka till adresser med å, ä, ö eller andra specialtecken före @."),
        UTF8_PARTLY: _("E-postservern kan inte skicka till adresser med å, ä, ö eller andra specialtecken före @: "
                       "de mottagarna fick inget meddelande, men alla andra fick det."),
    }
    return texts.get(code, _("Utskicket misslyckades av ett tekniskt fel."))


def _advice(code: str | None) -> str:
    """What the user can do about a mail that could not be sent."""
    if code == UTF8:
        return _("Be om en e-postadress utan å, ä och ö, eller be den som sköter e-postservern att slå på stöd "
                 "för internationella e-postadresser.")
    if code == RECIPIENT:
        return _("Kontrollera mottagarens e-postadress och välj sedan ”Försök igen” i utkorgen.")
    if code in (AUTH, TLS, SENDER):
        return _("Be den som sköter e-postservern se över inställningarna och välj sedan ”Försök igen” i utkorgen.")
    return _("Välj ”Försök igen” i utkorgen när e-postservern fungerar igen.")


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


def local_time(dt: datetime, now: datetime | None = None) -> str:
    """A moment in Swedish time, in words: "kl. 14.05", with the date when it is not today."""
    local = _aware(dt).astimezone(TZ)
    today = (_aware(now) or datetime.now(timezone.utc)).astimezone(TZ).date()
    clock = local.strftime("%H.%M" if locale().startswith("sv") else "%H:%M")
    if local.date() == today:
        return _("kl. %(time)s", time=clock)
    return _("den %(date)s kl. %(time)s", date=local.date().isoformat(), time=clock)


@dataclass
class MailStatus:
    state: str               # SENT, WAITING or FAILED
    label: str               # "skickad", "väntar i utkorgen", "kunde inte skickas"
    text: str                # the whole status in one or more sentences
    reason: str | None       # the last problem in words, if any
    retry_at: datetime | None  # when the outbox tries again (waiting after a failed attempt)
    technical: str           # the stored technical text, for "Tekniska detaljer"
    badge: str               # CSS class of the status badge

    @property
    def sent(self) -> bool:
        return self.state == SENT


def label(state: str) -> str:
    """The status word of a message status (pending, sending, sent, failed) or of WAITING."""
    if state == SENT:
        return _("skickad")
    if state == FAILED:
        return _("kunde inte skickas")
    return _("väntar i utkorgen")


def mail_status(message, now: datetime | None = None) -> MailStatus:
    """The status of one outbox message (an OutboxMessage or anything with its fields) in words."""
    code, technical = split_error(message.last_error)
    reason = reason_text(code)
    if message.status == SENT:
        text = _("Skickad %(when)s.", when=local_time(message.sent_at, now)) if message.sent_at else _("Skickad.")
        return MailStatus(SENT, label(SENT), f"{text} {reason}" if reason else text, reason, None, technical,
                          "badge-ok")
    if message.status == FAILED:
        text = " ".join(p for p in (_("Kunde inte skickas."), reason, _advice(code)) if p)
        return MailStatus(FAILED, label(FAILED), text, reason, None, technical, "badge-error")
    # Pending or being sent: still in the outbox.
    parts = [_("Väntar i utkorgen.")]
    retry_at = None
    if message.status == SENDING:
        parts.append(_("Skickas just nu."))
    elif (message.attempts or 0) > 0:
        retry_at = _aware(message.next_attempt_at)
        if reason:
            parts.append(reason)
        parts.append(_("Utskicket görs om automatiskt %(when)s.", when=local_time(retry_at, now)))
    return MailStatus(WAITING, label(WAITING), " ".join(parts), reason, retry_at, technical, "badge-warn")


def invitation_status(messages, now: datetime | None = None) -> str | None:
    """A visit's or an event's calendar mail in one sentence, from its outbox messages (any order).

    "Inbjudan väntar i utkorgen." until the newest invitation is delivered, "Inbjudan har skickats." or
    "Inbjudan har skickats 2 gånger; den senaste ändringen har skickats." after, "… kunde inte skickas"
    with the reason; the same for a cancellation. None when nothing has been written to the outbox."""
    calendar = [m for m in messages if m.kind in ("request", "cancel")]
    if not calendar:
        return None
    newest = max(calendar, key=lambda m: (_aware(m.created_at) or datetime.min.replace(tzinfo=timezone.utc), m.id))
    status = mail_status(newest, now)
    cancel = newest.kind == "cancel"
    if status.state == SENT:
        if cancel:
            return _("Återbudet har skickats.")
        delivered = sum(1 for m in calendar if m.kind == "request" and m.status == SENT)
        if delivered > 1:
            return _("Inbjudan har skickats %(n)d gånger; den senaste ändringen har skickats.", n=delivered)
        return _("Inbjudan har skickats.")
    if status.state == FAILED:
        lead = _("Återbudet kunde inte skickas.") if cancel else _("Inbjudan kunde inte skickas.")
        return " ".join(p for p in (lead, status.reason, _advice(split_error(newest.last_error)[0])) if p)
    parts = [_("Återbudet väntar i utkorgen.") if cancel else _("Inbjudan väntar i utkorgen.")]
    if status.retry_at is not None:
        parts += [status.reason, _("Utskicket görs om automatiskt %(when)s.", when=local_time(status.retry_at, now))]
    return " ".join(p for p in parts if p)
