"""The review map in Chromium: points come for the area on screen, zooming asks again, no signal says so; the
mentor filter follows the chosen regency."""

import re

from playwright.sync_api import Page, expect

from webapp.extensions import db

from .. import factories
from .conftest import log_in


def _family_with_visit(region, mentor, name, lat, lon):
    family = factories.recipient(region, mentor, name=name, business_lat=lat, business_lon=lon)
    factories.visit(family, mentor, lat=lat, lon=lon)
    return family


def test_map_loads_points_for_the_visible_area(app, page: Page):
    smd = factories.region("6472")
    factories.user("supervisor", regions=[smd], username="koordinator-peta")
    mentor = factories.user("mentor", regions=[smd], username="pendamping-peta")
    # Two families about 90 km apart: fitted together, then a zoom into the middle shows neither.
    _family_with_visit(smd, mentor, "Keluarga Utara", -0.45, 117.15)
    _family_with_visit(smd, mentor, "Keluarga Selatan", -1.2, 116.8)
    db.session.commit()

    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/peta/titik.json" in r.url else None)
    log_in(page, "koordinator-peta")
    page.goto("/peta/")
    status = page.locator("#points-status")
    expect(status).to_have_text("2 kunjungan dan 2 lokasi usaha di area ini.")
    assert len(asked) == 1 and "bbox=" not in asked[0]  # the first fit does not ask a second time

    for _ in range(4):
        page.get_by_role("button", name="Zoom in").click()
    expect(status).to_have_text("0 kunjungan dan 0 lokasi usaha di area ini.")
    bbox = re.search(r"bbox=([-\d.]+),([-\d.]+),([-\d.]+),([-\d.]+)", asked[-1])
    west, south, east, north = (float(v) for v in bbox.groups())
    assert west < 117.0 < east and south < -0.8 < north and east - west < 0.5

    page.context.set_offline(True)
    page.get_by_role("button", name="Zoom out").click()
    expect(status).to_contain_text("Titik tidak dapat dimuat")
    page.context.set_offline(False)
    page.get_by_role("button", name="Zoom out").click()
    expect(status).to_have_text(re.compile(r"^\d kunjungan dan \d lokasi usaha di area ini\.$"))


# Keeps a handle on the Leaflet map the page makes, to find where a point is drawn (the points are on a canvas).
GRAB_MAP = """
Object.defineProperty(window, "L", {configurable: true, get() { return this.__L; }, set(value) {
  this.__L = value; value.Map.addInitHook(function () { window.__map = this; });
}});
"""


def test_a_tapped_point_keeps_its_popup_open(app, page: Page):
    smd = factories.region("6472")
    factories.user("supervisor", regions=[smd], username="koordinator-popup")
    mentor = factories.user("mentor", regions=[smd], username="pendamping-popup")
    north = _family_with_visit(smd, mentor, "Keluarga Utara", -0.45, 117.15)
    _family_with_visit(smd, mentor, "Keluarga Selatan", -1.2, 116.8)
    db.session.commit()

    page.add_init_script(GRAB_MAP)
    log_in(page, "koordinator-popup")
    page.goto("/peta/")
    expect(page.locator("#points-status")).to_have_text("2 kunjungan dan 2 lokasi usaha di area ini.")
    box = page.locator("#points-map").bounding_box()
    at = page.evaluate("window.__map.latLngToContainerPoint([-0.45, 117.15])")
    # The point sits near the map's edge: opening its popup pans the map, which must not redraw it away.
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
    popup = page.locator(".leaflet-popup")
    expect(popup).to_contain_text("Keluarga Utara")
    page.wait_for_timeout(1500)  # longer than the reload that used to follow the pan
    expect(popup).to_be_visible()
    expect(popup.get_by_role("link", name="Buka")).to_have_attribute("href", f"/penerima/{north.id}")


def test_mentor_filter_follows_the_regency(app, page: Page):
    smd, bpn = factories.region("6472"), factories.region("6471")
    factories.user("admin", regions=[], username="admin-peta")
    factories.user("mentor", regions=[smd], username="pendamping-smd-peta", full_name="Rahmat Samarinda")
    factories.user("mentor", regions=[bpn], username="pendamping-bpn-peta", full_name="Yusuf Balikpapan")
    db.session.commit()

    log_in(page, "admin-peta")
    page.goto("/periksa/")
    page.locator("summary", has_text="Saring").click()
    mentor = page.get_by_label("Pendamping")
    expect(mentor.locator("option")).to_have_count(3)
    entries = page.evaluate("history.length")
    page.get_by_label("Kabupaten/Kota").select_option("6471")
    expect(mentor.locator("option")).to_have_text(["Semua pendamping", "Yusuf Balikpapan"])
    # The queue follows (one history entry, its own URL); the drop-down's fragment never becomes a page to go back to.
    expect(page).to_have_url(re.compile(r"/periksa/\?wilayah=6471"))
    assert page.evaluate("history.length") == entries + 1
