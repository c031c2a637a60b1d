"""The visit form after a refusal: the photos the mentor took stay visible, and every message names its item."""

import datetime as dt

from PIL import Image
from playwright.sync_api import Page, expect

from webapp.extensions import db

from .. import factories
from .conftest import log_in


def _photo(path, color):
    image = Image.new("RGB", (1200, 900), color)
    image.paste((240, 240, 240), (300, 200, 700, 600))
    image.save(path, "JPEG", quality=85)
    return str(path)


def _previews_shown(page: Page) -> list[bool]:
    return page.locator("[data-photo-preview]").evaluate_all(
        "imgs => imgs.filter(i => !i.hidden).map(i => i.complete && i.naturalWidth > 0)"
    )


def test_refused_form_keeps_photo_previews_and_names_each_item(app, page: Page, base_url, tmp_path):
    mentor = factories.user("mentor", username="pendamping-preview")
    factories.recipient(
        mentor=mentor,
        name="Rina Wati",
        package_items=["Wajan", "Kompor gas", "Tabung gas", "Spatula"],
        distributed_on=dt.date(2026, 6, 1),
    )
    db.session.commit()
    log_in(page, "pendamping-preview")
    page.get_by_role("link", name="Catat kunjungan").first.click()
    page.get_by_label("Alasan tanpa lokasi").select_option("sinyal_lemah")
    page.set_input_files("#photo-1", _photo(tmp_path / "usaha.jpg", (30, 140, 60)))
    page.set_input_files("#photo-2", _photo(tmp_path / "barang.jpg", (160, 60, 40)))
    page.locator("label.choice", has_text="Ya").first.click()
    page.get_by_label("Perkiraan omzet (Rp)").fill("150.000")
    page.select_option("#item-0", "dipakai")  # the other three items left unanswered
    page.get_by_role("button", name="Simpan kunjungan").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    for item in ("Kompor gas", "Tabung gas", "Spatula"):
        expect(summary).to_contain_text(f"{item}: pilih kondisi barang")
        expect(page.locator(".item-row", has_text=item).locator(".field__error")).to_contain_text(item)
    expect(summary).not_to_contain_text("Wajan")
    expect(page.locator("[data-photo-preview]:not([hidden])")).to_have_count(2)
    assert _previews_shown(page) == [True, True]
    expect(page.locator("[data-photos-dropped]")).to_be_hidden()

    # Fixed and saved: the photos the previews showed are the ones stored.
    for index in (1, 2, 3):
        page.select_option(f"#item-{index}", "dipakai")
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.get_by_text("Kunjungan tersimpan")).to_be_visible()
    visit = db.session.scalar(db.select(factories.Visit))
    assert len(visit.photos) == 2
