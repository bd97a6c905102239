"""Forms of the action plans: the plan, goals, activities, follow-up, links and the kommun's report.

Every form that changes something carries the `version` it was based on (the plan's for the
plan's text and its goals, the activity's for an activity). Fields keep what the user typed
when a form comes back with an error or a conflict.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..forms import FlaskForm, SubForm
from markupsafe import Markup
from wtforms import (BooleanField, Field, FieldList, FormField, HiddenField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import Select, html_params

from ..scheduling.settings_forms import SvDateField
from .models import ACTIVITY_STATUSES, AVBRUTEN, EJ_PABORJAD, GENOMFORD, PAGAR

STATUS_LABELS = {
    EJ_PABORJAD: _l("Ej påbörjad"),
    PAGAR: _l("Pågår"),
    GENOMFORD: _l("Genomförd"),
    AVBRUTEN: _l("Avbruten"),
}
STATUS_CHOICES = [(s, STATUS_LABELS[s]) for s in ACTIVITY_STATUSES]
TEXT_MAX = 20_000


class GroupedSelect:
    """A <select> with an empty first option and the choices in <optgroup>s (no JavaScript)."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        html = [f"<select {html_params(name=field.name, **kwargs)}>",
                Select.render_option("", field.blank_label, field.data is None)]
        for group, choices in field.groups:
            html.append(f"<optgroup {html_params(label=group)}>")
            for value, label in choices:
                html.append(Select.render_option(value, label, field.data == value))
            html.append("</optgroup>")
        html.append("</select>")
        return Markup("".join(html))


class ThemeField(Field):
    """The goal area: a theme of the dialogue codebook, or none. `groups` is set by the view."""
    widget = GroupedSelect()

    def __init__(self, label=None, validators=None, blank_label=_l("– inget målområde –"), **kwargs):
        super().__init__(label, validators, **kwargs)
        self.blank_label = blank_label
        self.groups: list[tuple[str, list[tuple[int, str]]]] = []

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            self.data = None
            return
        try:
            self.data = int(text)
        except ValueError:
            self.data = None
            raise ValueError(_l("Välj ett målområde i listan.")) from None

    def pre_validate(self, form):
        if self.data is not None and self.data not in {value for _group, choices in self.groups for value, _label in choices}:
            raise ValidationError(_l("Välj ett målområde i listan."))

    def _value(self):
        return "" if self.data is None else str(self.data)


class PlanForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])
    challenges = TextAreaField(_l("Beskrivning av utmaningarna"), validators=[Optional(), Length(max=TEXT_MAX)])


class GoalForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])
    title = StringField(_l("Utvecklingsmål"), validators=[DataRequired(_l("Skriv målet.")), Length(max=300)])
    description = TextAreaField(_l("Beskrivning"), validators=[Optional(), Length(max=TEXT_MAX)])
    theme = ThemeField(_l("Målområde"))


class ActivityForm(FlaskForm):
    """A new activity (version empty) or an edit of one (version required by the view)."""
    version = HiddenField()
    description = TextAreaField(_l("Aktivitet"), validators=[DataRequired(_l("Beskriv aktiviteten.")),
                                                              Length(max=5000)])
    responsible = StringField(_l("Ansvarig"), validators=[Optional(), Length(max=200)])
    decided = BooleanField(_l("Aktiviteten är beslutad"))
    depends_on_decision = BooleanField(_l("Beroende av beslut"))
    depends_on_resources = BooleanField(_l("Beroende av resurser"))
    due_date = SvDateField(_l("Klart senast"), validators=[Optional()], render_kw={"autocomplete": "off"})
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, default=EJ_PABORJAD)
    comment = TextAreaField(_l("Kommentar"), validators=[Optional(), Length(max=5000)])

    def values(self) -> dict:
        return {"description": self.description.data or "", "responsible": self.responsible.data or "",
                "decided": bool(self.decided.data), "depends_on_decision": bool(self.depends_on_decision.data),
                "depends_on_resources": bool(self.depends_on_resources.data), "due_date": self.due_date.data,
                "status": self.status.data, "comment": self.comment.data or ""}


class VersionForm(FlaskForm):
    """A button that changes something: remove, move, revoke. Carries the version it was based on."""
    version = HiddenField()


class MoveForm(VersionForm):
    direction = HiddenField(validators=[DataRequired()])


class RemoveForm(VersionForm):
    """Removing a goal or an activity, from its confirmation page (the fields carry the prefix "ta-bort")."""


class LinkForm(FlaskForm):
    valid_through = SvDateField(_l("Giltig till och med"),
                                validators=[InputRequired(_l("Ange ett datum (ÅÅÅÅ-MM-DD)."))],
                                render_kw={"autocomplete": "off"})


class SituationForm(SubForm):
    goal_id = HiddenField()
    situation = TextAreaField(_l("Läget"), validators=[Optional(), Length(max=TEXT_MAX)])


class FollowupForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])
    situations = FieldList(FormField(SituationForm))
    followup_summary = TextAreaField(_l("Sammanfattning av uppföljningen"),
                                     validators=[Optional(), Length(max=TEXT_MAX)])
    most_urgent = TextAreaField(_l("Det mest angelägna härnäst"), validators=[Optional(), Length(max=TEXT_MAX)])


class KommunReportForm(FlaskForm):
    """The kommun's report on one activity (a prefix per activity keeps the ids unique on the page)."""
    version = HiddenField(validators=[InputRequired()])
    status = SelectField(_l("Status"), choices=STATUS_CHOICES)
    kommun_comment = TextAreaField(_l("Kommunens kommentar"), validators=[Optional(), Length(max=5000)])
