"""User accounts: authentication and creation rules, usable from routes, the CLI and tests."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from .extensions import db
from .models import ROLES, Region, User, utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
MIN_PASSWORD_LENGTH = 10

# Compared against when the username is unknown, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password-only-for-timing")


class AccountError(ValueError):
    """A rule an account breaks; `field` names the form field the message belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(str(message))
        self.field = field
        self.message = message


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def authenticate(username: str, password: str, demo_mode: bool) -> User | None:
    """The active user with these credentials, or None; callers show one generic message for every failure."""
    user = db.session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        from werkzeug.security import check_password_hash

        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.check_password(password or ""):
        return None
    if not user.is_active or (user.is_demo and not demo_mode):
        return None
    user.last_login_at = utcnow()
    return user


def check_password_rules(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", _l("Kata sandi minimal %(n)s karakter.", n=MIN_PASSWORD_LENGTH))
    if username and username in password.lower():
        raise AccountError("password", _l("Kata sandi tidak boleh memuat nama pengguna."))
    if password.isdigit() or password.isalpha():
        raise AccountError("password", _l("Kata sandi harus memuat huruf dan angka atau simbol."))


def create_user(username: str, full_name: str, role: str, password: str, region_codes: list[str] = (),
                phone: str | None = None, is_demo: bool = False, check_password: bool = True) -> User:
    """Validate and add a user to the session (the caller commits)."""
    username = normalise_username(username)
    if not USERNAME_RE.match(username):
        raise AccountError("username", _l("Nama pengguna 3–40 karakter: huruf kecil, angka, titik, garis bawah, "
                                          "tanda hubung."))
    if db.session.scalar(select(func.count()).select_from(User).where(User.username == username)):
        raise AccountError("username", _l("Nama pengguna sudah dipakai."))
    if role not in ROLES:
        raise AccountError("role", _l("Peran tidak dikenal."))
    if not (full_name or "").strip():
        raise AccountError("full_name", _l("Isi nama lengkap."))
    if check_password:
        check_password_rules(password, username)
    regions = list(db.session.scalars(select(Region).where(Region.code.in_(list(region_codes)))))
    if len(regions) != len(set(region_codes)):
        raise AccountError("regions", _l("Kode kabupaten/kota tidak dikenal."))
    if role != "admin" and not regions:
        raise AccountError("regions", _l("Pendamping dan koordinator harus punya wilayah."))
    user = User(username=username, full_name=full_name.strip(), role=role, phone=phone, is_demo=is_demo,
                regions=regions)
    user.set_password(password)
    db.session.add(user)
    return user
