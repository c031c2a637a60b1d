"""Forms of the admin area: creating an account, its role and regencies, handing over a mentor's families."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import InputRequired, Length, Optional, Regexp

from ..formtools import KailForm

ROLE_LABELS = {"admin": _l("Admin Dinsos"), "supervisor": _l("Koordinator"), "mentor": _l("Pendamping")}


class RegionsField(SelectMultipleField):
    """Regencies as checkboxes (ten of them: easier on a phone than a multi-select)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):
        """Unknown codes are reported by the domain rule next to this field, not as WTForms' English text."""


class RoleForm(KailForm):
    role = SelectField(_l("Peran"), validators=[InputRequired(_l("Pilih peran."))])
    regions = RegionsField(_l("Kabupaten/kota"))


class UserForm(RoleForm):
    username = StringField(
        _l("Nama pengguna"),
        validators=[InputRequired(_l("Isi nama pengguna.")), Length(max=40, message=_l("Maksimal 40 karakter."))],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    full_name = StringField(
        _l("Nama lengkap"),
        validators=[InputRequired(_l("Isi nama lengkap.")), Length(max=120, message=_l("Maksimal 120 karakter."))],
        render_kw={"autocomplete": "off"},
    )
    phone = StringField(
        _l("Telepon"),
        validators=[
            Optional(),
            Regexp(
                r"^\+?[0-9][0-9 -]{5,18}$", message=_l("Nomor telepon: angka saja, boleh diawali +, 6–20 karakter.")
            ),
        ],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )


class HandOverForm(KailForm):
    # Which mentors qualify is the domain's rule (accounts.hand_over_families), reported with its own message.
    to_mentor = SelectField(
        _l("Pendamping baru"), validators=[InputRequired(_l("Pilih pendamping baru."))], validate_choice=False
    )


class ActionForm(KailForm):
    """A button that changes something (deactivate, reactivate, reset password): only the CSRF token."""
