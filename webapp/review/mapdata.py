"""The review map's points, read for the visible area only.

The page carries no points: its script asks `points()` for the area on screen each time the map settles, so a
national map costs the same as a regency's. Within the area the newest visits come first, at most `limit` of each
layer; the reply says when there were more, and the map asks the user to zoom in (as KoboToolbox and DHIS2 do
for large event layers). Only plain columns are read, never ORM objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select

from ..access import visits_visible_to
from ..extensions import db
from ..localtime import to_wita
from ..models import Recipient, User, Visit
from .activity import recipients_in_scope
from .filters import Filters, apply

LIMIT = 2000  # a whole province (Kaltim: 1,680 families) shows without zooming


@dataclass(frozen=True)
class Box:
    west: float
    south: float
    east: float
    north: float


def parse_bbox(value: str | None) -> Box | None:
    """'west,south,east,north' in degrees (Leaflet's toBBoxString); anything else means the whole scope.

    The map may ask for more than the world when zoomed out: the values are clamped, not refused.
    """
    try:
        west, south, east, north = (float(part) for part in (value or "").split(","))
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in (west, south, east, north)) or west > east or south > north:
        return None
    return Box(max(west, -180.0), max(south, -90.0), min(east, 180.0), min(north, 90.0))


def _inside(query, lat, lon, box: Box | None):
    if box is None:
        return query
    return query.where(lat.between(box.south, box.north), lon.between(box.west, box.east))


def points(user: User, filters: Filters, box: Box | None, limit: int | None = None) -> dict:
    """{"visits": [...], "families": [...], "more_visits": bool, "more_families": bool} for the area."""
    limit = LIMIT if limit is None else limit
    visit_rows = db.session.execute(
        _inside(
            apply(visits_visible_to(user).where(Visit.lat.is_not(None), Visit.lon.is_not(None)), filters),
            Visit.lat,
            Visit.lon,
            box,
        )
        .with_only_columns(
            Visit.lat, Visit.lon, Visit.review_state, Visit.visited_at, Visit.recipient_id, Visit.mentor_id
        )
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .limit(limit + 1)
    ).all()
    family_rows = db.session.execute(
        _inside(
            recipients_in_scope(user, filters).where(
                Recipient.business_lat.is_not(None), Recipient.business_lon.is_not(None)
            ),
            Recipient.business_lat,
            Recipient.business_lon,
            box,
        )
        .with_only_columns(Recipient.id, Recipient.name, Recipient.business_lat, Recipient.business_lon)
        .order_by(Recipient.id.desc())
        .limit(limit + 1)
    ).all()
    shown_visits = visit_rows[:limit]
    names = _names(Recipient, {r.recipient_id for r in shown_visits}, Recipient.name)
    mentors = _names(User, {r.mentor_id for r in shown_visits if r.mentor_id}, User.full_name)
    detail = url_for("recipients.detail", recipient_id=0)[:-1]  # one url_for, not one a point
    return {
        "visits": [
            {
                "lat": r.lat,
                "lon": r.lon,
                "state": r.review_state,
                "name": names.get(r.recipient_id, ""),
                "mentor": mentors.get(r.mentor_id, ""),
                "url": f"{detail}{r.recipient_id}",
                "when": f"{to_wita(r.visited_at):%Y-%m-%d}",
            }
            for r in shown_visits
        ],
        "families": [
            {"lat": r.business_lat, "lon": r.business_lon, "name": r.name, "url": f"{detail}{r.id}"}
            for r in family_rows[:limit]
        ],
        "more_visits": len(visit_rows) > limit,
        "more_families": len(family_rows) > limit,
    }


def _names(model, ids: set[int], column) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, column).where(model.id.in_(ids))).all())
