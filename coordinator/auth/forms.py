from flask_babel import lazy_gettext as _l
from ..forms import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from .models import MIN_PASSWORD_LENGTH

ROLE_CHOICES = [("admin", _l("Administratör")), ("staff", _l("Handläggare")),
                ("reader", _l("Läsare (departementet)"))]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-postadress"), validators=[DataRequired(_l("Fyll i e-postadress."))])
    password = PasswordField(_l("Lösenord"), validators=[DataRequired(_l("Fyll i lösenord."))])
    remember = BooleanField(_l("Kom ihåg mig på den här datorn"))


class UserForm(FlaskForm):
    email = EmailField(_l("E-postadress"), validators=[DataRequired(), Email(_l("Ange en giltig e-postadress."))])
    name = StringField(_l("Namn"), validators=[DataRequired(_l("Fyll i namn.")), Length(max=200)])
    # Least privilege: a new account reads issued reports only until an admin gives it more.
    role = SelectField(_l("Roll"), choices=ROLE_CHOICES, default="reader")
    active = BooleanField(_l("Kontot är aktivt"), default=True)
    password = PasswordField(
        _l("Nytt lösenord"),
        validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH,
                                       message=_l("Lösenordet ska ha minst %(n)d tecken.", n=MIN_PASSWORD_LENGTH))])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Nuvarande lösenord"), validators=[DataRequired()])
    password = PasswordField(
        _l("Nytt lösenord"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH,
                                           message=_l("Lösenordet ska ha minst %(n)d tecken.", n=MIN_PASSWORD_LENGTH))])
    confirm = PasswordField(_l("Upprepa nytt lösenord"),
                            validators=[EqualTo("password", _l("Lösenorden är inte lika."))])


class AccountForm(FlaskForm):
    weekly_digest = BooleanField(_l("Skicka mig ett veckobrev med vad som väntar"))
