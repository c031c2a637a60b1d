import datetime as dt

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from .. import lifecycle, localtime, pillars
from ..formtools import KailForm, as_choices


class StatusChangeForm(KailForm):
    # Any value passes the field; the lifecycle decides (and explains) which moves are allowed.
    status = SelectField(_l("Status baru"), validators=[InputRequired(_l("Pilih status baru."))], validate_choice=False)
    reason = TextAreaField(
        _l("Alasan"), validators=[Optional(), Length(max=1000, message=_l("Alasan maksimal 1000 karakter."))]
    )
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])

    def set_choices(self, current_status: str, role: str) -> None:
        """The moves `role` may make from `current_status` (`lifecycle.MOVES`): the lifecycle's next steps first,
        corrections (supervisors and admins, reason required) after them."""
        moves = lifecycle.moves_for(role, current_status)
        ordered = sorted(moves.items(), key=lambda move: move[1] == lifecycle.CORRECTION)
        self.status.choices = as_choices(
            [("", _l("— pilih —"))] + [(s, lifecycle.move_label(s, how)) for s, how in ordered]
        )


def _received_already(form, field):
    if field.data and field.data > localtime.today():
        raise ValidationError(_l("Tanggal diterima tidak boleh setelah hari ini."))
    if field.data and field.data < dt.date(2000, 1, 1):
        raise ValidationError(_l("Tanggal sebelum tahun 2000: periksa lagi."))


class AssistanceForm(KailForm):
    """Other help the family receives (pillars 1 and 3), from which office and when."""

    kind = SelectField(_l("Jenis bantuan"), validators=[InputRequired(_l("Pilih jenis bantuan."))])
    office = StringField(
        _l("Dari instansi"),
        validators=[
            InputRequired(_l("Isi instansi pemberi bantuan.")),
            Length(max=120, message=_l("Maksimal 120 karakter.")),
        ],
    )
    received_on = DateField(
        _l("Tanggal diterima"), validators=[InputRequired(_l("Isi tanggal diterima.")), _received_already]
    )
    note = StringField(_l("Keterangan"), validators=[Optional(), Length(max=255, message=_l("Maksimal 255 karakter."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = as_choices(
            [("", _l("— pilih —"))] + [(k, pillars.assistance_label(k)) for k in pillars.ASSISTANCE_LABELS]
        )
