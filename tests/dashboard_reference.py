"""The dashboard's figures computed the plain way, in Python over every family's full history: the reference the
SQL in `webapp.outcomes` must agree with (see test_dashboard_sql_matches_reference)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict

from sqlalchemy import select

from webapp import lifecycle, schedule
from webapp.extensions import db
from webapp.models import Recipient, StatusChange, Visit
from webapp.models import turnover_per_day as _per_day

# The definitions, written out again here rather than imported: this module checks `webapp.outcomes`, not itself.
SURVIVAL_MONTHS = (3, 6, 12)
RUNNING = {"usaha_berjalan", "mandiri"}
HANDED_OVER = {"disalurkan", "usaha_berjalan", "usaha_kesulitan", "usaha_berhenti", "mandiri"}
LEFT = {"keluar", "tidak_memenuhi_syarat"}


def wita_day(stored: dt.datetime) -> dt.date:
    """The WITA (UTC+8) day of a stored naive-UTC time."""
    return (stored + dt.timedelta(hours=8)).date()


def status_on(changes: list[StatusChange], day: dt.date) -> str | None:
    current = None
    for change in changes:
        if wita_day(change.changed_at) <= day:
            current = change.to_status
        else:
            break
    return current


def figures(today: dt.date, followup_months, min_per_day: int, region_id: int | None = None) -> dict:
    """Every outcome figure over all families, or over one regency's."""
    families = db.session.scalars(select(Recipient).order_by(Recipient.id)).all()
    if region_id is not None:
        families = [r for r in families if r.region_id == region_id]
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    for change in db.session.scalars(select(StatusChange).order_by(StatusChange.changed_at, StatusChange.id)):
        changes[change.recipient_id].append(change)
    visits: dict[int, list[Visit]] = defaultdict(list)
    for visit in db.session.scalars(select(Visit).order_by(Visit.visited_at, Visit.id)):
        visits[visit.recipient_id].append(visit)

    overdue = sum(1 for item in schedule.work_list(families, today, followup_months) if item.group == schedule.OVERDUE)
    survival = {}
    for months in SURVIVAL_MONTHS:
        seen = Counter()
        for r in families:
            if r.distributed_on is None or schedule.add_months(r.distributed_on, months) > today:
                continue
            then = status_on(changes[r.id], schedule.add_months(r.distributed_on, months))
            if then in RUNNING:
                seen["running"] += 1
            elif then in ("usaha_kesulitan", "usaha_berhenti"):
                seen[then] += 1
            elif then in LEFT:
                seen["left"] += 1
            else:  # nothing after the hand-over yet: not assessed
                seen["not_assessed"] += 1
        survival[months] = (
            seen["running"],
            seen["usaha_kesulitan"],
            seen["usaha_berhenti"],
            seen["left"],
            seen["not_assessed"],
        )

    by_month: dict[str, list[int]] = defaultdict(list)
    in_use = Counter()
    for r in families:
        latest = None
        for v in visits[r.id]:
            answers = v.answers or {}
            if v.review_state == "disetujui" and v.kind == "pendampingan":
                per_day = _per_day(answers)
                if per_day is not None:
                    by_month[f"{wita_day(v.visited_at):%Y-%m}"].append(per_day)
            if answers.get("items") and v.review_state == "disetujui":
                latest = answers["items"]
        for state in (latest or {}).values():
            in_use["dipakai" if state == "dipakai" else "lain"] += 1
    # the 12 calendar months ending with the latest month that has an approved turnover
    latest = max(by_month, default=None)
    first = f"{schedule.add_months(dt.date.fromisoformat(latest + '-01'), -11):%Y-%m}" if latest else ""
    turnover = [
        (m, round(statistics.median(values)), len(values)) for m, values in sorted(by_month.items()) if m >= first
    ]

    candidates = []
    for r in families:
        if r.status != lifecycle.USAHA_BERJALAN:
            continue
        approved = [
            v
            for v in visits[r.id]
            if v.review_state == "disetujui"
            and v.kind == "pendampingan"
            and (v.answers or {}).get("operating") in ("ya", "sebagian")
        ]
        if len(approved) < 3:
            continue
        first, last = wita_day(approved[0].visited_at), wita_day(approved[-1].visited_at)
        recent = [p for p in (_per_day(v.answers or {}) for v in approved[-3:]) if p is not None]
        if (last - first).days >= 182 and recent and min(recent) >= min_per_day:
            candidates.append((r.id, len(approved), first, last, round(statistics.median(recent))))
    return {
        "overdue": overdue,
        "survival": survival,
        "turnover": turnover,
        "items": (sum(in_use.values()), in_use["dipakai"]),
        "candidates": sorted(candidates),
    }


def realisation(budget_year: int) -> dict[int, tuple[int, int, int]]:
    """(registered, handed over APBD, handed over APBD-P) of one budget year per region id: handed over is a status
    from `disalurkan` on, or an exit after a hand-over date or a handed-over status in the family's history."""
    history: dict[int, set[str]] = defaultdict(set)
    for change in db.session.scalars(select(StatusChange)):
        history[change.recipient_id].add(change.to_status)
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in db.session.scalars(select(Recipient).where(Recipient.budget_year == budget_year)):
        row = counts[r.region_id]
        row[0] += 1
        if r.status in HANDED_OVER or (r.status in LEFT and (r.distributed_on or history[r.id] & HANDED_OVER)):
            row[1 if r.funding_source == "APBD" else 2] += 1
    return {region_id: tuple(row) for region_id, row in counts.items()}


def live_counts(today: dt.date) -> dict[int | None, tuple]:
    """(statuses, distributed, covered in 30 days, backlog, oldest pending) of every family (key None) and of each
    regency's families (key: region id)."""
    since = dt.datetime.combine(today - dt.timedelta(days=30), dt.time.min) - dt.timedelta(hours=8)  # WITA midnight
    visits: dict[int, list[Visit]] = defaultdict(list)
    for visit in db.session.scalars(select(Visit)):
        visits[visit.recipient_id].append(visit)
    groups: dict[int | None, list[Recipient]] = defaultdict(list)
    for r in db.session.scalars(select(Recipient)):
        groups[None].append(r)
        groups[r.region_id].append(r)
    counts = {}
    for key, families in groups.items():
        active = [r for r in families if r.status in HANDED_OVER]
        pending = [v.visited_at for r in families for v in visits[r.id] if v.review_state == "menunggu"]
        counts[key] = (
            [(s, sum(r.status == s for r in families)) for s in lifecycle.STATUSES],
            len(active),
            sum(any(v.review_state == "disetujui" and v.visited_at >= since for v in visits[r.id]) for r in active),
            len(pending),
            min(pending, default=None),
        )
    return counts
