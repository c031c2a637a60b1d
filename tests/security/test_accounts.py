"""Account lifecycle (security issue, item 2): deactivate, reactivate, one-time passwords, role and regency changes,
handing a departing mentor's families over — in the domain, on the admin pages and from the CLI, each audited."""

import random
import string

import pytest
from sqlalchemy import func, select

from webapp import accounts, lifecycle
from webapp.extensions import db
from webapp.models import AuditEvent, Recipient, StatusChange, User, Visit

from .. import factories
from ..conftest import csrf_token, login


def _events(action):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- domain ---------------------------------------------------------------------------------------------------


def test_deactivate_ends_sessions_and_is_audited(world):
    admin, mentor = world.users["admin"], world.users["mentor"]
    generation = mentor.session_generation
    accounts.deactivate_user(mentor, admin)
    db.session.commit()
    assert not mentor.active and mentor.session_generation == generation + 1
    event = _events("user_deactivated")[-1]
    assert event.user_id == admin.id and event.object_id == mentor.id and event.detail["families"] == 1
    with pytest.raises(accounts.AccountError, match="sudah nonaktif"):
        accounts.deactivate_user(mentor, admin)


def test_no_one_deactivates_themself_or_the_last_admin(world):
    admin = world.users["admin"]
    with pytest.raises(accounts.AccountError, match="sendiri"):
        accounts.deactivate_user(admin, admin)
    with pytest.raises(accounts.AccountError, match="admin aktif terakhir"):
        accounts.deactivate_user(admin, None)  # the CLI has no acting user, the rule holds all the same
    second = factories.user("admin", regions=[], username="admin-dua")
    accounts.deactivate_user(admin, second)
    db.session.commit()
    assert not admin.active
    with pytest.raises(accounts.AccountError, match="admin aktif terakhir"):
        accounts.deactivate_user(second, None)


def test_reactivate(world):
    mentor = world.users["mentor"]
    with pytest.raises(accounts.AccountError, match="sudah aktif"):
        accounts.reactivate_user(mentor, None)
    mentor.active = False
    accounts.reactivate_user(mentor, world.users["admin"])
    db.session.commit()
    assert mentor.active and _events("user_reactivated")


def test_reset_password_gives_a_one_time_password_that_must_be_changed(world):
    admin, mentor = world.users["admin"], world.users["mentor"]
    generation = mentor.session_generation
    password = accounts.reset_password(mentor, admin)
    db.session.commit()
    accounts.check_password_rules(password, mentor.username)  # a password the rules accept
    assert mentor.check_password(password) and not mentor.check_password(factories.PASSWORD)
    assert mentor.must_change_password and mentor.session_generation == generation + 1
    event = _events("password_reset")[-1]
    assert password not in str(event.detail) and event.user_id == admin.id
    assert len({accounts.one_time_password() for _ in range(20)}) == 20
    with pytest.raises(accounts.AccountError, match="halaman Akun"):
        accounts.reset_password(admin, admin)


def test_role_and_regions_rules(world):
    admin, supervisor, mentor = world.users["admin"], world.users["supervisor"], world.users["mentor"]
    cases = [
        (mentor, "supervisor", ["6472"], "masih punya 1 keluarga"),  # families first
        (mentor, "mentor", ["6471"], "masih punya 1 keluarga"),  # their families are in Samarinda
        (mentor, "mentor", ["6472", "6471"], "satu kabupaten/kota"),
        (supervisor, "supervisor", [], "harus punya wilayah"),
        (supervisor, "admin", ["6472"], "jangan pilih"),
        (supervisor, "supervisor", ["9999"], "tidak dikenal"),
        (supervisor, "supervisor", ["6472"], "tidak berubah"),
        (supervisor, "raja", [], "Peran tidak dikenal"),
        (admin, "supervisor", ["6472"], "sendiri"),
    ]
    for user, role, codes, message in cases:
        with pytest.raises(accounts.AccountError, match=message):
            accounts.change_role_and_regions(user, role, codes, admin)
        db.session.rollback()
    with pytest.raises(accounts.AccountError, match="admin aktif terakhir"):
        accounts.change_role_and_regions(admin, "supervisor", ["6472"], None)


def test_role_change_ends_sessions_and_is_audited(world):
    admin, supervisor = world.users["admin"], world.users["supervisor"]
    generation = supervisor.session_generation
    accounts.change_role_and_regions(supervisor, "supervisor", ["6472", "6401"], admin)
    db.session.commit()
    assert [r.code for r in supervisor.regions] == ["6401", "6472"]
    assert supervisor.session_generation == generation + 1
    accounts.change_role_and_regions(supervisor, "admin", [], admin)
    db.session.commit()
    assert supervisor.is_admin and supervisor.regions == []
    event = _events("user_role_changed")[-1]
    assert event.detail == {
        "username": "koordinator-smd",
        "role_from": "supervisor",
        "role_to": "admin",
        "regions_from": ["6401", "6472"],
        "regions_to": [],
    }
    # A mentor without families may become a supervisor.
    spare = factories.user("mentor", username="pendamping-cadangan")
    accounts.change_role_and_regions(spare, "supervisor", ["6472"], admin)
    assert spare.is_supervisor


def test_hand_over_moves_families_and_keeps_their_history(world):
    admin, leaving, taking = world.users["admin"], world.users["mentor"], world.users["mentor_same_region"]
    own = world.recipients["own"]
    second = factories.recipient(own.region, leaving, name="Keluarga Kedua")
    visit = factories.visit(own)
    lifecycle.advance_status(own, lifecycle.USAHA_KESULITAN, leaving, "Sepi pembeli")
    db.session.commit()
    history = [(c.id, c.changed_by_id) for c in own.status_changes]
    version = own.version

    moved = accounts.hand_over_families(leaving, taking, admin)
    db.session.commit()
    assert moved == sorted([own.id, second.id])
    db.session.expire_all()
    assert {r.mentor_id for r in (own, second)} == {taking.id}
    assert own.version == version + 1  # a status form opened before the hand-over cannot overwrite it
    assert db.session.get(Visit, visit.id).mentor_id == leaving.id  # visits keep the mentor who made them
    assert [(c.id, c.changed_by_id) for c in own.status_changes] == history
    assert world.recipients["same_region"].mentor_id == taking.id
    assert _count(Recipient, Recipient.mentor_id == leaving.id) == 0
    event = _events("families_handed_over")[-1]
    assert event.object_id == leaving.id and event.user_id == admin.id
    assert event.detail["count"] == 2 and event.detail["recipient_ids"] == moved
    assert event.detail["to_mentor_id"] == taking.id


def test_hand_over_refusals_change_nothing(world):
    admin, leaving = world.users["admin"], world.users["mentor"]
    inactive = factories.user("mentor", username="pendamping-pensiun", active=False)
    empty = factories.user("mentor", username="pendamping-baru")
    cases = [
        (leaving, leaving, "Pilih pendamping lain"),
        (leaving, world.users["mentor_other_region"], "kabupaten/kota keluarga"),
        (leaving, world.users["supervisor"], "aktif"),
        (leaving, inactive, "aktif"),
        (empty, leaving, "tidak punya keluarga"),
    ]
    for from_, to, message in cases:
        with pytest.raises(accounts.AccountError, match=message):
            accounts.hand_over_families(from_, to, admin)
        db.session.rollback()
    assert world.recipients["own"].mentor_id == leaving.id and not _events("families_handed_over")


def test_create_account_must_change_its_password(world):
    user, password = accounts.create_account("Sari.Baru", "Sari Baru", "mentor", ["6472"], " 0812 ", None)
    db.session.commit()
    assert user.username == "sari.baru" and user.must_change_password and user.check_password(password)
    assert user.phone == "0812" and _events("user_created")[-1].detail["via"] == "cli"
    with pytest.raises(accounts.AccountError, match="sudah dipakai"):
        accounts.create_account("sari.baru", "Lagi", "mentor", ["6472"], None, None)


# --- web --------------------------------------------------------------------------------------------------------

URLS = ["/pengelola/pengguna", "/pengelola/pengguna/baru", "/pengelola/pengguna/{id}"]
POSTS = [
    "/pengelola/pengguna/baru",
    "/pengelola/pengguna/{id}/nonaktifkan",
    "/pengelola/pengguna/{id}/aktifkan",
    "/pengelola/pengguna/{id}/sandi-baru",
    "/pengelola/pengguna/{id}/peran",
    "/pengelola/pengguna/{id}/serahkan",
]


@pytest.mark.parametrize("role", ["mentor", "supervisor", "supervisor_other_region"])
def test_only_admins_reach_account_pages(client, login_as, world, role):
    login_as(role)
    target = world.users["mentor_same_region"]
    for url in URLS:
        assert client.get(url.format(id=target.id)).status_code == 403, url
    token = csrf_token(client, "/penerima/")
    for url in POSTS:
        assert (
            client.post(
                url.format(id=target.id), data={"csrf_token": token, "role": "admin", "to_mentor": str(target.id)}
            ).status_code
            == 403
        ), url
    db.session.refresh(target)
    assert target.active and target.role == "mentor" and not target.must_change_password


def test_anonymous_is_sent_to_login(client, world):
    for url in URLS:
        response = client.get(url.format(id=world.users["mentor"].id))
        assert response.status_code == 302 and "/akun/masuk" in response.headers["Location"]


def test_list_filters_and_fragment(client, login_as, world):
    login_as("admin")
    world.users["mentor_other_region"].active = False
    db.session.commit()
    html = client.get("/pengelola/pengguna").get_data(as_text=True)
    assert "pendamping-smd2" in html and "koordinator-bpn" in html and "6 pengguna" in html
    html = client.get("/pengelola/pengguna?peran=mentor&wilayah=6472").get_data(as_text=True)
    assert "2 pengguna" in html and "pendamping-smd2" in html and "koordinator-smd" not in html
    html = client.get("/pengelola/pengguna?aktif=tidak").get_data(as_text=True)
    assert "1 pengguna" in html and "pendamping-bpn" in html
    html = client.get("/pengelola/pengguna?q=SMD2").get_data(as_text=True)
    assert "1 pengguna" in html
    fragment = client.get("/pengelola/pengguna?q=smd", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert 'id="user-list"' in fragment.get_data(as_text=True) and "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize(
    "query",
    [
        "q=%25",
        "q=_",
        "q=" + "x" * 5000,
        "peran=raja",
        "wilayah=9999",
        "aktif=mungkin",
        "halaman=-3",
        "halaman=abc",
        "halaman=999999",
        "q=' OR 1=1 --",
        "wilayah[]=1",
        "q=%F0%9F%98%80",
        "peran=&wilayah=&aktif=",
    ],
)
def test_hostile_list_queries_answer_200(client, login_as, world, query):
    login_as("admin")
    assert client.get(f"/pengelola/pengguna?{query}").status_code == 200


def test_navigation_tab_for_admins_only(client, login_as, world):
    login_as("admin")
    assert 'href="/pengelola/pengguna"' in client.get("/penerima/").get_data(as_text=True)
    client.post("/akun/keluar", data={"csrf_token": csrf_token(client, "/penerima/")})
    login_as("supervisor")
    assert 'href="/pengelola/pengguna"' not in client.get("/penerima/").get_data(as_text=True)


def _form_post(client, url, data):
    return client.post(url, data={"csrf_token": csrf_token(client, "/pengelola/pengguna/baru"), **data})


def test_create_account_on_the_web_shows_the_password_once(client, login_as, world):
    login_as("admin")
    response = _form_post(
        client,
        "/pengelola/pengguna/baru",
        {
            "username": "Rina.Pendamping",
            "full_name": "Rina Sari",
            "phone": "+62 812-3456",
            "role": "mentor",
            "regions": ["6472"],
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 201
    user = db.session.scalar(select(User).where(User.username == "rina.pendamping"))
    password = html.split("<code>")[1].split("</code>")[0]
    assert user.check_password(password) and user.must_change_password and user.phone == "+62 812-3456"
    assert response.headers["Cache-Control"].startswith("no-store") or "no-store" in response.headers["Cache-Control"]
    again = client.get(f"/pengelola/pengguna/{user.id}").get_data(as_text=True)
    assert password not in again and "harus mengganti kata sandi" in again
    assert _events("user_created")[-1].user_id == world.users["admin"].id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "", "full_name": "A", "role": "mentor", "regions": ["6472"]}, "Isi nama pengguna."),
        ({"username": "Bad Name!", "full_name": "A", "role": "mentor", "regions": ["6472"]}, "Nama pengguna 3–40"),
        ({"username": "pendamping-smd", "full_name": "A", "role": "mentor", "regions": ["6472"]}, "sudah dipakai"),
        ({"username": "baru1", "full_name": "", "role": "mentor", "regions": ["6472"]}, "Isi nama lengkap."),
        ({"username": "baru1", "full_name": "A" * 121, "role": "mentor", "regions": ["6472"]}, "Maksimal 120"),
        ({"username": "baru1", "full_name": "A", "role": "", "regions": ["6472"]}, "Pilih peran."),
        ({"username": "baru1", "full_name": "A", "role": "raja", "regions": ["6472"]}, "Pilihan tidak valid"),
        ({"username": "baru1", "full_name": "A", "role": "mentor"}, "harus punya wilayah"),
        ({"username": "baru1", "full_name": "A", "role": "mentor", "regions": ["6472", "6471"]}, "satu kabupaten"),
        ({"username": "baru1", "full_name": "A", "role": "mentor", "regions": ["<x>"]}, "tidak dikenal"),
        ({"username": "baru1", "full_name": "A", "role": "admin", "regions": ["6472"]}, "jangan pilih"),
        ({"username": "baru1", "full_name": "A", "role": "admin", "phone": "telp saya"}, "Nomor telepon"),
    ],
)
def test_create_account_errors_stay_next_to_the_field(client, login_as, world, data, message):
    login_as("admin")
    before = _count(User)
    response = _form_post(client, "/pengelola/pengguna/baru", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and 'class="field__error"' in html
    if data["full_name"]:
        assert f'value="{data["full_name"]}"' in html  # what was typed stays
    assert _count(User) == before and not _events("user_created")


def test_deactivate_on_the_web_ends_the_users_session(app, client, login_as, world):
    mentor = world.users["mentor"]
    phone = app.test_client()
    assert login(phone, mentor.username).status_code == 302 and phone.get("/kunjungan/").status_code == 200
    generation = mentor.session_generation
    login_as("admin")
    response = _form_post(client, f"/pengelola/pengguna/{mentor.id}/nonaktifkan", {})
    assert response.status_code == 303
    db.session.refresh(mentor)
    assert not mentor.active and mentor.session_generation == generation + 1
    assert "Akun dinonaktifkan." in client.get(response.headers["Location"]).get_data(as_text=True)
    answer = phone.get("/kunjungan/")
    assert answer.status_code == 302 and "/akun/masuk" in answer.headers["Location"]
    assert _form_post(client, f"/pengelola/pengguna/{mentor.id}/aktifkan", {}).status_code == 303
    db.session.refresh(mentor)
    assert mentor.active


def test_reset_password_on_the_web_ends_sessions_and_shows_it_once(client, login_as, world):
    mentor = world.users["mentor"]
    generation = mentor.session_generation
    login_as("admin")
    response = _form_post(client, f"/pengelola/pengguna/{mentor.id}/sandi-baru", {})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Kata sandi sekali pakai" in html
    password = html.split("<code>")[1].split("</code>")[0]
    db.session.refresh(mentor)
    assert mentor.check_password(password) and mentor.must_change_password
    assert mentor.session_generation == generation + 1  # every session of the mentor ends (end_sessions)
    assert password not in client.get(f"/pengelola/pengguna/{mentor.id}").get_data(as_text=True)


def test_admin_cannot_lock_themself_out_on_the_web(client, login_as, world):
    admin = world.users["admin"]
    login_as("admin")
    html = client.get(f"/pengelola/pengguna/{admin.id}").get_data(as_text=True)
    assert "nonaktifkan" not in html and "sandi-baru" not in html  # no such buttons on one's own page
    for url, message in (
        (f"/pengelola/pengguna/{admin.id}/nonaktifkan", "sendiri"),
        (f"/pengelola/pengguna/{admin.id}/sandi-baru", "halaman Akun"),
    ):
        response = _form_post(client, url, {})
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    response = _form_post(client, f"/pengelola/pengguna/{admin.id}/peran", {"role": "mentor", "regions": ["6472"]})
    assert response.status_code == 422 and "peran Anda sendiri" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.active and admin.is_admin and client.get("/pengelola/pengguna").status_code == 200


def test_change_role_on_the_web(client, login_as, world):
    supervisor, mentor = world.users["supervisor"], world.users["mentor"]
    login_as("admin")
    response = _form_post(
        client, f"/pengelola/pengguna/{supervisor.id}/peran", {"role": "supervisor", "regions": ["6472", "6474"]}
    )
    assert response.status_code == 303
    db.session.refresh(supervisor)
    assert [r.code for r in supervisor.regions] == ["6472", "6474"]
    response = _form_post(client, f"/pengelola/pengguna/{mentor.id}/peran", {"role": "supervisor", "regions": ["6472"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "serahkan dulu" in html and 'class="field__error"' in html
    db.session.refresh(mentor)
    assert mentor.is_mentor


def test_hand_over_on_the_web(client, login_as, world):
    leaving, taking = world.users["mentor"], world.users["mentor_same_region"]
    login_as("admin")
    html = client.get(f"/pengelola/pengguna/{leaving.id}").get_data(as_text=True)
    assert f'<option value="{taking.id}">' in html  # the same regency's active mentors only
    assert f'value="{world.users["mentor_other_region"].id}"' not in html
    for bad in ("", "abc", "99999", str(world.users["mentor_other_region"].id), str(leaving.id), "-1", "1e3"):
        response = _form_post(client, f"/pengelola/pengguna/{leaving.id}/serahkan", {"to_mentor": bad})
        assert response.status_code == 422, bad
        assert 'class="field__error"' in response.get_data(as_text=True)
    assert world.recipients["own"].mentor_id == leaving.id
    response = _form_post(client, f"/pengelola/pengguna/{leaving.id}/serahkan", {"to_mentor": str(taking.id)})
    assert response.status_code == 303
    assert "1 keluarga diserahkan" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.refresh(world.recipients["own"])
    assert world.recipients["own"].mentor_id == taking.id


def test_posts_need_a_csrf_token(client, login_as, world):
    mentor = world.users["mentor"]
    login_as("admin")
    for url in POSTS:
        assert client.post(url.format(id=mentor.id), data={"role": "admin"}).status_code == 400, url
    assert client.get(f"/pengelola/pengguna/{mentor.id}/nonaktifkan").status_code == 405
    db.session.refresh(mentor)
    assert mentor.active and mentor.is_mentor


def test_unknown_account_is_404(client, login_as, world):
    login_as("admin")
    assert client.get("/pengelola/pengguna/999999").status_code == 404
    assert _form_post(client, "/pengelola/pengguna/999999/nonaktifkan", {}).status_code == 404


def test_fuzzed_forms_never_answer_500(client, login_as, world):
    rng = random.Random(16)
    alphabet = string.printable + "éü—😀<>\"'&%_\\"
    mentor = world.users["mentor_same_region"]
    login_as("admin")
    fields = ("username", "full_name", "phone", "role", "regions", "to_mentor")
    for _ in range(40):
        data = {
            f: "".join(rng.choice(alphabet) for _ in range(rng.choice((0, 1, 5, 50, 300))))
            for f in fields
            if rng.random() < 0.8
        }
        for url in POSTS:
            if url.endswith(("nonaktifkan", "aktifkan", "sandi-baru")):
                continue  # no fields to fuzz
            status = _form_post(client, url.format(id=mentor.id), data).status_code
            assert status in (201, 303, 400, 422), (url, data, status)


# --- CLI ----------------------------------------------------------------------------------------------------------


def test_cli_lifecycle(runner, world):
    result = runner.invoke(args=["list-users", "--role", "mentor", "--region", "6472"])
    assert result.exit_code == 0 and "pendamping-smd " in result.output and "2 users." in result.output

    result = runner.invoke(args=["reset-password", "Pendamping-SMD"])
    assert result.exit_code == 0, result.output
    password = result.output.split(": ", 1)[1].split()[0]
    mentor = db.session.scalar(select(User).where(User.username == "pendamping-smd"))
    assert mentor.check_password(password) and mentor.must_change_password
    assert "must change password" in runner.invoke(args=["list-users"]).output

    result = runner.invoke(args=["hand-over-families", "pendamping-smd", "pendamping-smd2"])
    assert result.exit_code == 0 and "1 families handed over" in result.output
    assert runner.invoke(args=["deactivate-user", "pendamping-smd"]).exit_code == 0
    db.session.expire_all()
    assert not mentor.active
    assert "INACTIVE" in runner.invoke(args=["list-users", "--inactive"]).output
    assert runner.invoke(args=["reactivate-user", "pendamping-smd"]).exit_code == 0
    result = runner.invoke(
        args=["set-role", "pendamping-smd", "--role", "supervisor", "--region", "6472", "--region", "6471"]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert mentor.is_supervisor and [r.code for r in mentor.regions] == ["6471", "6472"]
    assert {e.detail.get("via") for e in _events("user_created")} <= {None}  # nothing created here
    assert all(e.user_id is None for e in _events("password_reset") + _events("families_handed_over"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deactivate-user", "tidak-ada"], "No user named"),
        (["deactivate-user", "admin-uji"], "admin aktif terakhir"),
        (["reactivate-user", "pendamping-smd"], "sudah aktif"),
        (["set-role", "pendamping-smd", "--role", "mentor", "--region", "6471", "--region", "6472"], "satu kabupaten"),
        (["set-role", "pendamping-smd", "--role", "supervisor", "--region", "6472"], "serahkan dulu"),
        (["hand-over-families", "pendamping-smd", "pendamping-bpn"], "kabupaten/kota keluarga"),
        (["hand-over-families", "pendamping-smd", "koordinator-smd"], "aktif"),
    ],
)
def test_cli_refusals_change_nothing(runner, world, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and message in result.output
    db.session.expire_all()
    assert world.users["admin"].active and world.users["mentor"].is_mentor
    assert world.recipients["own"].mentor_id == world.users["mentor"].id


def test_create_user_still_works(runner, app):
    result = runner.invoke(
        args=[
            "create-user",
            "dewi.koordinator",
            "--name",
            "Dewi",
            "--role",
            "supervisor",
            "--region",
            "6472",
            "--password",
            "Samarinda-2026",
        ]
    )
    assert result.exit_code == 0, result.output
    assert _count(User, User.username == "dewi.koordinator") == 1


def test_status_history_rows_survive_a_departing_mentor(world):
    """Deactivating and handing over never touch StatusChange rows (kept with who made them)."""
    before = _count(StatusChange)
    accounts.hand_over_families(world.users["mentor"], world.users["mentor_same_region"], None)
    accounts.deactivate_user(world.users["mentor"], None)
    db.session.commit()
    assert _count(StatusChange) == before
