"""Program figures for the dashboard: targets, status, coverage, backlog, business survival, turnover,
package use and graduation candidates. All are SQL aggregates (a fixed number of queries, rows read that do not
grow with the program), so the page costs about the same for 1,680 families and for 100,000.

Every figure is defined once, here, for the dashboard and its printed report (`build`) and for the per-regency
summary export (`region_figures`): targets and realisation count one budget year's families, every other figure all
families in scope. `DEFINITIONS` says in plain words how each is counted; the pages show it under each section.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, case, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from . import lifecycle, localtime, pillars, review_states, schedule, visit_kinds
from .access import recipients_visible_to, regions_visible_to
from .extensions import db
from .models import DashboardSnapshot, Recipient, Region, StatusChange, User, Visit, utcnow
from .sqltools import as_date, shift_date, wita_time, year_month

RUNNING = (lifecycle.USAHA_BERJALAN, lifecycle.MANDIRI)
EXITED = lifecycle.EXITS
# The package has been handed over: `bantuan disalurkan` and every status after it (exits are checked apart).
HANDED_OVER = (
    lifecycle.DISALURKAN,
    lifecycle.USAHA_BERJALAN,
    lifecycle.USAHA_KESULITAN,
    lifecycle.USAHA_BERHENTI,
    lifecycle.MANDIRI,
)
# A business status a mentor's assessment sets after the hand-over (survival counts these, and exits apart).
ASSESSED = (lifecycle.USAHA_BERJALAN, lifecycle.USAHA_KESULITAN, lifecycle.USAHA_BERHENTI, lifecycle.MANDIRI)
SURVIVAL_MONTHS = (3, 6, 12)
_FOLLOWUP = Visit.kind.in_(visit_kinds.FOLLOWUP_KINDS)  # the visits that measure a running business


# How each figure is counted, in plain words: shown under its dashboard section, on the printed report and in
# docs/DOMAIN.md ("Figures"). Change a definition here and in the function that counts it, nowhere else.
DEFINITIONS = {
    "realisation": _l(
        "Realisasi = keluarga tahun anggaran ini yang paketnya sudah diserahkan (status Bantuan disalurkan atau "
        "sesudahnya, termasuk yang kemudian keluar dari program) dibagi target kabupaten/kota. Terdaftar = semua "
        "keluarga tahun anggaran ini, apa pun statusnya."
    ),
    "statuses": _l("Status terakhir setiap keluarga, semua tahun anggaran."),
    "coverage": _l(
        "Keluarga yang sudah menerima paket dan masih dalam program, yang punya kunjungan disetujui dalam 30 hari "
        "terakhir."
    ),
    "overdue": _l(
        "Keluarga yang sudah menerima paket, belum mandiri dan masih dalam program, yang melewati jadwal kunjungan "
        "(bulan ke-%(months)s setelah penyaluran) tanpa kunjungan pendampingan sejak 2 minggu sebelum jadwal itu, atau "
        "melewati tanggal kunjungan berikut yang direncanakan. Keluarga yang kunjungannya dikembalikan untuk "
        "diperbaiki tidak dihitung."
    ),
    "backlog": _l("Kunjungan yang dikirim pendamping dan belum diputuskan pengawas."),
    "survival": _l(
        "Keluarga yang paketnya diserahkan sedikitnya 3, 6 atau 12 bulan lalu, menurut status yang tercatat pada "
        "hari itu. Persentase = usaha berjalan atau mandiri dibagi keluarga yang sudah dinilai (berjalan, kesulitan, "
        "berhenti, mandiri). Belum dinilai = belum ada status usaha sejak penyaluran sampai hari itu; keluar = sudah "
        "keluar dari program. Keduanya tidak dihitung dalam persentase."
    ),
    "turnover": _l(
        "Nilai tengah (median) omzet per hari dari kunjungan pendampingan yang disetujui, per bulan kunjungan "
        "(omzet mingguan dibagi 7). Barang masih dipakai: dari kunjungan terakhir yang disetujui tiap keluarga yang "
        "memeriksa barang."
    ),
    "reach": _l(
        "Dari keluarga UEP yang masih dalam program: yang tercatat ikut pelatihan usaha, yang menerima bantuan pilar 1 "
        "(BLT, sembako, PKH) atau pilar 3 (rumah, sanitasi, air bersih), dan yang menerima keduanya."
    ),
    "graduation": _l(
        "Usaha berjalan, sedikitnya 3 kunjungan pendampingan disetujui dengan usaha buka, yang pertama dan terakhir "
        "berjarak 6 bulan atau lebih, dan omzet per hari pada 3 kunjungan terakhir semuanya sedikitnya %(min)s."
    ),
}


@dataclass
class RegionTarget:
    """A regency's families of one budget year against its quota: registered, and handed over by funding source."""

    region: Region  # or plain values with its id, code and quota (the export's `RegionRow`)
    registered: int = 0  # families of the budget year, whatever their status
    apbd: int = 0  # handed over, funded by the APBD
    apbd_p: int = 0  # handed over, funded by the APBD-P

    @property
    def total(self) -> int:
        """Families whose package was handed over."""
        return self.apbd + self.apbd_p

    @property
    def pct(self) -> int | None:
        """Realisation: handed over as a share of the quota."""
        return round(100 * self.total / self.region.quota) if self.region.quota else None


@dataclass
class Survival:
    """Families handed over at least `months` ago, by the status recorded `months` after the hand-over."""

    months: int
    due: int = 0  # handed over at least `months` ago
    running: int = 0  # usaha berjalan or mandiri on that day
    struggling: int = 0  # usaha kesulitan
    stopped: int = 0  # usaha berhenti
    left: int = 0  # had left the program (keluar, tidak memenuhi syarat)

    @property
    def assessed(self) -> int:
        return self.running + self.struggling + self.stopped

    @property
    def not_assessed(self) -> int:
        """No business status recorded between the hand-over and that day: "belum dinilai", never a failure."""
        return self.due - self.assessed - self.left

    @property
    def pct(self) -> int | None:
        return round(100 * self.running / self.assessed) if self.assessed else None


@dataclass
class Candidate:
    recipient: Recipient
    visits: int
    first: dt.date
    last: dt.date
    turnover_per_day: int


@dataclass
class Figures:
    """The live counts of a scope, or of one regency in it: counted on every request, never cached. The dashboard
    shows the scope's own; the per-regency summary export one row per regency, from the same functions."""

    statuses: list[tuple[str, int]] = field(default_factory=list)  # every status, in lifecycle order
    total: int = 0
    distributed: int = 0  # handed over and still in the program (a status from `bantuan disalurkan` on)
    covered_30d: int = 0  # of those, with an approved visit in the last 30 days
    backlog: int = 0  # visits waiting for review
    oldest_pending: dt.datetime | None = None
    reach: pillars.Reach = pillars.NO_REACH
    overdue: int = 0
    survival: list[Survival] = field(default_factory=list)

    @property
    def coverage_pct(self) -> int | None:
        return round(100 * self.covered_30d / self.distributed) if self.distributed else None


@dataclass
class Dashboard(Figures):
    targets: list[RegionTarget] = field(default_factory=list)
    turnover_by_month: list[tuple[str, int, int]] = field(default_factory=list)  # (YYYY-MM, median/day, visits)
    items_in_use_pct: int | None = None
    items_counted: int = 0
    items_in_use: int = 0
    candidates: list[Candidate] = field(default_factory=list)  # the highest `shown`, see graduation_candidates
    candidate_count: int = 0
    computed_at: dt.datetime | None = None  # set when the outcome figures come from the cache
    budget_year: int | None = None  # of the targets block
    budget_years: list[int] = field(default_factory=list)

    @property
    def quota_total(self) -> int:
        return sum(t.region.quota for t in self.targets)

    @property
    def handed_over_total(self) -> int:
        return sum(t.total for t in self.targets)

    @property
    def realisation_pct(self) -> int | None:
        """Realisation of the scope: every regency's handed-over families against the sum of their quotas."""
        return round(100 * self.handed_over_total / self.quota_total) if self.quota_total else None


@dataclass(frozen=True)
class Scope:
    """The families a set of figures counts, in the forms the queries need."""

    condition: ColumnElement[bool]  # on Recipient
    ids: ScalarSelect  # the same families' ids, for tables that reach them through a foreign key
    national: bool = False  # every family: some counts are cheaper read another way
    few_families: bool = True  # a regency rather than the province: see `approved_since`


class Targets(NamedTuple):
    rows: list[RegionTarget]
    budget_year: int | None
    budget_years: list[int]  # every budget year in scope, latest first


WHOLE = None  # the key of a scope's own figures; per-regency figures are keyed by region id


def build(
    user: User,
    today: dt.date,
    followup_months,
    region_code: str = "",
    graduation_min_per_day: int = 150_000,
    cache_s: float = 0,
    cache_min_families: int = 20_000,
    budget_year: int | None = None,
) -> Dashboard:
    """Every figure is an SQL aggregate over the families in scope: the number of queries is fixed, and the rows
    read do not grow with the program (only the 20 graduation candidates shown are loaded as objects).

    With `cache_s`, scopes of at least `cache_min_families` families reuse stored outcome figures that long.
    """
    visible = regions_visible_to(user, order_by=Region.code)
    regions = [r for r in visible if r.code == region_code] if region_code else visible
    scope = dashboard_scope(user, region_code)
    d = Dashboard()
    d.targets, d.budget_year, d.budget_years = count_targets(scope, regions, budget_year)
    whole = {WHOLE: d}
    count_statuses(scope, whole)
    count_coverage(scope, today, whole)
    count_backlog(scope, whole)
    count_reach(scope, whole)
    who = "all" if user.is_admin else ",".join(map(str, sorted(r.id for r in visible)))
    add_outcomes(
        d, scope, who, region_code, today, followup_months, graduation_min_per_day, cache_s, cache_min_families
    )
    return d


def region_figures(
    scope: Scope, regions: Sequence[Region], today: dt.date, followup_months, budget_year: int | None = None
) -> tuple[int | None, list[tuple[RegionTarget, Figures]]]:
    """The dashboard's figures for each of `regions` — the live counts, overdue families and survival, counted now —
    grouped by regency in SQL (a fixed number of queries, whatever the number of regencies), with the budget year
    the targets count."""
    targets = count_targets(scope, regions, budget_year)
    figures: dict[int | None, Figures] = {target.region.id: Figures() for target in targets.rows}
    count_statuses(scope, figures)
    count_coverage(scope, today, figures)
    count_backlog(scope, figures)
    count_reach(scope, figures)
    overdue = overdue_by(scope.ids, today, followup_months, Recipient.region_id)
    survival = {months: survival_by(scope.ids, today, months, Recipient.region_id) for months in SURVIVAL_MONTHS}
    for key, f in figures.items():
        f.overdue = overdue.get(key, 0)
        f.survival = [survival[months].get(key) or Survival(months) for months in SURVIVAL_MONTHS]
    return targets.budget_year, [(target, figures[target.region.id]) for target in targets.rows]


def dashboard_scope(user: User, region_code: str = "") -> Scope:
    """The families `user` may see, or those of one of their regencies."""
    query = recipients_visible_to(user)
    if region_code:
        query = query.where(Recipient.region.has(Region.code == region_code))
    national = user.is_admin and not region_code
    # The live counts read recipients through the scope's own condition, not `id IN (SELECT id …)`: for a
    # national admin that is no condition at all instead of a semi-join over every family.
    return Scope(
        query.whereclause,
        query.with_only_columns(Recipient.id).scalar_subquery(),
        national=national,
        few_families=not national,
    )


def handed_over() -> ColumnElement[bool]:
    """The family's package was handed over: its status is `bantuan disalurkan` or a later one, or it left the
    program after a hand-over (a hand-over date, or a handed-over status in its history)."""
    was_handed_over = (
        select(StatusChange.id)
        .where(StatusChange.recipient_id == Recipient.id, StatusChange.to_status.in_(HANDED_OVER))
        .exists()
    )
    return or_(
        Recipient.status.in_(HANDED_OVER),
        and_(Recipient.status.in_(EXITED), or_(Recipient.distributed_on.is_not(None), was_handed_over)),
    )


def count_targets(scope: Scope, regions: Sequence[Region], budget_year: int | None = None) -> Targets:
    """Realisation: families per regency and budget source (APBD, APBD-P) whose package was handed over
    (`handed_over`), to set against each regency's quota, and the families registered. The quota is a year's:
    count that budget year's families (the latest one in scope unless `budget_year` is one of them).
    One pass over the scope gives the years and every year's counts. `regions` may be plain values with the
    `Region` attributes the caller reads."""
    per_year = db.session.execute(
        select(
            Recipient.budget_year,
            Recipient.region_id,
            Recipient.funding_source,
            func.count(),
            func.count(case((handed_over(), 1))),
        )
        .where(scope.condition)
        .group_by(Recipient.budget_year, Recipient.region_id, Recipient.funding_source)
    ).all()
    years = sorted({row[0] for row in per_year}, reverse=True)
    year = budget_year if budget_year in years else (years[0] if years else None)
    by_region = {r.id: RegionTarget(r) for r in regions}
    for _year, region_id, source, registered, handed in (row for row in per_year if row[0] == year):
        target = by_region.get(region_id)
        if target:
            target.registered += registered
            if source == "APBD":
                target.apbd = handed
            else:
                target.apbd_p = handed
    return Targets(list(by_region.values()), year, years)


# The count_* functions below fill `figures`: the scope's own ({WHOLE: figures}, one row read) or one per regency
# ({region id: figures}, grouped by regency in the same query).


def _grouping(figures: dict[int | None, Figures]) -> tuple:
    return () if WHOLE in figures else (Recipient.region_id,)


def _row_key(group: Sequence) -> int | None:
    """The `figures` key of a result row whose grouping columns are `group` (none, or the region id)."""
    return group[0] if group else WHOLE


def count_statuses(scope: Scope, figures: dict[int | None, Figures]) -> None:
    """Families per status and, from them, the families handed over and still in the program (a status from
    `bantuan disalurkan` on, exits excluded)."""
    group = _grouping(figures)
    counts: dict[int | None, dict[str, int]] = {key: {} for key in figures}
    for *row_group, status, count in db.session.execute(
        select(*group, Recipient.status, func.count()).where(scope.condition).group_by(*group, Recipient.status)
    ):
        key = _row_key(row_group)
        if key not in figures:
            continue
        counts[key][status] = counts[key].get(status, 0) + count
        if status in HANDED_OVER:
            figures[key].distributed += count
    for key, f in figures.items():
        f.statuses = [(s, counts[key].get(s, 0)) for s in lifecycle.STATUSES]
        f.total = sum(counts[key].values())


def count_coverage(scope: Scope, today: dt.date, figures: dict[int | None, Figures]) -> None:
    """Families handed over and still in the program (`count_statuses`), with an approved visit in the last 30 days."""
    group = _grouping(figures)
    active = scope.condition & Recipient.status.in_(HANDED_OVER)
    for *row_group, count in db.session.execute(
        select(*group, func.count())
        .select_from(Recipient)
        .where(active, approved_since(today - dt.timedelta(days=30), few_families=scope.few_families))
        .group_by(*group)
    ):
        if (f := figures.get(_row_key(row_group))) is not None:
            f.covered_30d = count


def count_backlog(scope: Scope, figures: dict[int | None, Figures]) -> None:
    """Visits waiting for review, and the oldest of them."""
    group = _grouping(figures)
    waiting = select(*group, func.count(), func.min(Visit.visited_at)).where(
        Visit.review_state == review_states.WAITING
    )
    if group:  # the regency is the family's
        waiting = (
            waiting.join_from(Visit, Recipient, Visit.recipient_id == Recipient.id)
            .where(scope.condition)
            .group_by(*group)
        )
    elif not scope.national:
        waiting = waiting.where(Visit.recipient_id.in_(scope.ids))
    for *row_group, count, oldest in db.session.execute(waiting):
        if (f := figures.get(_row_key(row_group))) is not None:
            f.backlog, f.oldest_pending = count, oldest


def count_reach(scope: Scope, figures: dict[int | None, Figures]) -> None:
    """Training and the other two pillars (`pillars.reach_by`, grouped by regency in the same query)."""
    for row_group, reach in pillars.reach_by(scope.condition, *_grouping(figures)).items():
        if (f := figures.get(_row_key(row_group))) is not None:
            f.reach = reach


def add_outcomes(
    d: Dashboard,
    scope: Scope,
    who: str,
    region_code: str,
    today: dt.date,
    followup_months,
    graduation_min_per_day: int,
    cache_s: float,
    cache_min_families: int,
) -> None:
    """Survival, turnover, items in use, overdue visits and graduation candidates: heavier (every visit and status
    change in scope). Scopes of at least `cache_min_families` families reuse a snapshot in the database for
    `cache_s`, as DHIS2 serves analytics tables: one computation a period for every worker (none at all when
    `flask refresh-dashboard` runs from cron); smaller scopes (by `d.total`) are always computed fresh. `who` names
    the families counted in the snapshot key: `all`, or the supervisor's regency ids."""
    key = _key(who, region_code, today, followup_months, graduation_min_per_day)
    cached = cache_s > 0 and d.total >= cache_min_families
    figures = _load(key, cache_s) if cached else None
    if figures is None:
        figures = _outcomes(scope.ids, today, followup_months, graduation_min_per_day)
        if cached:
            _store(key, figures)
    else:
        d.computed_at = figures.computed_at
    d.overdue, d.survival, d.turnover_by_month = figures.overdue, figures.survival, figures.turnover_by_month
    d.items_counted, d.items_in_use = figures.items_counted, figures.items_in_use
    d.items_in_use_pct = round(100 * d.items_in_use / d.items_counted) if d.items_counted else None
    d.candidate_count, d.candidates = figures.candidate_count, _candidates(figures.candidates)


def approved_since(day: dt.date, few_families: bool = False):
    """Recipient has an approved visit on or after WITA day `day`.

    For the province or the nation, an uncorrelated IN reads the recent approvals once from the review-state index;
    for a regency (`few_families`), a correlated EXISTS probes each family's own visits. SQLite runs each form as
    written, and the wrong one costs 40-100x (bench, 100,000 families: 2 vs 99 ms for a regency, 110 vs 801 ms for
    all); PostgreSQL plans both as the same semi-join.
    """
    since = localtime.day_start(day)
    if few_families:
        return Recipient.visits.any((Visit.review_state == review_states.APPROVED) & (Visit.visited_at >= since))
    return Recipient.id.in_(
        select(Visit.recipient_id).where(Visit.review_state == review_states.APPROVED, Visit.visited_at >= since)
    )


@dataclass(frozen=True)
class Outcomes:
    """The heavier figures, as plain values (safe to keep between requests)."""

    overdue: int
    survival: list[Survival]
    turnover_by_month: list[tuple[str, int, int]]
    items_counted: int
    items_in_use: int
    candidate_count: int
    candidates: list[tuple]
    computed_at: dt.datetime


def _outcomes(ids: Select, today: dt.date, followup_months, graduation_min_per_day: int) -> Outcomes:
    counted, in_use = db.session.execute(_latest_items(ids)).one()
    count, candidates = graduation_candidates(ids, graduation_min_per_day)
    return Outcomes(
        overdue=overdue_count(ids, today, followup_months),
        survival=[survival(ids, today, months) for months in SURVIVAL_MONTHS],
        turnover_by_month=turnover_by_month(ids),
        items_counted=counted or 0,
        items_in_use=in_use or 0,
        candidate_count=count,
        candidates=candidates,
        computed_at=utcnow(),
    )


# Part of every snapshot key: bump it whenever a definition or the stored shape changes, so that snapshots made
# by the previous code are never read (they expire unread; `flask refresh-dashboard` writes the new ones).
SNAPSHOT_VERSION = 3


def _key(scope: str, region_code: str, today: dt.date, followup_months, graduation_min_per_day: int) -> str:
    """The snapshot key: the figures' version, who is counted (`all`, or the supervisor's region ids) and every
    setting that changes the figures."""
    raw = json.dumps(
        [SNAPSHOT_VERSION, scope, region_code, today.isoformat(), list(followup_months), graduation_min_per_day]
    )
    return hashlib.sha256(raw.encode()).hexdigest()


def _load(key: str, max_age_s: float) -> Outcomes | None:
    row = db.session.execute(
        select(DashboardSnapshot.computed_at, DashboardSnapshot.figures).where(DashboardSnapshot.key == key)
    ).first()
    if row is None or utcnow() - row.computed_at >= dt.timedelta(seconds=max_age_s):
        return None
    f = row.figures
    return Outcomes(
        overdue=f["overdue"],
        survival=[Survival(**s) for s in f["survival"]],
        turnover_by_month=[tuple(m) for m in f["turnover_by_month"]],
        items_counted=f["items_counted"],
        items_in_use=f["items_in_use"],
        candidate_count=f["candidate_count"],
        candidates=[
            (rid, n, dt.date.fromisoformat(first), dt.date.fromisoformat(last), per_day)
            for rid, n, first, last, per_day in f["candidates"]
        ],
        computed_at=row.computed_at,
    )


def _store(key: str, figures: Outcomes) -> None:
    """Replace the snapshot, on a connection of its own: the request's session stays as it was. Two workers
    finishing the same figures at once both write; the later one wins (the figures are the same). Snapshots of
    earlier days (or of an earlier `SNAPSHOT_VERSION`) are never read again: those older than two days go."""
    data = {
        "overdue": figures.overdue,
        "survival": [dataclasses.asdict(s) for s in figures.survival],
        "turnover_by_month": [list(m) for m in figures.turnover_by_month],
        "items_counted": figures.items_counted,
        "items_in_use": figures.items_in_use,
        "candidate_count": figures.candidate_count,
        "candidates": [
            [rid, n, first.isoformat(), last.isoformat(), per_day]
            for rid, n, first, last, per_day in figures.candidates
        ],
    }
    table = DashboardSnapshot.__table__
    try:
        with db.engine.begin() as conn:
            conn.execute(
                delete(table).where(
                    or_(table.c.key == key, table.c.computed_at < figures.computed_at - dt.timedelta(days=2))
                )
            )
            conn.execute(insert(table).values(key=key, computed_at=figures.computed_at, figures=data))
    except IntegrityError:  # the other worker's row came in between: it holds the same figures
        pass


def refresh_snapshots(today: dt.date, followup_months, graduation_min_per_day: int, min_families: int) -> list[str]:
    """Compute and store the outcome figures of every admin scope of at least `min_families` families (the whole
    program, and each such regency), so no one waits for them (`flask refresh-dashboard`, from cron)."""
    done = []
    counts = dict(db.session.execute(select(Recipient.region_id, func.count()).group_by(Recipient.region_id)).all())
    scopes = [("", select(Recipient.id))] if sum(counts.values()) >= min_families else []
    for region in db.session.scalars(select(Region).order_by(Region.code)):
        if counts.get(region.id, 0) >= min_families:
            scopes.append((region.code, select(Recipient.id).where(Recipient.region_id == region.id)))
    for region_code, ids in scopes:
        figures = _outcomes(ids.scalar_subquery(), today, followup_months, graduation_min_per_day)
        _store(_key("all", region_code, today, followup_months, graduation_min_per_day), figures)
        done.append(region_code or "all")
    return done


def overdue_count(ids: Select, today: dt.date, followup_months) -> int:
    """Families the mentor's work list would put in its "overdue" group (see `overdue_by`)."""
    return sum(overdue_by(ids, today, followup_months, Recipient.mentor_id).values())


def overdue_by(ids: Select, today: dt.date, followup_months, column: ColumnElement) -> dict:
    """Overdue families per value of a Recipient `column` (the mentor id, None for no mentor; or the regency), in one
    grouped query: the families the mentor's work list would put in its "overdue" group (see
    `schedule.work_list`), counted in SQL.

    A family is overdue when some milestone before today has no follow-up from two weeks before it on (it is
    enough to test each milestone against the latest follow-up), or when the date planned at the last visit has
    passed. Families sent back for correction, closed, or not yet distributed are in other groups.
    """
    counted = Visit.review_state != review_states.REJECTED
    visits = (
        select(
            Visit.recipient_id.label("rid"),
            func.max(case((_FOLLOWUP, Visit.visited_at))).label("last_followup"),
            func.max(Visit.visited_at).label("last"),
            func.max(Visit.next_visit_on).label("planned"),
        )
        .where(Visit.recipient_id.in_(ids), counted)
        .group_by(Visit.recipient_id)
        .subquery()
    )
    grace = -schedule.EARLY_GRACE.days
    milestone_missed = or_(
        *(
            and_(
                shift_date(Recipient.distributed_on, months=m) < today,
                or_(
                    visits.c.last_followup.is_(None),
                    as_date(wita_time(visits.c.last_followup))
                    < shift_date(Recipient.distributed_on, months=m, days=grace),
                ),
            )
            for m in followup_months
        )
    )
    planned_passed = and_(
        visits.c.planned.is_not(None), visits.c.planned > as_date(wita_time(visits.c.last)), visits.c.planned < today
    )
    sent_back = (
        select(Visit.id)
        .where(Visit.recipient_id == Recipient.id, Visit.review_state == review_states.SENT_BACK)
        .exists()
    )
    return dict(
        db.session.execute(
            select(column, func.count())
            .select_from(Recipient)
            .outerjoin(visits, visits.c.rid == Recipient.id)
            .where(
                Recipient.id.in_(ids),
                Recipient.distributed_on.is_not(None),
                Recipient.status.not_in(schedule.CLOSED | schedule.BEFORE_DISTRIBUTION),
                ~sent_back,
                or_(milestone_missed, planned_passed),
            )
            .group_by(column)
        ).all()
    )


def overdue_per_mentor(scope: Scope, today: dt.date, followup_months) -> list[tuple[User | None, int]]:
    """The dashboard's overdue total split by mentor (None: families without a mentor), most overdue first; the
    counts add up to `overdue_count` over the same scope."""
    counts = overdue_by(scope.ids, today, followup_months, Recipient.mentor_id)
    mentors = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_([k for k in counts if k])).options(selectinload(User.regions))
        )
    }
    rows = [(mentors.get(mentor_id) if mentor_id else None, n) for mentor_id, n in counts.items()]
    return sorted(rows, key=lambda row: (-row[1], row[0] is None, row[0].full_name if row[0] else ""))


def survival(ids: Select, today: dt.date, months: int) -> Survival:
    """Families handed over at least `months` ago (with a hand-over date), by their status on the day `months` after
    it: the latest status recorded on or before that day. No business status by then is "belum dinilai"."""
    return survival_by(ids, today, months).get((), Survival(months))


def survival_by(ids: Select, today: dt.date, months: int, *group: ColumnElement) -> dict:
    """`survival` for each value of the Recipient columns `group` (e.g. the regency), in one query, keyed by that
    value (by () without `group`); a value without a family due is absent."""
    at = shift_date(Recipient.distributed_on, months=months)
    status_then = (
        select(StatusChange.to_status)
        .where(StatusChange.recipient_id == Recipient.id, as_date(wita_time(StatusChange.changed_at)) <= at)
        .order_by(StatusChange.changed_at.desc(), StatusChange.id.desc())
        .limit(1)
        .correlate(Recipient)
        .scalar_subquery()
    )
    then = (
        select(*group, status_then.label("status"))
        .where(Recipient.id.in_(ids), Recipient.distributed_on.is_not(None), at <= today)
        .subquery()
    )
    keys = [then.c[column.key] for column in group]
    counts: dict = defaultdict(dict)
    for *key, status, n in db.session.execute(
        select(*keys, then.c.status, func.count()).group_by(*keys, then.c.status)
    ):
        counts[key[0] if group else ()][status] = n
    return {
        key: Survival(
            months,
            due=sum(c.values()),
            running=sum(c.get(s, 0) for s in RUNNING),
            struggling=c.get(lifecycle.USAHA_KESULITAN, 0),
            stopped=c.get(lifecycle.USAHA_BERHENTI, 0),
            left=sum(c.get(s, 0) for s in EXITED),
        )
        for key, c in counts.items()
    }


def turnover_by_month(ids: Select, months: int = 12) -> list[tuple[str, int, int]]:
    """(YYYY-MM, median turnover per day, visits) of approved follow-ups by their WITA month, for the `months`
    calendar months that end with the latest month that has one (months without visits are simply absent).

    PostgreSQL computes the medians itself; SQLite (small, single-office installs) has no median, so the values
    of those months are read and the medians taken here.
    """
    approved = (
        Visit.recipient_id.in_(ids),
        Visit.review_state == review_states.APPROVED,
        _FOLLOWUP,
        Visit.turnover_per_day.is_not(None),
    )
    latest = db.session.scalar(select(func.max(Visit.visited_at)).where(*approved))
    if latest is None:
        return []
    start = schedule.add_months(localtime.wita_date(latest).replace(day=1), -(months - 1))
    in_range = (*approved, Visit.visited_at >= localtime.day_start(start))
    month = year_month(wita_time(Visit.visited_at))
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(
            select(month, func.percentile_cont(0.5).within_group(Visit.turnover_per_day), func.count())
            .where(*in_range)
            .group_by(month)
            .order_by(month)
        ).all()
        return [(m, round(median), n) for m, median, n in rows]
    values: dict[str, list[int]] = defaultdict(list)
    for m, value in db.session.execute(select(month, Visit.turnover_per_day).where(*in_range)):
        values[m].append(value)
    return [(m, round(statistics.median(values[m])), len(values[m])) for m in sorted(values)]


def _latest_items(ids: Select) -> Select:
    """(items reported on, items in use), summed over each family's latest approved visit that reported on its
    items (a rejected or unchecked visit is not evidence a head of office should sign)."""
    ranked = (
        select(
            Visit.items_total,
            Visit.items_in_use,
            func.row_number()
            .over(partition_by=Visit.recipient_id, order_by=(Visit.visited_at.desc(), Visit.id.desc()))
            .label("rn"),
        )
        .where(Visit.recipient_id.in_(ids), Visit.items_total > 0, Visit.review_state == review_states.APPROVED)
        .subquery()
    )
    return select(func.sum(ranked.c.items_total), func.sum(ranked.c.items_in_use)).where(ranked.c.rn == 1)


def graduation_candidates(ids: Select, min_per_day: int, shown: int = 20) -> tuple[int, list[tuple]]:
    """Running families with at least 3 approved follow-ups (business operating) spanning 6 months, whose last
        three turnovers per day are all at or above `min_per_day`: how many, and the `shown` with the highest as
    (recipient id, visits, first, last, median turnover per day).

        One pass: a window numbers each family's qualifying visits newest first, and the last three are summed up
        per family (lowest, highest, sum and count give their median without reading them one by one).
    """
    partition = {"partition_by": Visit.recipient_id}
    ranked = (
        select(
            Visit.recipient_id.label("rid"),
            Visit.turnover_per_day.label("per_day"),
            func.row_number().over(order_by=(Visit.visited_at.desc(), Visit.id.desc()), **partition).label("rn"),
            func.count().over(**partition).label("n"),
            func.min(wita_time(Visit.visited_at)).over(**partition).label("first"),
            func.max(wita_time(Visit.visited_at)).over(**partition).label("last"),
        )
        .join(Recipient, Recipient.id == Visit.recipient_id)
        .where(
            Visit.recipient_id.in_(ids),
            Recipient.status == lifecycle.USAHA_BERJALAN,
            Visit.review_state == review_states.APPROVED,
            _FOLLOWUP,
            Visit.operating.in_(("ya", "sebagian")),
        )
        .subquery()
    )
    rows = db.session.execute(
        select(
            ranked.c.rid,
            func.max(ranked.c.n),
            func.min(ranked.c.first),
            func.max(ranked.c.last),
            func.min(ranked.c.per_day),
            func.max(ranked.c.per_day),
            func.sum(ranked.c.per_day),
            func.count(ranked.c.per_day),
        )
        .where(ranked.c.rn <= 3)
        .group_by(ranked.c.rid)
        .having(
            func.max(ranked.c.n) >= 3,
            func.count(ranked.c.per_day) >= 1,
            func.min(ranked.c.per_day) >= min_per_day,
            as_date(func.min(ranked.c.first)) <= shift_date(func.max(ranked.c.last), days=-182),
        )
    ).all()

    def median(low, high, total, k) -> float:  # of the (at most three) recent values
        return {1: total, 2: total / 2, 3: total - low - high}[k]

    scored = sorted(
        ((-median(low, high, total, k), rid, n, first, last) for rid, n, first, last, low, high, total, k in rows)
    )[:shown]
    return len(rows), [(rid, n, _day(first), _day(last), round(-score)) for score, rid, n, first, last in scored]


def _candidates(facts: list[tuple]) -> list[Candidate]:
    """The families behind candidate facts, read now: one graduated since the figures were made drops out."""
    families = {
        r.id: r
        for r in db.session.scalars(
            select(Recipient)
            .where(Recipient.id.in_([f[0] for f in facts]), Recipient.status == lifecycle.USAHA_BERJALAN)
            .options(selectinload(Recipient.region))
        )
    }
    return [
        Candidate(families[rid], n, first, last, per_day) for rid, n, first, last, per_day in facts if rid in families
    ]


def _day(value) -> dt.date:
    """A timestamp as read back from a window function (a datetime, or text on SQLite) -> its date."""
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value.date() if isinstance(value, dt.datetime) else value
