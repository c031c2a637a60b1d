"""Follow-up schedule and the mentor's work list: who needs a visit first.

Follow-ups fall due a number of months after distribution (1, 3, 6 and 12 by default). A milestone counts as
done when a follow-up visit that was not rejected took place from two weeks before it onwards. A visit sent back
for correction puts the family at the very top until the mentor resubmits it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import Integer, Select, case, func, literal, null, select, union_all

from . import lifecycle, localtime, review_states, visit_kinds
from .extensions import db
from .models import Recipient, Visit

DEFAULT_FOLLOWUP_MONTHS = (1, 3, 6, 12)
EARLY_GRACE = dt.timedelta(days=14)  # a visit this much before a milestone still counts for it

# Families whose mentoring has ended: listed last, nothing due.
CLOSED = frozenset({lifecycle.MANDIRI, lifecycle.KELUAR, lifecycle.TIDAK_MEMENUHI_SYARAT})
# Before distribution the next visit is the verification or the hand-over.
BEFORE_DISTRIBUTION = frozenset({lifecycle.CALON, lifecycle.TERVERIFIKASI})

# Priority groups, in the order the mentor sees them.
SENT_BACK, OVERDUE, NEVER_VISITED, UPCOMING, CLOSED_GROUP = range(5)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the 31st becomes the month's last day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def milestones(distributed_on: dt.date, months: Sequence[int] = DEFAULT_FOLLOWUP_MONTHS) -> list[dt.date]:
    return [add_months(distributed_on, m) for m in months]


def next_due(
    distributed_on: dt.date | None, followup_dates: Iterable[dt.date], months: Sequence[int] = DEFAULT_FOLLOWUP_MONTHS
) -> dt.date | None:
    """The first milestone not yet covered by a follow-up visit, or None when all are done."""
    if distributed_on is None:
        return None
    visits = sorted(followup_dates)
    for milestone in milestones(distributed_on, months):
        if not any(v >= milestone - EARLY_GRACE for v in visits):
            return milestone
    return None


@dataclass
class WorkItem:
    """One family in the mentor's list, with why it is where it is."""

    recipient: Recipient
    group: int
    due: dt.date | None = None
    last_visit: dt.date | None = None
    sent_back: list = field(default_factory=list)  # rows with the visit's id, visited_at, review_note, ...
    distance_km: float | None = None


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


def work_list(
    recipients: Sequence[Recipient],
    today: dt.date,
    months: Sequence[int] = DEFAULT_FOLLOWUP_MONTHS,
    position: tuple[float, float] | None = None,
    scope: Select | None = None,
) -> list[WorkItem]:
    """Rank `recipients`: sent back for correction, overdue, never visited, the rest, closed.

    Within a group: nearest first when `position` (the phone's) is known, otherwise the most urgent first.
    `scope`, the query the recipients came from, lets SQL find their visits through it: one statement of the
    same text for every mentor (prepared once per connection), not one with a bound parameter per family.
    """
    if scope is not None and recipients:
        facts = _visit_facts(scope.with_only_columns(Recipient.id).order_by(None))
    else:
        facts = _visit_facts([r.id for r in recipients])
    items = []
    for r in recipients:
        fact = facts.get(r.id)
        last_at, followup_at, planned, sent_back = fact if fact else (None, None, None, [])
        last = localtime.wita_date(last_at)
        item = WorkItem(recipient=r, group=UPCOMING, last_visit=last, sent_back=sent_back)
        if position and r.has_business_location:
            item.distance_km = haversine_km(position[0], position[1], r.business_lat, r.business_lon)
        if item.sent_back:
            item.group = SENT_BACK
        elif r.status in CLOSED:
            item.group = CLOSED_GROUP
        else:
            # A milestone is covered by any follow-up from two weeks before it, so the latest one decides.
            item.due = next_due(r.distributed_on, [localtime.wita_date(followup_at)] if followup_at else [], months)
            # The date the mentor planned at their last visit counts too (after the 12-month milestone it is
            # the only one, and a struggling business may need a visit sooner than the schedule's).
            if planned and last and planned > last:
                item.due = min(item.due, planned) if item.due else planned
            if r.status in BEFORE_DISTRIBUTION or r.distributed_on is None:
                item.group = NEVER_VISITED if last is None else UPCOMING
            elif item.due is not None and item.due < today:
                item.group = OVERDUE
            elif last is None or last < r.distributed_on:
                item.group = NEVER_VISITED
        items.append(item)

    far = float("inf")

    def key(item: WorkItem):
        # Within each group: nearest first when the phone gave its position, else most urgent first.
        distance = item.distance_km if item.distance_km is not None else far
        if position:
            return (item.group, distance, item.due or dt.date.max, item.recipient.name)
        return (item.group, item.due or dt.date.max, item.recipient.name)

    return sorted(items, key=key)


class SentBack(NamedTuple):
    """A visit sent back for correction, as the work list shows it."""

    id: int
    visited_at: dt.datetime
    review_note: str | None


def _visit_facts(ids: list[int] | Select) -> dict[int, tuple]:
    """Per family, from its visits that were not rejected: (latest visit, latest follow-up visit, latest planned
    next date), aggregated in SQL so a long history costs one row, plus its visits sent back for correction
    (id, visited_at and review_note, oldest first).

    One statement: the aggregate rows and the sent-back rows as a UNION ALL, told apart by their first column
    and sorted so every family's aggregate comes before its sent-back visits.
    """
    if isinstance(ids, list) and not ids:
        return {}
    counted = Visit.review_state != review_states.REJECTED
    aggregates = (
        select(
            literal(0, Integer).label("sent_back"),
            Visit.recipient_id,
            func.max(case((counted, Visit.visited_at))).label("at"),
            func.max(case((counted & Visit.kind.in_(visit_kinds.FOLLOWUP_KINDS), Visit.visited_at))).label("followup"),
            func.max(case((counted, Visit.next_visit_on))).label("planned"),
            null().cast(Integer).label("id"),
            null().cast(Visit.review_note.type).label("note"),
        )
        .where(Visit.recipient_id.in_(ids))
        .group_by(Visit.recipient_id)
    )
    sent_back = select(
        literal(1, Integer),
        Visit.recipient_id,
        Visit.visited_at,
        null().cast(Visit.visited_at.type),
        null().cast(Visit.next_visit_on.type),
        Visit.id,
        Visit.review_note,
    ).where(Visit.recipient_id.in_(ids), Visit.review_state == review_states.SENT_BACK)
    # Ordered by the first SELECT's labels, not through a subquery: a subquery copies `recipient_id`'s foreign key
    # on every call, which costs more than the statement saved (~1.5 ms a request).
    rows = db.session.execute(union_all(aggregates, sent_back).order_by("sent_back", "at"))
    facts: dict[int, tuple] = {}
    for kind, rid, at, followup, planned, visit_id, note in rows:
        if kind == 0:
            facts[rid] = (at, followup, planned, [])
        else:
            facts[rid][3].append(SentBack(visit_id, at, note))
    return facts


def suggested_next_visit(
    recipient: Recipient,
    today: dt.date,
    months: Sequence[int] = DEFAULT_FOLLOWUP_MONTHS,
    extra_followup: dt.date | None = None,
) -> dt.date:
    """The date to propose for the next visit after one made today."""
    if recipient.distributed_on is None:
        return today + dt.timedelta(days=14)
    done = [
        localtime.wita_date(v.visited_at)
        for v in recipient.visits
        if v.kind in visit_kinds.FOLLOWUP_KINDS and v.review_state != review_states.REJECTED
    ]
    due = next_due(recipient.distributed_on, [*done, extra_followup or today], months)
    return max(due, today + dt.timedelta(days=7)) if due else today + dt.timedelta(days=90)
