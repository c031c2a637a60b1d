from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length

from ..formtools import KailForm, as_choices


class LoginForm(KailForm):
    username = StringField(_l("Nama pengguna"), validators=[InputRequired(_l("Isi nama pengguna.")), Length(max=40)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(_l("Kata sandi"), validators=[InputRequired(_l("Isi kata sandi.")), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class ProfileForm(KailForm):
    locale = SelectField(_l("Bahasa"), choices=as_choices([
        ("", _l("Ikuti bahasa HP")), ("id", "Bahasa Indonesia"), ("en", "English")]))
