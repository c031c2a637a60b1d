"""The filters shared by the review queue, the map and the mentor activity page, read leniently."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Request
from sqlalchemy import Select, select

from ..extensions import db
from ..models import FLAG_CODES, EvidenceFlag, Recipient, Region, User, Visit


@dataclass
class Filters:
    region: str = ""
    mentor: int | None = None
    flag: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def params(self) -> dict:
        """For URLs (pagination): only what is set."""
        values = {"region": self.region, "mentor": self.mentor, "flag": self.flag,
                  "dari": self.date_from.isoformat() if self.date_from else None,
                  "sampai": self.date_to.isoformat() if self.date_to else None}
        return {k: v for k, v in values.items() if v}


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def scope_regions(user: User) -> list[Region]:
    if user.is_admin:
        return list(db.session.scalars(select(Region).order_by(Region.name)))
    return list(user.regions)


def scope_mentors(user: User) -> list[User]:
    query = select(User).where(User.role == "mentor").order_by(User.full_name)
    if not user.is_admin:
        query = query.where(User.regions.any(Region.id.in_(user.region_ids or [-1])))
    return list(db.session.scalars(query))


def read_filters(request: Request, regions: list[Region], mentors: list[User]) -> Filters:
    """Unknown or malformed values are dropped, never an error."""
    region = request.args.get("region", "")
    mentor = request.args.get("mentor", type=int)
    flag = request.args.get("flag", "")
    return Filters(
        region=region if region in {r.code for r in regions} else "",
        mentor=mentor if mentor in {m.id for m in mentors} else None,
        flag=flag if flag in FLAG_CODES else "",
        date_from=_date(request.args.get("dari")), date_to=_date(request.args.get("sampai")),
    )


def apply(query: Select, f: Filters, with_flag: bool = True) -> Select:
    """Narrow a query over Visit by the filters."""
    if f.region:
        query = query.where(Visit.recipient.has(Recipient.region.has(Region.code == f.region)))
    if f.mentor:
        query = query.where(Visit.mentor_id == f.mentor)
    if with_flag and f.flag:
        query = query.where(Visit.flags.any(EvidenceFlag.code == f.flag))
    if f.date_from:
        query = query.where(Visit.visited_at >= dt.datetime.combine(f.date_from, dt.time.min) - dt.timedelta(hours=8))
    if f.date_to:
        query = query.where(Visit.visited_at < dt.datetime.combine(f.date_to, dt.time.min) + dt.timedelta(hours=16))
    return query
