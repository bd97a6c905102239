"""Forms of the feedback letters: the staff's texts (with the letter's version), and a bare version form
for creating, approving and sending. Fields keep what the user typed on an error."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length

from ..forms import FlaskForm
from .service import TEXT_MAX

LENGTH = Length(max=TEXT_MAX, message=_l("Texten får vara högst %(max)d tecken."))
SECTION_LABELS = {
    "inledning": _l("Inledning"),
    "sammanfattning": _l("Våra iakttagelser"),
    "fortsattning": _l("Fortsättningen"),
}
SECTION_HINTS = {
    "inledning": _l("Brevets första stycken: tack för besöket, vilka ni träffade."),
    "sammanfattning": _l("Vad kansliet såg och vill lyfta. Skriv inget som pekar ut enskilda personer."),
    "fortsattning": _l("Vad som händer härnäst: det andra besöket, uppföljningen av planen."),
}


class LetterForm(FlaskForm):
    version = HiddenField()
    inledning = TextAreaField(SECTION_LABELS["inledning"], validators=[LENGTH], render_kw={"rows": 5})
    sammanfattning = TextAreaField(SECTION_LABELS["sammanfattning"], validators=[LENGTH], render_kw={"rows": 8})
    fortsattning = TextAreaField(SECTION_LABELS["fortsattning"], validators=[LENGTH], render_kw={"rows": 5})


class VersionForm(FlaskForm):
    version = HiddenField()
