"""The program dashboard: targets, status, coverage, backlog, survival, turnover and graduation."""

import csv
import datetime as dt
import io
import random

import pytest
from flask import current_app
from sqlalchemy import delete, func, select

from webapp import lifecycle, localtime, outcomes, schedule
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
    # rejected evidence is no figure: its "all items in use" must not replace the approved visit's count
    factories.visit(
        running,
        visited_at=dt.datetime(2026, 11, 21),
        review_state="ditolak",
        answers={"operating": "ya", "items": {"Wajan": "dipakai", "Kompor gas": "dipakai"}},
    )
    db.session.commit()

    d = outcomes.build(world.users["supervisor"], today, (1, 3, 6, 12), graduation_min_per_day=150_000)
    assert d.total == 4  # the world's own + same_region families, and these two
    samarinda = next(t for t in d.targets if t.region.code == "6472")
    # every family here has a handed-over status (the world's two are usaha berjalan without a date)
    assert (samarinda.registered, samarinda.apbd, samarinda.apbd_p, samarinda.total) == (4, 3, 1, 4)
    assert [t.region.code for t in d.targets] == ["6472"]  # a supervisor sees their regency only
    assert dict(d.statuses)["usaha_berhenti"] == 1 and dict(d.statuses)["usaha_berjalan"] == 3
    assert d.distributed == 4 and d.covered_30d == 1 and d.coverage_pct == 25
    assert d.backlog == 1 and d.oldest_pending == dt.datetime(2026, 11, 25)
    survival = {s.months: s for s in d.survival}
    assert (survival[3].running, survival[3].assessed) == (2, 2)  # on 1 Sept 2025 both were running
    assert (survival[12].running, survival[12].stopped, survival[12].assessed) == (1, 1, 2)
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
                # some after 16.00 UTC: already the next day (or month) in WITA
                visited_at=dt.datetime(2025, 2, 1) + dt.timedelta(days=rng.randint(0, 660), hours=rng.randint(0, 23)),
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
    assert {s.months: (s.running, s.struggling, s.stopped, s.left, s.not_assessed) for s in d.survival} == expected[
        "survival"
    ]
    realised = dashboard_reference.realisation(d.budget_year)
    assert {t.region.id: (t.registered, t.apbd, t.apbd_p) for t in d.targets if t.registered} == realised
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
    _year, rows = outcomes.region_figures(outcomes.dashboard_scope(admin), regions, today, (1, 3, 6, 12))
    assert [target.region.id for target, _f in rows] == [r.id for r in regions]
    nothing = ([(s, 0) for s in lifecycle.STATUSES], 0, 0, 0, None)
    for target, f in rows:
        assert (f.statuses, f.distributed, f.covered_30d, f.backlog, f.oldest_pending) == live.get(
            target.region.id, nothing
        )
        own = dashboard_reference.figures(today, (1, 3, 6, 12), 150_000, region_id=target.region.id)
        assert f.overdue == own["overdue"]
        assert {s.months: (s.running, s.struggling, s.stopped, s.left, s.not_assessed) for s in f.survival} == own[
            "survival"
        ]


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
    # A snapshot older than the period is computed again (and replaced); those of earlier days are dropped.
    stored.computed_at -= dt.timedelta(minutes=11)
    db.session.add(
        DashboardSnapshot(key="a-week-ago", computed_at=stored.computed_at - dt.timedelta(days=7), figures={})
    )
    db.session.commit()
    assert outcomes.build(admin, today, months, cache_s=600, cache_min_families=1).computed_at is None
    assert db.session.scalars(select(DashboardSnapshot.key)).all() == [stored.key]
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


def _small_program(today: dt.date):
    """A regency's program counted by hand (quota 10, budget year 2025), dates relative to `today`:

    A calon (APBD), B terverifikasi (APBD-P), C tidak memenuhi syarat before any hand-over (APBD);
    D disalurkan 2 months ago (APBD-P); E usaha berjalan, first assessed 135 days after the hand-over (APBD);
    F left the program 240 days after it, running until then (APBD); G struggling from day 60, stopped on day 165
    (APBD-P); H handed over by a supervisor's direct move (no hand-over date), then left (APBD-P); I mandiri on day
    335, running from day 30 (APBD); J a 2024 family, calon; K handed over in another regency.
    """
    smd, bpn = factories.region("6472"), factories.region("6471")
    smd.quota = 10
    supervisor = factories.user("supervisor", regions=[smd])
    mentor = factories.user("mentor", regions=[smd], full_name="Pendamping Hitung")

    def family(status, source="APBD", handed_months=None, steps=(), region=smd, **kwargs):
        handed = schedule.add_months(today, -handed_months) if handed_months else None
        r = factories.recipient(region, mentor, status=status, funding_source=source, distributed_on=handed, **kwargs)
        at = dt.datetime.combine(handed or today - dt.timedelta(days=400), dt.time(2))
        _history(r, [(at + dt.timedelta(days=day), None, to) for day, to in steps])
        return r

    family("calon", steps=[(0, "calon")])
    family("terverifikasi", "APBD-P", steps=[(0, "calon"), (20, "terverifikasi")])
    family("tidak_memenuhi_syarat", steps=[(0, "calon"), (20, "terverifikasi"), (40, "tidak_memenuhi_syarat")])
    family("disalurkan", "APBD-P", 2, steps=[(0, "disalurkan")])
    family("usaha_berjalan", "APBD", 18, steps=[(0, "disalurkan"), (135, "usaha_berjalan")])
    family("keluar", "APBD", 18, steps=[(0, "disalurkan"), (40, "usaha_berjalan"), (240, "keluar")])
    family("usaha_berhenti", "APBD-P", 18, steps=[(0, "disalurkan"), (60, "usaha_kesulitan"), (165, "usaha_berhenti")])
    family("keluar", "APBD-P", steps=[(0, "calon"), (20, "terverifikasi"), (40, "disalurkan"), (70, "keluar")])
    family("mandiri", "APBD", 21, steps=[(0, "disalurkan"), (30, "usaha_berjalan"), (335, "mandiri")])
    family("calon", budget_year=2024, steps=[(0, "calon")])
    family("usaha_berjalan", "APBD", 18, region=bpn, steps=[(0, "disalurkan"), (20, "usaha_berjalan")])
    db.session.commit()
    return supervisor


# (months, running, struggling, stopped, assessed, % running, not assessed, left), counted by hand above
HAND_SURVIVAL = [(3, 2, 1, 0, 3, 67, 1, 0), (6, 3, 0, 1, 4, 75, 0, 0), (12, 2, 0, 1, 3, 67, 0, 1)]


def test_realisation_and_survival_match_a_hand_count(app):
    today = dt.date(2026, 11, 29)
    supervisor = _small_program(today)
    d = outcomes.build(supervisor, today, (1, 3, 6, 12))
    (smd,) = d.targets
    # Registered A–I; handed over E, F, I (APBD) and D, G, H (APBD-P): 6 of the quota of 10.
    assert (smd.registered, smd.apbd, smd.apbd_p, smd.total, smd.pct) == (9, 3, 3, 6, 60)
    assert (d.quota_total, d.handed_over_total, d.realisation_pct) == (10, 6, 60)
    assert (d.total, d.distributed) == (10, 4)  # D, E, G, I are handed over and still in the program
    assert [
        (s.months, s.running, s.struggling, s.stopped, s.assessed, s.pct, s.not_assessed, s.left) for s in d.survival
    ] == HAND_SURVIVAL


def _tables(html: str) -> dict[str, dict[str, list[str]]]:
    """Every `<table>` with a caption: {caption: {row header: [cell texts]}}."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables, self.caption, self.row, self.cell = {}, None, None, None

        def handle_starttag(self, tag, attrs):
            if tag == "caption":
                self.cell = []
            elif tag == "tr":
                self.row = []
            elif tag in ("th", "td") and self.row is not None:
                self.cell = []

        def handle_endtag(self, tag):
            if tag == "caption":
                self.caption, self.cell = "".join(self.cell).strip(), None
                self.tables[self.caption] = {}
            elif tag in ("th", "td") and self.row is not None and self.cell is not None:
                self.row.append(" ".join("".join(self.cell).split()))
                self.cell = None
            elif tag == "tr" and self.row and self.caption:
                self.tables[self.caption][self.row[0]] = self.row[1:]
                self.row = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    reader = Reader()
    reader.feed(html)
    return reader.tables


def test_dashboard_report_and_export_show_the_same_hand_counted_figures(client, app):
    supervisor = _small_program(localtime.today())
    from .conftest import login

    login(client, supervisor.username)
    pages = [client.get(url).get_data(as_text=True) for url in ("/dasbor/", "/dasbor/laporan")]
    rows = list(csv.reader(io.StringIO(client.get("/kelola-data/ekspor/ringkasan.csv").get_data(as_text=True))))
    export = dict(zip(rows[0], rows[1], strict=True))
    assert [export[k] for k in ("Terdaftar", "Disalurkan APBD", "Disalurkan APBD-P", "Disalurkan", "% Realisasi")] == [
        "9",
        "3",
        "3",
        "6",
        "60",
    ]
    for months, running, struggling, stopped, assessed, pct, not_assessed, left in HAND_SURVIVAL:
        assert [
            export[f"{name} {months} Bulan"]
            for name in ("Bertahan", "Kesulitan", "Berhenti", "Dinilai", "% Bertahan", "Belum Dinilai", "Keluar")
        ] == [str(n) for n in (running, struggling, stopped, assessed, pct, not_assessed, left)]
    for html in pages:
        tables = _tables(html)
        targets = tables["Target dan realisasi per kabupaten/kota"]["Samarinda"]
        assert targets[1:] == ["9", "3", "3", "6", "60%"]  # after the quota (an input for admins)
        survival = tables["Usaha bertahan setelah penyaluran"]
        for months, running, struggling, stopped, assessed, pct, not_assessed, left in HAND_SURVIVAL:
            assert survival[f"{months} bulan"] == [
                str(running),
                str(struggling),
                str(stopped),
                str(assessed),
                f"{pct}%",
                str(not_assessed),
                str(left),
            ]
        assert "60%" in html and "Cara menghitung" in html and "Belum dinilai" in html


def test_overdue_per_mentor_adds_up_to_the_dashboard_total(client, world):
    today = localtime.today()
    mentor, other = world.users["mentor"], world.users["mentor_same_region"]
    region = mentor.regions[0]
    for who, n in ((mentor, 2), (other, 1), (None, 1)):  # none of them visited since the hand-over
        for _ in range(n):
            factories.recipient(region, who, distributed_on=schedule.add_months(today, -4))
    factories.recipient(
        world.recipients["other_region"].region,
        world.users["mentor_other_region"],
        distributed_on=schedule.add_months(today, -4),
    )
    db.session.commit()
    from .conftest import login

    login(client, world.users["supervisor"].username)
    dashboard = client.get("/dasbor/").get_data(as_text=True)
    assert 'href="/dasbor/terlambat"' in dashboard
    page = client.get("/dasbor/terlambat").get_data(as_text=True)
    rows = _tables(page)["Kunjungan terlambat per pendamping"]
    assert rows.pop("Pendamping") == ["Keluarga terlambat"]  # the header row
    assert rows == {mentor.full_name: ["2"], other.full_name: ["1"], "Belum ada pendamping": ["1"], "Jumlah": ["4"]}
    d = outcomes.build(world.users["supervisor"], today, current_app.config["FOLLOWUP_MONTHS"])
    assert d.overdue == 4
    assert f"/periksa/pendamping?pendamping={mentor.id}" in page
    assert client.get("/dasbor/terlambat?wilayah=6471").status_code == 200  # not theirs: the whole scope instead
    assert "Jumlah" in client.get("/dasbor/terlambat?wilayah=6471").get_data(as_text=True)


def test_mentors_do_not_see_overdue_per_mentor(login_as):
    assert login_as("mentor").get("/dasbor/terlambat").status_code == 403


def test_dashboard_numbers_go_through_the_indonesian_formatter(login_as, world):
    mentor = world.users["mentor"]
    family = factories.recipient(mentor.regions[0], mentor, distributed_on=dt.date(2025, 6, 1))
    factories.visit(
        family,
        visited_at=dt.datetime(2026, 1, 10, 3),
        review_state="disetujui",
        answers={"operating": "ya", "turnover": 1_250_000},
    )
    family.region.quota = 1680
    db.session.commit()
    html = login_as("supervisor").get("/dasbor/").get_data(as_text=True)
    assert "Januari 2026" in html and "2026-01" not in html  # months by name
    assert html.count("Rp 1.250.000") >= 2  # the chart and its table, both in Rp
    assert ">1.680<" in html  # thousands with a dot
    assert "Jan 2026 (n = 1)" in html  # the chart's month says how many visits its median rests on


def test_figures_count_wita_days_and_months(app, world):
    """Stored times are UTC; the figures count the WITA day (UTC+8): a visit at 05.00 WITA on 1 February is a
    February visit, a change at 02.00 WITA the day after a milestone is not the status on the milestone, and a
    visit at 07.00 WITA thirty days ago is within the last 30 days."""
    today = dt.date(2026, 11, 29)
    mentor = world.users["mentor"]
    family = factories.recipient(
        mentor.regions[0], mentor, distributed_on=dt.date(2026, 5, 10), status="usaha_berjalan"
    )
    _history(
        family,
        [
            (dt.datetime(2026, 5, 10, 2), "terverifikasi", "disalurkan"),
            (dt.datetime(2026, 8, 10, 18), "disalurkan", "usaha_berjalan"),  # 11 Aug, 02.00 WITA
        ],
    )
    factories.visit(
        family,
        visited_at=dt.datetime(2026, 1, 31, 21),  # 1 Feb 2026, 05.00 WITA
        review_state="disetujui",
        answers={"operating": "ya", "turnover": 100_000},
    )
    factories.visit(
        family,
        visited_at=dt.datetime(2026, 10, 29, 23),  # 30 Oct 2026, 07.00 WITA: 30 days before 29 Nov
        review_state="disetujui",
        answers={"operating": "ya", "turnover": 120_000},
    )
    db.session.commit()
    d = outcomes.build(world.users["supervisor"], today, (1, 3, 6, 12))
    assert ("2026-02", 100_000, 1) in d.turnover_by_month and "2026-01" not in dict(
        (m, n) for m, _v, n in d.turnover_by_month
    )
    three = d.survival[0]
    assert (three.months, three.not_assessed, three.assessed) == (3, 1, 0)  # still "disalurkan" on 10 Aug
    assert d.covered_30d == 1


def test_the_a4_report_ends_with_places_to_sign(login_as, world):
    """A head of office signs a printed report: who prepared it, and the head's acknowledgement with NIP."""
    html = login_as("supervisor").get("/dasbor/laporan").get_data(as_text=True)
    sign = html[html.index('class="report__sign"') :]
    assert world.users["supervisor"].full_name in sign
    assert "Mengetahui," in sign and "Kepala Dinas Sosial Provinsi Kalimantan Timur" in sign and "NIP." in sign
