"""Forms of the event pages and the organisation register.

Every form that changes something carries the `version` it was based on (the event's or the
organisation's). Fields keep what the user typed when a form comes back with an error or a conflict.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from ..forms import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..contacts.service import utf8_message, utf8_refused, valid_email
from ..scheduling.forms import MultiCheckboxField
from ..scheduling.settings_forms import SvDateField, SvTimeField
from .models import EVENT_KINDS, EVENT_STATUSES, GENOMFORT, INSTALLT, ORGANISATION_KINDS, PLANERAT

KIND_LABELS = {
    "nationell_dialog": _l("Nationell dialog"),
    "hearing": _l("Hearing"),
    "rundabord": _l("Rundabordssamtal"),
    "konferens": _l("Konferens"),
    "samrad": _l("Samråd"),
    "utforskande_dialog": _l("Utforskande dialog med en kommun"),
}
STATUS_LABELS = {PLANERAT: _l("planerat"), GENOMFORT: _l("genomfört"), INSTALLT: _l("inställt")}
ORGANISATION_KIND_LABELS = {
    "myndighet": _l("Myndighet"),
    "forening": _l("Förening"),
    "fackforbund": _l("Fackförbund"),
    "forskning": _l("Forskning"),
    "kommunal": _l("Kommunal organisation"),
    "annan": _l("Annan"),
}
assert set(KIND_LABELS) == set(EVENT_KINDS) and set(STATUS_LABELS) == set(EVENT_STATUSES)
assert set(ORGANISATION_KIND_LABELS) == set(ORGANISATION_KINDS)
TEXT_MAX = 20_000


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _check_email(field) -> None:
    if field.data and not valid_email(field.data):
        raise ValidationError(_("Ange en giltig e-postadress, till exempel namn@myndighet.se."))
    if field.data and utf8_refused(field.data):
        raise ValidationError(utf8_message())


class EventForm(FlaskForm):
    version = HiddenField()
    kind = SelectField(_l("Slag"), choices=[(k, v) for k, v in KIND_LABELS.items()],
                       validators=[DataRequired(_l("Välj ett slag av dialogforum."))])
    title = StringField(_l("Rubrik"), filters=[_strip], validators=[
        DataRequired(_l("Ange en rubrik.")), Length(max=300, message=_l("Högst %(max)d tecken."))])
    date = SvDateField(_l("Datum"), validators=[InputRequired(_l("Ange ett datum (ÅÅÅÅ-MM-DD)."))],
                       render_kw={"autocomplete": "off"})
    start_time = SvTimeField(_l("Starttid"), validators=[InputRequired(_l("Ange en starttid (TT:MM)."))])
    end_time = SvTimeField(_l("Sluttid"), validators=[InputRequired(_l("Ange en sluttid (TT:MM)."))])
    place = StringField(_l("Plats"), filters=[_strip], validators=[
        Optional(), Length(max=300, message=_l("Högst %(max)d tecken."))])
    description = TextAreaField(_l("Beskrivning"), filters=[_strip], validators=[
        Optional(), Length(max=TEXT_MAX, message=_l("Högst %(max)d tecken."))])
    organisations = MultiCheckboxField(_l("Inbjudna organisationer"), coerce=int, validate_choice=False)

    def validate_end_time(self, field):
        if field.data and self.start_time.data and field.data <= self.start_time.data:
            raise ValidationError(_("Sluttiden måste vara efter starttiden."))

    def values(self) -> dict:
        return {"kind": self.kind.data, "title": self.title.data, "date": self.date.data,
                "start_time": self.start_time.data, "end_time": self.end_time.data,
                "place": self.place.data or "", "description": self.description.data or ""}


class AttendeeForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    name = StringField(_l("Namn"), filters=[_strip], validators=[
        DataRequired(_l("Ange namnet.")), Length(max=200, message=_l("Högst %(max)d tecken."))],
        render_kw={"autocomplete": "off"})
    email = StringField(_l("E-postadress"), filters=[_strip], validators=[DataRequired(_l("Ange e-postadressen."))],
                        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"})
    organisation = SelectField(_l("Organisation"), coerce=lambda v: int(v) if v not in (None, "", "None") else None,
                               validate_choice=False)

    def validate_email(self, field):
        _check_email(field)


class VersionForm(FlaskForm):
    """A button that acts on the event or organisation as the user saw it."""
    version = HiddenField(validators=[DataRequired()])


class CancelForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Skäl (valfritt, sparas i loggen)"), validators=[Optional(), Length(max=1000)])


class OrganisationForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("Namn"), filters=[_strip], validators=[
        DataRequired(_l("Ange organisationens namn.")), Length(max=200, message=_l("Högst %(max)d tecken."))])
    short_name = StringField(_l("Förkortning"), filters=[_strip], validators=[
        Optional(), Length(max=40, message=_l("Högst %(max)d tecken."))])
    kind = SelectField(_l("Typ"), choices=[(k, v) for k, v in ORGANISATION_KIND_LABELS.items()],
                       validators=[DataRequired(_l("Välj en typ."))])
    email = StringField(_l("E-postadress (registratur)"), filters=[_strip], validators=[
        Optional(), Length(max=200, message=_l("Högst %(max)d tecken."))],
        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"})

    def validate_email(self, field):
        _check_email(field)

    def values(self) -> dict:
        return {"name": self.name.data, "short_name": self.short_name.data or "", "kind": self.kind.data,
                "email": self.email.data or ""}
