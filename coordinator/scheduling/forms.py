"""Forms of the visits' pages: planning, the life-cycle actions and the programme.

Every form that changes a visit carries the visit's `version` (optimistic locking): a form
loaded before someone else's change is refused and nothing is overwritten.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..forms import FlaskForm, SubForm
from wtforms import BooleanField, FieldList, FormField, HiddenField, SelectField, SelectMultipleField, \
    StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .models import PART_KINDS
from .settings_forms import SvDateField, SvTimeField

ROUND_CHOICES = (("1", _l("Omgång 1")), ("2", _l("Omgång 2")), ("alla", _l("Båda omgångarna")))
PART_KIND_LABELS = {
    "ledning": _l("Dialog med ledningen"),
    "fack": _l("Dialog med fackliga företrädare"),
    "barn": _l("Samtal med barn och vårdnadshavare"),
    "annat": _l("Annat"),
}


class PlanForm(FlaskForm):
    omgang = SelectField(_l("Omgång"), choices=ROUND_CHOICES, default="1")


class SavePlanForm(FlaskForm):
    omgang = HiddenField(validators=[DataRequired()])
    fingerprint = HiddenField()


class VersionForm(FlaskForm):
    """Invite, confirm, mark as done, send the programme again: a button and the version."""
    version = HiddenField(validators=[DataRequired()])


class MoveForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    date = SvDateField(_l("Datum"), validators=[InputRequired(_l("Ange ett datum (ÅÅÅÅ-MM-DD)."))],
                       render_kw={"autocomplete": "off"})
    start = SvTimeField(_l("Starttid"), validators=[InputRequired(_l("Ange en starttid (TT:MM)."))])
    end = SvTimeField(_l("Sluttid"), validators=[InputRequired(_l("Ange en sluttid (TT:MM)."))])
    location = StringField(_l("Plats"), validators=[Optional(), Length(max=300)])
    confirmed = HiddenField(default="")

    def validate_end(self, field):
        if field.data and self.start.data and field.data <= self.start.data:
            raise ValidationError(_l("Sluttiden måste vara efter starttiden."))


class CancelForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Skäl (valfritt, sparas i loggen)"), validators=[Optional(), Length(max=1000)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PartForm(SubForm):
    """One part of the programme (a sub-form: the outer form has the CSRF token)."""
    id = HiddenField()
    title = StringField(_l("Rubrik"), validators=[DataRequired(_l("Ange en rubrik för programpunkten.")),
                                                  Length(max=200)])
    kind = SelectField(_l("Typ"), choices=[(k, v) for k, v in PART_KIND_LABELS.items()])
    start = SvTimeField(_l("Från"), validators=[Optional()])
    end = SvTimeField(_l("Till"), validators=[Optional()])
    contacts = MultiCheckboxField(_l("Inbjudna kontakter"), coerce=int, validate_choice=False)
    remove = BooleanField(_l("Ta bort programpunkten"))

    def validate_end(self, field):
        if field.data and self.start.data and field.data <= self.start.data:
            raise ValidationError(_l("Sluttiden måste vara efter starttiden."))


class NewPartForm(SubForm):
    title = StringField(_l("Rubrik"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Typ"), choices=[(k, v) for k, v in PART_KIND_LABELS.items()], default="annat")
    start = SvTimeField(_l("Från"), validators=[Optional()])
    end = SvTimeField(_l("Till"), validators=[Optional()])

    def validate_end(self, field):
        if field.data and self.start.data and field.data <= self.start.data:
            raise ValidationError(_l("Sluttiden måste vara efter starttiden."))


class ProgrammeForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    parts = FieldList(FormField(PartForm))
    new = FormField(NewPartForm)


assert set(PART_KIND_LABELS) == set(PART_KINDS)
