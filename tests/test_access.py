"""Each route, for each role: anonymous, the owning mentor, a mentor of the same region who doesn't own the
family, a mentor of another region, the region's supervisor, another region's supervisor, and an admin.

The table is checked against `app.url_map`, so a new route cannot be added without deciding who may use it.
"""

import pytest

from webapp import create_app, photos
from webapp.demo import demo_photo
from webapp.models import StatusProposal

from . import factories
from .conftest import csrf_token

ROLES = [
    "anonymous",
    "mentor",
    "mentor_same_region",
    "mentor_other_region",
    "supervisor",
    "supervisor_other_region",
    "admin",
]
LOGIN = 302  # anonymous users are sent to the login page


def _scoped(owner_status=200, other_status=404):
    """Visible to the owning mentor, the region's supervisor and admins; 404 to everyone else."""
    return {
        "anonymous": LOGIN,
        "mentor": owner_status,
        "mentor_same_region": other_status,
        "mentor_other_region": other_status,
        "supervisor": owner_status,
        "supervisor_other_region": other_status,
        "admin": owner_status,
    }


def _everyone(status, anonymous=LOGIN):
    return {role: (anonymous if role == "anonymous" else status) for role in ROLES}


def _supervisors(status):
    """Supervisor and admin pages: mentors are refused (403)."""
    return {**_everyone(403), "supervisor": status, "supervisor_other_region": status, "admin": status}


# endpoint -> (method, url builder, {role: expected status})
ROUTES = {
    "home.index": ("GET", lambda w: "/", _everyone(302)),
    "home.help": ("GET", lambda w: "/bantuan", _everyone(200)),
    "auth.profile": ("GET", lambda w: "/akun/", _everyone(200)),
    "home.healthz": ("GET", lambda w: "/healthz", _everyone(200, anonymous=200)),
    "auth.login": ("GET", lambda w: "/akun/masuk", _everyone(302, anonymous=200)),
    "auth.logout": ("POST", lambda w: "/akun/keluar", _everyone(302, anonymous=302)),
    "recipients.index": ("GET", lambda w: "/penerima/", _everyone(200)),
    "recipients.detail": ("GET", lambda w: f"/penerima/{w.recipients['own'].id}", _scoped()),
    "recipients.change_status": ("POST", lambda w: f"/penerima/{w.recipients['own'].id}/status", _scoped(302)),
    "visits.home": (
        "GET",
        lambda w: "/kunjungan/",
        {**_everyone(200), "supervisor": 403, "supervisor_other_region": 403, "admin": 403},
    ),
    # mentors record visits; supervisors and admins judge them (403), other mentors' families are 404
    "visits.create": (
        "GET",
        lambda w: f"/penerima/{w.recipients['own'].id}/kunjungan/baru",
        {**_scoped(), "supervisor": 403, "supervisor_other_region": 403, "admin": 403},
    ),
    # a photo sent ahead of its visit: mentors only (an empty post is refused as broken data), kept per mentor
    "visits.stage_photo": (
        "POST",
        lambda w: "/kunjungan/7d4c2f9e-1b3a-4c5d-8e6f-0a1b2c3d4e5f/foto/1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
        {**_everyone(400), "supervisor": 403, "supervisor_other_region": 403, "admin": 403},
    ),
    # a photo sent in chunks: the offset query and a chunk, mentors only (a chunk without its headers is 400)
    "visits.photo_offset": (
        "GET",
        lambda w: "/kunjungan/7d4c2f9e-1b3a-4c5d-8e6f-0a1b2c3d4e5f/foto/1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
        {**_everyone(200), "supervisor": 403, "supervisor_other_region": 403, "admin": 403},
    ),
    "visits.photo_chunk": (
        "PATCH",
        lambda w: "/kunjungan/7d4c2f9e-1b3a-4c5d-8e6f-0a1b2c3d4e5f/foto/1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
        {**_everyone(400), "supervisor": 403, "supervisor_other_region": 403, "admin": 403},
    ),
    "visits.photo": ("GET", lambda w: f"/foto/{w.photo_id}", _scoped()),
    "visits.photo_thumb": ("GET", lambda w: f"/foto/{w.photo_id}/kecil", _scoped()),
    # not sent back: its own mentor is redirected to the family page; nobody else may correct it
    "visits.resubmit": ("GET", lambda w: f"/kunjungan/{w.visit_id}/perbaiki", {**_everyone(404), "mentor": 303}),
    "review.queue": ("GET", lambda w: "/periksa/", _supervisors(200)),
    "review.proposals": ("GET", lambda w: "/periksa/usulan", _supervisors(200)),
    # deciding a mentor's status proposal: the family's supervisor or an admin; mentors 403, other regions 404
    "review.decide_proposal": (
        "POST",
        lambda w: f"/periksa/usulan/{w.proposal_id}",
        {**_scoped(303), "mentor": 403, "mentor_same_region": 403, "mentor_other_region": 403},
    ),
    "dashboard.index": ("GET", lambda w: "/dasbor/", _supervisors(200)),
    "dashboard.quotas": ("POST", lambda w: "/dasbor/kuota", {**_everyone(403), "admin": 303}),
    # confirming a graduation: the family's supervisor or an admin; mentors 403, other regions 404
    "dashboard.graduate": (
        "POST",
        lambda w: f"/dasbor/graduasi/{w.recipients['own'].id}",
        {**_scoped(303), "mentor": 403, "mentor_same_region": 403, "mentor_other_region": 403},
    ),
    "admin.audit": ("GET", lambda w: "/pengelola/audit", {**_everyone(403), "admin": 200}),
    # accounts: admins only (supervisors and mentors 403)
    "admin.users": ("GET", lambda w: "/pengelola/pengguna", {**_everyone(403), "admin": 200}),
    "admin.user_new": ("GET", lambda w: "/pengelola/pengguna/baru", {**_everyone(403), "admin": 200}),
    "admin.user_create": ("POST", lambda w: "/pengelola/pengguna/baru", {**_everyone(403), "admin": 201}),
    "admin.user_detail": (
        "GET",
        lambda w: f"/pengelola/pengguna/{w.users['mentor_same_region'].id}",
        {**_everyone(403), "admin": 200},
    ),
    "admin.user_deactivate": (
        "POST",
        lambda w: f"/pengelola/pengguna/{w.users['mentor_same_region'].id}/nonaktifkan",
        {**_everyone(403), "admin": 303},
    ),
    "admin.user_reactivate": (
        "POST",
        lambda w: f"/pengelola/pengguna/{w.users['mentor_same_region'].id}/aktifkan",
        {**_everyone(403), "admin": 422},
    ),  # it is active: the page says so
    "admin.user_reset_password": (
        "POST",
        lambda w: f"/pengelola/pengguna/{w.users['mentor_same_region'].id}/sandi-baru",
        {**_everyone(403), "admin": 200},
    ),
    "admin.user_change_role": (
        "POST",
        lambda w: f"/pengelola/pengguna/{w.users['supervisor_other_region'].id}/peran",
        {**_everyone(403), "admin": 303},
    ),
    "admin.user_hand_over": (
        "POST",
        lambda w: f"/pengelola/pengguna/{w.users['mentor_same_region'].id}/serahkan",
        {**_everyone(403), "admin": 422},
    ),  # no mentor chosen
    "pwa.manifest": ("GET", lambda w: "/manifest.webmanifest", _everyone(200, anonymous=200)),
    "pwa.service_worker": ("GET", lambda w: "/sw.js", _everyone(200, anonymous=200)),
    "pwa.offline": ("GET", lambda w: "/offline", _everyone(200, anonymous=200)),
    "pwa.csrf_token": ("GET", lambda w: "/csrf-token", _everyone(200, anonymous=401)),  # scripts get 401, not a page
    "pwa.caseload_manifest": ("GET", lambda w: "/offline/daftar.json", _everyone(200)),
    # a family's pages only for her mentor: they are in no one else's offline list
    "pwa.caseload_pages": (
        "GET",
        lambda w: f"/offline/halaman?u=/penerima/{w.recipients['own'].id}",
        {**_everyone(404), "mentor": 200},
    ),
    "review.map_view": ("GET", lambda w: "/peta/", _supervisors(200)),
    "review.map_points": ("GET", lambda w: "/peta/titik.json", _supervisors(200)),
    "review.mentors_view": ("GET", lambda w: "/periksa/pendamping", _supervisors(200)),
    "review.mentor_choices": ("GET", lambda w: "/periksa/pilihan-pendamping?wilayah=6472", _supervisors(200)),
    # a mentor who can see the visit may not judge it (403); out of scope is 404
    "review.decide": ("POST", lambda w: f"/periksa/{w.visit_id}", {**_scoped(303), "mentor": 403}),
    "dashboard.report": ("GET", lambda w: "/dasbor/laporan", _supervisors(200)),
    "dashboard.overdue": ("GET", lambda w: "/dasbor/terlambat", _supervisors(200)),
    "training.index": ("GET", lambda w: "/pelatihan/", _supervisors(200)),
    # a supervisor may only plan training in their own regency: the form answers with the reason (422)
    "training.create": ("POST", lambda w: "/pelatihan/", {**_supervisors(303), "supervisor_other_region": 422}),
    "training.detail": (
        "GET",
        lambda w: f"/pelatihan/{w.training_id}",
        {**_supervisors(200), "supervisor_other_region": 404},
    ),
    "training.attendance": (
        "POST",
        lambda w: f"/pelatihan/{w.training_id}/hadir",
        {**_supervisors(200), "supervisor_other_region": 404},
    ),
    "recipients.add_assistance": ("POST", lambda w: f"/penerima/{w.recipients['own'].id}/bantuan-lain", _scoped(303)),
    "recipients.remove_assistance": (
        "POST",
        lambda w: f"/penerima/{w.recipients['own'].id}/bantuan-lain/{w.assistance_id}/hapus",
        _scoped(303),
    ),
    "data.index": ("GET", lambda w: "/kelola-data/", _supervisors(200)),
    "data.export": ("GET", lambda w: "/kelola-data/ekspor/penerima.csv", _supervisors(200)),
    # importing recipients is the province's job: admins only
    "data.import_form": ("GET", lambda w: "/kelola-data/impor", {**_everyone(403), "admin": 200}),
    "data.import_upload": ("POST", lambda w: "/kelola-data/impor", {**_everyone(403), "admin": 422}),  # no file sent
    "data.import_template": ("GET", lambda w: "/kelola-data/impor/contoh.xlsx", {**_everyone(403), "admin": 200}),
    "data.import_preview": ("GET", lambda w: f"/kelola-data/impor/{w.import_token}", {**_everyone(403), "admin": 200}),
    "data.import_commit": ("POST", lambda w: f"/kelola-data/impor/{w.import_token}", {**_everyone(403), "admin": 303}),
    "data.import_errors": (
        "GET",
        lambda w: f"/kelola-data/impor/{w.import_token}/kesalahan.csv",
        {**_everyone(403), "admin": 200},
    ),
}
POST_DATA = {
    "auth.logout": {},
    "visits.stage_photo": {},
    "visits.photo_chunk": {},
    "recipients.change_status": {"status": "usaha_kesulitan", "reason": "Sepi pembeli"},
    "review.decide": {"decision": "disetujui", "round": "1"},
    "review.decide_proposal": {"decision": "ditolak", "note": "Omzet belum stabil"},
    "dashboard.quotas": {
        f"quota-{code}": "168"
        for code in ("6401", "6402", "6403", "6404", "6405", "6409", "6411", "6471", "6472", "6474")
    },
    "dashboard.graduate": {},
    "training.create": {"region": "6472", "held_on": "2026-11-02", "place": "Aula Kelurahan", "topic": "Pembukuan"},
    "training.attendance": {},
    "recipients.add_assistance": {"kind": "pkh", "office": "Kementerian Sosial", "received_on": "2026-10-01"},
    "recipients.remove_assistance": {},
    "data.import_upload": {},
    "data.import_commit": {"expected": "1"},
    "admin.user_create": {"username": "akun-uji-baru", "full_name": "Akun Uji", "role": "mentor", "regions": "6472"},
    "admin.user_deactivate": {},
    "admin.user_reactivate": {},
    "admin.user_reset_password": {},
    "admin.user_change_role": {"role": "supervisor", "regions": ["6471", "6472"]},
    "admin.user_hand_over": {"to_mentor": ""},
}
CASES = [(endpoint, role) for endpoint in ROUTES for role in ROLES]


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    assert endpoints == set(ROUTES), "add the new route to ROUTES with the status each role should get"


@pytest.fixture
def world_with_photo(app, world):
    processed = photos.process(demo_photo("uji", seed=1))
    photos.save(app.config["UPLOAD_DIR"], processed)
    visit = factories.visit(world.recipients["own"])
    world.visit_id = visit.id
    world.photo_id = factories.photo(visit, processed.stored_name, processed.thumb_name).id
    world.training_id = factories.training(world.recipients["own"].region).id
    world.assistance_id = factories.assistance(world.recipients["own"]).id
    proposal = StatusProposal(
        recipient=world.recipients["own"],
        from_status="usaha_berjalan",
        to_status="mandiri",
        proposed_by=world.users["mentor"],
    )
    factories.db.session.add(proposal)
    factories.db.session.flush()
    world.proposal_id = proposal.id
    world.import_token = factories.stored_import(
        app.config["UPLOAD_DIR"], world.users["admin"], factories.csv_text([factories.import_row(1)])
    )
    factories.db.session.commit()
    return world


@pytest.mark.parametrize(("endpoint", "role"), CASES)
def test_route_access(client, login_as, world_with_photo, endpoint, role):
    method, build, expected = ROUTES[endpoint]
    login_as(role)
    url = build(world_with_photo)
    if method == "GET":
        response = client.get(url)
    else:
        token = csrf_token(client, "/akun/masuk" if role == "anonymous" else "/penerima/")
        data = {"csrf_token": token, "version": world_with_photo.recipients["own"].version, **POST_DATA[endpoint]}
        response = client.open(url, method=method, data=data)
    assert response.status_code == expected[role], f"{role} {method} {url}"
    if expected[role] == LOGIN and role == "anonymous" and endpoint != "auth.logout":
        assert "/akun/masuk" in response.headers["Location"]


@pytest.mark.parametrize("role", ["mentor", "supervisor", "admin", "mentor_other_region"])
def test_list_shows_only_recipients_in_scope(client, login_as, world, role):
    login_as(role)
    html = client.get("/penerima/").get_data(as_text=True)
    visible = {
        "mentor": {"Siti Aminah"},
        "supervisor": {"Siti Aminah", "Budi Santoso"},
        "admin": {"Siti Aminah", "Budi Santoso", "Hasnah Daeng"},
        "mentor_other_region": {"Hasnah Daeng"},
    }[role]
    for name in ("Siti Aminah", "Budi Santoso", "Hasnah Daeng"):
        assert (name in html) == (name in visible), f"{role} and {name}"


def test_supervisor_without_region_sees_nobody(client, app, world):
    factories.user("supervisor", regions=[], username="koordinator-kosong")
    factories.db.session.commit()
    from .conftest import login

    login(client, "koordinator-kosong")
    html = client.get("/penerima/").get_data(as_text=True)
    assert "Siti Aminah" not in html and "0 penerima" in html


def test_error_pages_speak_indonesian(client, login_as, world):
    login_as("mentor_other_region")
    response = client.get(f"/penerima/{world.recipients['own'].id}")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.get_data(as_text=True)
    assert client.get("/penerima/999999").status_code == 404


def test_server_error_page_is_indonesian(app):
    """An unexpected failure gets the Indonesian 500 page (a fresh app: routes can't be added once serving)."""
    fresh = create_app({k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR", "SECRET_KEY")})

    @fresh.get("/_boom_for_test")
    def _boom():
        raise RuntimeError("boom")

    response = fresh.test_client().get("/_boom_for_test")
    assert response.status_code == 500
    assert "Terjadi kesalahan" in response.get_data(as_text=True)


def test_regions_visible_to_each_role(world):
    from webapp.access import regions_visible_to
    from webapp.models import Region

    users = world.users
    everything = regions_visible_to(users["admin"])
    assert len(everything) == 10 and [r.name for r in everything] == sorted(r.name for r in everything)
    by_code = regions_visible_to(users["admin"], order_by=Region.code)
    assert [r.code for r in by_code] == sorted(r.code for r in everything)
    assert [r.code for r in regions_visible_to(users["supervisor"])] == ["6472"]
    assert [r.code for r in regions_visible_to(users["supervisor_other_region"])] == ["6471"]
    assert [r.code for r in regions_visible_to(users["mentor"])] == ["6472"]
    two = factories.user("supervisor", regions=[factories.region("6472"), factories.region("6401")])
    assert [r.name for r in regions_visible_to(two)] == sorted(r.name for r in two.regions)
    assert [r.code for r in regions_visible_to(two, order_by=Region.code)] == ["6401", "6472"]
    assert regions_visible_to(factories.user("supervisor", regions=[])) == []


def test_mentors_visible_to_each_role(world):
    from webapp.access import mentors_visible_to
    from webapp.extensions import db

    users = world.users

    def seen(who):
        return set(db.session.scalars(mentors_visible_to(who)))

    all_mentors = {users[k] for k in ("mentor", "mentor_same_region", "mentor_other_region")}
    assert seen(users["admin"]) == all_mentors
    assert seen(users["supervisor"]) == {users["mentor"], users["mentor_same_region"]}
    assert seen(users["supervisor_other_region"]) == {users["mentor_other_region"]}
    assert seen(users["mentor"]) == {users["mentor"]}
    assert seen(factories.user("supervisor", regions=[])) == set()
