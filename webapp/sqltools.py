"""Small SQL constructs that SQLite and PostgreSQL spell differently, so domain code can stay in SQL on both."""

from __future__ import annotations

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Date, DateTime, String


class shift_date(FunctionElement):  # noqa: N801 - used like a SQL function
    """`expr` (a date or timestamp) as a date, plus `months` (the 31st becomes the month's last day, as
    `schedule.add_months` does) and then plus `days`."""

    type = Date()
    inherit_cache = False  # months/days are part of the SQL text, not bound parameters

    def __init__(self, expr, months: int = 0, days: int = 0):
        self.months, self.days = int(months), int(days)
        super().__init__(expr)


@compiles(shift_date, "sqlite")
def _shift_date_sqlite(element, compiler, **kw):
    expr = compiler.process(next(iter(element.clauses)), **kw)
    out = f"date({expr})"
    if element.months:
        m = element.months
        # date(x, '+1 months') overflows (31 Jan -> 3 Mar): take the smaller of that and the target month's last day
        out = f"min(date({expr}, '{m:+d} months'), date({expr}, 'start of month', '{m + 1:+d} months', '-1 days'))"
    if element.days:
        out = f"date({out}, '{element.days:+d} days')"
    return out


@compiles(shift_date, "postgresql")
def _shift_date_postgresql(element, compiler, **kw):
    expr = compiler.process(next(iter(element.clauses)), **kw)
    return f"CAST(CAST({expr} AS DATE) + INTERVAL '{element.months} months' + INTERVAL '{element.days} days' AS DATE)"


class _spelled(FunctionElement):  # noqa: N801
    """A SQL function of one expression that each database spells its own way: a subclass gives the spelling for
    every dialect (`sqlite`, `postgresql`), with {} where the expression goes."""

    inherit_cache = True
    sqlite = postgresql = "{}"


@compiles(_spelled, "sqlite")
@compiles(_spelled, "postgresql")
def _spell(element, compiler, **kw):
    return getattr(element, compiler.dialect.name).format(compiler.process(next(iter(element.clauses)), **kw))


class year_month(_spelled):  # noqa: N801
    """'YYYY-MM' of a date or timestamp."""

    type = String()
    inherit_cache = True
    sqlite = "strftime('%Y-%m', {})"
    postgresql = "to_char({}, 'YYYY-MM')"


class as_date(_spelled):  # noqa: N801
    """The date part of a timestamp (a 'YYYY-MM-DD' text on SQLite, where dates are stored as text)."""

    type = Date()
    inherit_cache = True
    sqlite = "date({})"
    postgresql = "CAST({} AS DATE)"


def contains(column, text: str):
    """`column` contains `text`, ignoring case; LIKE's wildcards (% and _) and the escape character in `text`
    match themselves, so a search for "10%" finds "10%", not every name with "10" in it."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


class wita_time(_spelled):  # noqa: N801
    """A stored naive-UTC timestamp as WITA wall-clock time (UTC+8 all year; see `localtime`): its `as_date` or
    `year_month` is the WITA day or month."""

    type = DateTime()
    inherit_cache = True
    sqlite = "datetime({}, '+8 hours')"
    postgresql = "({} + INTERVAL '8 hours')"
