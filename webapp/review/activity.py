"""Mentor activity for supervisors: aggregates computed in SQL, one query per measure."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Select, case, func, select

from .. import review_states, schedule
from ..access import recipients_visible_to
from ..exporting import Export
from ..extensions import db
from ..localtime import day_start
from ..models import EvidenceFlag, Recipient, Region, User, Visit
from .filters import Filters

DECIDED = (review_states.APPROVED, review_states.SENT_BACK, review_states.REJECTED)


@dataclass
class MentorRow:
    mentor: User
    regions: str
    visits_per_week: float
    approval_pct: int | None
    flag_pct: int | None
    overdue: int
    approved_in_month: int


def recipients_in_scope(user: User, filters: Filters) -> Select:
    query = recipients_visible_to(user)
    if filters.region:
        query = query.where(Recipient.region.has(Region.code == filters.region))
    if filters.mentor:
        query = query.where(Recipient.mentor_id == filters.mentor)
    return query


def parse_month(value: str | None, today: dt.date) -> dt.date:
    """'2026-11' -> 2026-11-01; anything else -> this month."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def recent_months(today: dt.date, count: int) -> list[dt.date]:
    first = today.replace(day=1)
    return [schedule.add_months(first, -i) for i in range(count)]


def _by_mentor(query) -> dict[int, tuple]:
    return {row[0]: row[1:] for row in db.session.execute(query)}


def mentor_rows(
    user: User, mentors: list[User], filters: Filters, today: dt.date, month: dt.date, followup_months
) -> list[MentorRow]:
    if filters.mentor:
        mentors = [m for m in mentors if m.id == filters.mentor]
    if filters.region:
        mentors = [m for m in mentors if filters.region in {r.code for r in m.regions}]
    ids = [m.id for m in mentors] or [-1]
    now = day_start(today + dt.timedelta(days=1))  # the end of WITA day `today`, in stored time
    four_weeks = now - dt.timedelta(days=28)
    quarter = now - dt.timedelta(days=90)
    month_end = schedule.add_months(month, 1)

    recent = _by_mentor(
        select(Visit.mentor_id, func.count())
        .where(Visit.mentor_id.in_(ids), Visit.visited_at >= four_weeks)
        .group_by(Visit.mentor_id)
    )
    decided = _by_mentor(
        select(
            Visit.mentor_id, func.count(), func.sum(case((Visit.review_state == review_states.APPROVED, 1), else_=0))
        )
        .where(Visit.mentor_id.in_(ids), Visit.visited_at >= quarter, Visit.review_state.in_(DECIDED))
        .group_by(Visit.mentor_id)
    )
    flagged = _by_mentor(
        select(
            Visit.mentor_id,
            func.count(),
            func.sum(case((Visit.flags.any(EvidenceFlag.severity == "peringatan"), 1), else_=0)),
        )
        .where(Visit.mentor_id.in_(ids), Visit.visited_at >= quarter)
        .group_by(Visit.mentor_id)
    )
    approved = _by_mentor(
        select(Visit.mentor_id, func.count())
        .where(
            Visit.mentor_id.in_(ids),
            Visit.review_state == review_states.APPROVED,
            Visit.visited_at >= day_start(month),
            Visit.visited_at < day_start(month_end),
        )
        .group_by(Visit.mentor_id)
    )
    families = db.session.scalars(recipients_visible_to(user).where(Recipient.mentor_id.in_(ids))).all()
    overdue = Counter(
        item.recipient.mentor_id
        for item in schedule.work_list(families, today, followup_months)
        if item.group == schedule.OVERDUE
    )

    rows = []
    for m in mentors:
        d_total, d_ok = decided.get(m.id, (0, 0))
        f_total, f_hit = flagged.get(m.id, (0, 0))
        rows.append(
            MentorRow(
                mentor=m,
                regions=", ".join(r.name for r in m.regions),
                visits_per_week=recent.get(m.id, (0,))[0] / 4,
                approval_pct=round(100 * (d_ok or 0) / d_total) if d_total else None,
                flag_pct=round(100 * (f_hit or 0) / f_total) if f_total else None,
                overdue=overdue.get(m.id, 0),
                approved_in_month=approved.get(m.id, (0,))[0],
            )
        )
    return rows


def activity_export(rows: list[MentorRow], month: dt.date) -> Export:
    """The mentor activity table as a download, approved visits counted for `month`."""
    headers = [
        "pendamping",
        "nama",
        "wilayah",
        f"kunjungan_disetujui_{month:%Y_%m}",
        "kunjungan_per_minggu",
        "persen_disetujui",
        "persen_bertanda",
        "keluarga_terlambat",
    ]

    def table():
        for row in rows:
            yield [
                row.mentor.username,
                row.mentor.full_name,
                row.regions,
                row.approved_in_month,
                f"{row.visits_per_week:.1f}",
                row.approval_pct,
                row.flag_pct,
                row.overdue,
            ]

    return Export(f"kunjungan-disetujui-{month:%Y-%m}", headers, table)
