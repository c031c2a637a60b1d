"""Where a visit stands in review, and the decisions a supervisor takes: the stored codes and what people read.

A visit arrives WAITING; a decision moves it to APPROVED, SENT_BACK (the mentor corrects it, and it waits again
in a new round) or REJECTED. The rules for taking a decision are in `decisions.py`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

WAITING = "menunggu"
APPROVED = "disetujui"
SENT_BACK = "perbaikan"
REJECTED = "ditolak"

STATES: tuple[str, ...] = (WAITING, APPROVED, SENT_BACK, REJECTED)
DECISIONS: tuple[str, ...] = (APPROVED, SENT_BACK, REJECTED)
NOTE_REQUIRED = frozenset({SENT_BACK, REJECTED})  # the mentor must be told why

STATE_LABELS = {
    WAITING: _l("menunggu diperiksa"),
    APPROVED: _l("disetujui"),
    SENT_BACK: _l("perlu perbaikan"),
    REJECTED: _l("ditolak"),
}
DECISION_LABELS = {
    APPROVED: _l("Disetujui"),
    SENT_BACK: _l("Dikirim balik untuk perbaikan"),
    REJECTED: _l("Ditolak"),
}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def decision_label(decision: str) -> str:
    return str(DECISION_LABELS.get(decision, decision))
