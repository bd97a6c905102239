"""Forms of the tasks: a task typed by hand (or edited), closing with an outcome, and confirmations."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from ..forms import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..scheduling.settings_forms import SvDateField
from .service import TEXT_MAX, TITLE_MAX

EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def _single_line(form, field):
    if field.data and ("\n" in field.data or "\r" in field.data):
        raise ValidationError(_l("Rubriken får bara vara en rad."))


def _no_nul(form, field):
    if field.data and "\x00" in field.data:
        raise ValidationError(_l("Texten innehåller otillåtna tecken."))


def _sane_date(form, field):
    if field.data is not None and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(_l("Ange ett datum mellan 2000-01-01 och 2099-12-31."))


class IdSelectField(SelectField):
    """A select of ids with an empty first choice ("" = none); anything not offered is refused in words."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=str, validate_choice=False, **kwargs)

    def pre_validate(self, form):
        if self.data and self.data not in {str(value) for value, _label in self.choices}:
            raise ValidationError(_l("Välj ett alternativ i listan."))

    @property
    def id_value(self) -> int | None:
        return int(self.data) if self.data else None


class TaskForm(FlaskForm):
    version = HiddenField()
    title = StringField(_l("Vad ska göras?"), validators=[DataRequired(_l("Skriv vad som ska göras.")),
                                                         Length(max=TITLE_MAX), _single_line, _no_nul])
    due_date = SvDateField(_l("Klart senast"), validators=[InputRequired(_l("Ange ett datum (ÅÅÅÅ-MM-DD).")),
                                                           _sane_date],
                           render_kw={"autocomplete": "off"})
    owner = IdSelectField(_l("Ansvarig"))
    site = IdSelectField(_l("Gäller besöksplats"))
    details = TextAreaField(_l("Beskrivning"), validators=[Optional(), Length(max=TEXT_MAX), _no_nul])


class DoneForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])
    outcome = TextAreaField(_l("Vad blev resultatet?"), validators=[Optional(), Length(max=TEXT_MAX), _no_nul])


class VersionForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])
