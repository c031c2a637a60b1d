"""User accounts: authentication and creation rules, usable from routes, the CLI and tests."""

from __future__ import annotations

import datetime as dt
import math
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from .extensions import db
from .models import ROLES, LoginAttempt, Region, User, utcnow

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


def end_sessions(user: User) -> None:
    """End every session of `user` at once, on every device: a session cookie is valid only while it carries the
    user's current `session_generation` (checked on each request). The caller commits."""
    user.session_generation = (user.session_generation or 0) + 1


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


def login_blocked_for(username: str, ip: str | None, config) -> int | None:
    """Minutes until another try is allowed, when too many recent tries failed for this username or IP.

    The limit applies to the name as typed, existing or not, so the answer reveals nothing about accounts.
    """
    window = dt.timedelta(minutes=config["LOGIN_WINDOW_MIN"])
    since = utcnow() - window
    name = normalise_username(username)[:80]
    checks = ((LoginAttempt.username == name, config["LOGIN_MAX_FAILURES_PER_USER"]),
              (LoginAttempt.ip == ip, config["LOGIN_MAX_FAILURES_PER_IP"]))
    for condition, limit in checks:
        failures = db.session.scalars(
            select(LoginAttempt.created_at).where(condition, LoginAttempt.success.is_(False),
                                                  LoginAttempt.created_at >= since)
            .order_by(LoginAttempt.created_at.desc()).limit(limit)).all()
        if len(failures) >= limit:
            return max(1, math.ceil((failures[-1] + window - utcnow()).total_seconds() / 60))
    return None


def record_login_attempt(username: str, ip: str | None, success: bool) -> None:
    db.session.add(LoginAttempt(username=normalise_username(username)[:80], ip=ip, success=success))


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
