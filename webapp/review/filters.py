"""The filters shared by the review queue, the map and the mentor activity page, read leniently."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import Select, func
from sqlalchemy.orm import load_only
from werkzeug.datastructures import MultiDict

from ..access import mentors_visible_to
from ..extensions import db
from ..localtime import day_start, parse_day
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
        values = {
            "wilayah": self.region,
            "pendamping": self.mentor,
            "tanda": self.flag,
            "dari": self.date_from.isoformat() if self.date_from else None,
            "sampai": self.date_to.isoformat() if self.date_to else None,
        }
        return {k: v for k, v in values.items() if v}


# Above this many mentors in scope (national scale) the mentor drop-down waits for a regency to be chosen:
# a list of thousands of names is neither usable on a phone nor cheap to build on every page.
MENTOR_OPTIONS_MAX = 300


def mentor_options(user: User, region: str = "") -> list[User] | None:
    """The mentors to offer in the filter: the chosen regency's, or everyone in scope when there are at most
    MENTOR_OPTIONS_MAX; None when a regency must be chosen first."""
    query = mentors_visible_to(user)
    if region:
        query = query.where(User.regions.any(Region.code == region))
    elif db.session.scalar(query.with_only_columns(func.count(User.id))) > MENTOR_OPTIONS_MAX:
        return None
    return list(db.session.scalars(query.options(load_only(User.id, User.full_name)).order_by(User.full_name)))


def read_filters(args: MultiDict, user: User, regions: list[Region]) -> tuple[Filters, list[User] | None]:
    """The filters (from a request's `args`) and the mentor choices that go with the chosen regency. Unknown or
    malformed values are dropped, never an error (a mentor outside the chosen regency too)."""
    region = args.get("wilayah", "")
    region = region if region in {r.code for r in regions} else ""
    mentors = mentor_options(user, region)
    mentor = args.get("pendamping", type=int)
    flag = args.get("tanda", "")
    return Filters(
        region=region,
        mentor=mentor if mentors and mentor in {m.id for m in mentors} else None,
        flag=flag if flag in FLAG_CODES else "",
        date_from=parse_day(args.get("dari")),
        date_to=parse_day(args.get("sampai")),
    ), mentors


def filters_of_page(url: str | None, user: User, regions: list[Region]) -> Filters:
    """The filters of the page an htmx request came from (its `HX-Current-URL`): a decision taken on a filtered
    queue recounts that queue."""
    return read_filters(MultiDict(parse_qsl(urlsplit(url or "").query)), user, regions)[0]


def apply(query: Select, f: Filters, with_flag: bool = True) -> Select:
    """Narrow a query over Visit by the filters."""
    if f.region:
        query = query.where(Visit.recipient.has(Recipient.region.has(Region.code == f.region)))
    if f.mentor:
        query = query.where(Visit.mentor_id == f.mentor)
    if with_flag and f.flag:
        query = query.where(Visit.flags.any(EvidenceFlag.code == f.flag))
    if f.date_from:  # WITA days, stored UTC
        query = query.where(Visit.visited_at >= day_start(f.date_from))
    if f.date_to:
        query = query.where(Visit.visited_at < day_start(f.date_to + dt.timedelta(days=1)))
    return query
