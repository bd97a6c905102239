"""What the staff views' forms share."""
from __future__ import annotations

from flask import abort


def abort_if_bad_csrf(form) -> None:
    """A failed CSRF token is a bad request (400), not a field error to show on the form again.

    form.errors is keyed by unprefixed field names, so this holds for prefixed forms too."""
    if "csrf_token" in form.errors:
        abort(400)
