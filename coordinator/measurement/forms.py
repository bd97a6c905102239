"""Forms of the measurement: questionnaires and questions (staff), sending, links, reminders, and
the kommun's answer form (whose questions are read by service.read_sheet, not by WTForms).

Forms that change something carry the `version` they were based on; fields keep what the user
typed when a form comes back with an error or a conflict.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..forms import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..plans.forms import MoveForm, VersionForm  # noqa: F401  (the same buttons: remove, move, lock)
from ..scheduling.settings_forms import SvDateField
from .models import MANY, NUMBER, ONE, OTHER_OPTION, STANDARD_OPTIONS, TEXT

KIND_LABELS = {
    ONE: _l("Ett svar"),
    MANY: _l("Flera svar"),
    NUMBER: _l("Tal"),
    TEXT: _l("Fritext"),
}
ROUND_LABELS = {"": _l("Båda omgångarna"), "1": _l("Omgång 1"), "2": _l("Omgång 2")}
RULE_NEXT = ""  # the select's value for "no rule: the next question"


def _round(value):
    return int(value) if value not in (None, "", "None") else None


class QuestionnaireForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("Namn"), validators=[DataRequired(_l("Ge enkäten ett namn.")), Length(max=200)])
    intro = TextAreaField(_l("Inledning till kommunen"), validators=[Optional(), Length(max=5000)])
    round = SelectField(_l("Omgång"), choices=list(ROUND_LABELS.items()), default="")

    def values(self) -> dict:
        return {"name": self.name.data.strip(), "intro": (self.intro.data or "").strip(),
                "round": _round(self.round.data)}


class QuestionForm(FlaskForm):
    """A question. Skip rules are read apart (rule_<n> per saved option): see read_rules."""
    version = HiddenField(validators=[InputRequired()])
    text = TextAreaField(_l("Frågan"), validators=[DataRequired(_l("Skriv frågan.")), Length(max=2000)])
    help = TextAreaField(_l("Hjälptext"), validators=[Optional(), Length(max=2000)])
    kind = SelectField(_l("Typ av svar"), choices=list(KIND_LABELS.items()), default=ONE)
    options = TextAreaField(_l("Svarsalternativ, ett per rad"), validators=[Optional(), Length(max=5000)],
                            default="\n".join(STANDARD_OPTIONS))
    other_option = BooleanField(_l("Lägg till ”Annat, ange” med en textruta"))
    comment = BooleanField(_l("Lägg till en kommentarsruta"))
    required = BooleanField(_l("Svaret är obligatoriskt"))

    def option_list(self) -> list[str]:
        return [line.strip() for line in (self.options.data or "").splitlines() if line.strip()]

    def validate_options(self, field):
        if self.kind.data not in (ONE, MANY):
            return
        options = self.option_list()
        if len(options) < 2:
            raise ValidationError(_l("Skriv minst två svarsalternativ, ett per rad."))
        if len(set(options)) != len(options):
            raise ValidationError(_l("Samma svarsalternativ står två gånger."))
        if OTHER_OPTION in options:
            raise ValidationError(_l("Skriv inte ”Annat, ange” bland alternativen: kryssa i rutan nedan i stället."))
        if any(len(o) > 200 for o in options):
            raise ValidationError(_l("Ett svarsalternativ får vara högst 200 tecken."))

    def values(self, skip_rules: dict[str, int] | None = None) -> dict:
        return {"text": self.text.data.strip(), "help": (self.help.data or "").strip(), "kind": self.kind.data,
                "options": self.option_list(), "other_option": bool(self.other_option.data),
                "comment": bool(self.comment.data), "required": bool(self.required.data),
                "skip_rules": skip_rules or {}}


def read_rules(formdata, options: list[str]) -> tuple[dict[str, int], list[str]]:
    """The skip rules posted beside a question: one select per saved option, rule_<n> = target
    position or "" (the next question). Returns ({option: position}, options whose rule was
    dropped because the option is gone)."""
    out, dropped = {}, []
    n = 0
    while f"rule_{n}_option" in formdata:
        option = formdata.get(f"rule_{n}_option", "")
        target = (formdata.get(f"rule_{n}") or RULE_NEXT).strip()
        n += 1
        if target == RULE_NEXT:
            continue
        if not target.isdigit():
            continue
        if option in options:
            out[option] = int(target)
        else:
            dropped.append(option)
    return out, dropped


class SendForm(FlaskForm):
    """Send (or create) the links of a round, or of one site."""
    questionnaire = SelectField(_l("Enkät"), coerce=int, validate_choice=True,
                                validators=[InputRequired(_l("Välj en enkät."))])
    last_day = SvDateField(_l("Sista svarsdag"), validators=[Optional()], render_kw={"autocomplete": "off"})


class LastDayForm(FlaskForm):
    last_day = SvDateField(_l("Sista svarsdag"), validators=[InputRequired(_l("Ange ett datum (ÅÅÅÅ-MM-DD)."))],
                           render_kw={"autocomplete": "off"})


class RemindForm(FlaskForm):
    days = IntegerField(_l("Besök inom så många dagar"), default=7,
                        validators=[InputRequired(_l("Ange ett antal dagar.")),
                                    NumberRange(1, 90, _l("Ange mellan 1 och 90 dagar."))])


class AnswerForm(FlaskForm):
    """The kommun's form: the CSRF token and the request's version; the answers are read apart."""
    version = HiddenField(validators=[InputRequired()])
