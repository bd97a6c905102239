"""Forms of the staff pages: a staff member of the office, and a period when one cannot travel.

Every message is Swedish source text for gettext. The shared checks of coordinator/forms.py apply:
a name on one line, dates within 2000–2099.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from ..contacts.service import valid_email
from ..forms import FlaskForm
from .settings_forms import SvDateField, _missing_values, _required, _strip


class StaffForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("Namn"), filters=[_strip], validators=[
        DataRequired(_l("Ange personens namn.")), Length(max=200, message=_l("Högst %(max)d tecken."))],
        render_kw={"autocomplete": "off"})
    title = StringField(_l("Titel"), filters=[_strip], validators=[
        Length(max=200, message=_l("Högst %(max)d tecken."))], render_kw={"autocomplete": "off"})
    email = StringField(_l("E-postadress"), filters=[_strip], validators=[
        Length(max=200, message=_l("Högst %(max)d tecken."))],
        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"})
    coordinator = BooleanField(_l("Samordnare (följer med på varje besök)"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.email.data and not self.email.errors and not valid_email(self.email.data):
            self.email.errors.append(_("Ange en giltig e-postadress, till exempel namn@regeringskansliet.se."))
        return ok and not self.errors


class AbsenceForm(FlaskForm):
    start_date = SvDateField(_l("Första dagen"), validators=[_required(_l("Ange ett datum (ÅÅÅÅ-MM-DD)."))],
                             render_kw={"autocomplete": "off"})
    end_date = SvDateField(_l("Sista dagen"), validators=[_required(_l("Ange ett datum (ÅÅÅÅ-MM-DD)."))],
                           render_kw={"autocomplete": "off"})
    reason = StringField(_l("Anledning"), filters=[_strip], validators=[
        Length(max=200, message=_l("Högst %(max)d tecken."))], render_kw={"autocomplete": "off"})

    def __init__(self, *args, others=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.others = list(others)  # the member's other absences: a new one may not overlap them

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        _missing_values(self)
        s, e = self.start_date.data, self.end_date.data
        if s and e and e < s and not self.end_date.errors:
            self.end_date.errors.append(_("Sista dagen kan inte vara före den första (%(date)s).", date=s.isoformat()))
        elif s and e and not self.start_date.errors and not self.end_date.errors:
            for other in self.others:
                if other.start_date <= e and s <= other.end_date:
                    self.start_date.errors.append(_(
                        "Perioden överlappar en frånvaro som redan är inlagd, %(start)s–%(end)s. Ändra datumen "
                        "eller ta bort den andra frånvaron först.",
                        start=other.start_date.isoformat(), end=other.end_date.isoformat()))
                    break
        return ok and not self.errors


class ActionForm(FlaskForm):
    """Only the CSRF token (and the version): the confirmation steps' forms."""
    version = HiddenField()


__all__ = ["AbsenceForm", "ActionForm", "StaffForm"]
