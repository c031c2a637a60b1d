"""The program dashboard: targets, status, coverage, backlog, survival, turnover and graduation."""

import datetime as dt

from sqlalchemy import select

from webapp import outcomes
from webapp.extensions import db
from webapp.models import Region, StatusChange

from . import factories
from .conftest import csrf_token


def _history(recipient, steps):
    for when, old, new in steps:
        db.session.add(StatusChange(recipient=recipient, from_status=old, to_status=new, changed_at=when))


def test_figures_on_a_small_program(app, world):
    today = dt.date(2026, 11, 29)
    mentor = world.users["mentor"]
    region = mentor.regions[0]
    running = factories.recipient(region, mentor, distributed_on=dt.date(2025, 6, 1), status="usaha_berjalan",
                                  funding_source="APBD-P")
    _history(running, [(dt.datetime(2025, 6, 1), "terverifikasi", "disalurkan"),
                       (dt.datetime(2025, 7, 1), "disalurkan", "usaha_berjalan")])
    stopped = factories.recipient(region, mentor, distributed_on=dt.date(2025, 6, 1), status="usaha_berhenti")
    _history(stopped, [(dt.datetime(2025, 6, 1), "terverifikasi", "disalurkan"),
                       (dt.datetime(2025, 7, 1), "disalurkan", "usaha_berjalan"),
                       (dt.datetime(2025, 10, 1), "usaha_berjalan", "usaha_berhenti")])
    for months, turnover in ((0, 200_000), (3, 210_000), (7, 250_000)):
        factories.visit(running, visited_at=dt.datetime(2025, 7, 5) + dt.timedelta(days=30 * months),
                        review_state="disetujui", answers={"operating": "ya", "turnover": turnover,
                                                           "turnover_period": "hari",
                                                           "items": {"Wajan": "dipakai", "Kompor gas": "rusak"}})
    factories.visit(running, visited_at=dt.datetime(2026, 11, 20), review_state="disetujui",
                    answers={"operating": "ya", "turnover": 1_400_000, "turnover_period": "minggu"})
    factories.visit(stopped, visited_at=dt.datetime(2026, 11, 25), review_state="menunggu")
    db.session.commit()

    d = outcomes.build(world.users["supervisor"], today, (1, 3, 6, 12), graduation_min_per_day=150_000)
    assert d.total == 4  # the world's own + same_region families, and these two
    samarinda = next(t for t in d.targets if t.region.code == "6472")
    assert (samarinda.apbd, samarinda.apbd_p, samarinda.total) == (3, 1, 4)
    assert [t.region.code for t in d.targets] == ["6472"]  # a supervisor sees their regency only
    assert dict(d.statuses)["usaha_berhenti"] == 1 and dict(d.statuses)["usaha_berjalan"] == 3
    assert d.distributed == 2 and d.covered_30d == 1 and d.coverage_pct == 50
    assert d.backlog == 1 and d.oldest_pending == dt.datetime(2026, 11, 25)
    survival = {s.months: s for s in d.survival}
    assert (survival[3].running, survival[3].eligible) == (2, 2)  # on 1 Sept 2025 both were running
    assert (survival[12].running, survival[12].eligible) == (1, 2)
    assert ("2026-11", 200_000, 1) in d.turnover_by_month  # 1.400.000 a week is 200.000 a day
    assert d.items_in_use_pct == 50 and d.items_counted == 2
    assert [c.recipient.id for c in d.candidates] == [running.id]


def test_dashboard_page_and_graduation(login_as, world):
    mentor = world.users["mentor"]
    running = factories.recipient(mentor.regions[0], mentor, distributed_on=dt.date(2025, 6, 1),
                                  name="Sari Mandiri")
    for months in (0, 4, 8):
        factories.visit(running, visited_at=dt.datetime(2025, 7, 5) + dt.timedelta(days=30 * months),
                        review_state="disetujui", answers={"operating": "ya", "turnover": 300_000})
    db.session.commit()
    client = login_as("supervisor")
    html = client.get("/dasbor/").get_data(as_text=True)
    assert "Dasbor program" in html and "Sari Mandiri" in html and "<svg" in html
    response = client.post(f"/dasbor/graduasi/{running.id}", data={"csrf_token": csrf_token(client, "/dasbor/")})
    assert response.status_code == 303
    db.session.refresh(running)
    assert running.status == "mandiri"
    assert "kini berstatus Mandiri" in client.get("/dasbor/").get_data(True)


def test_only_admins_edit_targets_and_bad_values_save_nothing(login_as, world):
    client = login_as("admin")
    token = csrf_token(client, "/dasbor/")
    codes = [r.code for r in db.session.scalars(select(Region))]
    data = {f"quota-{c}": "200" for c in codes}
    data["quota-6472"] = "dua ratus"
    response = client.post("/dasbor/kuota", data={"csrf_token": token, **data})
    assert response.status_code == 303
    assert "Target tidak disimpan" in client.get("/dasbor/").get_data(True)
    assert {r.quota for r in db.session.scalars(select(Region))} == {168}
    data["quota-6472"] = "250"
    client.post("/dasbor/kuota", data={"csrf_token": token, **data})
    db.session.expire_all()
    assert db.session.scalar(select(Region.quota).where(Region.code == "6472")) == 250
