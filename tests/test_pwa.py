"""Manifest, service worker and offline page as served (the browser tests prove they work in Chromium)."""

import re

import pytest

from webapp.extensions import db


def test_manifest_is_complete(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    m = response.json
    assert m["short_name"] == "Kail" and m["display"] == "standalone" and m["lang"] == "id"
    assert m["start_url"].startswith("/") and m["scope"] == "/" and m["id"]
    sizes = {(i["sizes"], i["purpose"]) for i in m["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in m["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_every_page_links_the_manifest(client):
    assert 'rel="manifest" href="/manifest.webmanifest"' in client.get("/akun/masuk").get_data(True)


def test_service_worker_is_served_at_the_root_and_revalidated(client):
    response = client.get("/sw.js")
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/javascript" and response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    version = re.search(r'var VERSION = "([0-9a-f]{12})"', body).group(1)
    assert f"kail-shell-{version}" in body.replace('"kail-shell-" + VERSION', f"kail-shell-{version}")
    for url in re.findall(r'"(/static/[^"]+)"', body):
        assert client.get(url).status_code == 200, url  # everything precached exists
    assert "/offline" in body


def test_offline_page(client):
    response = client.get("/offline")
    assert response.status_code == 200 and "Tidak ada koneksi" in response.get_data(True)


def test_pages_are_compressed(client):
    response = client.get("/akun/masuk", headers={"Accept-Encoding": "br, gzip"})
    assert response.headers.get("Content-Encoding") in ("br", "gzip")
    assert "Accept-Encoding" in response.headers.get("Vary", "")


# The caseload kept on the phone: /offline/daftar.json lists each page with a version.


def _manifest(client) -> dict:
    response = client.get("/offline/daftar.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return response.json


def _urls(manifest: dict) -> set[str]:
    return {p["url"] for p in manifest["pages"]}


def test_caseload_lists_every_page_a_mentor_needs_for_her_own_families_only(world, login_as, client):
    from webapp import review_states, visit_kinds

    from . import factories

    own = world.recipients["own"]
    mentor = world.users["mentor"]
    second = factories.recipient(own.region, mentor, name="Rosmini", status="usaha_berjalan")
    sent_back = factories.visit(second, mentor, review_state=review_states.SENT_BACK, review_note="Foto buram")
    factories.visit(second, mentor, review_state=review_states.APPROVED)
    db.session.commit()
    login_as("mentor")
    manifest = _manifest(client)
    urls = _urls(manifest)
    assert manifest["families"] == 2 and manifest["user"] == mentor.id
    for family in (own, second):
        assert f"/penerima/{family.id}" in urls
        kinds = visit_kinds.kinds_offered(family.status)
        assert f"/penerima/{family.id}/kunjungan/baru" in urls
        for kind in kinds[1:]:
            assert f"/penerima/{family.id}/kunjungan/baru?jenis={kind}" in urls
    assert f"/kunjungan/{sent_back.id}/perbaiki" in urls
    assert sum("/perbaiki" in u for u in urls) == 1  # only the sent-back one
    assert "/kunjungan/" in urls and "/bantuan" in urls
    home = next(p for p in manifest["pages"] if p["url"] == "/kunjungan/")
    assert home["fetch"] == "/kunjungan/?semua=1"
    for other in ("same_region", "other_region"):
        assert not any(f"/penerima/{world.recipients[other].id}" in u for u in urls)
    # every listed page opens for her (what the phone will fetch)
    for page in manifest["pages"]:
        assert client.get(page.get("fetch", page["url"])).status_code == 200, page


@pytest.mark.parametrize("who", ["supervisor", "admin"])
def test_supervisors_and_admins_keep_no_families_offline(world, login_as, client, who):
    login_as(who)
    manifest = _manifest(client)
    assert manifest["families"] == 0 and _urls(manifest) == {"/bantuan"}


def test_caseload_needs_a_login(client):
    response = client.get("/offline/daftar.json")
    assert response.status_code in (302, 401)


def test_a_version_changes_exactly_when_its_family_changes(world, login_as, client):
    from webapp import lifecycle

    from . import factories

    own = world.recipients["own"]
    other = factories.recipient(own.region, world.users["mentor"], name="Rosmini", status="usaha_berjalan")
    db.session.commit()
    login_as("mentor")

    def versions():
        return {p["url"]: p["v"] for p in _manifest(client)["pages"]}

    before = versions()
    assert versions() == before  # stable: nothing changed, nothing to fetch
    factories.visit(own, world.users["mentor"])
    db.session.commit()
    after = versions()
    assert after[f"/penerima/{own.id}"] != before[f"/penerima/{own.id}"]
    assert after[f"/penerima/{own.id}/kunjungan/baru"] != before[f"/penerima/{own.id}/kunjungan/baru"]
    assert after[f"/penerima/{other.id}"] == before[f"/penerima/{other.id}"]
    assert after["/kunjungan/"] != before["/kunjungan/"]  # the work list shows every family
    lifecycle.change_status(other, "usaha_kesulitan", world.users["supervisor"], "Sepi pembeli")
    db.session.commit()
    assert versions()[f"/penerima/{other.id}"] != after[f"/penerima/{other.id}"]


def test_a_family_reassigned_away_leaves_the_caseload(world, login_as, client):
    own = world.recipients["own"]
    login_as("mentor")
    assert f"/penerima/{own.id}" in _urls(_manifest(client))
    own.mentor = world.users["mentor_same_region"]
    db.session.commit()
    urls = _urls(_manifest(client))
    assert not any(u.startswith(f"/penerima/{own.id}") for u in urls)


def test_the_whole_work_list_on_one_page_for_the_phone(app, login_as, client, world):
    from . import factories

    mentor = world.users["mentor"]
    for i in range(25):
        factories.recipient(world.recipients["own"].region, mentor, name=f"Keluarga {i:02d}")
    db.session.commit()
    login_as("mentor")
    paged = client.get("/kunjungan/").get_data(True)
    assert paged.count("data-name=") == 20 and "data-complete" not in paged
    whole = client.get("/kunjungan/?semua=1").get_data(True)
    assert whole.count("data-name=") == 26 and "data-complete" in whole


def test_caseload_pages_come_in_batches_exactly_as_their_own_get(world, login_as, client):
    own = world.recipients["own"]
    login_as("mentor")
    urls = [f"/penerima/{own.id}", f"/penerima/{own.id}/kunjungan/baru", "/kunjungan/?semua=1", "/bantuan"]
    response = client.get("/offline/halaman", query_string=[("u", u) for u in urls])
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    pages = {p["url"]: p for p in response.json["pages"]}
    assert list(pages) == urls
    assert all(p["status"] == 200 for p in pages.values())
    assert f'<h1 class="page-title">{own.name}</h1>' in pages[urls[0]]["html"]
    assert "data-visit-form" in pages[urls[1]]["html"]
    assert "data-complete" in pages[urls[2]]["html"]
    # rendered as the mentor, with her menu, like the page itself
    assert world.users["mentor"].full_name in pages[urls[3]]["html"]


@pytest.mark.parametrize(
    "who, url",
    [
        ("mentor", "/penerima/{same_region}"),  # another mentor's family
        ("mentor", "/penerima/{other_region}/kunjungan/baru"),
        ("mentor", "/pengelola/audit"),  # not a caseload page at all
        ("supervisor", "/penerima/{own}"),  # supervisors keep no families
    ],
)
def test_caseload_pages_refuse_what_is_not_in_the_users_list(world, login_as, client, who, url):
    login_as(who)
    url = url.format(**{k: r.id for k, r in world.recipients.items()})
    response = client.get("/offline/halaman", query_string={"u": url})
    assert response.status_code == 404 and "html" not in response.get_data(True)


def test_caseload_pages_take_one_to_twenty_addresses(world, login_as, client):
    login_as("mentor")
    assert client.get("/offline/halaman").status_code == 400
    many = [("u", "/bantuan")] * 21
    assert client.get("/offline/halaman", query_string=many).status_code == 400
    assert client.get("/offline/halaman", query_string={"u": "/bantuan"}).status_code == 200
    client.get("/akun/")  # the outer session still works after the batch
    assert client.get("/kunjungan/").status_code == 200
