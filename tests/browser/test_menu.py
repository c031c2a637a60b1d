"""The main menu: one row on a 360 px phone for every role (the rest behind "Lainnya"), every tab in the row at
1280 px, and the "Lainnya" menu usable with the keyboard alone."""

import pytest
from playwright.sync_api import Browser

from webapp.extensions import db

from .. import factories
from .conftest import log_in

ROW = 56  # one row of tabs (48 px tap height + the current tab's underline), not two (the old 96-190 px)


@pytest.fixture
def people(app):
    region = factories.region("6472")
    factories.user("mentor", regions=[region], username="pendamping-menu")
    factories.user("supervisor", regions=[region], username="koordinator-menu")
    factories.user("admin", regions=[], username="admin-menu")
    db.session.commit()


def _nav(page) -> dict:
    return page.evaluate(
        """() => {
          const nav = document.querySelector('nav.tabs');
          const shown = [...nav.querySelectorAll('.tabs__item')].filter(a => a.offsetParent !== null);
          return {height: nav.getBoundingClientRect().height, overflow: nav.scrollWidth > nav.clientWidth,
                  tabs: shown.map(a => a.textContent.trim()), tops: [...new Set(shown.map(a => a.offsetTop))]};
        }"""
    )


@pytest.mark.parametrize(
    ("username", "phone_tabs", "wide_count"),
    [
        ("pendamping-menu", ["Kunjungan saya", "Penerima"], 2),
        ("koordinator-menu", ["Periksa", "Usulan", "Dasbor", "Lainnya"], 8),
        ("admin-menu", ["Periksa", "Usulan", "Dasbor", "Lainnya"], 9),
    ],
)
def test_one_row_on_a_phone_and_every_tab_on_a_desktop(
    browser: Browser, base_url, people, username, phone_tabs, wide_count
):
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740}, locale="id-ID")
    page = context.new_page()
    log_in(page, username)
    page.goto("/akun/", wait_until="networkidle")  # a page outside the menu: "Lainnya" says "Lainnya"
    nav = _nav(page)
    assert nav["tabs"] == phone_tabs and len(nav["tops"]) == 1 and nav["height"] <= ROW and not nav["overflow"], nav
    page.set_viewport_size({"width": 1280, "height": 800})
    nav = _nav(page)
    assert len(nav["tabs"]) == wide_count and "Lainnya" not in nav["tabs"] and len(nav["tops"]) == 1, nav
    assert nav["height"] <= ROW and not nav["overflow"], nav
    context.close()


def test_the_more_menu_with_the_keyboard(browser: Browser, base_url, people):
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740}, locale="id-ID")
    page = context.new_page()
    log_in(page, "admin-menu")
    page.goto("/periksa/usulan", wait_until="networkidle")
    more = page.locator(".tabs__more > summary")
    more.focus()
    page.keyboard.press("Enter")
    assert page.locator(".tabs__panel").is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Peta"
    page.keyboard.press("Escape")
    assert not page.locator(".tabs__panel").is_visible()
    assert page.evaluate("document.activeElement.classList.contains('tabs__item')")
    page.keyboard.press("Enter")
    for _ in range(5):  # Peta, Pendamping, Penerima, Pelatihan, Data -> Pengguna
        page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Pengguna"
    page.keyboard.press("Enter")
    page.wait_for_url("**/pengelola/pengguna")
    # The page it opened is named in the row, where "Lainnya" was.
    assert page.locator(".tabs__more > summary").inner_text().strip() == "Pengguna"
    page.locator(".tabs__more > summary").click()
    page.mouse.click(30, 650)  # a tap elsewhere closes it
    assert not page.locator(".tabs__panel").is_visible()
    context.close()
