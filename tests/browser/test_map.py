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


def test_mentor_filter_follows_the_regency(app, page: Page):
    smd, bpn = factories.region("6472"), factories.region("6471")
    factories.user("admin", regions=[], username="admin-peta")
    factories.user("mentor", regions=[smd], username="pendamping-smd-peta", full_name="Rahmat Samarinda")
    factories.user("mentor", regions=[bpn], username="pendamping-bpn-peta", full_name="Yusuf Balikpapan")
    db.session.commit()

    log_in(page, "admin-peta")
    page.goto("/review/")
    page.locator("summary", has_text="Saring").click()
    mentor = page.get_by_label("Pendamping")
    expect(mentor.locator("option")).to_have_count(3)
    page.get_by_label("Kabupaten/Kota").select_option("6471")
    expect(mentor.locator("option")).to_have_text(["Semua pendamping", "Yusuf Balikpapan"])
