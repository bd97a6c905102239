"""The services' gettext: `_` translates into the request's language (Swedish source strings)."""
from __future__ import annotations

from flask_babel import gettext


def _(s: str, **kw) -> str:
    return gettext(s, **kw)
