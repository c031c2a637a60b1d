import datetime as dt

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from .. import localtime
from ..formtools import KailForm


def _not_in_future(form, field):
    if field.data and field.data > localtime.today() + dt.timedelta(days=366):
        raise ValidationError(_l("Tanggal terlalu jauh di masa depan."))
    if field.data and field.data.year < 2000:
        raise ValidationError(_l("Tanggal tidak masuk akal."))


class TrainingForm(KailForm):
    region = SelectField(_l("Kabupaten/kota"), validators=[InputRequired(_l("Pilih kabupaten/kota."))])
    held_on = DateField(_l("Tanggal"), validators=[InputRequired(_l("Isi tanggal pelatihan.")), _not_in_future])
    place = StringField(
        _l("Tempat"),
        validators=[InputRequired(_l("Isi tempat pelatihan.")), Length(max=160, message=_l("Maksimal 160 karakter."))],
    )
    topic = StringField(
        _l("Materi"),
        validators=[InputRequired(_l("Isi materi pelatihan.")), Length(max=160, message=_l("Maksimal 160 karakter."))],
    )
    notes = TextAreaField(
        _l("Catatan"), validators=[Optional(), Length(max=2000, message=_l("Maksimal 2000 karakter."))]
    )
