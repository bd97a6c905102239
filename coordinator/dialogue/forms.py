"""Forms of the note pages.

The note editor posts the whole note at once. Its passages are plain fields named
`<section>.<index>.<field>` (e.g. `fraga-1.0.text`, `fack.2.themes`), read by
`content_from_form` into the content dict of notes.py; the FlaskForm part carries the CSRF
token and the note `version` the form is based on (optimistic locking).
"""
from __future__ import annotations

from typing import Any

from ..forms import FlaskForm, parse_id
from wtforms import HiddenField

from .models import FLAGS, QUOTE_REASONS

PASSAGE_FIELDS = ("id", "text", "themes", *FLAGS, "quote_reason", "attribution_cleared", "remove")


class NoteForm(FlaskForm):
    """The note editor: the passages are read by content_from_form."""
    version = HiddenField()


class VersionForm(FlaskForm):
    """A button that acts on the note as the user saw it: restore a revision, discard a draft."""
    version = HiddenField()


def field_name(section: str, index: int, name: str) -> str:
    return f"{section}.{index}.{name}"


def field_id(section: str, index: int, name: str) -> str:
    return f"p-{section}-{index}-{name}"


def parse_version(raw: str | None) -> int | None:
    return parse_id(raw)


def content_from_form(formdata) -> dict[str, Any]:
    """The note as typed: {"sections": {key: [passage, ...]}} in form order (notes.py normalises it)."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for key in formdata.keys():
        parts = key.split(".")
        if len(parts) != 3 or parse_id(parts[1]) is None or parts[2] not in PASSAGE_FIELDS:
            continue
        section, index, name = parts[0], int(parts[1]), parts[2]
        passage = found.setdefault((section, index), {})
        if name == "themes":
            passage["themes"] = formdata.getlist(key)
        elif name in FLAGS or name in ("attribution_cleared", "remove"):
            passage[name] = formdata.get(key) not in (None, "", "0", "false")
        elif name == "quote_reason":
            value = formdata.get(key)
            passage[name] = value if value in QUOTE_REASONS else None
        else:
            passage[name] = formdata.get(key)
    sections: dict[str, list] = {}
    for (section, _index), passage in sorted(found.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        sections.setdefault(section, []).append(passage)
    return {"version": parse_version(formdata.get("version")), "sections": sections}
