"""A mentor records a visit end to end on a 360x740 phone: GPS fix, two photos, checklist, status change."""

import datetime as dt

from PIL import Image
from playwright.sync_api import Page, expect

from webapp.extensions import db

from .. import factories
from .conftest import log_in


def _photo(path, color):
    image = Image.new("RGB", (1600, 1200), color)
    image.paste((240, 240, 240), (400, 300, 900, 800))
    image.save(path, "JPEG", quality=85)
    return str(path)


_login = log_in


def test_mentor_records_a_visit_with_location_photos_and_status(app, page: Page, base_url, tmp_path):
    mentor = factories.user("mentor", username="pendamping-e2e")
    family = factories.recipient(
        mentor=mentor,
        name="Siti Aminah",
        package_items=["Wajan", "Kompor gas"],
        distributed_on=dt.date(2026, 6, 1),
        business_lat=-0.5021,
        business_lon=117.1535,
    )
    db.session.commit()
    page.context.grant_permissions(["geolocation"], origin=base_url)
    page.context.set_geolocation({"latitude": -0.50215, "longitude": 117.15362, "accuracy": 9})

    _login(page, "pendamping-e2e")
    expect(page.get_by_role("heading", name="Kunjungan saya")).to_be_visible()
    expect(page.get_by_text("Terlambat dikunjungi", exact=False)).to_be_visible()  # 1-month follow-up overdue
    page.get_by_role("link", name="Catat kunjungan").first.click()
    expect(page.get_by_role("heading", name="Catat kunjungan")).to_be_visible()

    page.get_by_role("button", name="Ambil lokasi").click()
    expect(page.locator("[data-geo-status]")).to_contain_text("akurasi ± 9 m")

    page.set_input_files("#photo-1", _photo(tmp_path / "usaha.jpg", (30, 140, 60)))
    expect(page.locator("[data-photo-preview]").first).to_be_visible()
    page.set_input_files("#photo-2", _photo(tmp_path / "barang.jpg", (160, 60, 40)))
    page.select_option("#tag-2", "barang_bantuan")

    page.locator("label.choice", has_text="Ya").first.click()
    page.get_by_role("button", name="Semua ada & dipakai").click()
    page.select_option("#item-1", "rusak")
    page.get_by_label("Perkiraan omzet (Rp)").press_sequentially("1250000")
    expect(page.get_by_label("Perkiraan omzet (Rp)")).to_have_value("1.250.000")
    page.get_by_label("Pendampingan yang diberikan").fill("Mencatat penjualan harian")
    page.get_by_label("Ubah status menjadi").select_option("usaha_kesulitan")
    page.get_by_label("Alasan perubahan status").fill("Kompor rusak, omzet turun")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("button", name="Simpan kunjungan").click()

    expect(page.get_by_text("Kunjungan tersimpan")).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Kunjungan pendampingan")
    expect(timeline).to_contain_text("Kompor rusak, omzet turun")
    expect(timeline.locator("img")).to_have_count(2)
    assert all(timeline.locator("img").evaluate_all("imgs => imgs.map(i => i.naturalWidth > 0)"))
    expect(page.locator("#status-panel .chip")).to_have_text("Usaha kesulitan")

    visit = db.session.scalar(db.select(factories.Visit))
    assert abs(visit.lat - -0.50215) < 1e-6 and visit.accuracy_m == 9
    assert visit.answers["turnover"] == 1_250_000 and visit.answers["items"]["Kompor gas"] == "rusak"
    assert family.id == visit.recipient_id


def test_visit_without_location_permission_is_saved_with_reason(app, page: Page, base_url, tmp_path):
    mentor = factories.user("mentor", username="pendamping-nogps")
    family = factories.recipient(mentor=mentor, name="Budi Santoso", package_items=["Wajan"])
    db.session.commit()
    # no geolocation permission granted: the browser denies it
    _login(page, "pendamping-nogps")
    page.goto(f"/penerima/{family.id}/kunjungan/baru")
    page.get_by_role("button", name="Ambil lokasi").click()
    expect(page.locator("[data-geo-status]")).to_contain_text("Izin lokasi ditolak")
    expect(page.get_by_label("Alasan tanpa lokasi")).to_have_value("izin_ditolak")
    page.get_by_role("button", name="Simpan kunjungan").click()
    # nothing else filled in: messages next to the fields, nothing saved
    expect(page.locator("#photos-error")).to_contain_text("minimal satu foto")
    expect(page.locator("#operating-error")).to_be_visible()
    page.set_input_files("#photo-1", _photo(tmp_path / "u.jpg", (20, 90, 160)))
    page.locator("label.choice", has_text="Tidak").first.click()
    page.select_option("#item-0", "dijual")
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.get_by_text("Kunjungan tersimpan")).to_be_visible()
    visit = db.session.scalar(db.select(factories.Visit))
    assert visit.lat is None and visit.no_location_reason == "izin_ditolak"
