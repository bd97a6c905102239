"""Stale-form refusal shared by the services that version their records (plans, questionnaires, events).

A form carries the version of the record it was opened on; a save based on another version is
refused before anything changes. Each service raises its own StaleError (its views catch that one, to show the
form again beside what is saved now); every one of them is also a Stale, which the app's error handler turns into
the 409 page when a view does not catch it."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .i18n import _

# The words under a refused stale save's comparison table, the same on every page that shows one.
CONFLICT_TEXT = _l("Någon annan sparade en ändring efter att du öppnade sidan, så det du skickade har inte sparats "
                   "och ingenting har skrivits över. Det du skrev står kvar i formuläret; tabellen visar det mot det "
                   "som är sparat nu. Spara igen om ditt ska gälla.")


class Stale(Exception):
    """A save based on a version the record no longer has: nothing was changed."""


def check_version(expected: int | str | None, actual: int, error_cls: type[Exception]) -> None:
    """Raise `error_cls` unless `expected` (as the form sent it) is `actual`."""
    if expected is None or str(expected).strip() != str(actual):
        raise error_cls(_("Någon annan har sparat en ändring sedan du öppnade sidan. Det du skickade har inte "
                          "sparats."))
