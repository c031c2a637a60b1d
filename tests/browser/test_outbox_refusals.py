"""Nothing is thrown away: a queued visit the server refuses stays on the phone as "Perlu diperbaiki", opens in its
form with answers, location and photos intact and the server's reason beside the field, and is sent again."""

import datetime as dt

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Visit

from .. import factories
from .conftest import log_in
from .test_pwa import _photo, _wait_for_service_worker


@pytest.fixture
def family(app):
    mentor = factories.user("mentor", username="pendamping-tolak")
    other = factories.user("mentor", username="pendamping-lain")
    recipient = factories.recipient(
        mentor=mentor, name="Wati Lestari", package_items=["Wajan"], distributed_on=dt.date(2026, 9, 1)
    )
    db.session.commit()
    return recipient, other


def _queue_offline(page: Page, context: BrowserContext, recipient, photo_path: str):
    log_in(page, "pendamping-tolak")
    _wait_for_service_worker(page)
    page.goto(f"/penerima/{recipient.id}/kunjungan/baru")
    context.set_offline(True)
    page.select_option("#no_location_reason", "sinyal_lemah")
    page.locator("label.choice", has_text="Sebagian").first.click()
    page.select_option("#item-0", "rusak")
    page.get_by_label("Perkiraan omzet (Rp)").fill("75.000")
    page.get_by_label("Pendampingan yang diberikan").fill("Catatan yang tidak boleh hilang")
    page.set_input_files("#photo-1", photo_path)
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.get_by_role("heading", name="Kunjungan saya")).to_be_visible()
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")


def test_a_refused_visit_opens_in_its_form_intact_and_is_sent_once_fixed(
    app, page: Page, context: BrowserContext, tmp_path, family
):
    recipient, _ = family
    broken = tmp_path / "rusak.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a photo" * 50)  # passes the phone's rules, not the server's
    _queue_offline(page, context, recipient, str(broken))
    item = page.locator("#outbox .outbox__item--needs_fix")
    expect(item).to_contain_text("Perlu diperbaiki", timeout=15000)
    expect(item).to_contain_text("Foto 1")
    page.reload()
    expect(page.locator("#outbox .outbox__item--needs_fix")).to_be_visible()  # kept, not dropped

    page.locator("#outbox").get_by_role("link", name="Perbaiki").click()
    expect(page.locator("#photo-1-error")).to_contain_text("Foto 1")
    expect(page.get_by_label("Perkiraan omzet (Rp)")).to_have_value("75.000")
    expect(page.get_by_label("Pendampingan yang diberikan")).to_have_value("Catatan yang tidak boleh hilang")
    expect(page.locator("#item-0")).to_have_value("rusak")
    expect(page.locator("input[name=operating][value=sebagian]")).to_be_checked()
    expect(page.locator("#no_location_reason")).to_have_value("sinyal_lemah")
    expect(page.locator("[data-photo-preview]").first).to_be_attached()

    page.set_input_files("#photo-1", _photo(tmp_path / "baik.jpg"))
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.get_by_text("Kunjungan tersimpan")).to_be_visible(timeout=15000)
    db.session.expire_all()
    visits = db.session.scalars(select(Visit)).all()
    assert len(visits) == 1 and visits[0].answers["mentoring"] == "Catatan yang tidak boleh hilang"
    assert visits[0].answers["turnover"] == 75000
    assert page.evaluate("async () => (await KailOutbox.all()).length") == 0


def test_a_visit_for_a_family_handed_to_another_mentor_is_kept_until_deleted_on_purpose(
    app, page: Page, context: BrowserContext, tmp_path, family
):
    recipient, other = family
    recipient.mentor = other  # reassigned while the visit waited on the phone
    db.session.commit()
    log_in(page, "pendamping-tolak")
    _wait_for_service_worker(page)
    page.goto("/kunjungan/")
    # The form was kept from before the hand-over; simulate it by queuing through the outbox directly.
    page.evaluate(
        """async (url) => {
        const canvas = new OffscreenCanvas(320, 240);
        canvas.getContext("2d").fillRect(0, 0, 100, 100);
        const blob = await canvas.convertToBlob({ type: "image/jpeg" });
        await KailOutbox.put({ uuid: KailOutbox.uuid4(), url: url, title: "Wati Lestari", version: KailOutbox.VERSION,
          kind: "visit", createdAt: new Date().toISOString(), state: "waiting", attempts: 0,
          fields: [["kind", "pendampingan"], ["no_location_reason", "sinyal_lemah"], ["operating", "ya"],
                   ["item-0", "dipakai"], ["turnover", "1000"], ["tag-1", "usaha_berjalan"]],
          photos: [{ field: "photo-1", blob: blob, uuid: KailOutbox.uuid4() }] });
        await KailApp.sendNow();
    }""",
        f"/penerima/{recipient.id}/kunjungan/baru",
    )
    item = page.locator("#outbox .outbox__item--needs_fix")
    expect(item).to_contain_text("Perlu diperbaiki", timeout=15000)
    page.once("dialog", lambda dialog: dialog.dismiss())
    item.get_by_role("button", name="Hapus").click()
    expect(item).to_be_visible()  # a dismissed confirmation deletes nothing
    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Hapus").click()
    expect(page.locator("#outbox")).to_be_hidden()
