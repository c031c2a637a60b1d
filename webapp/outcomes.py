"""Program figures for the dashboard: targets, status, coverage, backlog, business survival, turnover,
package use and graduation candidates. Counts are SQL aggregates; the histories (status at a date, turnover
by month) are read once per request for the families in scope.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Select, func, select

from . import lifecycle, pillars, schedule
from .access import recipients_visible_to
from .extensions import db
from .models import Recipient, Region, StatusChange, User, Visit

RUNNING = (lifecycle.USAHA_BERJALAN, lifecycle.MANDIRI)
EXITED = (lifecycle.KELUAR, lifecycle.TIDAK_MEMENUHI_SYARAT)
SURVIVAL_MONTHS = (3, 6, 12)


@dataclass
class RegionTarget:
    region: Region
    apbd: int = 0
    apbd_p: int = 0

    @property
    def total(self) -> int:
        return self.apbd + self.apbd_p

    @property
    def pct(self) -> int | None:
        return round(100 * self.total / self.region.quota) if self.region.quota else None


@dataclass
class Survival:
    months: int
    eligible: int = 0
    running: int = 0

    @property
    def pct(self) -> int | None:
        return round(100 * self.running / self.eligible) if self.eligible else None


@dataclass
class Candidate:
    recipient: Recipient
    visits: int
    first: dt.date
    last: dt.date
    turnover_per_day: int


@dataclass
class Dashboard:
    targets: list[RegionTarget] = field(default_factory=list)
    statuses: list[tuple[str, int]] = field(default_factory=list)
    total: int = 0
    distributed: int = 0
    covered_30d: int = 0
    overdue: int = 0
    backlog: int = 0
    oldest_pending: dt.datetime | None = None
    survival: list[Survival] = field(default_factory=list)
    turnover_by_month: list[tuple[str, int, int]] = field(default_factory=list)  # (YYYY-MM, median/day, visits)
    items_in_use_pct: int | None = None
    items_counted: int = 0
    candidates: list[Candidate] = field(default_factory=list)
    reach: pillars.Reach = field(default_factory=pillars.Reach)

    @property
    def coverage_pct(self) -> int | None:
        return round(100 * self.covered_30d / self.distributed) if self.distributed else None


def _per_day(answers: dict) -> int | None:
    turnover = answers.get("turnover")
    if not isinstance(turnover, int) or turnover <= 0:
        return None
    return round(turnover / 7) if answers.get("turnover_period") == "minggu" else turnover


def status_on(changes: list[StatusChange], day: dt.date) -> str | None:
    """The status a family had at the end of `day`, from its history (oldest first)."""
    current = None
    for change in changes:
        if change.changed_at.date() <= day:
            current = change.to_status
        else:
            break
    return current


def build(user: User, today: dt.date, followup_months, region_code: str = "",
          graduation_min_per_day: int = 150_000) -> Dashboard:
    scope: Select = recipients_visible_to(user)
    if region_code:
        scope = scope.where(Recipient.region.has(Region.code == region_code))
    ids_subquery = scope.with_only_columns(Recipient.id).scalar_subquery()
    d = Dashboard()

    # Targets per regency and budget source
    regions = db.session.scalars(select(Region).order_by(Region.code)).all()
    visible_regions = {r.id for r in regions} if user.is_admin else set(user.region_ids)
    if region_code:
        visible_regions &= {r.id for r in regions if r.code == region_code}
    by_region = {r.id: RegionTarget(r) for r in regions if r.id in visible_regions}
    for region_id, source, count in db.session.execute(
            select(Recipient.region_id, Recipient.funding_source, func.count())
            .where(Recipient.id.in_(ids_subquery)).group_by(Recipient.region_id, Recipient.funding_source)):
        target = by_region.get(region_id)
        if target:
            if source == "APBD":
                target.apbd = count
            else:
                target.apbd_p = count
    d.targets = list(by_region.values())

    # Status distribution
    counts = dict(db.session.execute(select(Recipient.status, func.count()).where(Recipient.id.in_(ids_subquery))
                                     .group_by(Recipient.status)).all())
    d.statuses = [(s, counts.get(s, 0)) for s in lifecycle.STATUSES]
    d.total = sum(counts.values())

    # Coverage: distributed, still in the program, with an approved visit in the last 30 days
    active = Recipient.id.in_(ids_subquery) & Recipient.distributed_on.is_not(None) & Recipient.status.not_in(EXITED)
    d.distributed = db.session.scalar(select(func.count()).select_from(Recipient).where(active))
    since = dt.datetime.combine(today - dt.timedelta(days=30), dt.time.min)
    d.covered_30d = db.session.scalar(select(func.count()).select_from(Recipient).where(
        active, Recipient.visits.any((Visit.review_state == "disetujui") & (Visit.visited_at >= since))))

    # Review backlog
    d.backlog, d.oldest_pending = db.session.execute(
        select(func.count(), func.min(Visit.visited_at)).where(Visit.recipient_id.in_(ids_subquery),
                                                               Visit.review_state == "menunggu")).one()

    # Training and the other two pillars
    d.reach = pillars.reach(ids_subquery)

    # The histories, once: families, their status changes and their visits
    families = db.session.scalars(scope.order_by(Recipient.id)).all()
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    for change in db.session.scalars(select(StatusChange).where(StatusChange.recipient_id.in_(ids_subquery))
                                     .order_by(StatusChange.changed_at, StatusChange.id)):
        changes[change.recipient_id].append(change)
    visits: dict[int, list[Visit]] = defaultdict(list)
    for visit in db.session.scalars(select(Visit).where(Visit.recipient_id.in_(ids_subquery))
                                    .order_by(Visit.visited_at)):
        visits[visit.recipient_id].append(visit)

    d.overdue = sum(1 for item in schedule.work_list(families, today, followup_months)
                    if item.group == schedule.OVERDUE)

    # Business survival N months after distribution
    for months in SURVIVAL_MONTHS:
        s = Survival(months)
        for r in families:
            if r.distributed_on is None:
                continue
            at = schedule.add_months(r.distributed_on, months)
            if at > today:
                continue
            s.eligible += 1
            if status_on(changes[r.id], at) in RUNNING:
                s.running += 1
        d.survival.append(s)

    # Turnover trend (approved follow-ups, per day) and package items in use (latest visit with items)
    by_month: dict[str, list[int]] = defaultdict(list)
    in_use = Counter()
    for r in families:
        latest_items = None
        for v in visits[r.id]:
            answers = v.answers or {}
            if v.review_state == "disetujui" and v.kind == "pendampingan":
                per_day = _per_day(answers)
                if per_day is not None:
                    by_month[f"{v.visited_at:%Y-%m}"].append(per_day)
            if answers.get("items"):
                latest_items = answers["items"]
        if latest_items:
            for state in latest_items.values():
                in_use["dipakai" if state == "dipakai" else "lain"] += 1
    d.turnover_by_month = [(month, round(statistics.median(values)), len(values))
                           for month, values in sorted(by_month.items())[-12:]]
    d.items_counted = sum(in_use.values())
    d.items_in_use_pct = round(100 * in_use["dipakai"] / d.items_counted) if d.items_counted else None

    # Graduation candidates: running across >= 3 approved visits spanning >= 6 months, turnover above threshold
    for r in families:
        if r.status != lifecycle.USAHA_BERJALAN:
            continue
        approved = [v for v in visits[r.id] if v.review_state == "disetujui" and v.kind == "pendampingan"
                    and (v.answers or {}).get("operating") in ("ya", "sebagian")]
        if len(approved) < 3:
            continue
        first, last = approved[0].visited_at.date(), approved[-1].visited_at.date()
        recent = [p for p in (_per_day(v.answers or {}) for v in approved[-3:]) if p is not None]
        if (last - first).days >= 182 and recent and min(recent) >= graduation_min_per_day:
            d.candidates.append(Candidate(r, len(approved), first, last, round(statistics.median(recent))))
    d.candidates.sort(key=lambda c: -c.turnover_per_day)
    return d
