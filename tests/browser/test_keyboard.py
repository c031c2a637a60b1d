"""Keyboard only, in English, at phone size: Tab reaches every control on each main page, in order, and the
focused control always shows the focus ring. Also: logging in and saving a form without a mouse."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, expect

from webapp.extensions import db

from .. import factories

MARK = """() => {
  const candidates = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])');
  const seenRadio = new Set();
  let n = 0;
  for (const el of candidates) {
    if (el.disabled || el.closest('[hidden], [inert]') || !el.getClientRects().length) continue;
    const closed = el.closest('details:not([open])');  // a closed menu's contents: its summary opens it
    if (closed && el !== closed.querySelector(':scope > summary')) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden') continue;
    if (el.type === 'radio') {                     // a radio group is one Tab stop; arrows move inside it
      if (seenRadio.has(el.name)) { el.dataset.kbGroup = el.name; continue; }
      seenRadio.add(el.name);
      el.dataset.kbGroup = el.name;
    }
    el.dataset.kb = String(n++);
  }
  return n;
}"""

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const ring = (node) => { const s = getComputedStyle(node);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none'; };
  // a visually hidden file input shows its ring on the button next to it
  const shown = el.classList.contains('photo-slot__input') ? el.closest('.photo-slot__pick') || el : el;
  const marked = el.dataset.kb !== undefined ? el.dataset.kb
    : (el.dataset.kbGroup ? document.querySelector(`[data-kb-group="${el.dataset.kbGroup}"][data-kb]`).dataset.kb
    : null);
  const pick = shown.querySelector('.button') || shown;
  // a date input's calendar button: focus sits inside the browser's own control, which draws its own ring
  const inBrowserPart = !el.matches(':focus');
  return {kb: marked, ring: inBrowserPart || ring(el) || ring(shown) || ring(pick), what: el.outerHTML.slice(0, 120)};
}"""


@pytest.fixture
def english_cast(app):
    app.config["MAP_TILE_URL"] = ""
    region = factories.region("6472")
    mentor = factories.user("mentor", regions=[region], username="mentor-keys", locale="en")
    factories.user("supervisor", regions=[region], username="supervisor-keys", locale="en")
    factories.user("admin", regions=[], username="admin-keys", locale="en")
    family = factories.recipient(
        region, mentor, business_lat=-0.5, business_lon=117.15, distributed_on=dt.date(2026, 6, 1)
    )
    family.training_id = factories.training(region, attendees=[family]).id
    db.session.commit()
    yield family
    app.config["MAP_TILE_URL"] = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def _log_in_by_keyboard(page, username: str) -> None:
    page.goto("/akun/masuk")
    page.keyboard.press("Tab")  # skip link first
    for _ in range(6):
        if page.evaluate("document.activeElement.name") == "username":
            break
        page.keyboard.press("Tab")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(factories.PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/akun/masuk" not in url)


def _tab_through(page, url: str) -> list[str]:
    """Tab from the top of `url` until focus leaves the page; return what was missed or shown without a ring."""
    page.goto(url, wait_until="networkidle")
    total = page.evaluate(MARK)
    reached, problems = set(), []
    page.locator("body").focus()
    for _ in range(total * 2 + 20):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            break
        if focused["kb"] is not None:
            reached.add(focused["kb"])
        if not focused["ring"]:
            problems.append(f"no focus ring: {focused['what']}")
        if len(reached) == total:
            break
    missed = page.evaluate(
        "(reached) => [...document.querySelectorAll('[data-kb]')]"
        ".filter(el => !reached.includes(el.dataset.kb)).map(el => el.outerHTML.slice(0, 120))",
        sorted(reached),
    )
    return problems + [f"not reachable by Tab: {m}" for m in missed]


@pytest.mark.parametrize(
    ("username", "urls"),
    [
        ("mentor-keys", ["/kunjungan/", "/penerima/{family}", "/penerima/{family}/kunjungan/baru", "/bantuan"]),
        (
            "supervisor-keys",
            ["/periksa/", "/dasbor/", "/peta/", "/pelatihan/", "/pelatihan/{training}", "/kelola-data/"],
        ),
        ("admin-keys", ["/kelola-data/impor", "/dasbor/laporan", "/pengelola/audit"]),
    ],
)
def test_every_control_is_reachable_by_tab_with_a_visible_focus_ring(
    browser: Browser, base_url, english_cast, username, urls
):
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740}, locale="en-GB")
    page = context.new_page()
    _log_in_by_keyboard(page, username)
    assert page.evaluate("document.documentElement.lang") == "en"
    problems = {}
    for url in urls:
        url = url.format(family=english_cast.id, training=english_cast.training_id)
        found = _tab_through(page, url)
        if found:
            problems[url] = found[:5]
    context.close()
    assert not problems, problems


def test_training_attendance_saved_with_the_keyboard_alone(browser: Browser, base_url, english_cast):
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740}, locale="en-GB")
    page = context.new_page()
    _log_in_by_keyboard(page, "supervisor-keys")
    page.goto(f"/pelatihan/{english_cast.training_id}")
    expect(page.get_by_role("heading", name="Attendance")).to_be_visible()
    box = page.get_by_role("checkbox", name=english_cast.name)
    expect(box).to_be_checked()
    box.focus()
    page.keyboard.press("Space")  # untick
    expect(box).not_to_be_checked()
    page.get_by_role("button", name="Save attendance").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Attendance saved.")).to_be_visible()
    context.close()
    db.session.expire_all()
    from webapp.models import TrainingSession

    assert db.session.get(TrainingSession, english_cast.training_id).attendees == []
