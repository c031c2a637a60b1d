"""The strict Content-Security-Policy holds on every main page: Chromium reports no violation."""

from playwright.sync_api import Page

from webapp.extensions import db

from .. import factories
from .conftest import log_in

VIOLATIONS_JS = """() => { window.__csp = []; document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI)); }"""


def _check(page: Page, url: str, messages: list[str]):
    page.goto(url, wait_until="networkidle")
    page.wait_for_timeout(300)
    found = [m for m in messages if "Content Security Policy" in m] + page.evaluate("window.__csp || []")
    assert not found, (url, found)


def test_no_csp_violation_on_main_pages(app, page: Page, base_url):
    app.config["MAP_TILE_URL"] = ""  # no outside network here
    region = factories.region("6472")
    mentor = factories.user("mentor", regions=[region], username="pendamping-csp")
    factories.user("supervisor", regions=[region], username="koordinator-csp")
    family = factories.recipient(region, mentor, business_lat=-0.5, business_lon=117.15)
    db.session.commit()
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.add_init_script(VIOLATIONS_JS)
    try:
        _check(page, "/akun/masuk", messages)
        for username, urls in (
            (
                "pendamping-csp",
                [
                    "/kunjungan/",
                    f"/penerima/{family.id}",
                    f"/penerima/{family.id}/kunjungan/baru",
                    "/penerima/",
                    "/offline",
                ],
            ),
            ("koordinator-csp", ["/periksa/", "/peta/", "/periksa/pendamping", "/penerima/", f"/penerima/{family.id}"]),
        ):
            log_in(page, username)
            for url in urls:
                _check(page, url, messages)
            page.context.clear_cookies()
    finally:
        app.config["MAP_TILE_URL"] = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
