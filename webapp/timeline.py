"""A recipient's history: visits and status changes merged into one list, newest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .extensions import db
from .models import Recipient, ReviewDecision, StatusChange, Visit

VISIT_KIND_LABELS = {
    "verifikasi": _l("Kunjungan verifikasi"),
    "penyaluran": _l("Penyaluran bantuan"),
    "pendampingan": _l("Kunjungan pendampingan"),
}
REVIEW_LABELS = {
    "menunggu": _l("menunggu diperiksa"),
    "disetujui": _l("disetujui"),
    "perbaikan": _l("perlu perbaikan"),
    "ditolak": _l("ditolak"),
}


@dataclass(frozen=True)
class Entry:
    when: dt.datetime
    kind: str  # "visit" or "status"
    obj: Any


def timeline(recipient: Recipient) -> list[Entry]:
    """Everything the history shows, read in a fixed number of queries however long the history is."""
    visits = db.session.scalars(
        select(Visit).where(Visit.recipient_id == recipient.id)
        .options(joinedload(Visit.mentor), selectinload(Visit.photos), selectinload(Visit.flags),
                 selectinload(Visit.decisions).joinedload(ReviewDecision.decided_by))).all()
    changes = db.session.scalars(select(StatusChange).where(StatusChange.recipient_id == recipient.id)
                                 .options(joinedload(StatusChange.changed_by))).all()
    entries = [Entry(v.visited_at, "visit", v) for v in visits]
    entries += [Entry(c.changed_at, "status", c) for c in changes]
    return sorted(entries, key=lambda e: (e.when, e.kind == "status"), reverse=True)


def visit_kind_label(kind: str) -> str:
    return str(VISIT_KIND_LABELS.get(kind, kind))


def review_label(state: str) -> str:
    return str(REVIEW_LABELS.get(state, state))
