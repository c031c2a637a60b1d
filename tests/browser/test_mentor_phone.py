"""A mentor on a 360x740 phone logs in and sees their own families, and only theirs."""

import re

from playwright.sync_api import Page, expect

from webapp.extensions import db

from .. import factories


def test_mentor_logs_in_on_a_phone_and_sees_their_recipients(app, page: Page):
    app.config["DEMO_MODE"] = True
    mentor = factories.user(
        "mentor",
        regions=[factories.region("6472")],
        username="pendamping1",
        full_name="Saipul Iskandar",
        is_demo=True,
        password="kail-demo",
    )
    other = factories.user("mentor", regions=[factories.region("6472")], username="pendamping2")
    factories.recipient(mentor=mentor, name="Siti Aminah", business_type="Gorengan")
    factories.recipient(mentor=mentor, name="Rahmat Hidayat", business_type="Tambal ban")
    factories.recipient(mentor=other, name="Bukan Dampingan")
    db.session.commit()

    page.goto("/")
    assert "/akun/masuk" in page.url
    page.get_by_label("Nama pengguna").fill("pendamping1")
    page.get_by_label("Kata sandi").fill("kail-demo")
    page.get_by_role("button", name="Masuk").click()

    expect(page.get_by_role("heading", name="Kunjungan saya")).to_be_visible()
    expect(page.get_by_text("Siti Aminah")).to_be_visible()
    expect(page.get_by_text("Rahmat Hidayat")).to_be_visible()
    expect(page.get_by_text("Bukan Dampingan")).to_have_count(0)
    # Phone layout: nothing wider than the screen, touch targets at least 48 px tall.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    card = page.get_by_role("link", name=re.compile("Siti Aminah")).bounding_box()
    assert card["height"] >= 48 and card["width"] <= 360
    button = page.get_by_role("link", name="Catat kunjungan").first.bounding_box()
    assert button["height"] >= 48

    # Live search narrows the list without a page load.
    page.get_by_placeholder("Cari nama atau NIK…").fill("Rahmat")
    # A caseload on one page is filtered on the phone: the other cards stay in the page, hidden.
    expect(page.get_by_text("Siti Aminah")).to_be_hidden()
    expect(page.get_by_text("Rahmat Hidayat")).to_be_visible()
    assert "q=Rahmat" in page.url

    page.get_by_role("link", name=re.compile("Rahmat Hidayat")).click()
    expect(page.get_by_role("heading", name="Rahmat Hidayat")).to_be_visible()
    expect(page.get_by_text("Tambal ban")).to_be_visible()


def test_wrong_password_shows_message_in_indonesian(app, page: Page):
    factories.user("mentor", username="pendamping5")
    db.session.commit()
    page.goto("/akun/masuk")
    page.get_by_label("Nama pengguna").fill("pendamping5")
    page.get_by_label("Kata sandi").fill("salah-sekali")
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("alert")).to_have_text("Nama pengguna atau kata sandi salah.")
    expect(page.get_by_label("Nama pengguna")).to_have_value("pendamping5")


def test_status_change_with_htmx_on_a_phone(app, page: Page):
    mentor = factories.user("mentor", username="pendamping7", password="rahasia-uji-123")
    family = factories.recipient(mentor=mentor, name="Halimah Noor")
    db.session.commit()
    page.goto("/akun/masuk")
    page.get_by_label("Nama pengguna").fill("pendamping7")
    page.get_by_label("Kata sandi").fill("rahasia-uji-123")
    page.get_by_role("button", name="Masuk").click()
    page.goto(f"/penerima/{family.id}")
    page.get_by_text("Ubah status").click()
    page.get_by_label("Status baru").select_option("keluar")
    page.get_by_role("button", name="Simpan status").click()
    expect(page.locator("#reason-error")).to_contain_text("Alasan wajib diisi")
    expect(page.get_by_label("Status baru")).to_have_value("keluar")  # the choice is kept
    page.get_by_label("Alasan").fill("Pindah ke Kalimantan Selatan")
    page.get_by_role("button", name="Simpan status").click()
    # An exit is the mentor's proposal: the status stays until the supervisor confirms it.
    expect(page.get_by_text("Usulan menunggu persetujuan koordinator.")).to_be_visible()
    expect(page.locator("#proposal")).to_contain_text("Pindah ke Kalimantan Selatan")
    expect(page.locator("#status-panel .status-now .chip")).to_have_text("Usaha berjalan")
