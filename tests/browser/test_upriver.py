"""Three days upriver (issue 15): a mentor prepares her phone once with signal, works three days without any, and
comes back to a bad 2G link that drops every 20 s. Everything she saved arrives exactly once, nothing is lost.

Real Chromium with a persistent profile (an installed app's storage, not an incognito one); every request — the
page's and the service worker's — crosses a throttling TCP proxy in front of the app (bench/throttle.py), and the
server behind it records every status it answers, so a 5xx anywhere fails the test.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from bench.throttle import EDGE_2G, Link, ThrottlingProxy
from webapp import lifecycle, review_states
from webapp.extensions import db
from webapp.models import Photo, Recipient, Visit

from .. import factories
from .conftest import CHROMIUM, CHROMIUM_ARGS, count_rows, log_in, noisy_photo

TOWN = Link(up_bps=50_000_000, down_bps=50_000_000, one_way_s=0.0)  # preparing at the office: a good link
DELIVERY_MINUTES = 6


class StatusLog:
    """WSGI middleware: every status the app answers, with its request (the server's log, as a test reads it)."""

    def __init__(self, app):
        self.app = app
        self.lines: list[tuple[int, str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = (environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))

        def recording(status, headers, exc_info=None):
            with self.lock:
                self.lines.append((int(status.split()[0]), *request))
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, recording)
        except Exception:
            with self.lock:
                self.lines.append((500, *request))  # escaped the app: werkzeug answers 500
            raise

    def server_errors(self) -> list:
        with self.lock:
            return [line for line in self.lines if line[0] >= 500]


@pytest.fixture
def link(_app):
    """The app served behind the throttling proxy; the proxy's address is the app's origin for the phone."""
    log = StatusLog(_app)
    server = make_server("127.0.0.1", 0, log, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = ThrottlingProxy(server.server_port, TOWN).start()
    proxy.log = log
    yield proxy
    proxy.stop()
    server.shutdown()


@pytest.fixture
def phone(browser_type, link, tmp_path):
    """A 360 × 740 phone with a persistent profile, its location known."""
    base = f"http://127.0.0.1:{link.port}"
    context = browser_type.launch_persistent_context(
        str(tmp_path / "profile"),
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
    context.grant_permissions(["geolocation"], origin=base)
    context.set_geolocation({"latitude": -0.50004, "longitude": 117.15002, "accuracy": 9})
    yield context
    context.set_offline(False)
    context.close()


@pytest.fixture
def caseload(app):
    mentor = factories.user("mentor", username="pendamping1", full_name="Siti Aminah")
    supervisor = factories.user("supervisor", regions=mentor.regions, username="koordinator-hulu")
    names = [
        "Rosmini Tulung", "Samsul Anwar", "Jamilah Lawing", "Yohanes Ding", "Hasnah Daeng",
        "Markus Hanye", "Mariana Bit", "Agustinus Lie", "Theresia Uvang", "Paulus Ajang",
    ]  # fmt: skip
    families = [
        factories.recipient(
            mentor=mentor,
            name=name,
            status=lifecycle.USAHA_BERJALAN,
            package_items=["Wajan"],
            distributed_on=dt.date(2026, 8, 1),
            business_lat=-0.5,
            business_lon=117.15,
        )
        for name in names
    ]
    sent_back = factories.visit(
        families[1],
        mentor,
        review_state=review_states.SENT_BACK,
        review_note="Foto usaha kurang jelas",
        answers={"mentoring": "", "operating": "ya", "items": {"Wajan": "dipakai"}, "turnover": 50000},
    )
    factories.photo(sent_back, "c" * 64 + ".jpg", "d" * 64 + ".jpg", tag="usaha_berjalan")
    db.session.commit()
    return mentor, supervisor, families, sent_back


def _photo(folder: Path, seed: int) -> str:
    """A small camera-like photo (~20 KB): detail everywhere, so the duplicate check tells them apart."""
    return noisy_photo(folder, seed, (40, 30), 10, 80)


class Mentor:
    """What the mentor does on the phone, offline."""

    def __init__(self, page: Page, folder: Path):
        self.page = page
        self.folder = folder
        self.seed = 0

    def photo(self, slot: int = 1, tag: str | None = None):
        self.seed += 1
        self.page.set_input_files(f"#photo-{slot}", _photo(self.folder, self.seed))
        if tag:
            self.page.select_option(f"#tag-{slot}", tag)

    def open_form(self, family):
        """From the work list to the family, then "Catat kunjungan" — as she would, with no signal."""
        page = self.page
        page.goto("/kunjungan/")
        page.get_by_label("Cari nama atau NIK").fill(family.name)
        page.locator("li[data-name]:visible a", has_text=family.name).first.click()
        expect(page.get_by_role("heading", name=family.name)).to_be_visible()
        page.get_by_role("link", name="Catat kunjungan").click()
        expect(page.locator("form[data-visit-form]")).to_be_visible()

    def follow_up(self, with_gps: bool = True, turnover: str = "150.000"):
        page = self.page
        if with_gps:
            page.get_by_role("button", name="Ambil lokasi").click()
            expect(page.locator("[data-geo-status]")).to_contain_text("akurasi")
        else:
            page.select_option("#no_location_reason", "sinyal_lemah")
        self.photo()
        page.locator("label.choice", has_text="Ya").first.click()
        page.get_by_role("button", name="Semua ada & dipakai").click()
        page.get_by_label("Perkiraan omzet (Rp)").fill(turnover)

    def save(self, button: str = "Simpan kunjungan"):
        self.page.get_by_role("button", name=button).click()
        expect(self.page.locator("#save-status")).to_contain_text("Tersimpan di HP")
        expect(self.page.get_by_role("heading", name="Kunjungan saya", exact=True)).to_be_visible()


def test_three_days_upriver(app, phone, link, caseload, tmp_path, caplog):
    mentor, supervisor, families, sent_back = caseload
    caplog.set_level(logging.ERROR)
    page = phone.pages[0] if phone.pages else phone.new_page()
    page.set_default_timeout(20_000)

    # In town, with signal: log in once; the phone prepares the whole caseload.
    log_in(page, "pendamping1")
    expect(page.locator("[data-offline-ready-text]")).to_contain_text("Siap offline: 10 keluarga", timeout=60_000)

    # Upriver: no signal at all, for the rest of the trip.
    phone.set_offline(True)
    page.goto("/?source=pwa")  # the installed app's start URL
    expect(page.get_by_role("heading", name="Kunjungan saya", exact=True)).to_be_visible()
    expect(page.locator("li[data-name]")).to_have_count(10)
    mentor_ = Mentor(page, tmp_path)
    queued = 0

    # 1-2. Two visits to one family, both from the same stored form (morning and afternoon).
    for turnover in ("120.000", "180.000"):
        mentor_.open_form(families[0])
        mentor_.follow_up(turnover=turnover)
        mentor_.photo(2, "barang_bantuan")
        mentor_.save()
        queued += 1

    # 3. A visit the phone's rules stop first (a setback needs its reason), then fixed and saved.
    mentor_.open_form(families[2])
    mentor_.follow_up(with_gps=False)
    page.get_by_label("Ubah status menjadi").select_option(lifecycle.USAHA_KESULITAN)
    page.get_by_role("button", name="Simpan kunjungan").click()
    expect(page.locator("#reason-error")).to_be_visible()
    expect(page.locator("#save-status")).not_to_contain_text("Tersimpan di HP")
    assert page.evaluate("async () => (await KailOutbox.all()).length") == queued  # nothing queued
    page.get_by_label("Alasan perubahan status").fill("Harga minyak goreng naik, pembeli berkurang")
    mentor_.save()
    queued += 1

    # 4. A visit that changes a family's status, which a supervisor will have changed meanwhile.
    mentor_.open_form(families[3])
    mentor_.follow_up()
    page.get_by_label("Ubah status menjadi").select_option(lifecycle.USAHA_KESULITAN)
    page.get_by_label("Alasan perubahan status").fill("Sungai surut, pembeli sepi")
    mentor_.save()
    queued += 1

    # 5. The correction of a visit the supervisor sent back, from its kept correction form.
    page.goto(f"/penerima/{families[1].id}")
    page.goto(f"/kunjungan/{sent_back.id}/perbaiki")
    expect(page.get_by_role("heading", name="Perbaiki kunjungan")).to_be_visible()
    mentor_.photo()
    mentor_.save("Kirim perbaikan")
    queued += 1

    # 6-12. The other families, one visit each.
    for i, family in enumerate(families[1:], start=1):
        if i in (2, 3):
            continue
        mentor_.open_form(family)
        mentor_.follow_up(with_gps=i % 2 == 0)
        mentor_.save()
        queued += 1
    assert queued == 12
    expect(page.locator("#outbox [data-outbox-count]")).to_have_text("12")
    expect(page.locator("#outbox")).to_contain_text(f"Perbaikan: {families[1].name}")  # told apart from its visit
    assert count_rows(Visit) == 1  # only the sent-back visit: nothing left the phone

    # Meanwhile, in the office: the supervisor stops the business of the family whose status the mentor changes.
    lifecycle.change_status(
        db.session.get(Recipient, families[3].id), lifecycle.USAHA_BERHENTI, supervisor, "Pindah ke Samarinda"
    )

    # Back downriver: signal on a 2G link that drops every 20 s. Nobody touches the phone.
    link.link = EDGE_2G
    link.cutting = True
    link.reset_counts()
    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    started = time.monotonic()
    deadline = started + DELIVERY_MINUTES * 60
    while time.monotonic() < deadline:
        if count_rows(Visit) == 12 and db.session.get(Visit, sent_back.id).round == 2:
            if page.evaluate("async () => (await KailOutbox.all()).length") == 0:
                break
        time.sleep(2)
    link.cutting = False
    print(f"delivered in {time.monotonic() - started:.0f} s, {link.cuts} connections cut, {link.up // 1024} KB up")

    # Every visit and photo arrived, exactly once.
    db.session.expire_all()
    visits = db.session.scalars(select(Visit).order_by(Visit.id)).all()
    by_family = {f.id: [v for v in visits if v.recipient_id == f.id] for f in families}
    assert count_rows(Visit) == 12, f"{count_rows(Visit)} visits after {DELIVERY_MINUTES} min ({link.cuts} cuts)"
    # two from one stored form; the sent-back visit (corrected in place) and a new one; one for each other family
    assert [len(by_family[f.id]) for f in families] == [2, 2, 1, 1, 1, 1, 1, 1, 1, 1]
    assert len({v.uuid for v in visits}) == 12
    assert sorted(len(v.photos) for v in by_family[families[0].id]) == [2, 2]
    corrected = db.session.get(Visit, sent_back.id)
    assert corrected.round == 2 and corrected.review_state == review_states.WAITING and len(corrected.photos) == 2
    photos_expected = 2 * 2 + 2 + 9  # two 2-photo visits, the correction's 1 + 1 kept, 9 one-photo visits
    assert count_rows(Photo) == photos_expected
    assert db.session.scalar(select(func.count(func.distinct(Photo.uuid)))) == photos_expected

    # The rule-stopped visit went through as fixed; the status the supervisor changed is kept, the mentor's set aside.
    assert db.session.get(Recipient, families[2].id).status == lifecycle.USAHA_KESULITAN
    (stale,) = by_family[families[3].id]
    assert db.session.get(Recipient, families[3].id).status == lifecycle.USAHA_BERHENTI
    assert stale.status_set_aside == {
        "to": lifecycle.USAHA_KESULITAN,
        "reason": "Sungai surut, pembeli sepi",
        "from": lifecycle.USAHA_BERJALAN,
        "found": lifecycle.USAHA_BERHENTI,
    }

    # No 5xx anywhere, nothing logged as an error, and the outbox is empty.
    assert link.log.server_errors() == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert page.evaluate("async () => (await KailOutbox.all()).length") == 0
    expect(page.locator("#outbox")).to_be_hidden()
    expect(page.locator("#outbox-sent li")).to_have_count(12)  # each "Terkirim", with its time
    expect(page.locator("#outbox-sent li").first).to_contain_text("Terkirim")
