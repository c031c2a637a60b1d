"""Sessions can be revoked: logout, a password change and deactivation end every session of the user at once,
copies of the cookie included, on every device; a password set by someone else must be replaced first."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from webapp import accounts
from webapp.extensions import db
from webapp.models import AuditEvent

from ..conftest import PASSWORD, csrf_token, login

NEW_PASSWORD = "kebun-pisang-42"
PAGE = "/penerima/"


def copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie, as a thief or a shared phone would."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def logged_in(client) -> bool:
    response = client.get(PAGE)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def refused(client) -> None:
    """The session no longer opens pages, and its cookie is deleted, not renewed for another 30 days."""
    response = client.get(PAGE)
    assert response.status_code == 302 and response.headers["Location"].startswith("/akun/masuk")
    cookie = response.headers.get("Set-Cookie", "")
    assert cookie.startswith("session=;") and "Expires=Thu, 01 Jan 1970" in cookie, cookie
    assert client.get_cookie("session") is None


def outbox_refused(client, family, token) -> None:
    """The phone's outbox, sending with a token it fetched earlier, is told to log in (401)."""
    response = client.post(
        f"/penerima/{family.id}/kunjungan/baru",
        data={"uuid": "x"},
        headers={"X-Kail-Outbox": "1", "X-CSRFToken": token},
    )
    assert response.status_code == 401 and response.json["status"] == "login_required"


def logout(client):
    return client.post("/akun/keluar", data={"csrf_token": csrf_token(client, "/akun/")})


def change_password(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post(
        "/akun/",
        data={
            "csrf_token": csrf_token(client, "/akun/"),
            "bagian": "kata-sandi",
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def test_cookie_copied_before_logout_is_refused_after_logout(app, client, world):
    family = world.recipients["own"]
    assert login(client, "pendamping-smd").status_code == 302
    thief, thiefs_outbox = copy_of(app, client), copy_of(app, client)
    token = thiefs_outbox.get("/csrf-token").json["token"]
    assert logged_in(thief)
    assert logout(client).status_code == 302
    refused(thief)
    outbox_refused(thiefs_outbox, family, token)
    assert thiefs_outbox.get("/csrf-token").status_code == 401
    # logging in again starts a session of the new generation, which works
    assert login(client, "pendamping-smd").status_code == 302 and logged_in(client)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "logout")) is not None


def test_logout_ends_the_sessions_on_every_device(app, client, world):
    phone, laptop = client, app.test_client()
    assert login(phone, "koordinator-smd").status_code == 302
    assert login(laptop, "koordinator-smd").status_code == 302
    assert logout(laptop).status_code == 302
    refused(phone)
    # someone else's session is untouched
    other = app.test_client()
    assert login(other, "pendamping-smd").status_code == 302
    anonymous = app.test_client()
    assert anonymous.post("/akun/keluar", data={"csrf_token": csrf_token(anonymous)}).status_code == 302
    assert logged_in(other)


def test_password_change_ends_every_other_session(app, client, world):
    family = world.recipients["own"]
    laptop = app.test_client()
    assert login(client, "pendamping-smd").status_code == 302
    assert login(laptop, "pendamping-smd").status_code == 302
    thief = copy_of(app, client)
    token = laptop.get("/csrf-token").json["token"]
    response = change_password(client)
    assert response.status_code == 303 and response.headers["Location"] == "/akun/"
    assert logged_in(client)  # the phone that changed it stays logged in
    refused(thief)
    outbox_refused(laptop, family, token)
    assert login(app.test_client(), "pendamping-smd", PASSWORD).status_code == 401
    assert login(app.test_client(), "pendamping-smd", NEW_PASSWORD).status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "password_changed"))
    assert event is not None and event.user_id == world.users["mentor"].id


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field", "message"),
    [
        ("salah-sekali-1", NEW_PASSWORD, None, "current_password", "Kata sandi sekarang salah."),
        (PASSWORD, "pendek1", None, "new_password", "minimal 10 karakter"),
        (PASSWORD, PASSWORD, None, "new_password", "harus berbeda"),
        (PASSWORD, NEW_PASSWORD, "kebun-pisang-43", "confirm_password", "tidak sama"),
    ],
)
def test_a_refused_password_change_says_why_next_to_the_field_and_ends_nothing(
    app, client, world, current, new, confirm, field, message
):
    assert login(client, "pendamping-smd").status_code == 302
    copy = copy_of(app, client)
    response = change_password(client, current, new, confirm)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html and message in html
    assert logged_in(client) and logged_in(copy)
    assert login(app.test_client(), "pendamping-smd", PASSWORD).status_code == 302


def test_deactivation_ends_every_session_for_good(app, client, world):
    mentor = world.users["mentor"]
    assert login(client, "pendamping-smd").status_code == 302
    copy = copy_of(app, client)
    accounts.deactivate_user(mentor, by=world.users["admin"])
    db.session.commit()
    refused(client)
    accounts.reactivate_user(mentor, by=world.users["admin"])  # reactivated: the old cookies stay dead
    db.session.commit()
    refused(copy)
    assert login(client, "pendamping-smd").status_code == 302 and logged_in(client)


def test_a_cookie_without_the_generation_is_refused(app, client, world):
    """A session cookie signed before sessions carried a generation, or forged without one, opens nothing."""
    assert login(client, "pendamping-smd").status_code == 302
    with client.session_transaction() as session:
        session.pop("generation")
    refused(client)


@pytest.fixture
def must_change(world):
    mentor = world.users["mentor"]
    mentor.must_change_password = True
    db.session.commit()
    return mentor


def test_a_password_set_by_someone_else_must_be_replaced_first(app, client, world, must_change):
    family = world.recipients["own"]
    other_device = app.test_client()
    assert login(other_device, "pendamping-smd").status_code == 302
    response = login(client, "pendamping-smd", next_="/penerima/")
    assert response.status_code == 302 and response.headers["Location"] == "/akun/"
    page = client.get("/akun/").get_data(as_text=True)
    assert "Ganti kata sandi" in page and 'name="locale"' not in page
    # every page leads back to the password form; the outbox is told in JSON and keeps its visits
    for path in ("/", PAGE, "/kunjungan/", f"/penerima/{family.id}", "/bantuan"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/akun/", path
    token = client.get("/csrf-token").json["token"]
    response = client.post(
        f"/penerima/{family.id}/kunjungan/baru",
        data={"uuid": "x"},
        headers={"X-Kail-Outbox": "1", "X-CSRFToken": token},
    )
    assert response.status_code == 401 and response.json["status"] == "password_change_required"
    # the installed app still starts
    for path in ("/manifest.webmanifest", "/sw.js", "/offline", "/static/css/app.css"):
        assert client.get(path).status_code == 200, path
    # a locale post does not get around it
    response = client.post("/akun/", data={"csrf_token": token, "locale": "en"})
    assert response.status_code == 422 and must_change.locale is None
    response = change_password(client)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    db.session.refresh(must_change)
    assert must_change.must_change_password is False
    assert logged_in(client)
    refused(other_device)  # the session of the other device ended


def test_a_user_who_must_change_the_password_can_log_out(app, client, world, must_change):
    assert login(client, "pendamping-smd").status_code == 302
    copy = copy_of(app, client)
    assert logout(client).status_code == 302
    refused(copy)
    assert must_change.must_change_password is True
