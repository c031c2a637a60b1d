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
