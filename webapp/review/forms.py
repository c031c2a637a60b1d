from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..formtools import KailForm


class DecisionForm(KailForm):
    decision = HiddenField(validators=[InputRequired()])
    round = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    note = TextAreaField(_l("Catatan untuk pendamping"), validators=[Optional(), Length(max=2000)])
