"""A correction ("Perbaiki kunjungan") goes through the same outbox: saved offline, sent once when back online."""

import datetime as dt

from playwright.sync_api import BrowserContext, Page, expect

from webapp import review_states
from webapp.extensions import db

from .. import factories
from .conftest import log_in
from .test_pwa import _photo, _wait_for_service_worker


def test_a_correction_saved_offline_arrives_once(app, page: Page, context: BrowserContext, tmp_path):
    mentor = factories.user("mentor", username="pendamping-koreksi")
    family = factories.recipient(mentor=mentor, package_items=["Wajan"], distributed_on=dt.date(2026, 9, 1))
    visit = factories.visit(
        family,
        review_state=review_states.SENT_BACK,
        review_note="Foto usaha kurang jelas",
        answers={"mentoring": "", "operating": "ya", "items": {"Wajan": "dipakai"}, "turnover": 50000},
    )
    factories.photo(visit, "c" * 64 + ".jpg", "d" * 64 + ".jpg", tag="usaha_berjalan")
    db.session.commit()
    log_in(page, "pendamping-koreksi")
    _wait_for_service_worker(page)
    page.goto(f"/kunjungan/{visit.id}/perbaiki")
    expect(page.get_by_role("heading", name="Perbaiki kunjungan")).to_be_visible()
    context.set_offline(True)
    page.reload()  # the kept copy
    expect(page.get_by_role("heading", name="Perbaiki kunjungan")).to_be_visible()
    page.set_input_files("#photo-1", _photo(tmp_path / "jelas.jpg"))
    page.get_by_role("button", name="Kirim perbaikan").click()
    expect(page.locator("#save-status")).to_contain_text("Tersimpan di HP")
    expect(page.locator("#outbox [data-outbox-count]")).to_have_text("1")
    assert visit.round == 1

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#outbox")).to_be_hidden(timeout=15000)
    db.session.expire_all()
    assert visit.round == 2 and visit.review_state == review_states.WAITING and len(visit.photos) == 2
    # The same correction sent again (its answer lost) changes nothing.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    db.session.expire_all()
    assert visit.round == 2 and len(visit.photos) == 2
