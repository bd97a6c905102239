from flask_babel import lazy_gettext as _l
from ..forms import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError


class DrawForm(FlaskForm):
    year = SelectField(_l("Referensår för befolkningen"), coerce=int)
    seed = IntegerField(_l("Slumpfrö"), validators=[Optional(), NumberRange(min=0, max=2_000_000_000,
                        message=_l("Slumpfröet ska vara ett heltal mellan 0 och 2 000 000 000."))])
    balance_skr = BooleanField(_l("Sprid även över SKR:s kommungrupper"))
    name = StringField(_l("Namn på urvalet"), validators=[Optional(), Length(max=200)])


class ManualForm(FlaskForm):
    year = SelectField(_l("Referensår för befolkningen"), coerce=int)
    text = TextAreaField(_l("Besöksplatser"), validators=[Optional()])
    file = FileField(_l("… eller en CSV-fil"))
    name = StringField(_l("Namn på urvalet"), validators=[Optional(), Length(max=200)])


class AdoptForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])


class DeclineForm(FlaskForm):
    site_id = SelectField(_l("Besöksplats som avböjer"), coerce=int)
    declined_on = DateField(_l("Datum"), validators=[InputRequired(_l("Ange datum (ÅÅÅÅ-MM-DD)."))])
    reason = TextAreaField(_l("Skäl"), validators=[DataRequired(_l("Ange skälet till att kommunen avböjer.")),
                                                   Length(max=2000)])

    def validate_reason(self, field):
        # A NUL byte cannot be stored (PostgreSQL refuses it): said in words instead of failing.
        if field.data and "\x00" in field.data:
            raise ValidationError(_l("Skälet innehåller otillåtna tecken."))
