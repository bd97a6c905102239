"""Forms of the report workflow: a narrative section's text, restoring a revision, issuing a version.

The narrative form carries the `version` it was based on (0 before the first save); the issue form
carries the version number it offered to issue, so a second click or a colleague's issue in
between is refused instead of issuing twice. Fields keep what the user typed on an error.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from .service import TEXT_MAX

COMMENT_MAX = 2_000


class NarrativeForm(FlaskForm):
    """One section's text. The draft page shows one per section, so each gets the section as prefix."""
    version = HiddenField()
    text = TextAreaField(validators=[Length(max=TEXT_MAX, message=_l("Texten får vara högst %(max)d tecken."))],
                         render_kw={"rows": 8})


class VersionForm(FlaskForm):
    """Restore a revision: only the narrative's version it was shown with."""
    version = HiddenField()


class IssueForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    comment = TextAreaField(
        _l("Vad är nytt i den här versionen?"),
        validators=[DataRequired(_l("Skriv vad som är nytt eller ändrat, till exempel ”Första versionen”.")),
                    Length(max=COMMENT_MAX, message=_l("Kommentaren får vara högst %(max)d tecken."))],
        render_kw={"rows": 3})
