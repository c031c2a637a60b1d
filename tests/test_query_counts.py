"""Cost that grows slowly: the number of SQL statements a page runs must not grow with the data (no N+1).

Each page is requested with a small world and again with a ten-times larger one; the statement counts must be
equal. Counts, not times: this holds on a busy machine too (issue 8; timings live in bench/).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from webapp.extensions import db

from . import factories
from .conftest import login


def _grow(world, families: int) -> None:
    """`families` more families per mentor of Samarinda, each with two visits (one with a photo), and as many
    more visits with photos for the mentor's own family."""
    mentor, supervisor_region = world.users["mentor"], world.recipients["own"].region
    others = [world.users["mentor_same_region"]]
    for n in range(families):
        for owner in (mentor, *others):
            family = factories.recipient(
                supervisor_region,
                owner,
                distributed_on=dt.date(2026, 1, 5 + n % 20),
                business_lat=-0.5,
                business_lon=117.15,
            )
            first = factories.visit(
                family,
                visited_at=dt.datetime(2026, 3, 1 + n % 25, 2),
                review_state="disetujui",
                answers={
                    "operating": "ya",
                    "turnover": 150000 + n,
                    "turnover_period": "hari",
                    "items": {"Wajan": "dipakai"},
                },
            )
            factories.photo(first, f"ab/{n}.jpg", f"ab/{n}-t.jpg")
            factories.visit(family, visited_at=dt.datetime(2026, 11, 1 + n % 20, 2), review_state="menunggu")
            factories.assistance(family, "blt")
        own_visit = factories.visit(
            world.recipients["own"],
            visited_at=dt.datetime(2026, 4, 1 + n % 25, 2),
            review_state="perbaikan",
            review_note="Foto buram",
        )
        factories.photo(own_visit, f"cd/{n}.jpg", f"cd/{n}-t.jpg")
    db.session.commit()


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, *_args):
        self.n += 1


def _count(client, url: str) -> int:
    counter = Counter()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    assert response.status_code == 200, url
    return counter.n


PAGES = [
    ("mentor", "/kunjungan/"),
    ("mentor", "/penerima/"),
    ("mentor", "/penerima/{own}"),
    ("supervisor", "/periksa/"),
    ("supervisor", "/peta/"),
    ("supervisor", "/peta/titik.json"),
    ("admin", "/peta/titik.json"),
    ("supervisor", "/periksa/pendamping"),
    ("supervisor", "/dasbor/"),
    ("admin", "/dasbor/"),
    ("admin", "/dasbor/terlambat"),
    ("supervisor", "/pelatihan/"),
    ("admin", "/kelola-data/ekspor/kunjungan.csv"),
    ("admin", "/kelola-data/ekspor/ringkasan.csv"),
]


@pytest.mark.parametrize(("role", "url"), PAGES)
def test_statements_per_page_do_not_grow_with_the_data(client, world, role, url):
    _grow(world, 2)
    login(client, world.users[role].username)
    url = url.format(own=world.recipients["own"].id)
    client.get(url)  # warm: first-request work (e.g. loading the user) is not the page's
    small = _count(client, url)
    _grow(world, 20)
    large = _count(client, url)
    assert small > 0
    assert large == small, f"{url}: {small} statements with ~6 families, {large} with ~46"


def test_summary_export_statements_do_not_grow_with_the_regencies(client, world):
    """The per-regency summary counts every regency in the same grouped queries: one regency or all of them (each
    with families, visits and other assistance), the same number of statements."""
    _grow(world, 2)
    for code in ("6471", "6401", "6402", "6403"):
        family = factories.recipient(factories.region(code), distributed_on=dt.date(2026, 1, 5))
        factories.visit(family, visited_at=dt.datetime(2026, 11, 1, 2), review_state="menunggu")
        factories.assistance(family, "rtlh")
    db.session.commit()
    login(client, world.users["admin"].username)
    url = "/kelola-data/ekspor/ringkasan.csv"
    client.get(url)  # warm
    one, every = _count(client, url + "?wilayah=6472"), _count(client, url)
    assert one > 0
    assert every == one, f"summary export: {one} statements for one regency, {every} for all"


def test_mentor_home_statements(client, world):
    """The most requested page, in three statements whatever the caseload: the user with their regencies (every
    page's app bar names them), the families, their visits' dates and the visits sent back (one UNION ALL)."""
    _grow(world, 2)
    login(client, world.users["mentor"].username)
    client.get("/kunjungan/")
    assert _count(client, "/kunjungan/") == 3
