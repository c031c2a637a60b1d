"""Login, logout, `next`, cookies, demo accounts, and deactivated users."""

import pytest

from webapp.extensions import db

from . import factories
from .conftest import csrf_token, login

GENERIC = "Nama pengguna atau kata sandi salah."


def test_login_page_is_phone_sized_with_named_inputs(client):
    response = client.get("/akun/masuk")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="username"' in html and 'name="password"' in html
    assert 'name="viewport" content="width=device-width' in html
    assert 'lang="id"' in html


def test_good_login_goes_home_and_sets_safe_cookie(client, world):
    response = login(client, "pendamping-smd")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain-HTTP development; SESSION_COOKIE_SECURE=1 adds it
    assert client.get("/penerima/").status_code == 200


def test_username_is_case_and_space_insensitive(client, world):
    assert login(client, "  Pendamping-SMD ").status_code == 302


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("pendamping-smd", "salah-sekali-1"),  # wrong password
        ("tidak-ada", factories.PASSWORD),  # unknown user: same answer, no enumeration
        ("pendamping-smd", ""),  # empty password
    ],
)
def test_bad_credentials_get_one_generic_message(client, world, username, password):
    response = login(client, username, password)
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 401)
    assert client.get("/penerima/").status_code == 302  # still logged out
    if password:
        assert GENERIC in html
        assert f'value="{username.strip()}"' in html  # what was typed stays
    else:
        assert "Isi kata sandi." in html


def test_inactive_user_cannot_log_in(client, world):
    world.users["mentor"].active = False
    db.session.commit()
    response = login(client, "pendamping-smd")
    assert response.status_code == 401 and GENERIC in response.get_data(as_text=True)


def test_deactivated_user_is_logged_out_on_next_request(client, world):
    assert login(client, "pendamping-smd").status_code == 302
    assert client.get("/penerima/").status_code == 200
    world.users["mentor"].active = False
    db.session.commit()
    response = client.get("/penerima/")
    assert response.status_code == 302 and "/akun/masuk" in response.headers["Location"]


def test_demo_accounts_only_in_demo_mode(app, client):
    factories.user("mentor", username="pendamping1", is_demo=True)
    db.session.commit()
    assert login(client, "pendamping1").status_code == 401
    app.config["DEMO_MODE"] = True
    assert login(client, "pendamping1").status_code == 302


@pytest.mark.parametrize(
    ("next_", "expected"),
    [
        ("/penerima/", "/penerima/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_only_to_local_paths(client, world, next_, expected):
    response = login(client, "pendamping-smd", next_=next_)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_protected_page_sends_to_login_with_next(client):
    response = client.get("/penerima/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/akun/masuk?next=")


def test_login_without_csrf_token_is_refused(client, world):
    response = client.post("/akun/masuk", data={"username": "pendamping-smd", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "Sesi formulir kedaluwarsa" in response.get_data(as_text=True)
    assert client.get("/penerima/").status_code == 302


def test_logout_needs_post(client, world):
    login(client, "pendamping-smd")
    assert client.get("/akun/keluar").status_code == 405
    assert client.get("/penerima/").status_code == 200  # GET changed nothing
    token = csrf_token(client, "/penerima/")
    response = client.post("/akun/keluar", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/penerima/").status_code == 302


def test_logout_without_token_is_refused(client, world):
    login(client, "pendamping-smd")
    assert client.post("/akun/keluar").status_code == 400
    assert client.get("/penerima/").status_code == 200


def test_logged_in_user_visiting_login_goes_home(client, world):
    login(client, "pendamping-smd")
    response = client.get("/akun/masuk")
    assert response.status_code == 302


def test_login_is_audited(client, world):
    from sqlalchemy import select

    from webapp.models import AuditEvent

    login(client, "pendamping-smd")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login"))
    assert event is not None and event.user_id == world.users["mentor"].id and event.ip == "127.0.0.1"


def test_password_guessing_is_slowed_down_per_username(app, client, world):
    for _ in range(5):
        assert login(client, "pendamping-smd", "salah-sekali-1").status_code == 401
    blocked = login(client, "pendamping-smd")  # even the right password now waits
    assert blocked.status_code == 429
    assert "Terlalu banyak percobaan masuk" in blocked.get_data(True)
    assert client.get("/penerima/").status_code == 302
    # the same answer for a name that does not exist: nothing to learn about accounts
    for _ in range(5):
        login(client, "tidak-ada-orangnya", "x")
    assert login(client, "tidak-ada-orangnya", "x").status_code == 429
    # other users are not affected by someone else's mistakes
    assert login(app.test_client(), "koordinator-smd").status_code == 302


def test_password_guessing_is_slowed_down_per_ip(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_IP", 3)  # the default is high (tests/security)
    for name in ("a-satu", "b-dua", "c-tiga"):
        login(client, name, "x")
    assert login(client, "pendamping-smd").status_code == 429


def test_old_failures_expire(app, client, world):
    import datetime as dt

    from webapp.models import LoginAttempt

    for _ in range(5):
        login(client, "pendamping-smd", "salah-sekali-1")
    for attempt in db.session.scalars(db.select(LoginAttempt)):
        attempt.created_at -= dt.timedelta(minutes=16)
    db.session.commit()
    assert login(client, "pendamping-smd").status_code == 302
