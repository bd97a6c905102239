"""Forms of the registry pages: population import and the ÖJ group settings."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from ..forms import FlaskForm, parse_id
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import ValidationError

from .service import GROUP_FIELDS

GROUPS = (1, 2, 3, 4, 5)
MAX_DISTRICTS = 20
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")


def parse_count(text: str | None) -> int | None:
    """'15 000' / '15000' -> 15000; '' -> None; raises ValueError for anything else."""
    s = _SPACES.sub("", text or "")
    if not s:
        return None
    if not s.isascii() or not s.isdigit():
        raise ValueError(s)
    return int(s)


def _year(form, field):
    value = (field.data or "").strip()
    if not value:
        field.data = None
        return
    if not (value.isdigit() and 1900 <= int(value) <= 2100):
        raise ValidationError(_("Ange ett årtal med fyra siffror, till exempel 2020."))
    field.data = int(value)


def _int_or_none(value) -> int | None:
    return parse_id(str(value))


class ImportForm(FlaskForm):
    file = FileField(_l("Fil med folkmängd (CSV)"))
    year = StringField(_l("År (bara för filer utan årskolumn)"), validators=[_year],
                       render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 6})

    def validate_file(self, field):
        if not field.data or not getattr(field.data, "filename", ""):
            raise ValidationError(_("Välj en fil att importera."))


class ConfirmImportForm(FlaskForm):
    token = HiddenField()
    filename = HiddenField()
    year = HiddenField()


class ResetForm(FlaskForm):
    pass


LABELS = {
    "lower": _l("nedre gräns"),
    "upper": _l("övre gräns"),
    "allocation": _l("antal att välja"),
    "districts_per_city": _l("stadsdelar per stad"),
}


class SettingsForm(FlaskForm):
    fingerprint = HiddenField()
    reference_year = SelectField(_l("Referensår för folkmängden"), coerce=_int_or_none, validate_choice=False)
    require_all_lan = BooleanField(_l("Varje län ska vara representerat av minst en kommun"))
    balance_skr = BooleanField(_l("Sprid urvalet över SKR:s kommungrupper"))

    def group_field(self, number: int, name: str):
        return self[f"g{number}_{name}"]

    def load(self, values: dict[str, object]) -> None:
        """Fill the form from stored values (settings_values())."""
        for n in GROUPS:
            for f in GROUP_FIELDS:
                v = values.get(f"g{n}.{f}")
                self.group_field(n, f).data = "" if v is None else str(v)
        self.reference_year.data = values.get("reference_year")
        self.require_all_lan.data = bool(values.get("require_all_lan"))
        self.balance_skr.data = bool(values.get("balance_skr"))

    def parsed(self) -> dict[str, object] | None:
        """Validated values as settings_values() keys, or None (errors are on the fields)."""
        out: dict[str, object] = {}
        ok = True
        for n in GROUPS:
            for f in GROUP_FIELDS:
                field = self.group_field(n, f)
                try:
                    value = parse_count(field.data)
                except ValueError:
                    field.errors.append(_("Ange ett heltal som är noll eller större (utan decimaler)."))
                    ok = False
                    continue
                out[f"g{n}.{f}"] = value
        ok &= self._check_groups(out)
        if self.reference_year.data not in {value for value, _label in self.reference_year.choices}:
            self.reference_year.errors.append(_("Välj ett år med befolkningssiffror för alla kommuner."))
            ok = False
        out["reference_year"] = self.reference_year.data
        out["require_all_lan"] = bool(self.require_all_lan.data)
        out["balance_skr"] = bool(self.balance_skr.data)
        return out if ok and not self.errors else None

    def _check_groups(self, v: dict[str, object]) -> bool:
        ok = True

        def error(n: int, f: str, message: str) -> None:
            nonlocal ok
            self.group_field(n, f).errors.append(message)
            ok = False

        last = GROUPS[-1]
        for n in GROUPS:
            lower, upper = v.get(f"g{n}.lower", "?"), v.get(f"g{n}.upper", "?")
            if f"g{n}.lower" in v and lower is None:
                error(n, "lower", _("Ange den nedre gränsen."))
            if f"g{n}.districts_per_city" in v:
                d = v[f"g{n}.districts_per_city"]
                if d is None:
                    error(n, "districts_per_city", _("Ange antal stadsdelar per stad (0 om inga)."))
                elif d > MAX_DISTRICTS:
                    error(n, "districts_per_city",
                          _("Högst %(max)s stadsdelar per stad.", max=MAX_DISTRICTS))
            if n == GROUPS[0] and isinstance(lower, int) and lower not in (0, 1):
                error(n, "lower", _("Grupp 1 ska börja på 0 eller 1 invånare."))
            if n == last:
                if upper is not None and upper != "?":
                    error(n, "upper", _("Den sista gruppen ska vara öppen uppåt: lämna övre gräns tom."))
            elif f"g{n}.upper" in v and upper is None:
                error(n, "upper", _("Ange den övre gränsen (bara den sista gruppen är öppen uppåt)."))
            if isinstance(lower, int) and isinstance(upper, int) and upper < lower:
                error(n, "upper", _("Den övre gränsen får inte vara lägre än den nedre (%(lower)s).",
                                    lower=lower))
            if n > GROUPS[0]:
                prev_upper = v.get(f"g{n - 1}.upper")
                if isinstance(prev_upper, int) and isinstance(lower, int) and lower != prev_upper + 1:
                    word = _("glapp") if lower > prev_upper + 1 else _("överlapp")
                    error(n, "lower", _(
                        "Ska vara %(expected)s, en mer än grupp %(prev)s övre gräns, så att grupperna "
                        "följer på varandra (nu blir det %(word)s).",
                        expected=prev_upper + 1, prev=n - 1, word=word))
        return ok


for _n in GROUPS:
    for _f in GROUP_FIELDS:
        setattr(SettingsForm, f"g{_n}_{_f}", StringField(
            _l("Grupp %(n)s, %(what)s", n=_n, what=LABELS[_f]),
            render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 9}))
del _n, _f

__all__ = ["ConfirmImportForm", "GROUPS", "ImportForm", "ResetForm", "SettingsForm",
           "parse_count"]
