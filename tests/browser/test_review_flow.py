"""A supervisor approves a flagged visit on a desktop (keyboard) and sends one back on a phone;
the mentor then sees it at the top of their home."""

import datetime as dt

from flask import current_app
from playwright.sync_api import Browser, Page, expect

from webapp import photos, recording
from webapp.demo import demo_photo
from webapp.extensions import db

from .. import factories
from .conftest import log_in

ARRIVED = dt.datetime(2026, 11, 20, 2, 0)


def _visit(family, mentor, seed, **fields):
    upload = recording.PhotoUpload(photos.process(demo_photo("review", seed)), "usaha_berjalan")
    values = dict(lat=family.business_lat, lon=family.business_lon, accuracy_m=10.0)
    values.update(fields)
    data = recording.VisitInput(
        uuid=f"00000000-0000-4000-8000-{seed:012d}",
        kind="pendampingan",
        visited_at=ARRIVED + dt.timedelta(minutes=seed),
        **values,
    )
    visit, _ = recording.record_visit(family, mentor, data, [upload], current_app.config["UPLOAD_DIR"])
    return visit


_login = log_in


def test_supervisor_approves_on_desktop_and_sends_back_on_a_phone(app, browser: Browser, page: Page, base_url):
    region = factories.region("6472")
    mentor = factories.user("mentor", regions=[region], username="pendamping-review")
    factories.user("supervisor", regions=[region], username="koordinator-review")
    first = factories.recipient(region, mentor, name="Asmah Ingan", business_lat=-0.50, business_lon=117.15)
    second = factories.recipient(region, mentor, name="Budi Setiawan", business_lat=-0.51, business_lon=117.16)
    db.session.commit()
    flagged = _visit(first, mentor, 1, accuracy_m=250.0)  # akurasi_rendah
    other = _visit(second, mentor, 2)

    desktop = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800}, locale="id-ID")
    dpage = desktop.new_page()
    _login(dpage, "koordinator-review")
    dpage.goto("/periksa/")
    card = dpage.locator(f"#visit-{flagged.id}")
    warning = card.locator(".flag:not(.flag--info)")
    expect(warning).to_contain_text("Akurasi GPS rendah")
    expect(warning).to_contain_text("± 250 m")
    expect(dpage.get_by_text("Pintasan:")).to_be_visible()
    dpage.keyboard.press("j")  # focus the first (oldest) card
    expect(card).to_be_focused()
    dpage.keyboard.press("a")  # approve it
    expect(dpage.locator(".decided")).to_contain_text("Disetujui: kunjungan Asmah Ingan")
    expect(dpage.locator(f"#visit-{other.id}")).to_be_focused()  # on to the next one
    desktop.close()
    db.session.expire_all()
    assert db.session.get(factories.Visit, flagged.id).review_state == "disetujui"

    # On the phone: send the other one back; the note is required.
    _login(page, "koordinator-review")
    page.goto("/periksa/")
    card = page.locator(f"#visit-{other.id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    card.get_by_role("button", name="Minta perbaikan").click()
    expect(card.locator(".field__error")).to_contain_text("Tulis catatan")
    card.get_by_label("Catatan untuk pendamping").fill("Foto dari depan warung, papan nama terlihat")
    card.get_by_role("button", name="Minta perbaikan").click()
    expect(page.locator(".decided")).to_contain_text("Dikirim balik")
    page.locator("summary[aria-label='Menu akun']").click()
    page.get_by_role("button", name="Keluar").click()
    # Logging out first reads the phone's outbox (unsent visits ask for confirmation): wait until it has left.
    page.wait_for_url("**/akun/masuk**")

    _login(page, "pendamping-review")
    expect(page.get_by_role("heading", name="Perlu diperbaiki")).to_be_visible()
    first_card = page.locator(".work-card").first
    expect(first_card).to_contain_text("Budi Setiawan")
    expect(first_card).to_contain_text("Foto dari depan warung, papan nama terlihat")
    first_card.get_by_role("link", name="Perbaiki kunjungan").click()
    expect(page.get_by_role("heading", name="Perbaiki kunjungan")).to_be_visible()
