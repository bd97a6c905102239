"""Reports to the minister per report period (quarterly by default) and the final-report basis: figures,
PDF, HTML, issued archive; the reporting rhythm and the log of avstämningar with the minister."""
from flask import Blueprint

bp = Blueprint("reports", __name__)

from ..scheduling.settings_forms import refuse_changes_with  # noqa: E402
# content: the report body's template globals
from . import avstamning_views, content, models, rhythm, views  # noqa: E402,F401

# The assignment's settings page refuses a rhythm that would strand report texts or issued reports.
refuse_changes_with(rhythm.check_change)
