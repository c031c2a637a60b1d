"""Small helpers shared by the forms of every area, and the base form class."""

from flask import abort
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.fields.choices import SelectChoice

# WTForms ships no Indonesian catalogue: its built-in messages, in Indonesian. Messages we write ourselves go
# through Flask-Babel like every other text.
WTFORMS_ID = {
    "This field is required.": "Wajib diisi.",
    "Invalid input.": "Isian tidak valid.",
    "Not a valid choice.": "Pilihan tidak valid.",
    "Not a valid float value.": "Harus berupa angka.",
    "Not a valid decimal value.": "Harus berupa angka.",
    "Not a valid integer value.": "Harus berupa bilangan bulat.",
    "Not a valid date value.": "Tanggal tidak valid.",
    "Not a valid datetime value.": "Waktu tidak valid.",
    "Not a valid time value.": "Jam tidak valid.",
    "Invalid UUID.": "Kode formulir tidak valid.",
    "Invalid Choice: could not coerce.": "Pilihan tidak valid.",
    "Invalid choice(s): one or more data inputs could not be coerced.": "Pilihan tidak valid.",
    "'%(value)s' is not a valid choice for this field.": "'%(value)s' bukan pilihan yang valid.",
    "'%(value)s' are not valid choices for this field.": "'%(value)s' bukan pilihan yang valid.",
    "Number must be at least %(min)s.": "Angka minimal %(min)s.",
    "Number must be at most %(max)s.": "Angka maksimal %(max)s.",
    "Number must be between %(min)s and %(max)s.": "Angka harus antara %(min)s dan %(max)s.",
    "Field must be at least %(min)d character long.": "Minimal %(min)d karakter.",
    "Field must be at least %(min)d characters long.": "Minimal %(min)d karakter.",
    "Field cannot be longer than %(max)d character.": "Maksimal %(max)d karakter.",
    "Field cannot be longer than %(max)d characters.": "Maksimal %(max)d karakter.",
    "Field must be between %(min)d and %(max)d characters long.": "Harus %(min)d sampai %(max)d karakter.",
    "Date must be at least %(min)s.": "Tanggal paling awal %(min)s.",
    "Date must be at most %(max)s.": "Tanggal paling akhir %(max)s.",
    "Date must be between %(min)s and %(max)s.": "Tanggal harus antara %(min)s dan %(max)s.",
    "Invalid CSRF Token.": "Sesi formulir tidak valid. Muat ulang halaman.",
    "CSRF token missing.": "Sesi formulir hilang. Muat ulang halaman.",
    "CSRF failed.": "Sesi formulir tidak valid. Muat ulang halaman.",
    "CSRF token expired.": "Sesi formulir kedaluwarsa. Muat ulang halaman.",
}


class _IndonesianWTForms:
    def gettext(self, string):
        return WTFORMS_ID.get(string, string)

    def ngettext(self, singular, plural, n):
        return self.gettext(singular if n == 1 else plural)


class KailForm(FlaskForm):
    """Base of every form: WTForms' own messages in the user's language."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            if str(get_locale() or "id").startswith("id"):
                return _IndonesianWTForms()
            return super().get_translations(form)


def as_choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def submitted(form: FlaskForm) -> bool:
    """Validate a posted form: True when it is valid; False when it has errors to show (the caller answers 422
    with the form again); a post that is neither (nothing the form could read) is a 400."""
    if form.validate_on_submit():
        return True
    if not form.errors:
        abort(400)
    return False


def add_error(field: Field, message) -> None:
    """Attach a message to a field whether or not the form has been validated yet."""
    field.errors = [*field.errors, str(message)]
