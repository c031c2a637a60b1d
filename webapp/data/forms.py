from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from .. import localtime
from ..formtools import KailForm


class ImportForm(KailForm):
    file = FileField(
        _l("File daftar penerima (.xlsx atau .csv)"),
        validators=[
            FileRequired(_l("Pilih file Excel atau CSV.")),
            FileAllowed(["xlsx", "csv"], _l("Hanya file .xlsx atau .csv.")),
        ],
    )
    budget_year = IntegerField(
        _l("Tahun anggaran"),
        default=lambda: localtime.today().year,
        validators=[
            InputRequired(_l("Isi tahun anggaran.")),
            NumberRange(2000, 2100, _l("Tahun anggaran antara 2000 dan 2100.")),
        ],
    )
