"""The services' gettext: `_` (and `ngettext` for plural agreement) translates into the request's language
(Swedish source strings).

Outside a request (the CLI writing a PDF, a cron job) there is no user language: the Swedish
source string is the text, so the same code serves pages, PDFs and commands.
"""
from __future__ import annotations

from flask import has_request_context


def _(s: str, **kw) -> str:
    if has_request_context():
        from flask_babel import gettext
        return gettext(s, **kw)
    return s % kw if kw else s


def ngettext(singular: str, plural: str, n: int, **kw) -> str:
    """The singular or the plural form by n, in the request's language, as `_`: "1 aktivitet", "2 aktiviteter".

    `num` is n unless given (as in flask_babel)."""
    if has_request_context():
        from flask_babel import ngettext as _ngettext
        return _ngettext(singular, plural, n, **kw)  # flask_babel sets num itself
    kw.setdefault("num", n)
    return (singular if n == 1 else plural) % kw


def locale() -> str:
    """The request's language code, "sv" outside a request."""
    if has_request_context():
        from flask_babel import get_locale
        return str(get_locale() or "sv")
    return "sv"
