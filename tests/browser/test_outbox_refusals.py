"""Nothing is thrown away: a queued visit the server refuses stays on the phone as "Perlu diperbaiki", opens in its
form with answers, location and photos intact and the server's reason beside the field, and is sent again.

Every refusal the outbox's endpoints can give is tried (the visit, the correction and the photo sent ahead):
the mentor's to fix (422 per field, 400 refused input, 403, 404, 413) keep the item editable with the server's
words; the ones that are nobody's mistake (an expired token, a lost session, a code another visit holds, a photo
that never arrived, storage down, a 500) keep it waiting and send it by themselves once the cause is gone.
"""

import datetime as dt
import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from webapp import recording, review_states
from webapp.extensions import db
from webapp.models import Photo, Visit
from webapp.storage import StorageUnavailable

from .. import factories
from .conftest import log_in, wait_until
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


# --- Every kind of refusal ------------------------------------------------------------------------------------------

GPS = {"latitude": -0.50004, "longitude": 117.15002, "accuracy": 9}


@pytest.fixture
def cast(app):
    mentor = factories.user("mentor", username="pendamping-tolak")
    other = factories.user("mentor", regions=mentor.regions, username="pendamping-lain")
    recipient = factories.recipient(
        mentor=mentor, name="Wati Lestari", package_items=["Wajan"], distributed_on=dt.date(2026, 9, 1)
    )
    sent_back = factories.visit(
        recipient,
        mentor,
        review_state=review_states.SENT_BACK,
        review_note="Foto usaha kurang jelas",
        answers={"mentoring": "Catatan lama", "operating": "ya", "items": {"Wajan": "dipakai"}, "turnover": 50000},
    )
    factories.photo(sent_back, "c" * 64 + ".jpg", "d" * 64 + ".jpg", tag="usaha_berjalan")
    db.session.commit()
    return {"mentor": mentor, "other": other, "recipient": recipient, "sent_back": sent_back}


def _item(page: Page) -> dict:
    return page.evaluate(
        "async () => { const [i] = await KailOutbox.all(); return i && {uuid: i.uuid, state: i.state,"
        " attempts: i.attempts || 0, lastError: i.lastError || '', errors: i.errors || {},"
        " photos: i.photos.map(p => p.uuid), sent: i.photos.map(p => !!p.sent)}; }"
    )


def _queue(page: Page, context: BrowserContext, cast, tmp_path, correction: bool = False):
    """Save a visit (or a correction) offline through the real form: location, answers, a photo."""
    context.grant_permissions(["geolocation"])
    context.set_geolocation(GPS)
    log_in(page, "pendamping-tolak")
    _wait_for_service_worker(page)
    if correction:
        page.goto(f"/kunjungan/{cast['sent_back'].id}/perbaiki")
    else:
        page.goto(f"/penerima/{cast['recipient'].id}/kunjungan/baru")
    context.set_offline(True)
    if not correction:
        page.get_by_role("button", name="Ambil lokasi").click()
        expect(page.locator("[data-geo-status]")).to_contain_text("akurasi")
    page.locator("label.choice", has_text="Sebagian").first.click()
    page.select_option("#item-0", "rusak")
    page.get_by_label("Perkiraan omzet (Rp)").fill("75.000")
    page.get_by_label("Pendampingan yang diberikan").fill("Catatan yang tidak boleh hilang")
    page.set_input_files("#photo-1", _photo(tmp_path / "usaha.jpg"))
    page.get_by_role("button", name="Kirim perbaikan" if correction else "Simpan kunjungan").click()
    expect(page.locator("#save-status")).to_contain_text("Tersimpan di HP")
    expect(page.get_by_role("heading", name="Kunjungan saya")).to_be_visible()


def _tamper(page: Page, field: str, value: str):
    """Change one stored answer on the phone (what no form lets a person type: the server is the authority)."""
    page.evaluate(
        """async ([field, value]) => { const [item] = await KailOutbox.all();
        item.fields = item.fields.filter(p => p[0] !== field).concat([[field, value]]);
        await KailOutbox.put(item); }""",
        [field, value],
    )


def _send(page: Page, context: BrowserContext):
    context.set_offline(False)
    page.evaluate("KailApp.sendNow()")


# Each refusal the mentor must act on: (how the server comes to refuse, the reason the phone must show, the field it
# stands beside when the form opens, whether the form can open at all, correcting rather than a new visit).
def _package_changed(cast, page, app, monkeypatch):
    cast["recipient"].package_items = ["Wajan", "Kompor gas"]  # the office added an item meanwhile


def _broken_photo(cast, page, app, monkeypatch):
    page.evaluate(
        """async () => { const [item] = await KailOutbox.all();
        item.photos[0].blob = new Blob(["not really a photo ".repeat(80)], { type: "image/jpeg" });
        await KailOutbox.put(item); }"""
    )


def _nul_byte(cast, page, app, monkeypatch):
    _tamper(page, "mentoring", "Catatan yang tidak boleh hilang\x00")


def _tampered_kind(cast, page, app, monkeypatch):
    _tamper(page, "kind", "bukan-jenis")


def _reassigned(cast, page, app, monkeypatch):
    cast["recipient"].mentor = cast["other"]


def _no_longer_mentor(cast, page, app, monkeypatch):
    cast["mentor"].role = "supervisor"


def _too_large(cast, page, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)


def _visit_deleted(cast, page, app, monkeypatch):
    cast["sent_back"].mentor = cast["other"]  # no longer hers: the same answer as a visit that is gone


REFUSALS = {
    "422 an answer the package now needs": (_package_changed, "Kompor gas", "item-1", True, False),
    "422 photo not a photo": (_broken_photo, "Foto 1", "photo-1", True, False),
    "400 forbidden character": (_nul_byte, "karakter yang tidak diizinkan", "photos", True, False),
    "400 malformed visit": (_tampered_kind, "Data kunjungan rusak", "photos", True, False),
    "404 family reassigned away": (_reassigned, "tidak ada lagi di daftar Anda", None, False, False),
    "403 no longer a mentor": (_no_longer_mentor, "tidak lagi boleh mencatat kunjungan", None, False, False),
    "413 too large": (_too_large, "Kiriman melebihi", "photo-1", True, False),
    "422 correction missing an answer the package now needs": (_package_changed, "Kompor gas", "item-1", True, True),
    # the photo, sent ahead, meets the visit code under another mentor first (a 409): told as a visit gone
    "404 corrected visit gone": (_visit_deleted, "tidak ada lagi di daftar Anda", None, False, True),
}


@pytest.mark.parametrize("kind", list(REFUSALS))
def test_every_refusal_keeps_the_visit_editable_with_the_servers_reason(
    app, page: Page, context: BrowserContext, tmp_path, cast, monkeypatch, kind
):
    cause, reason, field, opens, correction = REFUSALS[kind]
    _queue(page, context, cast, tmp_path, correction=correction)
    cause(cast, page, app, monkeypatch)
    db.session.commit()
    _send(page, context)
    item = page.locator("#outbox .outbox__item--needs_fix")
    expect(item).to_contain_text("Perlu diperbaiki", timeout=15000)
    expect(item).to_contain_text(re.compile(reason))
    assert re.search(reason, _item(page)["lastError"] + " ".join(_item(page)["errors"].values()))
    page.reload()
    # kept, and shown on every page, a supervisor's too (the mentor made supervisor still sees what waits)
    expect(page.locator("#outbox .outbox__item--needs_fix")).to_contain_text(re.compile(reason))
    assert _item(page)["state"] == "needs_fix"
    monkeypatch.undo()  # back to a server that would take it: nothing is sent until the mentor says so
    page.evaluate("KailApp.sendNow()")
    page.wait_for_timeout(500)
    assert _item(page)["state"] == "needs_fix"
    if not opens:  # the family is not hers (or she is not a mentor) any more: kept, deleted only on purpose
        if kind == "404 family reassigned away":  # no "Perbaiki" leading to an error page; "Hapus" stays
            expect(page.locator("#outbox").get_by_role("link", name="Perbaiki")).to_have_count(0)
            expect(page.locator("#outbox").get_by_role("button", name="Hapus")).to_be_visible()
        return
    page.locator("#outbox").get_by_role("link", name="Perbaiki").click()
    expect(page.locator("form[data-visit-form]")).to_be_visible()
    expect(page.locator(f"#{field}-error")).to_contain_text(re.compile(reason))
    expect(page.locator("#item-0")).to_have_value("rusak")
    # as saved, the forbidden character too (the mentor sees the message and removes it)
    expect(page.get_by_label("Pendampingan yang diberikan")).to_have_value(
        re.compile("^Catatan yang tidak boleh hilang")
    )
    if not correction:
        expect(page.get_by_label("Perkiraan omzet (Rp)")).to_have_value("75.000")
        expect(page.locator("input[name=operating][value=sebagian]")).to_be_checked()
        expect(page.locator("[data-geo-lat]")).to_have_value(f"{GPS['latitude']:.7f}")
        expect(page.locator("[data-geo-lon]")).to_have_value(f"{GPS['longitude']:.7f}")
        expect(page.locator("[data-geo-status]")).to_contain_text("akurasi")
    assert page.evaluate("document.querySelector('#photo-1').files.length") == 1
    expect(page.locator("[data-photo-preview]:visible")).to_have_count(1)
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 1  # only the sent-back one


# Refusals that are nobody's mistake: the item keeps waiting (never "Perlu diperbaiki") and arrives once the cause
# is gone, without the mentor doing anything.
def _expired_token(cast, page, app, monkeypatch, context):
    context.route("**/csrf-token", lambda route: route.fulfill(json={"token": "an-expired-token"}))
    return lambda: context.unroute("**/csrf-token")


def _logged_out(cast, page, app, monkeypatch, context):
    cookies = context.cookies()
    context.clear_cookies()
    return lambda: context.add_cookies(cookies)


def _password_change(cast, page, app, monkeypatch, context):
    cast["mentor"].must_change_password = True

    def undo():
        cast["mentor"].must_change_password = False
        db.session.commit()

    return undo


def _storage_down(cast, page, app, monkeypatch, context):
    def down(*args, **kwargs):
        raise StorageUnavailable("the photo store did not answer")

    monkeypatch.setattr(recording, "stage_photo", down)
    return monkeypatch.undo


def _server_error(cast, page, app, monkeypatch, context):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(recording, "record_visit", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # the 500 page, as in production
    return monkeypatch.undo


def _photo_code_taken(cast, page, app, monkeypatch, context):
    code = _item(page)["photos"][0]
    factories.photo(cast["sent_back"], "e" * 64 + ".jpg", "f" * 64 + ".jpg", uuid=code)
    return None  # the phone mints a new code at once


def _visit_code_taken(cast, page, app, monkeypatch, context):
    other_family = factories.recipient(mentor=cast["other"], name="Keluarga Lain")
    factories.visit(other_family, cast["other"], uuid=_item(page)["uuid"])
    return None


def _photo_never_arrived(cast, page, app, monkeypatch, context):
    page.evaluate(  # the phone believes the photo went ahead; the server never got it
        """async () => { const [item] = await KailOutbox.all(); item.photos[0].sent = true;
        await KailOutbox.put(item); }"""
    )
    return lambda: None  # the 409 told the phone; it sends the photo again on its next try


TRANSIENT = {
    "400 expired token": _expired_token,
    "401 session ended": _logged_out,
    "401 password to change first": _password_change,
    "503 photo store down": _storage_down,
    "500 server error": _server_error,
    "409 photo code taken": _photo_code_taken,
    "409 visit code taken": _visit_code_taken,
    "409 photo never arrived": _photo_never_arrived,
}


@pytest.mark.parametrize("kind", list(TRANSIENT))
def test_refusals_that_are_nobodys_mistake_are_retried_until_the_visit_arrives(
    app, page: Page, context: BrowserContext, tmp_path, cast, monkeypatch, kind
):
    _queue(page, context, cast, tmp_path)
    undo = TRANSIENT[kind](cast, page, app, monkeypatch, context)
    db.session.commit()
    _send(page, context)
    if undo is not None:
        wait_until(
            page,
            "async () => { const [i] = await KailOutbox.all(); return i && i.state === 'waiting' &&"
            " (i.attempts > 0 || document.querySelector('[data-outbox-note]').textContent !== ''); }",
        )
        assert _item(page)["state"] in ("waiting", "sending")  # the service worker's sync may be trying again
        expect(page.locator("#outbox .outbox__item--needs_fix")).to_have_count(0)
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 1
        undo()
        page.evaluate("KailApp.sendNow()")
    expect(page.locator("#outbox")).to_be_hidden(timeout=40000)  # at the latest, the retry timer's
    db.session.expire_all()
    new = db.session.scalars(select(Visit).where(Visit.id != cast["sent_back"].id)).all()
    new = [v for v in new if v.recipient_id == cast["recipient"].id]
    assert len(new) == 1 and new[0].answers["mentoring"] == "Catatan yang tidak boleh hilang"
    assert len(new[0].photos) == 1 and new[0].lat == pytest.approx(GPS["latitude"])
    assert db.session.scalar(select(func.count()).select_from(Photo).where(Photo.visit_id == new[0].id)) == 1


def test_a_status_change_overtaken_meanwhile_is_no_refusal_the_visit_arrives_with_it_set_aside(
    app, page: Page, context: BrowserContext, tmp_path, cast
):
    """Not the mentor's mistake: the supervisor moved the family while the visit waited on the phone."""
    from webapp import lifecycle

    supervisor = factories.user("supervisor", regions=cast["mentor"].regions, username="koordinator-tolak")
    db.session.commit()
    context.grant_permissions(["geolocation"])
    context.set_geolocation(GPS)
    log_in(page, "pendamping-tolak")
    _wait_for_service_worker(page)
    page.goto(f"/penerima/{cast['recipient'].id}/kunjungan/baru")
    context.set_offline(True)
    page.select_option("#no_location_reason", "sinyal_lemah")
    page.locator("label.choice", has_text="Ya").first.click()
    page.select_option("#item-0", "dipakai")
    page.get_by_label("Perkiraan omzet (Rp)").fill("20.000")
    page.set_input_files("#photo-1", _photo(tmp_path / "usaha.jpg"))
    page.get_by_label("Ubah status menjadi").select_option(lifecycle.USAHA_KESULITAN)
    page.get_by_label("Alasan perubahan status").fill("Pembeli sepi")
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.get_by_role("heading", name="Kunjungan saya")).to_be_visible()
    lifecycle.change_status(cast["recipient"], lifecycle.USAHA_BERHENTI, supervisor, "Pindah ke kota")
    _send(page, context)
    expect(page.locator("#outbox")).to_be_hidden(timeout=20000)
    db.session.expire_all()
    visit = db.session.scalar(select(Visit).where(Visit.id != cast["sent_back"].id))
    assert visit.status_set_aside["to"] == lifecycle.USAHA_KESULITAN
    assert visit.status_set_aside["found"] == lifecycle.USAHA_BERHENTI
    assert cast["recipient"].status == lifecycle.USAHA_BERHENTI
