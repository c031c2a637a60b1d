"""The installable, offline-first app in real Chromium: installability, offline pages, the outbox."""

import contextlib
import datetime as dt
import os
import random
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Photo, Visit

from .. import factories
from .conftest import CHROMIUM, CHROMIUM_ARGS, log_in, wait_for_service_worker, wait_until


def _photo(path: Path, size=(1600, 1200), noise=False, exif_time=None) -> str:
    image = Image.new("RGB", size, (40, 120, 70))
    if noise:  # camera-like detail: a large file, as a phone would make
        rng = random.Random(1)
        image = Image.frombytes("RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3)))
    image.paste((230, 230, 230), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    exif = Image.Exif()
    if exif_time:
        exif.get_ifd(0x8769)[0x9003] = exif_time
    image.save(path, "JPEG", quality=92, exif=exif)
    return str(path)


def _login(page: Page, username: str):
    log_in(page, username)
    expect(page.get_by_role("heading", name="Kunjungan saya")).to_be_visible()


def _wait_for_service_worker(page: Page):
    wait_for_service_worker(page)


def _fill_visit(page: Page, tmp_path: Path, name: str):
    page.get_by_role("button", name="Ambil lokasi").click()
    expect(page.locator("[data-geo-status]")).to_contain_text("akurasi")
    page.set_input_files("#photo-1", _photo(tmp_path / f"{name}.jpg"))
    page.locator("label.choice", has_text="Ya").first.click()
    page.get_by_role("button", name="Semua ada & dipakai").click()
    page.get_by_label("Perkiraan omzet (Rp)").fill("200000")


@pytest.fixture
def mentor_and_families(app):
    mentor = factories.user("mentor", username="pendamping-pwa")
    families = [
        factories.recipient(
            mentor=mentor,
            name=name,
            package_items=["Wajan"],
            distributed_on=dt.date(2026, 9, 1),
            business_lat=-0.5,
            business_lon=117.15,
        )
        for name in ("Rosmini Tulung", "Samsul Anwar")
    ]
    db.session.commit()
    return mentor, families


def _visits():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Visit))


def test_chromium_reports_the_app_installable(app, browser_type, base_url, tmp_path):
    context = browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    try:
        page = context.new_page()
        page.goto(base_url + "/akun/masuk")
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert not manifest.get("errors"), manifest.get("errors")
        wait_until(page, "() => navigator.serviceWorker.getRegistration().then(r => !!(r && r.active))")
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    finally:
        context.close()


def test_a_page_loading_while_the_worker_activates_is_taken_over(app, page: Page, mentor_and_families):
    """Chromium's clients.claim() skips a document still loading: the first page after logging in stayed outside the
    worker (it missed the worker's messages) when the install ended while that page was on its way. The server here
    makes that order certain: one shell file waits for the home page's request, the home page for the install."""
    home_asked, shell_served = threading.Event(), threading.Event()
    inner = app.wsgi_app

    def ordered(environ, start_response):
        path = environ["PATH_INFO"]
        if path.endswith("/icon-512.png"):
            home_asked.wait(10)
            try:
                return inner(environ, start_response)
            finally:
                shell_served.set()
        if path == "/kunjungan/" and environ["REQUEST_METHOD"] == "GET":
            home_asked.set()
            shell_served.wait(10)
            time.sleep(1.5)  # the install ends and the worker activates while this page has not arrived
        return inner(environ, start_response)

    app.wsgi_app = ordered
    try:
        _login(page, "pendamping-pwa")
        assert home_asked.is_set() and shell_served.is_set()
        _wait_for_service_worker(page)
    finally:
        app.wsgi_app = inner


def test_a_slow_page_the_phone_does_not_keep_is_waited_for_not_called_offline(
    app, page: Page, context: BrowserContext, mentor_and_families
):
    """The worker gives the kept copy after 6 s without an answer; a page it does not keep has no copy, and "no
    connection" would be untrue: the login page over a slow 2G link (here 8 s) must still arrive."""
    _login(page, "pendamping-pwa")
    _wait_for_service_worker(page)
    context.clear_cookies()  # the session ended; the worker stays
    inner = app.wsgi_app

    def slow_login(environ, start_response):
        if environ["PATH_INFO"] == "/akun/masuk" and environ["REQUEST_METHOD"] == "GET":
            time.sleep(8)
        return inner(environ, start_response)

    app.wsgi_app = slow_login
    try:
        page.goto("/akun/masuk", timeout=30000)
        expect(page.get_by_label("Nama pengguna")).to_be_visible()
    finally:
        app.wsgi_app = inner
    assert page.evaluate("!!navigator.serviceWorker.controller")  # it went through the worker


def test_service_worker_serves_shell_and_visited_pages_offline(
    app, page: Page, context: BrowserContext, mentor_and_families
):
    _, families = mentor_and_families
    _login(page, "pendamping-pwa")
    _wait_for_service_worker(page)
    page.goto(f"/penerima/{families[0].id}")
    page.goto("/kunjungan/")
    context.set_offline(True)
    page.goto(f"/penerima/{families[0].id}")
    expect(page.get_by_role("heading", name="Rosmini Tulung")).to_be_visible()
    expect(page.locator("#offline-note")).to_be_visible()
    expect(page.locator("#net-status")).to_have_text("Offline")
    page.goto("/kunjungan/")
    expect(page.get_by_text("Samsul Anwar")).to_be_visible()
    page.goto("/periksa/")  # never opened: the offline page, not a browser error
    expect(page.get_by_role("heading", name="Tidak ada koneksi")).to_be_visible()
    context.set_offline(False)


def test_offline_visits_wait_in_the_outbox_and_arrive_once(
    app, page: Page, context: BrowserContext, tmp_path, mentor_and_families
):
    _, families = mentor_and_families
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"latitude": -0.50005, "longitude": 117.15003, "accuracy": 8})
    _login(page, "pendamping-pwa")
    _wait_for_service_worker(page)
    for family in families:  # open the forms while online, as a mentor would before leaving town
        page.goto(f"/penerima/{family.id}/kunjungan/baru")
    page.goto("/kunjungan/")

    context.set_offline(True)
    for family in families:
        page.goto(f"/penerima/{family.id}/kunjungan/baru")
        _fill_visit(page, tmp_path, family.name.split()[0])
        page.get_by_role("button", name="Simpan kunjungan").click()
        expect(page.locator("#save-status")).to_contain_text("Tersimpan di HP")
        expect(page.get_by_role("heading", name="Kunjungan saya")).to_be_visible()
    expect(page.locator("#outbox [data-outbox-count]")).to_have_text("2")
    expect(page.locator("#outbox")).to_contain_text("Rosmini Tulung")
    page.reload()  # survives a reload ...
    expect(page.locator("#outbox [data-outbox-count]")).to_have_text("2")
    page.close()  # ... and closing the tab: it lives in IndexedDB
    page = context.new_page()
    page.goto("/kunjungan/")
    expect(page.locator("#outbox [data-outbox-count]")).to_have_text("2")
    assert _visits() == 0

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#outbox")).to_be_hidden(timeout=15000)
    assert _visits() == 2
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 2
    # both wait in the supervisor's queue, complete with their photos
    assert {v.review_state for v in db.session.scalars(select(Visit))} == {"menunggu"}
    assert all(v.photos for v in db.session.scalars(select(Visit)))


def test_the_same_outbox_item_sent_twice_is_stored_once(
    app, page: Page, context: BrowserContext, tmp_path, mentor_and_families
):
    """A lost response: the phone never learns the first send worked, and sends the visit again."""
    _, families = mentor_and_families
    _login(page, "pendamping-pwa")
    _wait_for_service_worker(page)
    page.goto(f"/penerima/{families[0].id}/kunjungan/baru")
    context.set_offline(True)
    page.locator("label.choice", has_text="Ya").first.click()
    page.select_option("#item-0", "dipakai")
    page.get_by_label("Perkiraan omzet (Rp)").fill("50000")
    page.select_option("#no_location_reason", "sinyal_lemah")
    page.set_input_files("#photo-1", _photo(tmp_path / "a.jpg"))
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.locator("#outbox [data-outbox-count]")).to_have_text("1")
    page.evaluate("async () => { window.keptCopy = (await KailOutbox.all())[0]; }")  # as the phone held it
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#outbox")).to_be_hidden(timeout=15000)  # sent; pretend its answer was lost ...
    assert _visits() == 1
    outcome = page.evaluate("""async () => {
        const token = await KailOutbox.freshToken();
        return (await KailOutbox.sendOne(window.keptCopy, token)).outcome;
    }""")  # ... so the phone sends the very same item again
    assert outcome == "duplicate"
    assert _visits() == 1 and db.session.scalar(select(func.count()).select_from(Photo)) == 1


def test_expired_csrf_token_is_refreshed_not_fatal(
    app, page: Page, context: BrowserContext, tmp_path, mentor_and_families
):
    _, families = mentor_and_families
    _login(page, "pendamping-pwa")
    _wait_for_service_worker(page)
    page.goto(f"/penerima/{families[1].id}/kunjungan/baru")
    context.set_offline(True)
    page.locator("label.choice", has_text="Tidak").first.click()
    page.select_option("#item-0", "dijual")
    page.select_option("#no_location_reason", "gps_mati")
    page.set_input_files("#photo-1", _photo(tmp_path / "b.jpg"))
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.locator("#outbox [data-outbox-count]")).to_have_text("1")
    page.evaluate("async () => { window.keptCopy = (await KailOutbox.all())[0]; }")
    # Back online, but (as after days away) holding a token the server no longer accepts. Routed on the context, so
    # the service worker's own Background Sync gets the expired token too (a page route would not reach it).
    context.route("**/csrf-token", lambda route: route.fulfill(json={"token": "an-expired-token"}))
    context.set_offline(False)
    outcome = page.evaluate("""async () => (await KailOutbox.sendOne(window.keptCopy, "an-expired-token")).outcome""")
    assert outcome == "token"  # refused, and recognised as a token problem ...
    assert _visits() == 0
    context.unroute("**/csrf-token")
    # ... which the next send fixes with a fresh token: the button's, or a background retry that came first
    # (under load the retry may win, and the button is gone with the emptied outbox).
    with contextlib.suppress(PlaywrightTimeoutError):
        page.get_by_role("button", name="Kirim sekarang").click(timeout=5000)
    expect(page.locator("#outbox")).to_be_hidden(timeout=15000)
    assert _visits() == 1


def test_photos_are_downscaled_on_the_phone_with_capture_time(app, page: Page, tmp_path, mentor_and_families):
    _, families = mentor_and_families
    original = _photo(tmp_path / "camera.jpg", size=(4000, 3000), noise=True, exif_time="2026:11:28 09:15:00")
    assert os.path.getsize(original) > 4_000_000
    sizes = []
    page.on(
        "request",
        lambda r: (
            sizes.append(len(r.post_data_buffer or b"")) if r.method == "POST" and "/kunjungan/baru" in r.url else None
        ),
    )
    _login(page, "pendamping-pwa")
    page.goto(f"/penerima/{families[0].id}/kunjungan/baru")
    page.locator("label.choice", has_text="Ya").first.click()
    page.select_option("#item-0", "dipakai")
    page.get_by_label("Perkiraan omzet (Rp)").fill("75000")
    page.select_option("#no_location_reason", "sinyal_lemah")
    page.set_input_files("#photo-1", original)
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.get_by_text("Kunjungan tersimpan")).to_be_visible()
    assert sizes and max(sizes) < 1_500_000, sizes  # the 4 MB+ original never left the phone
    photo = db.session.scalar(select(Photo))
    assert max(photo.width, photo.height) <= 1600
    assert photo.exif_taken_at == dt.datetime(2026, 11, 28, 9, 15)  # read from the original before downscaling
