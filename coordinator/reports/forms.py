"""Forms of the report workflow: a narrative section's text, restoring a revision, issuing a version;
and the log of avstämningar with the minister with their actions.

The narrative form carries the `version` it was based on (0 before the first save); the issue form
carries the version number it offered to issue, so a second click or a colleague's issue in
between is refused instead of issuing twice. Fields keep what the user typed on an error.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..forms import FlaskForm, parse_id
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..scheduling.settings_forms import SvDateField
from ..tasks.service import TEXT_MAX as ACTION_TEXT_MAX
from .avstamningar import TEXT_MAX as AVSTAMNING_TEXT_MAX
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


# --------------------------------------------------------------------------- avstämningar and their actions

LINE_MAX = 300


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _no_nul(form, field) -> None:
    if isinstance(field.data, str) and "\x00" in field.data:
        raise ValidationError(_l("Texten innehåller otillåtna tecken."))


def _one_line(form, field) -> None:
    if isinstance(field.data, str) and ("\n" in field.data or "\r" in field.data):
        raise ValidationError(_l("Skriv på en rad."))


class IdSelectField(SelectField):
    """A select of ids whose choices are set by the view; what was sent is checked against them in
    words (never WTForms' English "Not a valid choice"). "" is no choice: `data` None."""

    def __init__(self, *args, invalid=None, **kwargs):
        super().__init__(*args, coerce=str, validate_choice=False, **kwargs)
        self.invalid = invalid

    @property
    def id_value(self) -> int | None:
        return parse_id(self.data)

    def pre_validate(self, form) -> None:
        value = (self.data or "").strip()
        if value and value not in {str(v) for v, _label in self.choices}:
            raise ValidationError(self.invalid)


class AvstamningForm(FlaskForm):
    version = HiddenField()
    held_on = SvDateField(_l("Datum"), validators=[InputRequired(_l("Ange datumet (ÅÅÅÅ-MM-DD)."))],
                          render_kw={"autocomplete": "off"})
    attendees = TextAreaField(_l("Vilka deltog"), filters=[_strip], validators=[
        Optional(), _no_nul, Length(max=AVSTAMNING_TEXT_MAX, message=_l("Högst %(max)d tecken."))],
        render_kw={"rows": 3})
    report_id = IdSelectField(_l("Rapport som diskuterades"),
                              invalid=_l("Välj en av de utfärdade rapporterna, eller ingen."))
    feedback = TextAreaField(_l("Statsrådets återkoppling"), filters=[_strip], validators=[
        Optional(), _no_nul, Length(max=AVSTAMNING_TEXT_MAX, message=_l("Högst %(max)d tecken."))],
        render_kw={"rows": 6})
    decisions = TextAreaField(_l("Beslut"), filters=[_strip], validators=[
        Optional(), _no_nul, Length(max=AVSTAMNING_TEXT_MAX, message=_l("Högst %(max)d tecken."))],
        render_kw={"rows": 4})

    def values(self) -> dict:
        return {"held_on": self.held_on.data, "attendees": self.attendees.data or "",
                "report_id": self.report_id.id_value, "feedback": self.feedback.data or "",
                "decisions": self.decisions.data or ""}


class ActionForm(FlaskForm):
    """An action after an avstämning (a task): what, who, by when, and, once done, what came of it."""
    version = HiddenField()
    title = StringField(_l("Åtgärd"), filters=[_strip], validators=[
        DataRequired(_l("Skriv vad som ska göras.")), _no_nul, _one_line,
        Length(max=LINE_MAX, message=_l("Högst %(max)d tecken."))])
    owner_id = IdSelectField(_l("Ansvarig"), validators=[DataRequired(_l("Välj vem som är ansvarig."))],
                             invalid=_l("Välj en av kansliets aktiva användare."))
    due_date = SvDateField(_l("Klar senast"), validators=[InputRequired(_l("Ange ett datum (ÅÅÅÅ-MM-DD)."))],
                           render_kw={"autocomplete": "off"})
    details = TextAreaField(_l("Beskrivning"), filters=[_strip], validators=[
        Optional(), _no_nul, Length(max=ACTION_TEXT_MAX, message=_l("Högst %(max)d tecken."))],
        render_kw={"rows": 3})
    outcome = TextAreaField(_l("Utfall"), filters=[_strip], validators=[
        Optional(), _no_nul, Length(max=ACTION_TEXT_MAX, message=_l("Högst %(max)d tecken."))],
        render_kw={"rows": 3})

    def values(self, with_outcome: bool = False) -> dict:
        out = {"title": self.title.data, "owner_id": self.owner_id.id_value, "due_date": self.due_date.data,
               "details": self.details.data or ""}
        if with_outcome:
            out["outcome"] = self.outcome.data or ""
        return out


class OutcomeForm(FlaskForm):
    """Close an action: what came of it (the next report lists it)."""
    version = HiddenField(validators=[DataRequired()])
    outcome = TextAreaField(_l("Utfall"), filters=[_strip], validators=[
        DataRequired(_l("Skriv vad som blev gjort eller vad det ledde till.")), _no_nul,
        Length(max=ACTION_TEXT_MAX, message=_l("Högst %(max)d tecken."))], render_kw={"rows": 4})
