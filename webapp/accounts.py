"""User accounts: authentication and creation rules, usable from routes, the CLI and tests."""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from werkzeug.security import generate_password_hash

from . import audit
from .extensions import db
from .models import ROLE_ADMIN, ROLE_MENTOR, ROLES, LoginAttempt, Recipient, Region, User, utcnow

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


def change_own_password(user: User, current: str, new: str) -> None:
    """A user replaces their own password: the current one must be right, the new one must keep the rules and
    differ from it. Every session of the user ends (`end_sessions`) and a forced change is done; the caller
    commits and keeps the session that made the change (`session_generation` is the new value)."""
    if not user.check_password(current or ""):
        raise AccountError("current_password", _l("Kata sandi sekarang salah."))
    try:
        check_password_rules(new or "", user.username)
    except AccountError as error:
        raise AccountError("new_password", error.message) from None
    if new == current:
        raise AccountError("new_password", _l("Kata sandi baru harus berbeda dari yang sekarang."))
    user.set_password(new)
    user.must_change_password = False
    end_sessions(user)
    audit.record("password_changed", user, user=user)


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


def _pair_condition(name: str, ip: str | None):
    return (LoginAttempt.username == name) & (LoginAttempt.ip.is_(None) if ip is None else LoginAttempt.ip == ip)


def _pair_failures(name: str, ip: str | None, now: dt.datetime, config) -> tuple[int, dt.datetime | None]:
    """Failed tries of this username from this address since its last success there (at most
    LOGIN_MEMORY_H back): how many, and when the last one was."""
    since = now - dt.timedelta(hours=config["LOGIN_MEMORY_H"])
    pair = _pair_condition(name, ip)
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.created_at)).where(
            pair, LoginAttempt.success.is_(True), LoginAttempt.created_at >= since
        )
    )
    after = LoginAttempt.created_at >= since if last_success is None else LoginAttempt.created_at > last_success
    count, last = db.session.execute(
        select(func.count(), func.max(LoginAttempt.created_at)).where(pair, LoginAttempt.success.is_(False), after)
    ).one()
    return count, last


def _pair_wait(failures: int, config) -> dt.timedelta | None:
    """The wait after `failures` failed tries of one username from one address: none below
    LOGIN_MAX_FAILURES_PER_USER, then LOGIN_DELAY_MIN, doubling with each further failure, at most
    LOGIN_DELAY_MAX_MIN."""
    extra = failures - config["LOGIN_MAX_FAILURES_PER_USER"]
    if extra < 0:
        return None
    minutes = min(config["LOGIN_DELAY_MIN"] * 2 ** min(extra, 20), config["LOGIN_DELAY_MAX_MIN"])
    return dt.timedelta(minutes=minutes)


def _address_failures(ip: str | None, now: dt.datetime, config) -> list[dt.datetime]:
    """The newest failed tries from this address within LOGIN_WINDOW_MIN, at most LOGIN_MAX_FAILURES_PER_IP."""
    since = now - dt.timedelta(minutes=config["LOGIN_WINDOW_MIN"])
    return list(
        db.session.scalars(
            select(LoginAttempt.created_at)
            .where(LoginAttempt.ip == ip, LoginAttempt.success.is_(False), LoginAttempt.created_at >= since)
            .order_by(LoginAttempt.created_at.desc())
            .limit(config["LOGIN_MAX_FAILURES_PER_IP"])
        )
    )


def _minutes(delta: dt.timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds() / 60))


def login_blocked_for(username: str, ip: str | None, config) -> int | None:
    """Minutes until another try is allowed, or None.

    Guessing is slowed per username *and* address: after LOGIN_MAX_FAILURES_PER_USER failures of one name from
    one address, each further try waits, longer after each failure (`_pair_wait`), so an attacker elsewhere
    cannot lock the real user out. One address has a high limit of its own within a sliding window
    (LOGIN_MAX_FAILURES_PER_IP per LOGIN_WINDOW_MIN), because many phones share one carrier address.
    The limits apply to the name as typed, existing or not, so the answer reveals nothing about accounts.
    """
    now = utcnow()
    waits = []
    failures, last = _pair_failures(normalise_username(username)[:80], ip, now, config)
    wait = _pair_wait(failures, config)
    if wait is not None and last + wait > now:
        waits.append(last + wait - now)
    recent = _address_failures(ip, now, config)
    if len(recent) >= config["LOGIN_MAX_FAILURES_PER_IP"]:
        waits.append(recent[-1] + dt.timedelta(minutes=config["LOGIN_WINDOW_MIN"]) - now)
    return _minutes(max(waits)) if waits else None


def record_login_attempt(username: str, ip: str | None, success: bool, config=None) -> None:
    """Store a try (the caller commits). With `config`, a failure that makes the next try wait is written to the
    audit log (`login_throttled`), naming the account when the name exists."""
    name = normalise_username(username)[:80]
    db.session.add(LoginAttempt(username=name, ip=ip, success=success))
    if success or config is None:
        return
    now = utcnow()
    failures, _last = _pair_failures(name, ip, now, config)
    wait = _pair_wait(failures, config)
    if wait is not None:
        account = db.session.scalar(select(User).where(User.username == name))
        audit.record(
            "login_throttled", account, scope="username", username=name, failures=failures, wait_min=_minutes(wait)
        )
    if len(_address_failures(ip, now, config)) == config["LOGIN_MAX_FAILURES_PER_IP"]:
        audit.record(
            "login_throttled",
            None,
            scope="address",
            username=name,
            failures=config["LOGIN_MAX_FAILURES_PER_IP"],
            wait_min=config["LOGIN_WINDOW_MIN"],
        )


def check_password_rules(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", _l("Kata sandi minimal %(n)s karakter.", n=MIN_PASSWORD_LENGTH))
    if username and username in password.lower():
        raise AccountError("password", _l("Kata sandi tidak boleh memuat nama pengguna."))
    if password.isdigit() or password.isalpha():
        raise AccountError("password", _l("Kata sandi harus memuat huruf dan angka atau simbol."))


def create_user(
    username: str,
    full_name: str,
    role: str,
    password: str,
    region_codes: list[str] = (),
    phone: str | None = None,
    is_demo: bool = False,
    check_password: bool = True,
) -> User:
    """Validate and add a user to the session (the caller commits)."""
    username = normalise_username(username)
    if not USERNAME_RE.match(username):
        raise AccountError(
            "username", _l("Nama pengguna 3–40 karakter: huruf kecil, angka, titik, garis bawah, tanda hubung.")
        )
    if db.session.scalar(select(func.count()).select_from(User).where(User.username == username)):
        raise AccountError("username", _l("Nama pengguna sudah dipakai."))
    if role not in ROLES:
        raise AccountError("role", _l("Peran tidak dikenal."))
    if not (full_name or "").strip():
        raise AccountError("full_name", _l("Isi nama lengkap."))
    if check_password:
        check_password_rules(password, username)
    regions = regions_for_role(role, region_codes)
    user = User(
        username=username, full_name=full_name.strip(), role=role, phone=phone, is_demo=is_demo, regions=regions
    )
    user.set_password(password)
    db.session.add(user)
    return user


# Account lifecycle: what an admin does to other people's accounts, from the web (`admin/`) or the CLI. Each
# function checks its rules, changes the session's objects and records an audit event; the caller commits once, so
# the change and its audit event are stored together or not at all. `by` is the acting admin, None from the CLI.

# Letters and digits that cannot be mistaken for one another when read aloud or copied from a screen.
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def regions_for_role(role: str, region_codes) -> list[Region]:
    """The regencies for an account of `role`: exactly one for a mentor (the families they visit and the regency
    the importer matches them in), one or more for a supervisor, none for an admin (who sees everything)."""
    codes = list(dict.fromkeys(str(c).strip() for c in region_codes or () if str(c).strip()))
    regions = list(db.session.scalars(select(Region).where(Region.code.in_(codes)).order_by(Region.code)))
    if len(regions) != len(codes):
        raise AccountError("regions", _l("Kode kabupaten/kota tidak dikenal."))
    if role != ROLE_ADMIN and not regions:
        raise AccountError("regions", _l("Pendamping dan koordinator harus punya wilayah."))
    if role == ROLE_MENTOR and len(regions) > 1:
        raise AccountError("regions", _l("Pendamping bekerja di satu kabupaten/kota saja."))
    if role == ROLE_ADMIN and regions:
        raise AccountError("regions", _l("Admin melihat semua wilayah: jangan pilih kabupaten/kota."))
    return regions


def one_time_password(username: str = "") -> str:
    """A random password to be read off the screen once and replaced at the first login (xxxx-xxxx-xxxx)."""
    while True:
        password = "-".join("".join(secrets.choice(_OTP_ALPHABET) for _ in range(4)) for _ in range(3))
        try:
            check_password_rules(password, username)
        except AccountError:
            continue
        return password


def _active_admins() -> int:
    return (
        db.session.scalar(select(func.count()).select_from(User).where(User.role == ROLE_ADMIN, User.active.is_(True)))
        or 0
    )


def _not_self(user: User, by: User | None, message) -> None:
    if by is not None and by.id == user.id:
        raise AccountError("user", message)


def families_of(mentor: User) -> int:
    """How many families are assigned to `mentor`."""
    return db.session.scalar(select(func.count()).select_from(Recipient).where(Recipient.mentor_id == mentor.id)) or 0


def create_account(
    username: str, full_name: str, role: str, region_codes, phone: str | None, by: User | None
) -> tuple[User, str]:
    """A new account with a one-time password that must be changed at the first login; (user, password)."""
    password = one_time_password(normalise_username(username))
    user = create_user(username, full_name, role, password, region_codes, phone=(phone or "").strip() or None)
    user.must_change_password = True
    db.session.flush()
    audit.record(
        "user_created",
        user,
        user=by,
        username=user.username,
        role=role,
        regions=[r.code for r in user.regions],
        via="web" if by else "cli",
    )
    return user, password


def deactivate_user(user: User, by: User | None) -> None:
    """Lock an account out at once (its sessions end); never one's own, never the last active admin."""
    _not_self(user, by, _l("Anda tidak bisa menonaktifkan akun Anda sendiri."))
    if not user.active:
        raise AccountError("user", _l("Akun ini sudah nonaktif."))
    if user.role == ROLE_ADMIN and _active_admins() <= 1:
        raise AccountError("user", _l("Ini admin aktif terakhir: aktifkan atau buat admin lain dulu."))
    user.active = False
    end_sessions(user)
    audit.record("user_deactivated", user, user=by, username=user.username, families=families_of(user))


def reactivate_user(user: User, by: User | None) -> None:
    if user.active:
        raise AccountError("user", _l("Akun ini sudah aktif."))
    user.active = True
    audit.record("user_reactivated", user, user=by, username=user.username)


def reset_password(user: User, by: User | None) -> str:
    """Give `user` a new one-time password (returned, to be shown once and never stored in clear), end their
    sessions and make them choose their own at the next login."""
    _not_self(user, by, _l("Ganti kata sandi Anda sendiri di halaman Akun."))
    password = one_time_password(user.username)
    user.set_password(password)
    user.must_change_password = True
    end_sessions(user)
    audit.record("password_reset", user, user=by, username=user.username)
    return password


def change_role_and_regions(user: User, role: str, region_codes, by: User | None) -> None:
    """Give `user` another role and/or other regencies; their sessions end so no page shows the old scope.

    A mentor who still has families keeps the role and the regencies of those families until they are handed over;
    an admin cannot change their own role, nor take away the last active admin.
    """
    if role not in ROLES:
        raise AccountError("role", _l("Peran tidak dikenal."))
    regions = regions_for_role(role, region_codes)
    before_role, before_codes = user.role, [r.code for r in user.regions]
    if role == before_role and [r.code for r in regions] == before_codes:
        raise AccountError("role", _l("Peran dan wilayah tidak berubah."))
    if role != before_role:
        _not_self(user, by, _l("Anda tidak bisa mengubah peran Anda sendiri."))
        if before_role == ROLE_ADMIN and user.active and _active_admins() <= 1:
            raise AccountError("role", _l("Ini admin aktif terakhir: buat admin lain dulu."))
    if before_role == ROLE_MENTOR:
        family_regions = set(
            db.session.scalars(select(Recipient.region_id).distinct().where(Recipient.mentor_id == user.id))
        )
        if family_regions and (role != ROLE_MENTOR or not family_regions <= {r.id for r in regions}):
            raise AccountError(
                "regions",
                _l(
                    "Pendamping ini masih punya %(n)s keluarga dampingan: serahkan dulu kepada pendamping lain.",
                    n=families_of(user),
                ),
            )
    user.role = role
    user.regions = regions
    end_sessions(user)
    audit.record(
        "user_role_changed",
        user,
        user=by,
        username=user.username,
        role_from=before_role,
        role_to=role,
        regions_from=before_codes,
        regions_to=[r.code for r in regions],
    )


def hand_over_families(from_mentor: User, to_mentor: User, by: User | None) -> list[int]:
    """Assign every family of `from_mentor` to `to_mentor`, an active mentor of the families' regency; returns the
    family ids. Visits and status history keep the mentor who made them; the caller commits (one transaction)."""
    if from_mentor.id == to_mentor.id:
        raise AccountError("to_mentor", _l("Pilih pendamping lain."))
    if not to_mentor.is_mentor or not to_mentor.active:
        raise AccountError("to_mentor", _l("Pilih pendamping yang aktif."))
    families = db.session.execute(
        select(Recipient.id, Recipient.region_id).where(Recipient.mentor_id == from_mentor.id).order_by(Recipient.id)
    ).all()
    if not families:
        raise AccountError("to_mentor", _l("Pendamping ini tidak punya keluarga dampingan."))
    if not {region_id for _id, region_id in families} <= set(to_mentor.region_ids):
        raise AccountError("to_mentor", _l("Pendamping tujuan harus bekerja di kabupaten/kota keluarga ini."))
    ids = [family_id for family_id, _region in families]
    # One UPDATE; the version bump makes a status change opened before the hand-over fail instead of overwriting.
    moved = db.session.execute(
        update(Recipient)
        .where(Recipient.id.in_(ids), Recipient.mentor_id == from_mentor.id)
        .values(mentor_id=to_mentor.id, version=Recipient.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if moved != len(ids):  # a family was reassigned in between: the caller rolls back, the admin tries again
        raise AccountError("to_mentor", _l("Data keluarga berubah saat diserahkan. Coba lagi."))
    audit.record(
        "families_handed_over",
        from_mentor,
        user=by,
        from_mentor=from_mentor.username,
        to_mentor=to_mentor.username,
        to_mentor_id=to_mentor.id,
        count=len(ids),
        recipient_ids=ids,
    )
    return ids
