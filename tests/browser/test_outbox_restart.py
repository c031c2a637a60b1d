"""The outbox survives a browser restart in the middle of sending a visit's photos (issue 15, item 7).

Real Chromium with a persistent profile. A 4-photo visit is saved offline; back online, the phone sends the photos
in chunks; when two photos are in and the third is part-way, the server stops answering (the signal went, then
the phone was switched off) and the browser is closed. Reopened, the outbox resumes the third photo from the
offset the server holds — not from zero, and without sending the first two again — and the visit arrives exactly
once with all four photos. No request is answered 5xx. Then the outbox says "Terkirim" and the family, overdue
before, is no longer under "Terlambat dikunjungi" on the work list.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from webapp.extensions import db
from webapp.models import Photo, PhotoUpload, Visit

from .. import factories
from .conftest import CHROMIUM, CHROMIUM_ARGS, count_rows, log_in, noisy_photo, wait_for_service_worker

CHUNK = 64 * 1024


class Gate:
    """WSGI middleware, the server's side of the link: logs every answer, follows each photo's chunks and, once
    two photos are complete and a third has its first chunk in, holds every later request (the signal is gone)."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.statuses: list[tuple[int, str, str]] = []
        self.chunks: list[tuple[str, int]] = []  # (photo code, offset) of every chunk the phone sent
        self.complete: list[str] = []
        self.closed = threading.Event()
        self.reopened = threading.Event()

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if self.closed.is_set() and not self.reopened.is_set():
            self.reopened.wait(60)  # held until the phone is gone; then answered into a closed connection
        if method == "PATCH" and "/foto/" in path:
            code, offset = path.rsplit("/", 1)[1], int(environ.get("HTTP_UPLOAD_OFFSET") or 0)
            length = int(environ.get("HTTP_UPLOAD_LENGTH") or 0)
            with self.lock:
                self.chunks.append((code, offset))
                if offset + int(environ.get("CONTENT_LENGTH") or 0) >= length and code not in self.complete:
                    self.complete.append(code)
                elif len(self.complete) >= 2 and offset > 0 and code not in self.complete:
                    self.closed.set()  # the third photo's second chunk: the link goes, mid-photo
                    return self._held(environ, start_response)

        def recording(status, headers, exc_info=None):
            with self.lock:
                self.statuses.append((int(status.split()[0]), method, path))
            return start_response(status, headers, exc_info)

        return self.app(environ, recording)

    def _held(self, environ, start_response):
        self.reopened.wait(60)
        return self.app(environ, start_response)


@pytest.fixture
def gated(_app):
    gate = Gate(_app)
    server = make_server("127.0.0.1", 0, gate, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    gate.base = f"http://127.0.0.1:{server.server_port}"
    yield gate
    gate.reopened.set()
    server.shutdown()


def _phone(browser_type, profile: Path, base: str):
    context = browser_type.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        base_url=base,
        viewport={"width": 360, "height": 740},
        locale="id-ID",
        timezone_id="Asia/Makassar",
        has_touch=True,
        is_mobile=True,
    )
    context.set_default_timeout(20_000)
    return context


def _photo(folder: Path, seed: int) -> str:
    """Camera-like detail, so each photo is still several 64 KB chunks after the phone's downscale."""
    return noisy_photo(folder, seed, (160, 120), 10, 90)


def test_closing_the_browser_mid_photo_resumes_from_the_server_offset_and_delivers_once(
    app, browser_type, gated, tmp_path
):
    mentor = factories.user("mentor", username="pendamping-hulu")
    family = factories.recipient(
        mentor=mentor, name="Rosmini Tulung", package_items=["Wajan"], distributed_on=dt.date(2026, 6, 1)
    )
    db.session.commit()
    profile = tmp_path / "profile"
    phone = _phone(browser_type, profile, gated.base)
    page = phone.new_page()
    log_in(page, "pendamping-hulu")
    overdue = page.locator("h2.group-title--1 + ul.cards")
    expect(overdue).to_contain_text("Rosmini Tulung")  # "Terlambat dikunjungi" before the visit
    wait_for_service_worker(page)
    page.goto(f"/penerima/{family.id}/kunjungan/baru")
    phone.set_offline(True)
    page.select_option("#no_location_reason", "sinyal_lemah")
    for slot in range(1, 5):
        page.set_input_files(f"#photo-{slot}", _photo(tmp_path, slot))
        page.select_option(f"#tag-{slot}", "usaha_berjalan" if slot == 1 else "barang_bantuan")
    page.locator("label.choice", has_text="Ya").first.click()
    page.get_by_role("button", name="Semua ada & dipakai").click()
    page.get_by_label("Perkiraan omzet (Rp)").fill("150.000")
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.get_by_role("heading", name="Kunjungan saya", exact=True)).to_be_visible()
    sizes = page.evaluate("async () => (await KailOutbox.all())[0].photos.map(p => p.blob.size)")
    assert len(sizes) == 4 and all(size > 2 * CHUNK for size in sizes), sizes

    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    assert gated.closed.wait(60), f"the phone never got to the third photo: {gated.chunks}"
    expect(page.locator("#outbox")).to_contain_text("2 dari 4 foto terkirim")
    page.screenshot(path=str(tmp_path / "outbox-2-dari-4.png"))
    phone.close()  # switched off mid-photo
    gated.reopened.set()  # the held chunk reaches the server after the phone is gone (its answer is lost)
    assert count_rows(Visit) == 0 and len(gated.complete) == 2
    third = next(code for code, _ in reversed(gated.chunks) if code not in gated.complete)
    sent_before = len(gated.chunks)

    phone = _phone(browser_type, profile, gated.base)
    page = phone.pages[0] if phone.pages else phone.new_page()
    page.goto("/kunjungan/")  # opening the app sends what waits
    expect(page.locator("#outbox")).to_be_hidden(timeout=60_000)
    expect(page.locator("#outbox-sent")).to_contain_text("Terkirim")
    expect(page.locator("#outbox-sent")).to_contain_text("4 foto")
    page.screenshot(path=str(tmp_path / "outbox-terkirim.png"))

    after = gated.chunks[sent_before:]
    assert all(code not in gated.complete[:2] for code, _ in after), "a photo already in was sent again"
    resumed = [offset for code, offset in after if code == third]
    assert resumed and resumed[0] > 0, f"the third photo started again from zero: {after}"
    assert count_rows(Visit) == 1 and count_rows(Photo) == 4 and count_rows(PhotoUpload) == 0
    visit = db.session.scalar(select(Visit))
    assert {p.uuid for p in visit.photos} >= set(gated.complete[:2]) | {third}
    assert not [s for s in gated.statuses if s[0] >= 500], gated.statuses
    # the family left "Terlambat dikunjungi" on the phone
    page.goto("/kunjungan/")
    expect(page.locator("li[data-name]", has_text="Rosmini Tulung")).to_be_visible()
    expect(page.locator("h2.group-title--1 + ul.cards", has_text="Rosmini Tulung")).to_have_count(0)
    phone.close()


def test_a_delivered_visit_moves_its_family_out_of_terlambat_on_the_open_work_list(app, page, tmp_path):
    """The work list open while the outbox delivers (the kept copy, made before the visit): the family leaves
    "Terlambat dikunjungi" at once, under "Baru terkirim" with the time; "Terkirim" stays in the outbox panel."""
    mentor = factories.user("mentor", username="pendamping-hilir")
    factories.recipient(mentor=mentor, name="Samsul Anwar", package_items=["Wajan"], distributed_on=dt.date(2026, 6, 1))
    family = factories.recipient(
        mentor=mentor, name="Jamilah Lawing", package_items=["Wajan"], distributed_on=dt.date(2026, 6, 1)
    )
    db.session.commit()
    log_in(page, "pendamping-hilir")
    wait_for_service_worker(page)
    overdue = page.locator("h2.group-title--1 + ul.cards")
    expect(overdue).to_contain_text("Jamilah Lawing")
    page.goto(f"/penerima/{family.id}/kunjungan/baru")
    page.context.set_offline(True)
    page.select_option("#no_location_reason", "sinyal_lemah")
    page.set_input_files("#photo-1", _photo(tmp_path, 1))
    page.locator("label.choice", has_text="Ya").first.click()
    page.get_by_role("button", name="Semua ada & dipakai").click()
    page.get_by_label("Perkiraan omzet (Rp)").fill("150.000")
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.get_by_role("heading", name="Kunjungan saya", exact=True)).to_be_visible()
    expect(overdue).to_contain_text("Jamilah Lawing")  # not sent yet
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#outbox-sent")).to_contain_text("Terkirim", timeout=30_000)
    sent = page.locator("h2.group-title--sent + ul.cards")
    expect(sent).to_contain_text("Jamilah Lawing")
    expect(sent).to_contain_text("Terkirim")
    expect(overdue).not_to_contain_text("Jamilah Lawing")
    expect(overdue).to_contain_text("Samsul Anwar")  # the other family is still overdue
    page.locator("h2.group-title--sent").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "baru-terkirim.png"))
    from .test_accessibility import _serious

    assert _serious(page) == []  # the "Terkirim" card and the "Baru terkirim" group included
    page.get_by_role("button", name="Tutup daftar terkirim").click()  # seen: the card goes, the list keeps it
    expect(page.locator("#outbox-sent")).to_be_hidden()
    page.reload()
    expect(page.locator("#outbox-sent")).to_be_hidden()
    assert count_rows(Visit) == 1
