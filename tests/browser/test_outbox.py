"""The outbox in real Chromium: codes minted when saving, stored items of an older app version upgraded."""

import uuid

from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Photo, Visit

from .. import factories
from . import test_pwa
from .test_pwa import _fill_visit, _login, _photo, _visits, _wait_for_service_worker

mentor_and_families = test_pwa.mentor_and_families  # the same cast as the PWA tests


def _photos():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Photo))


def _send_now(page: Page):
    page.evaluate("window.dispatchEvent(new Event('online'))")


def test_two_visits_saved_from_one_stored_form_both_arrive(
    app, page: Page, context: BrowserContext, tmp_path, mentor_and_families
):
    """The same cached form used twice offline: each save mints its own visit and photo codes."""
    _, families = mentor_and_families
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"latitude": -0.50005, "longitude": 117.15003, "accuracy": 8})
    _login(page, "pendamping-pwa")
    _wait_for_service_worker(page)
    form = f"/penerima/{families[0].id}/kunjungan/baru"
    page.goto(form)
    page.goto("/kunjungan/")
    context.set_offline(True)
    for name in ("pagi", "sore"):
        page.goto(form)  # the very same stored page both times
        _fill_visit(page, tmp_path, name)
        page.get_by_role("button", name="Simpan kunjungan").click()
        expect(page.get_by_role("heading", name="Kunjungan saya")).to_be_visible()
    expect(page.locator("#outbox [data-outbox-count]")).to_have_text("2")
    codes = page.evaluate("async () => (await KailOutbox.all()).map(i => [i.uuid, i.photos[0].uuid])")
    assert len({c for pair in codes for c in pair}) == 4
    context.set_offline(False)
    _send_now(page)
    expect(page.locator("#outbox")).to_be_hidden(timeout=15000)
    assert _visits() == 2 and _photos() == 2


def test_items_stored_by_the_previous_app_version_are_upgraded_and_delivered(
    app, page: Page, context: BrowserContext, tmp_path, mentor_and_families
):
    """A mentor updates the app with unsent visits: the old items are migrated, not lost, and still arrive."""
    mentor, families = mentor_and_families
    taken = factories.photo(
        factories.visit(families[1], mentor), "a" * 64 + ".jpg", "b" * 64 + ".jpg"
    ).uuid  # a photo code from a cached page, stored
    db.session.commit()
    page.goto("/manifest.webmanifest")  # same origin, no app script: build the old version's database by hand
    visit_code = str(uuid.uuid4())
    page.evaluate(
        """async ([url, visitCode, photoCode]) => {
        const canvas = new OffscreenCanvas(640, 480);
        const g = canvas.getContext("2d");
        g.fillStyle = "#2a7"; g.fillRect(0, 0, 640, 480); g.fillStyle = "#eee"; g.fillRect(160, 120, 200, 160);
        const photo = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.9 });
        await new Promise((resolve, reject) => {
          const open = indexedDB.open("kail", 1);
          open.onerror = () => reject(open.error);
          open.onupgradeneeded = () => open.result.createObjectStore("outbox", { keyPath: "uuid" });
          open.onsuccess = () => {
            const tx = open.result.transaction("outbox", "readwrite");
            const fields = [["uuid", visitCode], ["kind", "pendampingan"], ["no_location_reason", "sinyal_lemah"],
                            ["operating", "ya"], ["item-0", "dipakai"], ["turnover", "100.000"],
                            ["tag-1", "usaha_berjalan"], ["photo-1-uuid", photoCode]];
            tx.objectStore("outbox").put({ uuid: visitCode, url: url, title: "Lama",
              createdAt: new Date().toISOString(), fields: fields, photos: [{ field: "photo-1", blob: photo }],
              state: "waiting", attempts: 1 });
            tx.objectStore("outbox").put({ uuid: "old-refused", url: url, title: "Ditolak", fields: [],
              createdAt: new Date().toISOString(), photos: [], state: "rejected", attempts: 2, lastError: "x" });
            tx.oncomplete = () => { open.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
          };
        });
    }""",
        [f"/penerima/{families[0].id}/kunjungan/baru", visit_code, taken],
    )
    _login(page, "pendamping-pwa")  # the updated app opens: it upgrades the stored items, then sends
    items = page.evaluate("async () => (await KailOutbox.all()).map(i => [i.uuid, i.state, i.version])")
    states = {code: (state, version) for code, state, version in items}
    assert states["old-refused"] == ("needs_fix", 2)
    assert states.get(visit_code, ("sent", 2))[1] == 2  # upgraded, or already delivered
    expect(page.locator("#outbox")).to_contain_text("Ditolak")  # kept, for the mentor to decide
    expect(page.locator("#outbox [data-outbox-count]")).to_have_text("1", timeout=15000)  # the other one arrived
    db.session.expire_all()
    visit = db.session.scalar(select(Visit).where(Visit.uuid == visit_code))
    assert visit is not None and len(visit.photos) == 1 and visit.photos[0].uuid != taken


def test_the_outbox_keeps_retrying_on_a_timer_after_a_failed_send(
    app, page: Page, context: BrowserContext, tmp_path, mentor_and_families
):
    """A send cut off mid-way fires no 'online' event: the outbox tries again by itself, with backoff."""
    _, families = mentor_and_families
    _login(page, "pendamping-pwa")
    _wait_for_service_worker(page)
    page.goto(f"/penerima/{families[0].id}/kunjungan/baru")
    context.set_offline(True)
    page.select_option("#no_location_reason", "sinyal_lemah")
    page.set_input_files("#photo-1", _photo(tmp_path / "a.jpg"))
    page.locator("label.choice", has_text="Ya").first.click()
    page.select_option("#item-0", "dipakai")
    page.get_by_label("Perkiraan omzet (Rp)").fill("50000")
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.get_by_role("heading", name="Kunjungan saya")).to_be_visible()
    cut = {"n": 0}

    def drop(route):
        cut["n"] += 1
        route.abort("connectionreset")

    context.route("**/kunjungan/baru", drop)  # the link drops every send for now
    context.set_offline(False)
    _send_now(page)
    for _ in range(120):  # the photo goes first (in chunks), then the visit's request, which the link drops
        if cut["n"]:
            break
        page.wait_for_timeout(500)
    assert cut["n"] >= 1 and _visits() == 0
    context.unroute("**/kunjungan/baru")  # signal is back, and nobody touches the phone
    # The timer backs off 15 s doubling to 60 s, each with jitter ×0.5–1.5, and the service worker's Background
    # Sync may have met the dropped link too (two failures: the next try within 45 s); wait past the longest delay.
    expect(page.locator("#outbox")).to_be_hidden(timeout=100000)
    assert _visits() == 1
