from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from ..formtools import KailForm, as_choices


class LoginForm(KailForm):
    username = StringField(
        _l("Nama pengguna"),
        validators=[InputRequired(_l("Isi nama pengguna.")), Length(max=40)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Kata sandi"),
        validators=[InputRequired(_l("Isi kata sandi.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class ProfileForm(KailForm):
    locale = SelectField(
        _l("Bahasa"), choices=as_choices([("", _l("Ikuti bahasa HP")), ("id", "Bahasa Indonesia"), ("en", "English")])
    )


class PasswordForm(KailForm):
    """Changing one's own password: the current one, then the new one twice."""

    current_password = PasswordField(
        _l("Kata sandi sekarang"),
        validators=[InputRequired(_l("Isi kata sandi sekarang.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("Kata sandi baru"),
        validators=[InputRequired(_l("Isi kata sandi baru.")), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("Ulangi kata sandi baru"),
        validators=[
            InputRequired(_l("Ulangi kata sandi baru.")),
            EqualTo("new_password", _l("Kata sandi baru tidak sama.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
