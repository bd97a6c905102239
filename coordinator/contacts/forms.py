"""Forms of the contact pages: one contact, (de)activation and the CSV import."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from ..forms import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from .service import MAX_LENGTHS, role_choices, utf8_message, utf8_refused, valid_email, valid_phone

FIELDS = ("role", "name", "email", "phone", "organisation")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ContactForm(FlaskForm):
    version = HiddenField()
    role = SelectField(_l("Roll"), validators=[DataRequired(_l("Välj en roll."))])
    name = StringField(_l("Namn"), filters=[_strip], validators=[
        DataRequired(_l("Ange namnet.")),
        Length(max=MAX_LENGTHS["name"], message=_l("Högst %(max)d tecken."))],
        render_kw={"autocomplete": "off"})
    email = StringField(_l("E-postadress"), filters=[_strip], validators=[DataRequired(_l("Ange e-postadressen."))],
                        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"})
    phone = StringField(_l("Telefon"), filters=[_strip], render_kw={"type": "tel", "autocomplete": "off"})
    organisation = StringField(_l("Organisation"), filters=[_strip], validators=[
        Length(max=MAX_LENGTHS["organisation"], message=_l("Högst %(max)d tecken."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()

    def validate_email(self, field):
        if field.data and not valid_email(field.data):
            raise ValidationError(_("Ange en giltig e-postadress, till exempel namn@kommun.se."))
        if field.data and utf8_refused(field.data):
            raise ValidationError(utf8_message())

    def validate_phone(self, field):
        if not valid_phone(field.data) or len(field.data or "") > MAX_LENGTHS["phone"]:
            raise ValidationError(_("Ange ett telefonnummer med siffror, till exempel 08-123 456 78."))

    def load(self, contact) -> None:
        for name in FIELDS:
            self[name].data = getattr(contact, name)
        self.version.data = str(contact.version)

    def values(self) -> dict[str, str]:
        return {name: (self[name].data or "") for name in FIELDS}


class VersionForm(FlaskForm):
    """Deactivate or reactivate a contact: only the version it was shown with."""
    version = HiddenField(validators=[DataRequired()])


class ContactImportForm(FlaskForm):
    file = FileField(_l("Fil med kontakter (CSV)"))

    def validate_file(self, field):
        if not field.data or not getattr(field.data, "filename", ""):
            raise ValidationError(_("Välj en fil att importera."))


class ConfirmContactImportForm(FlaskForm):
    token = HiddenField()
    filename = HiddenField()
