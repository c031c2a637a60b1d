"""A recipient's history: visits and status changes merged into one list, newest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from .models import Recipient

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
    entries = [Entry(v.visited_at, "visit", v) for v in recipient.visits]
    entries += [Entry(c.changed_at, "status", c) for c in recipient.status_changes]
    return sorted(entries, key=lambda e: (e.when, e.kind == "status"), reverse=True)


def visit_kind_label(kind: str) -> str:
    return str(VISIT_KIND_LABELS.get(kind, kind))


def review_label(state: str) -> str:
    return str(REVIEW_LABELS.get(state, state))
