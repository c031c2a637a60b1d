"""Password guessing is slowed down without locking the real user out: failures count per username *and*
client address with a growing wait; one address has a high limit of its own (carriers put many phones behind one
address); throttling is written to the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from webapp import accounts
from webapp.extensions import db
from webapp.models import AuditEvent, LoginAttempt

from ..conftest import PASSWORD, login

WRONG = "salah-sekali-1"
THROTTLED = "Terlalu banyak percobaan"
ATTACKER, HOME, CARRIER = "198.51.100.7", "203.0.113.20", "36.68.0.1"


def phone_at(app, address: str):
    """A browser whose requests come from `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def wait_minutes(response) -> int | None:
    """The minutes the login page asks to wait (429), or None when it let the try through."""
    if response.status_code != 429:
        return None
    html = response.get_data(as_text=True)
    assert THROTTLED in html and 'role="alert"' in html
    return int(html.split("Coba lagi dalam ")[1].split(" menit")[0])


def time_passes(minutes: float) -> None:
    for attempt in db.session.scalars(select(LoginAttempt)):
        attempt.created_at -= dt.timedelta(minutes=minutes)
    db.session.commit()


def test_an_attacker_elsewhere_does_not_lock_the_real_user_out(app, world):
    attacker = phone_at(app, ATTACKER)
    for _ in range(5):
        assert login(attacker, "pendamping-smd", WRONG).status_code == 401
    for _ in range(5):
        assert wait_minutes(login(attacker, "pendamping-smd", WRONG)) is not None
    assert wait_minutes(login(attacker, "pendamping-smd")) is not None  # even the right password waits there
    # the mentor, at home, logs in at once; so does the admin, whose name is the first one guessed
    assert login(phone_at(app, HOME), "pendamping-smd").status_code == 302
    for _ in range(10):
        login(attacker, "admin-uji", WRONG)
    assert login(phone_at(app, HOME), "admin-uji").status_code == 302


def crowd_fails(app, count: int, address: str = CARRIER) -> None:
    """`count` phones behind one address, each mistyping its name once (stored as the login page stores them;
    a real request per phone would only add password-hashing time)."""
    for n in range(count):
        db.session.add(LoginAttempt(username=f"orang-{n}", ip=address, success=False))
    db.session.commit()


def test_many_failures_from_one_carrier_address_do_not_lock_other_users_there(app, world):
    crowd = phone_at(app, CARRIER)
    crowd_fails(app, 22)
    for n in range(3):
        assert login(crowd, f"orang-lain-{n}", WRONG).status_code == 401
    for _ in range(4):  # and one mentor mistyping four times
        assert login(crowd, "pendamping-smd2", WRONG).status_code == 401
    assert login(phone_at(app, CARRIER), "pendamping-smd").status_code == 302
    assert login(phone_at(app, CARRIER), "pendamping-smd2").status_code == 302


def test_the_address_limit_still_holds_and_decays(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_IP", 30)
    crowd_fails(app, 29)
    assert login(phone_at(app, CARRIER), "orang-lain", WRONG).status_code == 401  # the 30th
    assert wait_minutes(login(phone_at(app, CARRIER), "pendamping-smd")) == 15
    assert login(phone_at(app, HOME), "pendamping-smd").status_code == 302  # other addresses are not affected
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login_throttled"))
    assert event.detail["scope"] == "address" and event.ip == CARRIER
    time_passes(15.1)  # the window slides: old failures stop counting
    assert login(phone_at(app, CARRIER), "pendamping-smd").status_code == 302


def test_the_wait_grows_with_each_failure_and_is_capped(app, world):
    attacker = phone_at(app, ATTACKER)
    for _ in range(4):
        login(attacker, "pendamping-smd", WRONG)
    waits = []
    for _ in range(9):
        assert login(attacker, "pendamping-smd", WRONG).status_code == 401  # the try was let through
        waits.append(wait_minutes(login(attacker, "pendamping-smd", WRONG)))
        time_passes(waits[-1] + 0.1)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    # trying during the wait does not count: it changes nothing
    assert wait_minutes(login(attacker, "pendamping-smd", WRONG)) is None
    for _ in range(20):
        login(attacker, "pendamping-smd", WRONG)
    assert db.session.scalar(select(db.func.count()).select_from(LoginAttempt)) == 4 + 9 + 1


def test_a_success_starts_the_count_again(app, world):
    phone = phone_at(app, HOME)
    for _ in range(5):
        login(phone, "pendamping-smd", WRONG)
    assert wait_minutes(login(phone, "pendamping-smd")) == 1
    time_passes(1.1)
    assert login(phone, "pendamping-smd").status_code == 302  # after the wait, the right password works
    other = phone_at(app, HOME)
    assert login(other, "pendamping-smd", WRONG).status_code == 401
    assert login(other, "pendamping-smd").status_code == 302  # one mistake after a success: no wait


def test_unknown_names_are_throttled_alike(app, world):
    """The answer reveals nothing about which accounts exist."""
    attacker = phone_at(app, ATTACKER)
    for name in ("pendamping-smd", "tidak-ada-orangnya"):
        for _ in range(5):
            assert login(attacker, name, WRONG).status_code == 401
        assert wait_minutes(login(attacker, name, WRONG)) == 1


def test_throttling_is_in_the_audit_log(app, world):
    attacker = phone_at(app, ATTACKER)
    for _ in range(4):
        login(attacker, "pendamping-smd", WRONG)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login_throttled")) is None
    login(attacker, "pendamping-smd", WRONG)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login_throttled"))
    assert event.ip == ATTACKER and event.user_id is None
    assert (event.object_type, event.object_id) == ("User", world.users["mentor"].id)
    assert event.detail == {"scope": "username", "username": "pendamping-smd", "failures": 5, "wait_min": 1}
    admin = phone_at(app, HOME)
    assert login(admin, "admin-uji").status_code == 302
    page = admin.get("/pengelola/audit?aksi=login_throttled").get_data(as_text=True)
    assert "login_throttled" in page and "pendamping-smd" in page


def test_the_real_user_needs_no_other_address_when_the_wait_is_over(app, world):
    """The wait is computed in the database, so it holds across workers, and is given in whole minutes."""
    for _ in range(5):
        db.session.add(LoginAttempt(username="pendamping-smd", ip=ATTACKER, success=False))
    db.session.commit()
    assert accounts.login_blocked_for("Pendamping-SMD ", ATTACKER, app.config) == 1
    assert accounts.login_blocked_for("pendamping-smd", HOME, app.config) is None
    time_passes(1.1)
    assert accounts.login_blocked_for("pendamping-smd", ATTACKER, app.config) is None
    assert login(phone_at(app, ATTACKER), "pendamping-smd", PASSWORD).status_code == 302
