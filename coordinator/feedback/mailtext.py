"""The mail that announces a feedback letter to the kommun. Pure (no Flask, no database).

Always Swedish (the recipients are Swedish kommuner), plain text and HTML, stored in the outbox
like the measurement's mails and delivered by `coordinator outbox send`. The letter itself is not
in the mail: the mail carries the kommun's own link, where the letter is read and downloaded.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage

from ..formatting import swedish_date
from ..outbox import letters


@dataclass(frozen=True)
class Mail:
    site: str
    round: int
    url: str
    last_day: date
    organizer_name: str
    organizer_email: str


def subject(m: Mail) -> str:
    return f"Återkoppling efter besöket – {m.site}"


def _paragraphs(m: Mail) -> list[str]:
    which = "första" if m.round == 1 else "andra"
    return [
        f"Tack för att ni tog emot den nationella samordnaren vid det {which} besöket i {m.site}. "
        "Här är vår återkoppling: vad vi samtalade om, er handlingsplan och hur era svar på mätningen "
        "förhåller sig till andra kommuner.",
        "Läs brevet med länken nedan. Där kan ni också ladda ner det som PDF eller Word-fil.",
        f"Länken är personlig för er kommun och fungerar till och med {swedish_date(m.last_day)}.",
    ]


def plain_body(m: Mail) -> str:
    p = _paragraphs(m)
    lines = ["Hej,", "", p[0], "", p[1], "", m.url, "", p[2], "", "Med vänliga hälsningar", m.organizer_name,
             m.organizer_email, ""]
    return "\n".join(lines)


def html_body(m: Mail) -> str:
    e = html.escape
    p = _paragraphs(m)
    return "\n".join([
        '<!doctype html>\n<html lang="sv">\n<head><meta charset="utf-8">'
        f"<title>{e(subject(m))}</title></head>\n<body>", "<p>Hej,</p>", f"<p>{e(p[0])}</p>", f"<p>{e(p[1])}</p>",
        f'<p><a href="{e(m.url)}">{e(m.url)}</a></p>', f"<p>{e(p[2])}</p>",
        f"<p>Med vänliga hälsningar<br>\n{e(m.organizer_name)}<br>\n{e(m.organizer_email)}</p>",
        "</body>\n</html>\n"])


def build_message(m: Mail, recipients: list[tuple[str, str]], now: datetime | None = None) -> EmailMessage:
    return letters.letter(subject(m), (m.organizer_name, m.organizer_email), recipients, plain_body(m), html_body(m),
                       now)
