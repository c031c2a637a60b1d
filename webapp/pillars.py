"""The other two pillars of Kaltim's poverty strategy, as they touch UEP families, and the training that comes
with the UEP package. Pillar 1 cuts household spending (BLT cash, sembako food aid, PKH); pillar 2 is UEP itself;
pillar 3 removes poverty pockets (house rehabilitation, sanitation, clean water, built with other offices).
"""

from __future__ import annotations

from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, case, func, select

from . import lifecycle
from .extensions import db
from .models import ASSISTANCE_KINDS, OtherAssistance, Recipient, training_attendance

ASSISTANCE_LABELS = {
    "blt": _l("BLT (bantuan langsung tunai)"),
    "sembako": _l("Sembako"),
    "pkh": _l("PKH (Program Keluarga Harapan)"),
    "rtlh": _l("Rehabilitasi rumah (RTLH)"),
    "sanitasi": _l("Sanitasi / jamban"),
    "air_bersih": _l("Air bersih"),
}
PILLAR_1 = ("blt", "sembako", "pkh")
PILLAR_3 = ("rtlh", "sanitasi", "air_bersih")
assert set(PILLAR_1 + PILLAR_3) == set(ASSISTANCE_KINDS)

# Offices that usually deliver each kind: offered as suggestions, any office may be typed.
USUAL_OFFICES = (
    "Dinas Sosial",
    "Kementerian Sosial",
    "Dinas PUPR",
    "Dinas Perumahan dan Permukiman",
    "PDAM",
    "Dinas Kesehatan",
    "Pemerintah Desa",
    "BAZNAS",
)


def assistance_label(kind: str) -> str:
    return str(ASSISTANCE_LABELS.get(kind, kind))


class Reach(NamedTuple):
    """How many UEP families (in scope, still in the program) the training and the other two pillars reach."""

    families: int
    trained: int
    pillar_1: int
    pillar_3: int
    all_three: int

    def pct(self, n: int) -> int | None:
        return round(100 * n / self.families) if self.families else None


NO_REACH = Reach(0, 0, 0, 0, 0)


def reach(in_scope: ColumnElement[bool]) -> Reach:
    """Counts in SQL over the families matching `in_scope` (a condition on Recipient) still in the program (the
    same ones training attendance is ticked from), and who else reached them.

    "All three" means pillar 2 (UEP itself) plus at least one pillar-1 and one pillar-3 kind.
    """
    return reach_by(in_scope)[()]


def reach_by(in_scope: ColumnElement[bool], *group: ColumnElement) -> dict[tuple, Reach]:
    """`reach` for each value of the Recipient columns `group` (e.g. the regency), all in one query, keyed by the
    tuple of those values; a group without a family in the program is absent. Without `group`: one entry, ()."""
    ids = select(Recipient.id, *group).where(in_scope, Recipient.status.not_in(lifecycle.EXITS)).subquery()
    keys = [ids.c[column.key] for column in group]
    p1 = select(OtherAssistance.recipient_id).where(OtherAssistance.kind.in_(PILLAR_1)).distinct()
    p3 = select(OtherAssistance.recipient_id).where(OtherAssistance.kind.in_(PILLAR_3)).distinct()
    trained = select(training_attendance.c.recipient_id).distinct()

    in_p1, in_p3 = ids.c.id.in_(p1), ids.c.id.in_(p3)

    def counted(condition):
        return func.count(case((condition, 1)))

    # One pass over the families; each IN list is read once.
    rows = db.session.execute(
        select(
            *keys,
            func.count(),
            counted(ids.c.id.in_(trained)),
            counted(in_p1),
            counted(in_p3),
            counted(and_(in_p1, in_p3)),
        )
        .select_from(ids)
        .group_by(*keys)
    )
    return {tuple(row[: len(keys)]): Reach(*(n or 0 for n in row[len(keys) :])) for row in rows}
