"""WITA, the one local time: the database stores naive UTC, people read and type WITA (Asia/Makassar).

Every conversion between the two goes through here; nothing else shifts times by hand.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

WITA = ZoneInfo("Asia/Makassar")


def to_wita(value: dt.datetime | None) -> dt.datetime | None:
    """A stored naive-UTC time as an aware WITA time (None stays None)."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC).astimezone(WITA)


def to_utc(value: dt.datetime) -> dt.datetime:
    """A WITA time (naive wall-clock time, or aware) as naive UTC, the way the database stores it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=WITA)
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def day_start(day: dt.date) -> dt.datetime:
    """The naive-UTC instant where WITA day `day` starts: `stored >= day_start(d)` and `stored < day_start(d + 1)`
    select the times that fall on day `d` in WITA."""
    return to_utc(dt.datetime.combine(day, dt.time.min))


def parse_day(text: str | None) -> dt.date | None:
    """A day typed or put in a URL as an ISO date (YYYY-MM-DD), read leniently: None when it is missing, malformed
    or implausible (outside the years 1900-2999; year 1 or 9999 would overflow `day_start`'s WITA shift)."""
    try:
        day = dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day and 1900 <= day.year <= 2999 else None


def now() -> dt.datetime:
    """The current time in WITA (aware)."""
    return dt.datetime.now(WITA)


def today() -> dt.date:
    """Today's date in WITA (the server's own clock may run in UTC, a day behind before 08.00 WITA)."""
    return now().date()


def wita_date(value: dt.datetime | None) -> dt.date | None:
    """The WITA day on which a stored naive-UTC time falls (None stays None)."""
    local = to_wita(value)
    return local.date() if local else None
