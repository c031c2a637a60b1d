"""The program dashboard: targets, status, coverage, backlog, survival, turnover and graduation."""

import datetime as dt
import random

import pytest
from flask import current_app
from sqlalchemy import delete, func, select

from webapp import lifecycle, outcomes
from webapp.extensions import db
from webapp.models import DashboardSnapshot, Region, StatusChange

from . import dashboard_reference, factories
from .conftest import csrf_token


def _history(recipient, steps):
    for when, old, new in steps:
        db.session.add(StatusChange(recipient=recipient, from_status=old, to_status=new, changed_at=when))


def test_figures_on_a_small_program(app, world):
    today = dt.date(2026, 11, 29)
    mentor = world.users["mentor"]
    region = mentor.regions[0]
    running = factories.recipient(
        region, mentor, distributed_on=dt.date(2025, 6, 1), status="usaha_berjalan", funding_source="APBD-P"
    )
    _history(
        running,
        [
            (dt.datetime(2025, 6, 1), "terverifikasi", "disalurkan"),
            (dt.datetime(2025, 7, 1), "disalurkan", "usaha_berjalan"),
        ],
    )
    stopped = factories.recipient(region, mentor, distributed_on=dt.date(2025, 6, 1), status="usaha_berhenti")
    _history(
        stopped,
        [
            (dt.datetime(2025, 6, 1), "terverifikasi", "disalurkan"),
            (dt.datetime(2025, 7, 1), "disalurkan", "usaha_berjalan"),
            (dt.datetime(2025, 10, 1), "usaha_berjalan", "usaha_berhenti"),
        ],
    )
    for months, turnover in ((0, 200_000), (3, 210_000), (7, 250_000)):
        factories.visit(
            running,
            visited_at=dt.datetime(2025, 7, 5) + dt.timedelta(days=30 * months),
            review_state="disetujui",
            answers={
                "operating": "ya",
                "turnover": turnover,
                "turnover_period": "hari",
                "items": {"Wajan": "dipakai", "Kompor gas": "rusak"},
            },
        )
    factories.visit(
        running,
        visited_at=dt.datetime(2026, 11, 20),
        review_state="disetujui",
        answers={"operating": "ya", "turnover": 1_400_000, "turnover_period": "minggu"},
    )
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
    running = factories.recipient(mentor.regions[0], mentor, distributed_on=dt.date(2025, 6, 1), name="Sari Mandiri")
    for months in (0, 4, 8):
        factories.visit(
            running,
            visited_at=dt.datetime(2025, 7, 5) + dt.timedelta(days=30 * months),
            review_state="disetujui",
            answers={"operating": "ya", "turnover": 300_000},
        )
    db.session.commit()
    client = login_as("supervisor")
    html = client.get("/dasbor/").get_data(as_text=True)
    assert "Dasbor program" in html and "Sari Mandiri" in html and "<svg" in html
    response = client.post(f"/dasbor/graduasi/{running.id}", data={"csrf_token": csrf_token(client, "/dasbor/")})
    assert response.status_code == 303
    db.session.refresh(running)
    assert running.status == "mandiri"
    assert "kini berstatus Mandiri" in client.get("/dasbor/").get_data(True)


def test_graduation_of_a_family_that_moved_meanwhile_saves_nothing(login_as, world):
    own = world.recipients["own"]
    client = login_as("supervisor")
    token = csrf_token(client, "/dasbor/")
    own.status = "usaha_kesulitan"  # a mentor's visit changed it since the dashboard was shown
    db.session.commit()
    response = client.post(f"/dasbor/graduasi/{own.id}", data={"csrf_token": token})
    assert response.status_code == 303
    assert "tidak dapat diubah" in client.get("/dasbor/").get_data(True)
    db.session.refresh(own)
    assert own.status == "usaha_kesulitan" and own.status_changes == []


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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dashboard_sql_matches_reference(app, seed):
    """Random histories (month ends, weekly turnover, send-backs, rejections, planned dates): the SQL aggregates
    give exactly the figures of the plain Python computation over every family's history."""
    rng = random.Random(seed)
    today = dt.date(2026, 11, 29)
    admin = factories.user("admin", regions=[])
    mentor = factories.user("mentor")
    statuses = list(lifecycle.STATUSES)
    for n in range(40):
        distributed = rng.choice(
            [
                None,
                dt.date(2025, 1, 31),
                dt.date(2025, 8, 31),
                dt.date(2026, 2, 28),
                dt.date(2025, 5, 15) + dt.timedelta(days=rng.randint(0, 500)),
            ]
        )
        family = factories.recipient(
            factories.region(("6472", "6471", "6401")[n % 3]),
            mentor,
            status=rng.choice(statuses),
            distributed_on=distributed,
        )
        start = dt.datetime(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 200))
        path = rng.sample(statuses, rng.randint(0, 4))
        for n, to_status in enumerate(path):
            db.session.add(
                StatusChange(
                    recipient=family,
                    to_status=to_status,
                    changed_at=start + dt.timedelta(days=47 * n, hours=rng.randint(0, 23)),
                )
            )
        for _v in range(rng.randint(0, 7)):
            answers = {"operating": rng.choice(["ya", "sebagian", "tidak"])}
            if rng.random() < 0.8:
                answers["turnover"] = rng.choice([0, 70_000, 150_000, 149_999, 400_000, 1_050_000, 2_100_000])
                answers["turnover_period"] = rng.choice(["hari", "minggu"])
            if rng.random() < 0.4:
                answers["items"] = {
                    "Wajan": rng.choice(["dipakai", "rusak"]),
                    "Kompor": rng.choice(["dipakai", "dijual"]),
                }
            factories.visit(
                family,
                visited_at=dt.datetime(2025, 2, 1, 3) + dt.timedelta(days=rng.randint(0, 660)),
                kind=rng.choice(["pendampingan", "pendampingan", "verifikasi"]),
                review_state=rng.choice(["disetujui", "disetujui", "menunggu", "perbaikan", "ditolak"]),
                next_visit_on=rng.choice([None, today - dt.timedelta(days=rng.randint(-30, 300))]),
                answers=answers,
            )
    for _ in range(20):  # thriving families near the graduation rule's edges (visits, span, turnover)
        distributed = dt.date(2025, 3, 1) + dt.timedelta(days=rng.randint(0, 60))
        family = factories.recipient(mentor=mentor, status="usaha_berjalan", distributed_on=distributed)
        db.session.add(
            StatusChange(
                recipient=family, to_status="disalurkan", changed_at=dt.datetime.combine(distributed, dt.time(2))
            )
        )
        db.session.add(
            StatusChange(
                recipient=family,
                to_status="usaha_berjalan",
                changed_at=dt.datetime.combine(distributed, dt.time(2)) + dt.timedelta(days=20),
            )
        )
        first = dt.datetime.combine(distributed, dt.time(3)) + dt.timedelta(days=30)
        for n in range(rng.randint(2, 5)):
            factories.visit(
                family,
                visited_at=first + dt.timedelta(days=rng.choice([60, 91, 100]) * n),
                review_state="disetujui",
                answers={
                    "operating": "ya",
                    "turnover": rng.choice([150_000, 160_000, 149_000, 1_050_000, 400_000]),
                    "turnover_period": rng.choice(["hari", "hari", "minggu"]),
                },
            )
    db.session.commit()
    expected = dashboard_reference.figures(today, (1, 3, 6, 12), 150_000)
    assert expected["candidates"] and expected["overdue"]  # the data reaches the interesting cases
    d = outcomes.build(admin, today, (1, 3, 6, 12), graduation_min_per_day=150_000)
    assert d.overdue == expected["overdue"]
    assert {s.months: (s.eligible, s.running) for s in d.survival} == expected["survival"]
    assert d.turnover_by_month == expected["turnover"]
    assert (d.items_counted, d.items_in_use) == expected["items"]
    assert d.candidate_count == len(expected["candidates"])
    assert sorted((c.recipient.id, c.visits, c.first, c.last, c.turnover_per_day) for c in d.candidates) == sorted(
        sorted(expected["candidates"], key=lambda c: (-c[4], c[0]))[:20]
    )
    # The live counts, for the whole scope and (as the summary export reads them) per regency
    live = dashboard_reference.live_counts(today)
    assert len(live) == 4 and all(counts[1] and counts[3] for counts in live.values())  # three regencies
    assert (d.statuses, d.distributed, d.covered_30d, d.backlog, d.oldest_pending) == live[None]
    regions = db.session.scalars(select(Region).order_by(Region.code)).all()
    _year, rows = outcomes.region_figures(outcomes.dashboard_scope(admin), regions, today)
    assert [target.region.id for target, _f in rows] == [r.id for r in regions]
    nothing = ([(s, 0) for s in lifecycle.STATUSES], 0, 0, 0, None)
    for target, f in rows:
        assert (f.statuses, f.distributed, f.covered_30d, f.backlog, f.oldest_pending) == live.get(
            target.region.id, nothing
        )


def test_large_scopes_reuse_outcomes_but_never_show_a_graduated_family(app, world):
    mentor = world.users["mentor"]
    family = factories.recipient(mentor.regions[0], mentor, distributed_on=dt.date(2025, 6, 1))
    for n in range(3):
        factories.visit(
            family,
            visited_at=dt.datetime(2025, 7, 5) + dt.timedelta(days=100 * n),
            review_state="disetujui",
            answers={"operating": "ya", "turnover": 200_000},
        )
    db.session.commit()
    admin, today = world.users["admin"], dt.date(2026, 11, 29)
    first = outcomes.build(admin, today, (1, 3, 6, 12), cache_s=600, cache_min_families=1)
    assert first.computed_at is None and [c.recipient.id for c in first.candidates] == [family.id]
    factories.visit(family, visited_at=dt.datetime(2026, 11, 1), review_state="menunggu")
    family.status = "mandiri"
    db.session.commit()
    again = outcomes.build(admin, today, (1, 3, 6, 12), cache_s=600, cache_min_families=1)
    assert again.computed_at is not None  # the outcome figures came from the cache ...
    assert again.candidate_count == 1 and again.candidates == []  # ... but the graduated family is not offered
    assert again.backlog == 1  # the live counts are live
    fresh = outcomes.build(admin, today, (1, 3, 6, 12), cache_s=600, cache_min_families=100)  # a small scope
    assert fresh.computed_at is None and fresh.candidate_count == 0


def test_outcome_snapshots_are_shared_stored_and_expire(app, world, runner, monkeypatch):
    """The figures of a large scope live in the database (every worker, every restart), for the period only."""
    mentor, admin, today = world.users["mentor"], world.users["admin"], dt.date.today()
    family = factories.recipient(mentor.regions[0], mentor, distributed_on=today - dt.timedelta(days=200))
    factories.visit(
        family,
        visited_at=dt.datetime.combine(today, dt.time(1)) - dt.timedelta(days=100),
        review_state="disetujui",
        answers={"operating": "ya", "turnover": 200_000},
    )
    db.session.commit()
    months = current_app.config["FOLLOWUP_MONTHS"]
    first = outcomes.build(admin, today, months, cache_s=600, cache_min_families=1)
    assert first.computed_at is None and db.session.scalar(select(func.count(DashboardSnapshot.key))) == 1
    stored = db.session.scalar(select(DashboardSnapshot))
    again = outcomes.build(admin, today, months, cache_s=600, cache_min_families=1)
    assert again.computed_at == stored.computed_at  # read back, not recomputed
    assert (again.overdue, again.survival, again.turnover_by_month, again.items_in_use, again.candidate_count) == (
        first.overdue,
        first.survival,
        first.turnover_by_month,
        first.items_in_use,
        first.candidate_count,
    )
    assert [(c.recipient.id, c.first, c.last) for c in again.candidates] == [
        (c.recipient.id, c.first, c.last) for c in first.candidates
    ]
    # A snapshot older than the period is computed again (and replaced).
    stored.computed_at -= dt.timedelta(minutes=11)
    db.session.commit()
    assert outcomes.build(admin, today, months, cache_s=600, cache_min_families=1).computed_at is None
    assert db.session.scalar(select(func.count(DashboardSnapshot.key))) == 1
    # From cron: with nothing large enough there is nothing to do; otherwise the whole program is refreshed.
    db.session.execute(delete(DashboardSnapshot))
    db.session.commit()
    assert "nothing to refresh" in runner.invoke(args=["refresh-dashboard"]).output
    monkeypatch.setitem(current_app.config, "DASHBOARD_CACHE_MIN_FAMILIES", 1)
    assert "refreshed for all" in runner.invoke(args=["refresh-dashboard"]).output
    assert outcomes.build(admin, today, months, cache_s=600, cache_min_families=1).computed_at is not None


def test_targets_count_one_budget_year(app, world, client):
    region = world.recipients["own"].region
    factories.recipient(region, budget_year=2026)
    factories.recipient(region, budget_year=2026, funding_source="APBD-P")
    db.session.commit()
    latest = outcomes.build(world.users["supervisor"], dt.date(2026, 11, 29), (1, 3, 6, 12))
    target = next(t for t in latest.targets if t.region.code == "6472")
    assert (latest.budget_year, latest.budget_years, target.apbd, target.apbd_p) == (2026, [2026, 2025], 1, 1)
    earlier = outcomes.build(world.users["supervisor"], dt.date(2026, 11, 29), (1, 3, 6, 12), budget_year=2025)
    assert next(t for t in earlier.targets if t.region.code == "6472").total == 2
    assert earlier.total == latest.total == 4  # the other figures cover every year
    from .conftest import login

    login(client, world.users["supervisor"].username)
    page = client.get("/dasbor/?tahun=2025").get_data(as_text=True)
    assert "tahun anggaran 2025" in page and '<option value="2025" selected>' in page
    assert client.get("/dasbor/?tahun=abc").status_code == 200
