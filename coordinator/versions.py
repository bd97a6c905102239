"""Stale-form refusal shared by the services that version their records (plans, questionnaires, events).

A form carries the version of the record it was opened on; a save based on another version is
refused before anything changes. Each service raises its own StaleError (its views catch that one)."""
from __future__ import annotations

from .i18n import _


def check_version(expected: int | str | None, actual: int, error_cls: type[Exception]) -> None:
    """Raise `error_cls` unless `expected` (as the form sent it) is `actual`."""
    if expected is None or str(expected).strip() != str(actual):
        raise error_cls(_("Någon annan har sparat en ändring sedan du öppnade sidan. Det du skickade har inte "
                          "sparats."))
