"""Forms of the assignment's settings: the assignment itself, its phases and its blackout periods.

Every message is Swedish source text for gettext. Fields keep what the user typed when the
form comes back with errors (WTForms shows ``raw_data`` for dates, times and numbers, and
the coordinates are plain text fields parsed here, so "59,33" with a decimal comma works).
"""
from __future__ import annotations

from datetime import date, datetime, time

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from ..forms import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, IntegerField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from ..contacts.service import valid_email

# Sweden's bounding box (WGS84), with a little margin: Smygehuk 55.34 N, Treriksröset 69.06 N,
# Koster 10.96 E, Haparanda 24.17 E.
LAT_RANGE = (55.0, 69.5)
LON_RANGE = (10.5, 24.5)

# The model attributes the assignment form edits, in page order.
ASSIGNMENT_FIELDS = (
    "name", "start_date", "end_date", "final_report_due", "report_interval_months",
    "round1_start", "round1_end", "round2_start", "round2_end",
    "max_per_day", "max_per_week", "min_gap_days",
    "home_name", "home_lat", "home_lon", "default_start", "default_end",
    "organizer_name", "organizer_email",
    "report_start", "report_due_days", "report_reminder_days",
    "note_due_working_days", "unanswered_after_days", "questionnaire_soon_days",
    "windows_from_phases", "invitation_lead_days", "report_week_free", "staff_per_visit", "max_day_hours",
    "offer_count", "offer_reminder_days",
)
# Yes/no settings (checkboxes): an unticked box sends nothing, which is "no".
BOOLEAN_FIELDS = ("windows_from_phases", "report_week_free")
MAX_DAY_HOURS = (4.0, 24.0)
# Other capabilities may refuse a change of the assignment that would strand what they keep (the
# reports refuse a rhythm that leaves report texts outside every period). They register a check
# here so that scheduling imports none of them: check(assignment, values) -> {field name: message}.
CHANGE_CHECKS: list = []


def refuse_changes_with(check):
    """Register a check of a validated change of the assignment (see CHANGE_CHECKS)."""
    CHANGE_CHECKS.append(check)
    return check
# Values that may name a person: the audit log notes that they changed, never the values.
PERSONAL_FIELDS = ("organizer_name", "organizer_email")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SvDateField(DateField):
    """A date as ÅÅÅÅ-MM-DD; empty is None (the required check says what is missing)."""

    def process_formdata(self, valuelist):
        text = " ".join(valuelist or []).strip()
        if not valuelist or not text:
            self.data = None
            self.raw_data = []  # blank (spaces, a line break) is missing: the required check says so
            return
        try:
            self.data = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            self.data = None
            raise ValueError(_("Ange ett datum som ÅÅÅÅ-MM-DD, till exempel 2015-06-30.")) from None


class SvTimeField(TimeField):
    def process_formdata(self, valuelist):
        text = " ".join(valuelist or []).strip().replace(".", ":")
        if not valuelist or not text:
            self.data = None
            self.raw_data = []  # blank (spaces, a line break) is missing: the required check says so
            return
        for fmt in ("%H:%M", "%H:%M:%S"):
            try:
                self.data = datetime.strptime(text, fmt).time()
                return
            except ValueError:
                continue
        self.data = None
        raise ValueError(_("Ange en tid som TT:MM, till exempel 09:00."))


class SvIntegerField(IntegerField):
    def process_formdata(self, valuelist):
        text = "".join((valuelist or [""])[0].split())
        if not valuelist or not text:
            self.data = None
            self.raw_data = []  # blank (spaces, a line break) is missing: the required check says so
            return
        try:
            self.data = int(text)
        except ValueError:
            self.data = None
            raise ValueError(_("Ange ett heltal.")) from None


def _required(message):
    return InputRequired(message=message)


def _date(label, message=None):
    return SvDateField(label, validators=[_required(message or _l("Ange ett datum (ÅÅÅÅ-MM-DD)."))],
                       render_kw={"autocomplete": "off"})


def _range(low: int, high: int):
    def check(form, field):
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(_("Ange ett heltal från %(min)s till %(max)s.", min=low, max=high))
    return check


def _int(label, low, high):
    return SvIntegerField(label, validators=[_required(_l("Ange ett heltal.")), _range(low, high)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 6})


def parse_decimal(text: str | None) -> float | None:
    """'59,3293' or '59.3293' -> 59.3293; '' -> None; ValueError otherwise."""
    s = "".join((text or "").split()).replace(",", ".").replace("\u2212", "-")
    if not s:
        return None
    value = float(s)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(s)
    return value


def fmt_hours(value) -> str:
    """Hours as typed in the form: 10.0 -> "10", 9.5 -> "9.5"."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def fmt_value(value) -> str:
    """A stored value as it is typed in the form."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    return str(value)


class AssignmentForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("Uppdragets namn"), filters=[_strip], validators=[
        DataRequired(_l("Ange uppdragets namn.")), Length(max=200, message=_l("Högst %(max)d tecken."))])
    start_date = _date(_l("Uppdraget börjar"))
    end_date = _date(_l("Uppdraget slutar"))
    final_report_due = _date(_l("Slutrapporten lämnas senast"))
    report_interval_months = _int(_l("Rapport till departementet var … månad"), 1, 12)
    report_start = _date(_l("Rapportperioderna räknas från"))
    report_due_days = _int(_l("Rapporten ska vara klar, dagar efter periodens slut"), 0, 90)
    report_reminder_days = _int(_l("Påminnelse till kansliet, dagar innan rapporten ska vara klar"), 0, 90)
    note_due_working_days = _int(_l("Dialoganteckningen ska vara skriven, arbetsdagar efter besöket"), 1, 30)
    unanswered_after_days = _int(_l("En inbjudan räknas som obesvarad efter, dagar"), 1, 90)
    questionnaire_soon_days = _int(_l("Mätningens sista svarsdag räknas som nära, dagar innan"), 0, 90)
    round1_start = _date(_l("Omgång 1 börjar"))
    round1_end = _date(_l("Omgång 1 slutar"))
    round2_start = _date(_l("Omgång 2 börjar"))
    round2_end = _date(_l("Omgång 2 slutar"))
    max_per_day = _int(_l("Högst antal besök per dag"), 1, 10)
    max_per_week = _int(_l("Högst antal besök per vecka"), 1, 50)
    min_gap_days = _int(_l("Minsta antal dagar mellan en besöksplats två besök"), 0, 730)
    home_name = StringField(_l("Utgångsort"), filters=[_strip], validators=[
        DataRequired(_l("Ange utgångsortens namn.")), Length(max=100, message=_l("Högst %(max)d tecken."))])
    home_lat = StringField(_l("Latitud (grader norr)"), filters=[_strip],
                           render_kw={"inputmode": "decimal", "autocomplete": "off", "size": 10})
    home_lon = StringField(_l("Longitud (grader öst)"), filters=[_strip],
                           render_kw={"inputmode": "decimal", "autocomplete": "off", "size": 10})
    default_start = SvTimeField(_l("Besöken börjar normalt"),
                                validators=[_required(_l("Ange en tid (TT:MM)."))])
    default_end = SvTimeField(_l("Besöken slutar normalt"),
                              validators=[_required(_l("Ange en tid (TT:MM)."))])
    organizer_name = StringField(_l("Avsändarens namn i inbjudningar"), filters=[_strip], validators=[
        DataRequired(_l("Ange avsändarens namn.")), Length(max=200, message=_l("Högst %(max)d tecken."))])
    organizer_email = StringField(_l("Kansliets e-postadress för inbjudningar"), filters=[_strip], validators=[
        DataRequired(_l("Ange kansliets e-postadress."))],
        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"})
    windows_from_phases = BooleanField(_l("Räkna fram omgångarnas fönster från faserna"))
    invitation_lead_days = _int(_l("Tid för inbjudningar innan omgång 1 börjar, dagar efter att urvalet antogs"),
                                0, 365)
    report_week_free = BooleanField(_l("Håll veckan före varje rapports sista dag fri från besök"))
    staff_per_visit = _int(_l("Antal handläggare som följer med samordnaren på varje besök"), 0, 10)
    max_day_hours = StringField(_l("Längsta dag med resa och besök, timmar"), filters=[_strip],
                                render_kw={"inputmode": "decimal", "autocomplete": "off", "size": 6})
    offer_count = _int(_l("Antal datum som kommunen får välja bland"), 1, 5)
    offer_reminder_days = _int(_l("Påminnelse till kommunen om datumen, dagar utan svar"), 1, 60)

    def load(self, assignment) -> None:
        for name in ASSIGNMENT_FIELDS:
            value = getattr(assignment, name)
            if name in ("home_lat", "home_lon"):
                value = fmt_value(value)
            elif name == "max_day_hours":
                value = fmt_hours(value)
            self[name].data = value
        self.version.data = str(assignment.version)

    def typed(self, name: str) -> str:
        """What the user typed in a field (for the conflict table)."""
        field = self[name]
        if name in BOOLEAN_FIELDS:
            return fmt_value(bool(field.data))
        if field.raw_data:
            return " ".join(field.raw_data).strip()
        return fmt_value(field.data)

    @staticmethod
    def _decimal(field, low: float, high: float, not_a_number: str, missing: str, outside: str) -> float | None:
        """The field's decimal number ("9,5" or "9.5") within low..high, or None with the message on the field."""
        try:
            value = parse_decimal(field.data)
        except ValueError:
            field.errors.append(not_a_number)
            return None
        if value is None:
            field.errors.append(missing)
        elif not low <= value <= high:
            field.errors.append(outside)
            return None
        return value

    def _coordinate(self, field, low: float, high: float) -> float | None:
        return self._decimal(field, low, high, _("Ange ett tal i decimalgrader, till exempel 59,33."),
                             _("Ange koordinaten i decimalgrader."),
                             _("Ska ligga inom Sverige: mellan %(low)s och %(high)s.", low=format_decimal(low),
                               high=format_decimal(high)))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        _missing_values(self)
        self.lat_value = self._coordinate(self.home_lat, *LAT_RANGE)
        self.lon_value = self._coordinate(self.home_lon, *LON_RANGE)
        self.hours_value = self._hours()
        if self.organizer_email.data and not valid_email(self.organizer_email.data):
            self.organizer_email.errors.append(_("Ange en giltig e-postadress, till exempel samordnaren@regeringskansliet.se."))
        d = {n: self[n].data for n in ASSIGNMENT_FIELDS if self[n].data is not None and not self[n].errors}

        def error(name: str, message: str) -> None:
            if not self[name].errors:
                self[name].errors.append(message)

        start, end = d.get("start_date"), d.get("end_date")
        if start and end and end < start:
            error("end_date", _("Uppdraget kan inte sluta före det börjar (%(date)s).", date=start.isoformat()))
            end = None
        report_start = d.get("report_start")
        if report_start and report_start.day != 1:
            error("report_start", _("Ange den första dagen i en månad, till exempel %(date)s.",
                                    date=report_start.replace(day=1).isoformat()))
        elif report_start and start and report_start > start:
            error("report_start", _("Kan inte vara senare än uppdragets start (%(date)s).", date=start.isoformat()))
        if start and d.get("final_report_due") and d["final_report_due"] < start:
            error("final_report_due", _("Slutrapporten kan inte lämnas innan uppdraget börjar."))
        for n in (1, 2):
            r_start, r_end = d.get(f"round{n}_start"), d.get(f"round{n}_end")
            if r_start and r_end and r_end < r_start:
                error(f"round{n}_end", _("Omgång %(n)s kan inte sluta före den börjar (%(date)s).",
                                         n=n, date=r_start.isoformat()))
        if d.get("round1_end") and d.get("round2_start") and d["round2_start"] <= d["round1_end"]:
            error("round2_start", _("Omgång 2 måste börja efter att omgång 1 slutar (%(date)s).",
                                    date=d["round1_end"].isoformat()))
        if start and end:
            for name in ("round1_start", "round1_end", "round2_start", "round2_end"):
                value = d.get(name)
                if value and not start <= value <= end:
                    error(name, _("Ska ligga inom uppdraget, %(start)s–%(end)s.",
                                  start=start.isoformat(), end=end.isoformat()))
        if d.get("max_per_day") and d.get("max_per_week") and d["max_per_week"] < d["max_per_day"]:
            error("max_per_week", _("Kan inte vara färre än högst antal besök per dag (%(n)s).", n=d["max_per_day"]))
        if d.get("default_start") and d.get("default_end") and d["default_end"] <= d["default_start"]:
            error("default_end", _("Besöket måste sluta efter att det börjar (%(time)s).",
                                   time=d["default_start"].strftime("%H:%M")))
        return ok and not self.errors

    def values(self) -> dict[str, object]:
        """The validated values keyed by model attribute (call after validate())."""
        out = {n: self[n].data for n in ASSIGNMENT_FIELDS}
        out["home_lat"], out["home_lon"] = self.lat_value, self.lon_value
        out["max_day_hours"] = self.hours_value
        for name in BOOLEAN_FIELDS:
            out[name] = bool(out[name])
        return out

    def _hours(self) -> float | None:
        low, high = MAX_DAY_HOURS
        return self._decimal(self.max_day_hours, low, high, _("Ange ett antal timmar, till exempel 10 eller 9,5."),
                             _("Fyll i fältet."), _("Ange ett antal timmar från %(min)s till %(max)s.",
                                                    min=format_decimal(low), max=format_decimal(high)))


def _missing_values(form: FlaskForm) -> None:
    """A date, time or number that was left blank (or only spaces) names itself as missing."""
    for field in form:
        if isinstance(field, (SvDateField, SvTimeField, SvIntegerField)) and field.data is None and not field.errors:
            field.errors.append(_("Fyll i fältet."))


def _check_period(form: FlaskForm) -> None:
    s, e = form.start_date.data, form.end_date.data
    if s and e and e < s and not form.end_date.errors:
        form.end_date.errors.append(_("Kan inte vara före startdatum (%(date)s).", date=s.isoformat()))


class PhaseForm(FlaskForm):
    number = _int(_l("Nummer"), 1, 99)
    name = StringField(_l("Namn"), filters=[_strip], validators=[
        DataRequired(_l("Ange fasens namn.")), Length(max=200, message=_l("Högst %(max)d tecken."))])
    start_date = _date(_l("Från och med"))
    end_date = _date(_l("Till och med"))
    description = TextAreaField(_l("Beskrivning"), filters=[_strip], validators=[
        Length(max=2000, message=_l("Högst %(max)d tecken."))])

    def __init__(self, *args, assignment=None, taken_numbers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.assignment = assignment
        self.taken_numbers = set(taken_numbers)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        _missing_values(self)
        _check_period(self)
        if self.number.data is not None and self.number.data in self.taken_numbers and not self.number.errors:
            self.number.errors.append(_("Det finns redan en fas med nummer %(n)s.", n=self.number.data))
        a = self.assignment
        if a is not None:
            for field in (self.start_date, self.end_date):
                if field.data and not field.errors and not a.start_date <= field.data <= a.end_date:
                    field.errors.append(_("Ska ligga inom uppdraget, %(start)s–%(end)s.",
                                          start=a.start_date.isoformat(), end=a.end_date.isoformat()))
        return ok and not self.errors


class BlackoutForm(FlaskForm):
    name = StringField(_l("Namn"), filters=[_strip], validators=[
        DataRequired(_l("Ange ett namn, till exempel ”Juli 2016”.")),
        Length(max=200, message=_l("Högst %(max)d tecken."))])
    start_date = _date(_l("Från och med"))
    end_date = _date(_l("Till och med"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        _missing_values(self)
        _check_period(self)
        return ok and not self.errors


class DeleteForm(FlaskForm):
    pass


__all__ = ["ASSIGNMENT_FIELDS", "BOOLEAN_FIELDS", "CHANGE_CHECKS", "AssignmentForm", "BlackoutForm", "DeleteForm",
           "LAT_RANGE", "LON_RANGE", "PERSONAL_FIELDS", "PhaseForm", "SvDateField", "fmt_hours", "fmt_value",
           "parse_decimal", "refuse_changes_with"]
