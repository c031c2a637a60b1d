"""The phone checks a visit with the server's own rules (exported into the form page): for the same inputs, the
phone and the server refuse the same fields with the same words, and accept the same visits."""

import datetime as dt

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from webapp import lifecycle, review_states
from webapp.extensions import db

from .. import factories
from .conftest import log_in, wait_until

BOTH = """async () => {
  const parts = await KailVisitForm.collect();
  const phone = KailVisitForm.check(KailVisitForm.rules(), parts.fields, parts.photos, KailVisitForm.opened());
  const data = new FormData();
  parts.fields.forEach(([k, v]) => { if (k !== "csrf_token") { data.append(k, v); } });
  data.set("uuid", KailOutbox.uuid4());
  parts.photos.forEach(p => {
    data.append(p.field, p.blob, p.field + ".jpg"); data.append(p.field + "-uuid", p.uuid); });
  const form = document.getElementById("visit-form");
  const response = await fetch(form.action, { method: "POST", body: data, headers: {
    "X-Kail-Outbox": "1", "X-CSRFToken": form.querySelector("input[name=csrf_token]").value } });
  const json = await response.json();
  return { phone: phone, status: response.status, server: json.errors || {} };
}"""


def _photo(tmp_path, name):
    path = tmp_path / f"{name}.jpg"
    Image.new("RGB", (800, 600), (50, 120, 80)).save(path, "JPEG")
    return str(path)


def _followup(page, tmp_path):
    page.select_option("#no_location_reason", "sinyal_lemah")
    page.set_input_files("#photo-1", _photo(tmp_path, "a"))
    page.locator("label.choice", has_text="Ya").first.click()
    page.get_by_role("button", name="Semua ada & dipakai").click()
    page.get_by_label("Perkiraan omzet (Rp)").fill("150.000")


def _nothing(page, tmp_path):
    pass


def _closed_wrong_photo(page, tmp_path):
    _followup(page, tmp_path)
    page.locator("label.choice", has_text="Tidak").first.click()
    page.get_by_label("Perkiraan omzet (Rp)").fill("")
    page.select_option("#tag-1", "nota_pembelian")


def _bad_amount(page, tmp_path):
    _followup(page, tmp_path)
    page.get_by_label("Perkiraan omzet (Rp)").fill("1,5 juta")


def _huge_amount(page, tmp_path):
    _followup(page, tmp_path)
    page.get_by_label("Perkiraan omzet (Rp)").fill("2.000.000.000")


def _status_without_reason(page, tmp_path):
    _followup(page, tmp_path)
    page.get_by_label("Ubah status menjadi").select_option(lifecycle.USAHA_KESULITAN)
    page.select_option("#item-1", "")


def _long_notes(page, tmp_path):
    _followup(page, tmp_path)
    page.get_by_label("Keterangan kendala").fill("x" * 2001)


def _verification_undecided(page, tmp_path):
    page.select_option("#no_location_reason", "gps_mati")
    page.get_by_label("Ubah status menjadi").select_option("")


def _handover_nothing_received(page, tmp_path):
    page.set_input_files("#photo-1", _photo(tmp_path, "b"))
    for box in page.locator("input[name=received]").all():
        box.uncheck()


CASES = [
    (lifecycle.USAHA_BERJALAN, _nothing),
    (lifecycle.USAHA_BERJALAN, _followup),
    (lifecycle.USAHA_BERJALAN, _closed_wrong_photo),
    (lifecycle.USAHA_BERJALAN, _bad_amount),
    (lifecycle.USAHA_BERJALAN, _huge_amount),
    (lifecycle.USAHA_BERJALAN, _status_without_reason),
    (lifecycle.USAHA_BERJALAN, _long_notes),
    (lifecycle.CALON, _verification_undecided),
    (lifecycle.TERVERIFIKASI, _handover_nothing_received),
]


@pytest.mark.parametrize(("status", "fill"), CASES, ids=[c[1].__name__.strip("_") for c in CASES])
def test_phone_and_server_refuse_the_same_fields_with_the_same_words(app, page: Page, tmp_path, status, fill):
    mentor = factories.user("mentor", username="pendamping-aturan")
    family = factories.recipient(mentor=mentor, status=status, distributed_on=dt.date(2026, 6, 1))
    db.session.commit()
    log_in(page, "pendamping-aturan")
    page.goto(f"/penerima/{family.id}/kunjungan/baru")
    fill(page, tmp_path)
    result = page.evaluate(BOTH)
    assert result["phone"] == result["server"], result
    assert result["status"] == (201 if not result["server"] else 422)


def test_offline_the_form_refuses_to_queue_and_says_why_next_to_the_field(app, page: Page, tmp_path):
    mentor = factories.user("mentor", username="pendamping-aturan")
    family = factories.recipient(mentor=mentor, distributed_on=dt.date(2026, 6, 1))
    db.session.commit()
    log_in(page, "pendamping-aturan")
    page.goto(f"/penerima/{family.id}/kunjungan/baru")
    _status_without_reason(page, tmp_path)
    page.context.set_offline(True)
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.locator("#reason-error")).to_contain_text("Alasan wajib diisi")
    expect(page.locator("#item-1-error")).to_contain_text("Kompor gas: pilih kondisi barang")
    expect(page.locator(".error-summary")).to_contain_text("Alasan perubahan status: Alasan wajib diisi")
    assert page.evaluate("async () => (await KailOutbox.all()).length") == 0  # nothing queued
    expect(page.locator("[data-photo-preview]").first).to_be_visible()  # nothing lost either
    page.get_by_label("Alasan perubahan status").fill("Omzet turun")
    page.select_option("#item-1", "rusak")
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.locator("#save-status")).to_contain_text("Tersimpan di HP")
    assert page.evaluate("async () => (await KailOutbox.all()).length") == 1
    page.context.set_offline(False)


def _sent_back(mentor):
    family = factories.recipient(mentor=mentor, package_items=["Wajan"], distributed_on=dt.date(2026, 6, 1))
    visit = factories.visit(
        family,
        mentor,
        review_state=review_states.SENT_BACK,
        review_note="Omzet tidak masuk akal",
        answers={  # as the form stores them
            "operating": "ya",
            "items": {"Wajan": "dipakai"},
            "turnover": 50000,
            "turnover_period": "hari",
            "problems": [],
            "problem_notes": "",
            "mentoring": "Catatan lama",
        },
    )
    factories.photo(visit, "c" * 64 + ".jpg", "d" * 64 + ".jpg", tag="usaha_berjalan")
    db.session.commit()
    return visit


def _change_nothing(page, tmp_path):
    pass


def _change_the_turnover(page, tmp_path):
    page.get_by_label("Perkiraan omzet (Rp)").fill("65.000")


def _add_a_photo(page, tmp_path):
    page.set_input_files("#photo-1", _photo(tmp_path, "lagi"))


@pytest.mark.parametrize("change", [_change_nothing, _change_the_turnover, _add_a_photo], ids=lambda f: f.__name__)
def test_a_correction_that_corrects_nothing_is_refused_alike_by_phone_and_server(app, page: Page, tmp_path, change):
    mentor = factories.user("mentor", username="pendamping-aturan")
    visit = _sent_back(mentor)
    log_in(page, "pendamping-aturan")
    page.goto(f"/kunjungan/{visit.id}/perbaiki")
    wait_until(page, "() => window.KailVisitForm && KailVisitForm.opened() !== null")
    change(page, tmp_path)
    result = page.evaluate(BOTH)
    assert result["phone"] == result["server"], result
    refused = change is _change_nothing
    assert ("Belum ada yang diperbaiki" in result["phone"].get("photos", "")) == refused
    assert result["status"] == (422 if refused else 201)


def test_offline_a_correction_that_corrects_nothing_is_not_queued(app, page: Page, tmp_path):
    """Saved offline unchanged, it would wait on the phone only to be refused once the signal came back."""
    mentor = factories.user("mentor", username="pendamping-aturan")
    visit = _sent_back(mentor)
    log_in(page, "pendamping-aturan")
    page.goto(f"/kunjungan/{visit.id}/perbaiki")
    wait_until(page, "() => window.KailVisitForm && KailVisitForm.opened() !== null")
    page.context.set_offline(True)
    page.get_by_role("button", name="Kirim perbaikan").click()
    expect(page.locator("#photos-error")).to_contain_text("Belum ada yang diperbaiki")
    assert page.evaluate("async () => (await KailOutbox.all()).length") == 0
    page.get_by_label("Perkiraan omzet (Rp)").fill("65.000")
    page.get_by_role("button", name="Kirim perbaikan").click()
    expect(page.locator("#save-status")).to_contain_text("Tersimpan di HP")
    assert page.evaluate("async () => (await KailOutbox.all()).length") == 1
    page.context.set_offline(False)
