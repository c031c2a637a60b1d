"""The dashboard on a phone and on a desktop: summary first, sections folded on a phone, tables without a sideways
scroll, chart text at least 12 px, and nothing serious for axe on the admin's dashboard, report and overdue list."""

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser

from webapp.extensions import db
from webapp.models import StatusChange

from .. import factories
from .conftest import log_in


@pytest.fixture
def program(app):
    region = factories.region("6472")
    mentor = factories.user("mentor", regions=[region])
    factories.user("admin", regions=[], username="admin-dash")
    for n, status in enumerate(["calon", "disalurkan", "usaha_berjalan", "usaha_kesulitan", "keluar"]):
        family = factories.recipient(
            region, mentor, status=status, distributed_on=None if status == "calon" else dt.date(2025, 5, 1)
        )
        if status != "calon":
            db.session.add(StatusChange(recipient=family, to_status="disalurkan", changed_at=dt.datetime(2025, 5, 1)))
            db.session.add(StatusChange(recipient=family, to_status=status, changed_at=dt.datetime(2025, 7, 1)))
        factories.visit(
            family,
            visited_at=dt.datetime(2026, 1 + n, 10, 3),
            review_state="disetujui",
            answers={"operating": "ya", "turnover": 125_000 * (n + 1), "items": {"Wajan": "dipakai"}},
        )
    db.session.commit()


def _chart_text_sizes(page) -> list[float]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.chart__label, .chart__value')]
            .filter(e => e.getClientRects().length)
            .map(e => parseFloat(getComputedStyle(e).fontSize))"""
    )


def test_dashboard_on_a_phone(browser: Browser, base_url, program):
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740}, locale="id-ID")
    page = context.new_page()
    log_in(page, "admin-dash")
    page.goto("/dasbor/", wait_until="networkidle")
    # Summary first: the four key figures come before any section, and every section starts folded.
    assert page.locator(".kpis").bounding_box()["y"] < page.locator("details.dash-section").first.bounding_box()["y"]
    assert page.evaluate("[...document.querySelectorAll('details.dash-section')].every(d => !d.open)")
    page.evaluate("document.querySelectorAll('details.dash-section').forEach(d => d.open = true)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # The targets table is stacked: each regency a block, each cell named by its column.
    cell = page.locator("table.data--stack tbody td[data-label='Terdaftar']").first
    assert cell.evaluate("e => getComputedStyle(e).display") == "flex"
    assert cell.evaluate("e => getComputedStyle(e, '::before').content") == '"Terdaftar"'
    sizes = _chart_text_sizes(page)
    assert sizes and min(sizes) >= 12, sizes
    page.locator("details.dash-section#target summary").click()
    assert not page.evaluate("document.getElementById('target').open")
    context.close()


def test_dashboard_on_a_desktop_uses_the_width(browser: Browser, base_url, program):
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800}, locale="id-ID")
    page = context.new_page()
    log_in(page, "admin-dash")
    page.goto("/dasbor/", wait_until="networkidle")
    assert page.evaluate("[...document.querySelectorAll('details.dash-section')].every(d => d.open)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    sizes = _chart_text_sizes(page)
    assert sizes and min(sizes) >= 12, sizes
    # No long empty column: in each row of the grid the two sections differ in height by less than a screen.
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('.dash-grid > .dash-section')]
            .map(e => { const r = e.getBoundingClientRect(); return [Math.round(r.top), Math.round(r.height)]; })"""
    )
    rows: dict[int, list[int]] = {}
    for top, height in boxes:
        rows.setdefault(top, []).append(height)
    assert all(max(h) - min(h) < 800 for h in rows.values()), rows
    context.close()


@pytest.mark.parametrize("size", [{"width": 360, "height": 740}, {"width": 1280, "height": 800}])
def test_admin_dashboard_pages_have_no_serious_accessibility_violations(browser: Browser, base_url, program, size):
    context = browser.new_context(base_url=base_url, viewport=size, locale="id-ID")
    page = context.new_page()
    log_in(page, "admin-dash")
    problems = {}
    for url in ("/dasbor/", "/dasbor/laporan", "/dasbor/terlambat"):
        page.goto(url, wait_until="networkidle")
        violations = Axe().run(page).response["violations"]
        serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
        if serious:
            problems[url] = serious
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], url
    context.close()
    assert not problems, problems
