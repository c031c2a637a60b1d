"""A recipient's history: visits and status changes merged into one list, newest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .extensions import db
from .models import Recipient, ReviewDecision, StatusChange, Visit


@dataclass(frozen=True)
class Entry:
    when: dt.datetime
    kind: str  # "visit" or "status"
    obj: Any


RECENT = 20  # entries a family page shows before "the whole history"


@dataclass(frozen=True)
class History:
    entries: list[Entry]
    more: bool  # older entries exist beyond `entries`


def timeline(recipient: Recipient, limit: int | None = RECENT) -> History:
    """The newest `limit` entries (None: all), read in a fixed number of queries however long the history is."""
    visits_query = (
        select(Visit)
        .where(Visit.recipient_id == recipient.id)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .options(
            joinedload(Visit.mentor),
            selectinload(Visit.photos),
            selectinload(Visit.flags),
            selectinload(Visit.decisions).joinedload(ReviewDecision.decided_by),
        )
    )
    changes_query = (
        select(StatusChange)
        .where(StatusChange.recipient_id == recipient.id)
        .order_by(StatusChange.changed_at.desc(), StatusChange.id.desc())
        .options(joinedload(StatusChange.changed_by))
    )
    if limit is not None:  # the newest `limit` of the merged list come from the newest `limit` of each
        visits_query, changes_query = visits_query.limit(limit + 1), changes_query.limit(limit + 1)
    entries = [Entry(v.visited_at, "visit", v) for v in db.session.scalars(visits_query).unique()]
    entries += [Entry(c.changed_at, "status", c) for c in db.session.scalars(changes_query).unique()]
    entries.sort(key=lambda e: (e.when, e.kind == "status"), reverse=True)
    if limit is None:
        return History(entries, False)
    return History(entries[:limit], len(entries) > limit)
