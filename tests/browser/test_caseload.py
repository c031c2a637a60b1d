"""The mentor's home on a 360 px phone: the install card where she sees it, the whole caseload offline."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from webapp.extensions import db

from .. import factories
from .conftest import log_in


@pytest.fixture
def mentor_with_family(app):
    mentor = factories.user("mentor", username="pendamping-home")
    family = factories.recipient(
        mentor=mentor, name="Rosmini Tulung", status="usaha_berjalan", distributed_on=dt.date(2026, 9, 1)
    )
    db.session.commit()
    return mentor, family


def test_install_card_is_at_the_top_of_the_home_and_tutup_is_remembered(page: Page, mentor_with_family):
    log_in(page, "pendamping-home")
    card = page.locator("#install-card")
    expect(card).to_be_visible()
    box = card.bounding_box()
    assert box["y"] < 200, box  # above the work list, seen without scrolling (it was ~4,700 px down)
    title = page.get_by_role("heading", name="Kunjungan saya").bounding_box()
    assert box["y"] < title["y"]
    card.get_by_role("button", name="Tutup").click()
    expect(card).to_be_hidden()
    page.reload()
    expect(page.get_by_role("heading", name="Kunjungan saya")).to_be_visible()
    expect(page.locator("#install-card")).to_be_hidden()


def test_install_card_leaves_after_the_first_days(page: Page, mentor_with_family):
    log_in(page, "pendamping-home")
    expect(page.locator("#install-card")).to_be_visible()
    page.evaluate("localStorage.setItem('kail.install.firstSeen', String(Date.now() - 15 * 86400000))")
    page.reload()
    expect(page.get_by_role("heading", name="Kunjungan saya")).to_be_visible()
    expect(page.locator("#install-card")).to_be_hidden()


def test_three_answer_choices_fit_at_360_px(page: Page, mentor_with_family):
    _, family = mentor_with_family
    log_in(page, "pendamping-home")
    page.goto(f"/penerima/{family.id}/kunjungan/baru")
    labels = page.locator("#operating label.choice")
    expect(labels).to_have_count(3)
    fieldset = page.locator("#operating").bounding_box()
    for i in range(3):
        label = labels.nth(i)
        # the words are not cut: the text fits its box, and the box fits the fieldset
        assert label.evaluate("el => el.querySelector('span').scrollWidth <= el.querySelector('span').clientWidth")
        assert label.evaluate("el => el.scrollWidth <= el.clientWidth"), label.inner_text()
        box = label.bounding_box()
        assert box["x"] + box["width"] <= fieldset["x"] + fieldset["width"] + 0.5
    expect(labels.nth(1)).to_have_text("Sebagian")


# The whole caseload on the phone: prepared once with signal, then everything opens offline.


@pytest.fixture
def caseload(app):
    from webapp import review_states

    mentor = factories.user("mentor", username="pendamping-jauh")
    other_mentor = factories.user("mentor", regions=mentor.regions, username="pendamping-lain")
    families = [
        factories.recipient(mentor=mentor, name="Rosmini Tulung", status="usaha_berjalan"),
        factories.recipient(mentor=mentor, name="Samsul Anwar", status="terverifikasi"),
        factories.recipient(mentor=mentor, name="Jamilah Lawing", status="usaha_kesulitan"),
    ]
    families += [
        factories.recipient(mentor=mentor, name=f"Keluarga Hulu {i:02d}", status="usaha_berjalan") for i in range(22)
    ]
    sent_back = factories.visit(families[2], mentor, review_state=review_states.SENT_BACK, review_note="Foto buram")
    db.session.commit()
    return mentor, other_mentor, families, sent_back


@pytest.fixture
def phone(browser_type, base_url, tmp_path):
    """An installed-app-like persistent profile (a normal context is incognito), 360 × 740, Indonesian."""
    from .conftest import CHROMIUM, CHROMIUM_ARGS

    context = browser_type.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        base_url=base_url,
        viewport={"width": 360, "height": 740},
        locale="id-ID",
        timezone_id="Asia/Makassar",
    )
    yield context
    context.set_offline(False)
    context.close()


def _ready(page: Page, families: int):
    expect(page.locator("[data-offline-ready-text]")).to_contain_text(
        f"Siap offline: {families} keluarga", timeout=30000
    )


def test_the_whole_caseload_opens_offline(phone, caseload):
    mentor, _, families, sent_back = caseload
    page = phone.pages[0] if phone.pages else phone.new_page()
    log_in(page, "pendamping-jauh")
    _ready(page, len(families))
    expect(page.locator("[data-offline-ready-text]")).to_contain_text("WITA")
    phone.set_offline(True)

    page.goto("/?source=pwa")  # the installed app's start address
    expect(page.get_by_role("heading", name="Kunjungan saya", exact=True)).to_be_visible()
    expect(page.locator("#net-status")).to_have_text("Offline")
    expect(page.locator("li[data-name]")).to_have_count(len(families))  # every family, not page 1 of 2
    page.get_by_label("Cari nama atau NIK").fill("samsul")
    expect(page.locator("li[data-name]:visible")).to_have_count(1)
    expect(page.locator(".list-count")).to_have_text("1 keluarga")
    page.get_by_label("Cari nama atau NIK").fill(families[0].nik[:16])
    expect(page.locator("li[data-name]:visible")).to_have_text(re_name("Rosmini Tulung"))
    page.get_by_label("Cari nama atau NIK").fill("")
    page.locator("#status").select_option("usaha_kesulitan")
    expect(page.locator("li[data-name]:visible")).to_have_count(1)
    expect(page.locator("li[data-name]:visible")).to_contain_text("Jamilah Lawing")
    page.locator("#status").select_option("")
    page.get_by_label("Cari nama atau NIK").fill("tidak ada yang begini")
    expect(page.locator("[data-no-match]")).to_be_visible()
    expect(page.locator("#connection-message")).to_be_hidden()  # nothing was asked of the network

    for family in families:
        page.goto(f"/penerima/{family.id}")
        expect(page.get_by_role("heading", name=family.name)).to_be_visible()
        page.goto(f"/penerima/{family.id}/kunjungan/baru")
        expect(page.locator("form[data-visit-form]")).to_be_visible()
    page.goto(f"/penerima/{families[1].id}/kunjungan/baru?jenis=verifikasi")  # the second kind of a family
    expect(page.locator(".segmented__option[aria-current=page]")).to_contain_text("Verifikasi")
    page.goto(f"/kunjungan/{sent_back.id}/perbaiki")
    expect(page.locator("form[data-visit-form]")).to_be_visible()

    page.goto("/pengelola/audit")  # never kept: the offline page, whose button leads to a page that works offline
    expect(page.get_by_role("heading", name="Tidak ada koneksi")).to_be_visible()
    page.get_by_role("link", name="Ke Kunjungan saya").click()
    expect(page.get_by_role("heading", name="Kunjungan saya", exact=True)).to_be_visible()


def re_name(name: str):
    import re

    return re.compile(re.escape(name))


def test_a_family_reassigned_away_leaves_the_phone_at_the_next_refresh(phone, caseload):
    mentor, other_mentor, families, _ = caseload
    page = phone.pages[0] if phone.pages else phone.new_page()
    log_in(page, "pendamping-jauh")
    _ready(page, len(families))
    page.goto("/akun/")  # the account page says how much the phone keeps
    expect(page.locator("#storage-use [data-storage-used]")).to_contain_text("MB dipakai di HP ini")
    expect(page.locator("#storage-use [data-storage-persisted]")).to_contain_text("permanen")
    page.goto("/kunjungan/")
    gone = families[0]
    gone.mentor = other_mentor
    db.session.commit()
    page.get_by_role("button", name="Perbarui data offline").click()
    _ready(page, len(families) - 1)
    phone.set_offline(True)
    page.goto(f"/penerima/{gone.id}")
    expect(page.get_by_role("heading", name="Tidak ada koneksi")).to_be_visible()
    page.goto(f"/penerima/{families[1].id}")
    expect(page.get_by_role("heading", name=families[1].name)).to_be_visible()


def test_logout_with_unsent_visits_warns_then_clears_the_phone(phone, caseload):
    page = phone.pages[0] if phone.pages else phone.new_page()
    log_in(page, "pendamping-jauh")
    _ready(page, len(caseload[2]))
    page.evaluate(
        "KailOutbox.put({uuid: 'b7f9a1c2-0000-4000-8000-000000000001', url: '/x', fields: [], photos: [],"
        " title: 'Rosmini Tulung', createdAt: new Date().toISOString(), state: 'waiting'})"
    )
    messages = []

    def answer(dialog, accept):
        messages.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.locator("summary[aria-label='Menu akun']").click()
    page.get_by_role("button", name="Keluar").click()
    for _ in range(50):  # the question comes after the outbox is read
        if messages:
            break
        page.wait_for_timeout(100)
    assert messages and "1 kunjungan yang belum terkirim" in messages[0]
    expect(page.get_by_role("heading", name="Kunjungan saya", exact=True)).to_be_visible()
    assert page.evaluate("KailOutbox.all().then(items => items.length)") == 1
    assert page.evaluate("caches.has('kail-caseload')")

    page.once("dialog", lambda d: answer(d, True))
    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_role("button", name="Masuk")).to_be_visible()
    assert len(messages) == 2
    assert not page.evaluate("caches.has('kail-caseload')")
    assert page.evaluate("KailOutbox.all().then(items => items.length)") == 0


def test_logout_without_unsent_visits_asks_nothing(phone, caseload):
    page = phone.pages[0] if phone.pages else phone.new_page()
    log_in(page, "pendamping-jauh")
    _ready(page, len(caseload[2]))
    page.on("dialog", lambda d: pytest.fail(f"unexpected dialog: {d.message}"))
    page.locator("summary[aria-label='Menu akun']").click()
    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_role("button", name="Masuk")).to_be_visible()
    assert not page.evaluate("caches.has('kail-caseload')")


def _unsent_visit(page):
    page.evaluate(
        "KailOutbox.put({uuid: 'b7f9a1c2-0000-4000-8000-000000000002', url: '/x', fields: [], photos: [],"
        " title: 'Rosmini Tulung', createdAt: new Date().toISOString(), state: 'waiting'})"
    )


def _dialogs(page) -> list[str]:
    seen: list[str] = []

    def answer(dialog):
        seen.append(dialog.message)
        dialog.accept()  # "Tetap keluar?": yes

    page.on("dialog", answer)
    return seen


@pytest.mark.parametrize("unsent", [True, False], ids=["unsent visit", "empty outbox"])
def test_logout_without_signal_deletes_nothing_and_says_why(app, phone, caseload, unsent):
    """The session ends on the server: a logout that cannot reach it must not clear the phone first (it deleted
    the unsent visits, left the mentor logged in, on the browser's own error page)."""
    page = phone.pages[0] if phone.pages else phone.new_page()
    log_in(page, "pendamping-jauh")
    _ready(page, len(caseload[2]))
    if unsent:
        _unsent_visit(page)
    seen = _dialogs(page)
    phone.set_offline(True)
    page.locator("summary[aria-label='Menu akun']").click()
    page.get_by_role("button", name="Keluar").click()
    for _ in range(50):
        if seen:
            break
        page.wait_for_timeout(100)
    assert seen and "Keluar butuh sinyal" in seen[-1], seen
    expect(page.get_by_role("heading", name="Kunjungan saya", exact=True)).to_be_visible()
    assert page.evaluate("KailOutbox.all().then(items => items.length)") == (1 if unsent else 0)
    assert page.evaluate("caches.has('kail-caseload')")
    page.goto(f"/penerima/{caseload[2][1].id}")  # the kept pages still open
    expect(page.get_by_role("heading", name=caseload[2][1].name)).to_be_visible()

    # Online, but the logout is refused on its way (a proxy with no app server behind it): nothing deleted either.
    phone.set_offline(False)
    inner = app.wsgi_app

    def no_app_server(environ, start_response):
        if environ["PATH_INFO"] == "/akun/keluar":
            start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
            return [b"bad gateway"]
        return inner(environ, start_response)

    app.wsgi_app = no_app_server
    try:
        seen.clear()
        page.locator("summary[aria-label='Menu akun']").click()
        page.get_by_role("button", name="Keluar").click()
        for _ in range(50):
            if any("Permintaan gagal" in m for m in seen):
                break
            page.wait_for_timeout(100)
        assert any("Permintaan gagal" in m for m in seen), seen
    finally:
        app.wsgi_app = inner
    assert page.evaluate("KailOutbox.all().then(items => items.length)") == (1 if unsent else 0)
    assert page.evaluate("caches.has('kail-caseload')")

    # With signal the logout goes through: then the phone is cleared.
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()  # the menu stayed open, the button usable
    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_role("button", name="Masuk")).to_be_visible()
    assert not page.evaluate("caches.has('kail-caseload')")
    assert page.evaluate("KailOutbox.all().then(items => items.length)") == 0
    page.goto("/kunjungan/")  # the session really ended
    expect(page.get_by_role("button", name="Masuk")).to_be_visible()


def test_family_map_loads_leaflet_only_when_scrolled_into_view(page: Page, app):
    mentor = factories.user("mentor", username="pendamping-peta")
    family = factories.recipient(mentor=mentor, name="Rosmini Tulung", business_lat=-0.5, business_lon=117.15)
    db.session.commit()
    log_in(page, "pendamping-peta")
    leaflet = []
    page.on("request", lambda r: leaflet.append(r.url) if "leaflet" in r.url else None)
    page.set_viewport_size({"width": 360, "height": 560})  # the map well below the fold
    page.goto(f"/penerima/{family.id}")
    page.wait_for_load_state("networkidle")
    box = page.locator(".map").bounding_box()
    assert box["y"] > 560 + 100, box
    assert leaflet == [] and not page.evaluate("!!window.L")
    page.locator(".map").scroll_into_view_if_needed()
    expect(page.locator(".map[data-map-ready='1']")).to_have_count(1)
    assert any("leaflet.js" in u for u in leaflet)


def test_another_mentor_on_the_same_phone_never_sees_the_first_ones_families(phone, caseload):
    _, other_mentor, families, _ = caseload
    theirs = factories.recipient(mentor=other_mentor, name="Hasnah Daeng", status="usaha_berjalan")
    db.session.commit()
    page = phone.pages[0] if phone.pages else phone.new_page()
    log_in(page, "pendamping-jauh")
    _ready(page, len(families))
    phone.clear_cookies()  # the session ended without "Keluar" (expired, or revoked)
    log_in(page, "pendamping-lain")
    _ready(page, 1)
    phone.set_offline(True)
    page.goto(f"/penerima/{families[0].id}")
    expect(page.get_by_role("heading", name="Tidak ada koneksi")).to_be_visible()
    page.goto(f"/penerima/{theirs.id}")
    expect(page.get_by_role("heading", name="Hasnah Daeng")).to_be_visible()
