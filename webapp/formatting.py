"""Numbers and dates as people read them: Indonesian by default ('1.250', '60,1 km'), English when chosen ('1,250').

The one formatter: template filters (`angka`, `desimal`, `rupiah`, `jarak`, `tanggal`) and the sentences domain
modules write (flag explanations, exports' human text) all call these, so one page never shows '60.1 km' beside
'60,0 km'. The locale is the request's (Flask-Babel); outside a request, Indonesian.
"""

from __future__ import annotations

import datetime as dt
import functools

from babel import dates, numbers
from flask_babel import get_locale

DEFAULT_LOCALE = "id"


def _locale():
    return get_locale() or DEFAULT_LOCALE


def number(value: float | int | None) -> str:
    """A whole number with thousands separators: '1.250' ('1,250' in English); a fraction is rounded."""
    if value is None:
        return "—"
    return numbers.format_decimal(round(value), format="#,##0", locale=_locale())


def decimal(value: float | int | None, digits: int = 1) -> str:
    """A number with exactly `digits` decimals: '60,1', '40,0', '1.234,5' ('60.1' in English)."""
    if value is None:
        return "—"
    pattern = "#,##0." + "0" * digits if digits > 0 else "#,##0"
    return numbers.format_decimal(value, format=pattern, locale=_locale())


def rupiah(value: int | None) -> str:
    """'Rp 1.250.000' ('Rp 1,250,000' in English)."""
    return "—" if value is None else "Rp " + number(value)


def distance(metres: float | None) -> str:
    """'850 m' below a kilometre, '60,1 km' from there on."""
    if metres is None:
        return "—"
    if metres < 1000:
        return f"{number(metres)} m"
    return f"{decimal(metres / 1000)} km"


def day(value: dt.date | None) -> str:
    """'20 Nov 2026' ('20 Nov 2026' in English too; month names follow the locale)."""
    return _day(value, _locale()) if value else "—"


@functools.lru_cache(maxsize=4096)
def _day(value: dt.date, locale) -> str:
    # A list page shows the same few dates on many rows, each ~6 µs of Babel.
    return dates.format_date(value, "d MMM yyyy", locale=locale)
