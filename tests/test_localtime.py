"""WITA conversions: stored naive UTC <-> Asia/Makassar, and where a WITA day starts in stored time."""

import datetime as dt

import pytest

from webapp import exporting, localtime


def test_a_visit_at_five_in_the_morning_wita_is_on_the_same_wita_day():
    stored = dt.datetime(2026, 11, 19, 21, 0)  # 05.00 WITA on 20 November, the UTC day before
    local = localtime.to_wita(stored)
    assert local.date() == dt.date(2026, 11, 20) and (local.hour, local.minute) == (5, 0)
    assert local.utcoffset() == dt.timedelta(hours=8)
    day = dt.date(2026, 11, 20)
    assert localtime.day_start(day) <= stored < localtime.day_start(day + dt.timedelta(days=1))


def test_day_start_is_midnight_wita_in_naive_utc():
    assert localtime.day_start(dt.date(2026, 11, 20)) == dt.datetime(2026, 11, 19, 16, 0)
    assert localtime.day_start(dt.date(2026, 11, 20)).tzinfo is None


def test_wita_to_utc_and_back():
    assert localtime.to_utc(dt.datetime(2026, 11, 20, 12, 0)) == dt.datetime(2026, 11, 20, 4, 0)  # naive = WITA
    aware = dt.datetime(2026, 11, 20, 12, 0, tzinfo=localtime.WITA)
    assert localtime.to_utc(aware) == dt.datetime(2026, 11, 20, 4, 0)
    stored = dt.datetime(2026, 11, 20, 4, 0)
    assert localtime.to_utc(localtime.to_wita(stored)) == stored
    assert localtime.to_wita(None) is None


def test_exports_show_naive_wita_wall_clock_time():
    assert exporting.wita(dt.datetime(2026, 11, 20, 2, 0)) == dt.datetime(2026, 11, 20, 10, 0)
    assert exporting.wita(None) is None


def test_audit_date_filter_reads_wita_days(login_as, world):
    from webapp.extensions import db
    from webapp.models import AuditEvent

    early = AuditEvent(action="uji_pagi", created_at=dt.datetime(2026, 11, 19, 21, 0))  # 20 Nov, 05.00 WITA
    late = AuditEvent(action="uji_malam", created_at=dt.datetime(2026, 11, 20, 16, 30))  # 21 Nov, 00.30 WITA
    db.session.add_all([early, late])
    db.session.commit()
    client = login_as("admin")
    html = client.get("/pengelola/audit?dari=2026-11-20&sampai=2026-11-20").get_data(as_text=True)
    assert "<td>uji_pagi</td>" in html and "<td>uji_malam</td>" not in html
    html = client.get("/pengelola/audit?dari=2026-11-21").get_data(as_text=True)
    assert "<td>uji_malam</td>" in html and "<td>uji_pagi</td>" not in html


def test_parse_day_reads_plausible_iso_dates_and_drops_the_rest():
    assert localtime.parse_day("2026-11-20") == dt.date(2026, 11, 20)
    assert localtime.parse_day("1900-01-01") == dt.date(1900, 1, 1)
    assert localtime.parse_day("2999-12-31") == dt.date(2999, 12, 31)
    for text in (None, "", "x", "2026-13-01", "0001-01-01", "1899-12-31", "3000-01-01", "9999-12-31"):
        assert localtime.parse_day(text) is None, text


def test_audit_and_review_filters_ignore_dates_at_the_ends_of_the_calendar(login_as, world):
    """Year 1 or 9999 would overflow the WITA shift in the query (was a 500 on the audit page)."""
    client = login_as("admin")
    for url in ("/pengelola/audit", "/periksa/", "/peta/", "/periksa/pendamping"):
        for query in ("?dari=0001-01-01", "?sampai=9999-12-31", "?dari=0001-01-01&sampai=9999-12-31"):
            assert client.get(url + query).status_code == 200, url + query


# --- the WITA boundary: 05.00 WITA on 20 November is 21.00 UTC on the 19th ----------------------------------------

FIVE_WITA = dt.datetime(2026, 11, 20, 5, 0, tzinfo=localtime.WITA)
FIVE_WITA_STORED = dt.datetime(2026, 11, 19, 21, 0)


@pytest.fixture
def at_five_wita(monkeypatch):
    """The clock at 05.00 WITA on 20 November (the server's UTC date is still the 19th)."""
    monkeypatch.setattr(localtime, "now", lambda: FIVE_WITA)


def test_today_is_the_wita_date(at_five_wita):
    assert localtime.today() == dt.date(2026, 11, 20)
    assert localtime.wita_date(FIVE_WITA_STORED) == dt.date(2026, 11, 20) and localtime.wita_date(None) is None


def test_the_work_list_shows_the_wita_day_of_the_last_visit(login_as, world, at_five_wita):
    from webapp.extensions import db

    from . import factories

    factories.visit(world.recipients["own"], visited_at=FIVE_WITA_STORED)
    db.session.commit()
    html = login_as("mentor").get("/kunjungan/").get_data(as_text=True)
    assert "terakhir 20 Nov 2026" in html and "19 Nov 2026" not in html


def test_export_file_names_carry_the_wita_date(login_as, world, at_five_wita):
    response = login_as("supervisor").get("/kelola-data/ekspor/penerima.csv")
    assert "-20261120.csv" in response.headers["Content-Disposition"]


def test_a_delivery_at_five_wita_is_distributed_on_that_wita_day(app, world):
    from webapp import lifecycle, recording

    family = world.recipients["own"]
    family.status, family.distributed_on = lifecycle.TERVERIFIKASI, None
    data = recording.VisitInput(
        uuid="9d1f7c1e-0000-4000-8000-000000000005",
        kind="pendampingan",
        visited_at=FIVE_WITA_STORED,
        lat=None,
        lon=None,
        no_location_reason="sinyal_lemah",
        new_status=lifecycle.DISALURKAN,
    )
    recording.record_visit(family, family.mentor, data, [], app.config["UPLOAD_DIR"])
    assert family.distributed_on == dt.date(2026, 11, 20)


def test_no_code_asks_the_server_for_its_own_date():
    """The server's clock may run in UTC, a day behind WITA before 08.00: 'today' is `localtime.today()`."""
    import pathlib

    root = pathlib.Path(localtime.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "migrations" not in path.parts
        and any(bad in path.read_text() for bad in ("date.today()", "datetime.now()", "datetime.today()"))
    ]
    assert offenders == []
