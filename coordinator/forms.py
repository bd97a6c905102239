"""What every form and every request of the app shares: input that cannot reach the database as a 500.

- The request (`CleanRequest`) removes NUL and the other C0 control characters (tab, line feed and
  carriage return kept) from every query-string and form value and name: no browser sends them, and
  PostgreSQL refuses NUL in text. A query-string integer read with `type=int` that no database column
  can hold counts as not given.
- Every form derives from `FlaskForm` here, whose fields get the shared checks: a single-line field
  refuses line breaks (names end up in mail headers and calendar files), a date lies within
  2000–2099, and an integer within what the database's integer columns hold.
"""
from __future__ import annotations

import re
from datetime import date

from flask import Request, abort
from flask_wtf import FlaskForm as _FlaskForm
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import DateField, Form, HiddenField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.meta import DefaultMeta
from wtforms.validators import ValidationError

# C0 controls and DEL, except tab, line feed and carriage return.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL's integer, the type of every id and count column
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def clean_text(value: str) -> str:
    """`value` without NUL and the other control characters (tab and line breaks kept)."""
    return CONTROL.sub("", value)


def fits_integer(value: int) -> bool:
    return INT_MIN <= value <= INT_MAX


def parse_id(raw: object) -> int | None:
    """An id (or a version number) sent as text: its number, or None when it is not plain digits 0-9 or does
    not fit the database's integer (so it never reaches the driver, where SQLite overflows beyond 64 bits).

    Plain words: `"12"` is 12; `"379223372036854775808"`, `"²"`, `"٣"`, `"-1"` and `""` are no id."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if fits_integer(value) else None


class CleanMultiDict(ImmutableMultiDict):
    """The request's args and form, without control characters."""

    def __init__(self, mapping=None):
        if mapping is not None and not isinstance(mapping, dict):
            mapping = [(clean_text(k) if isinstance(k, str) else k, clean_text(v) if isinstance(v, str) else v)
                       for k, v in mapping]
        super().__init__(mapping)

    def get(self, key, default=None, type=None):  # noqa: A002  (werkzeug's name)
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and not fits_integer(value):
            return default
        return value


class CleanRequest(Request):
    parameter_storage_class = CleanMultiDict


# --------------------------------------------------------------------------- the shared field checks

def single_line(form, field) -> None:
    if isinstance(field.data, str) and ("\n" in field.data or "\r" in field.data):
        raise ValidationError(_l("Skriv på en rad."))


def sane_date(form, field) -> None:
    if isinstance(field.data, date) and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(_l("Ange ett datum mellan 2000-01-01 och 2099-12-31."))


def integer_in_range(form, field) -> None:
    if isinstance(field.data, int) and not fits_integer(field.data):
        raise ValidationError(_l("Talet är för stort."))


def shared_checks(field) -> list:
    """The checks every field of its kind gets, whatever form it is on."""
    if isinstance(field, (TextAreaField, HiddenField)):
        return []
    if isinstance(field, (StringField, PasswordField)):
        return [single_line]
    if isinstance(field, DateField):
        return [sane_date]
    if isinstance(field, IntegerField):
        return [integer_in_range]
    return []


class SharedChecks:
    """A form Meta that adds `shared_checks` to every field it binds."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        extra = shared_checks(field)
        if extra:
            field.validators = [*field.validators, *extra]  # a new list: the unbound field's is shared
        return field


class FlaskForm(_FlaskForm):
    """The app's base form: Flask-WTF's (CSRF) with the shared checks on every field."""

    class Meta(SharedChecks, _FlaskForm.Meta):
        pass


class SubForm(Form):
    """A form inside another (FormField, FieldList) with the shared checks."""

    class Meta(SharedChecks, DefaultMeta):
        pass


def abort_if_bad_csrf(form) -> None:
    """A failed CSRF token is a bad request (400), not a field error to show on the form again.

    form.errors is keyed by unprefixed field names, so this holds for prefixed forms too."""
    if "csrf_token" in form.errors:
        abort(400)
