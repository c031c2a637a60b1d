"""axe-core on every main page, for mentors and supervisors, at phone and desktop sizes: nothing serious."""

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import current_app
from playwright.sync_api import Browser

from webapp import lifecycle, photos, recording
from webapp.demo import demo_photo
from webapp.extensions import db

from .. import factories
from .conftest import log_in

AXE = Axe()
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture
def cast(app):
    app.config["MAP_TILE_URL"] = ""
    region = factories.region("6472")
    mentor = factories.user("mentor", regions=[region], username="pendamping-a11y")
    factories.user("supervisor", regions=[region], username="koordinator-a11y")
    admin = factories.user("admin", regions=[], username="admin-a11y")
    family = factories.recipient(
        region, mentor, business_lat=-0.5, business_lon=117.15, distributed_on=dt.date(2026, 6, 1)
    )
    family.training_id = factories.training(region, attendees=[family]).id
    factories.assistance(family, "pkh")
    family.import_token = factories.stored_import(
        app.config["UPLOAD_DIR"],
        admin,
        factories.csv_text([factories.import_row(1), factories.import_row(2, Desil="8")]),
    )
    db.session.commit()
    upload = recording.PhotoUpload(photos.process(demo_photo("a11y", 3)), "usaha_berjalan")
    recording.record_visit(
        family,
        mentor,
        recording.VisitInput(
            uuid="00000000-0000-4000-8000-0000000a11a1",
            kind="pendampingan",
            visited_at=dt.datetime(2026, 11, 20, 2),
            lat=-0.5,
            lon=117.15,
            accuracy_m=150.0,
            answers={"operating": "ya", "turnover": 100000},
        ),
        [upload],
        current_app.config["UPLOAD_DIR"],
    )
    lifecycle.propose(family, lifecycle.MANDIRI, mentor, "Omzet stabil")  # the queue and the family page show it
    yield family
    app.config["MAP_TILE_URL"] = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def _serious(page) -> list[str]:
    results = AXE.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_main_pages_have_no_serious_accessibility_violations(browser: Browser, base_url, cast, size):
    pages = {
        None: ["/akun/masuk"],
        "pendamping-a11y": ["/kunjungan/", f"/penerima/{cast.id}", f"/penerima/{cast.id}/kunjungan/baru", "/penerima/"],
        "koordinator-a11y": [
            "/periksa/",
            "/dasbor/",
            "/peta/",
            "/periksa/pendamping",
            f"/penerima/{cast.id}",
            "/bantuan",
            "/akun/",
            "/pelatihan/",
            f"/pelatihan/{cast.training_id}",
            "/kelola-data/",
            "/dasbor/laporan",
            "/periksa/usulan",
        ],
        "admin-a11y": [
            "/kelola-data/impor",
            f"/kelola-data/impor/{cast.import_token}",
            "/pengelola/audit",
            "/pengelola/pengguna",
            "/pengelola/pengguna/baru",
            f"/pengelola/pengguna/{cast.mentor_id}",
        ],
    }
    problems = {}
    for username, urls in pages.items():
        context = browser.new_context(base_url=base_url, viewport=VIEWPORTS[size], locale="id-ID")
        page = context.new_page()
        if username:
            log_in(page, username)
        for url in urls:
            page.goto(url, wait_until="networkidle")
            found = _serious(page)
            if found:
                problems[url] = found
            assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[size]["width"], url
        context.close()
    assert not problems, problems
