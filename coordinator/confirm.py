"""Confirmation steps: an action that cannot be undone is said in plain words before it is done.

The button that used to act on one click is now a link (a GET) to a page that names the action,
says what will happen and what cannot be undone, and has one button that does it and an "Avbryt"
link back. Only a POST that carries `confirmed=1` from that page acts; a POST without it (an old
page, a form whose fields are checked first) shows the same page instead. Nothing here needs
JavaScript, and showing the page changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from flask import render_template, request

CONFIRMED = "confirmed"


def confirmed() -> bool:
    """True for the POST sent from a confirmation page."""
    return request.method == "POST" and request.form.get(CONFIRMED) == "1"


@dataclass
class Confirmation:
    """What the generic confirmation page (templates/confirm.html) shows."""
    heading: str                       # the h1: names the action and what it acts on
    action: str                        # where the button posts
    button: str                        # the button's words: the action itself ("Ta bort målet")
    back: str                          # where "Avbryt" leads, changing nothing
    happens: Sequence[str]             # what will happen, one sentence each, with names and counts
    cannot_undo: str | None = None     # what cannot be undone afterwards
    facts: Sequence[tuple[str, str]] = ()        # what the action concerns (term, value)
    hidden: Mapping[str, Any] = field(default_factory=dict)  # the object's version and the like
    danger: bool = True                # a red button for what removes or stops something
    errors: Sequence[str] = ()         # why it cannot be done now: shown instead of the button


def page(c: Confirmation, status: int = 200):
    """The confirmation page of `c` (a view's return value)."""
    return render_template("confirm.html", c=c), status
