from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from .. import lifecycle
from ..formtools import KailForm, as_choices


class StatusChangeForm(KailForm):
    # Any value passes the field; the lifecycle decides (and explains) which moves are allowed.
    status = SelectField(_l("Status baru"), validators=[InputRequired(_l("Pilih status baru."))],
                         validate_choice=False)
    reason = TextAreaField(_l("Alasan"), validators=[Optional(), Length(max=1000, message=_l("Alasan maksimal 1000 "
                                                                                             "karakter."))])
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])

    def set_choices(self, current_status: str) -> None:
        self.status.choices = as_choices([("", _l("— pilih —"))] + [
            (s, lifecycle.status_label(s)) for s in lifecycle.allowed_transitions(current_status)])
