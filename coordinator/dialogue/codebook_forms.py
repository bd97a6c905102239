"""Forms of the theme codebook and the dialogue questions (Swedish source strings for gettext)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..forms import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


def _strip(value):
    return " ".join(value.split()) if isinstance(value, str) else value


# Field names differ between the forms (category_name, theme_name): both forms share the codebook page.
class CategoryForm(FlaskForm):
    """A new category, or a category's new name."""
    category_name = StringField(_l("Kategorins namn"), filters=[_strip],
                       validators=[DataRequired(_l("Ange ett namn på kategorin.")), Length(max=120)])


class ThemeForm(FlaskForm):
    """A new theme, or a theme's new name and category. Choices: the categories, set by the view."""
    category = SelectField(_l("Kategori"), coerce=int, validate_choice=True)
    theme_name = StringField(_l("Temats namn"), filters=[_strip],
                       validators=[DataRequired(_l("Ange ett namn på temat.")), Length(max=200)])


class RetireForm(FlaskForm):
    """Make a theme or category inactive (retired) or active again."""
    retired = HiddenField(validators=[DataRequired()])  # "1": retire, "0": make active again


class MergeForm(FlaskForm):
    """Merge this theme into another. Without `confirmed` the page only shows what would happen."""
    target = SelectField(_l("Slå ihop med"), coerce=int, validate_choice=True)
    confirmed = HiddenField(default="")


class QuestionForm(FlaskForm):
    """A dialogue question. `fingerprint` is the stored question as the form was loaded (no lost update)."""
    lagrum = StringField(_l("Lagrum"), filters=[_strip],
                         validators=[DataRequired(_l("Ange lagrummet, till exempel 3 kap. 3 § SoL.")),
                                     Length(max=100)])
    kravtext = TextAreaField(_l("Vad lagen kräver"), filters=[lambda v: v.strip() if isinstance(v, str) else v],
                             validators=[DataRequired(_l("Ange vad lagrummet kräver.")), Length(max=2000)])
    fraga = TextAreaField(_l("Frågan"), filters=[lambda v: v.strip() if isinstance(v, str) else v],
                          validators=[DataRequired(_l("Ange frågan.")), Length(max=2000)])
    active = BooleanField(_l("Används i nya anteckningar"), default=True)
    fingerprint = HiddenField()
