"""The recipient (KPM) status lifecycle: one explicit transition table, the one function that moves along it, and
the one that saves a person's change (optimistic lock, audit, commit).

calon -> terverifikasi -> disalurkan -> usaha_berjalan <-> usaha_kesulitan -> usaha_berhenti,
usaha_berjalan -> mandiri, and from any state to keluar or tidak_memenuhi_syarat (reason required).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

if TYPE_CHECKING:
    from .models import Recipient, StatusChange, User, Visit

CALON = "calon"
TERVERIFIKASI = "terverifikasi"
DISALURKAN = "disalurkan"
USAHA_BERJALAN = "usaha_berjalan"
USAHA_KESULITAN = "usaha_kesulitan"
USAHA_BERHENTI = "usaha_berhenti"
MANDIRI = "mandiri"
KELUAR = "keluar"
TIDAK_MEMENUHI_SYARAT = "tidak_memenuhi_syarat"

# Order matters: it is the order of the lifecycle, used for filters and charts.
STATUSES: tuple[str, ...] = (
    CALON, TERVERIFIKASI, DISALURKAN, USAHA_BERJALAN, USAHA_KESULITAN, USAHA_BERHENTI, MANDIRI,
    KELUAR, TIDAK_MEMENUHI_SYARAT,
)

STATUS_LABELS = {
    CALON: _l("Calon penerima"),
    TERVERIFIKASI: _l("Terverifikasi"),
    DISALURKAN: _l("Bantuan disalurkan"),
    USAHA_BERJALAN: _l("Usaha berjalan"),
    USAHA_KESULITAN: _l("Usaha kesulitan"),
    USAHA_BERHENTI: _l("Usaha berhenti"),
    MANDIRI: _l("Mandiri"),
    KELUAR: _l("Keluar dari program"),
    TIDAK_MEMENUHI_SYARAT: _l("Tidak memenuhi syarat"),
}

# Exits reachable from every other state; each needs a reason.
EXITS = (KELUAR, TIDAK_MEMENUHI_SYARAT)

_FORWARD: dict[str, tuple[str, ...]] = {
    CALON: (TERVERIFIKASI,),
    TERVERIFIKASI: (DISALURKAN,),
    DISALURKAN: (USAHA_BERJALAN,),
    USAHA_BERJALAN: (USAHA_KESULITAN, MANDIRI),
    USAHA_KESULITAN: (USAHA_BERJALAN, USAHA_BERHENTI),
    USAHA_BERHENTI: (),
    MANDIRI: (),
    KELUAR: (),
    TIDAK_MEMENUHI_SYARAT: (),
}

# The transition table: status -> statuses it may move to.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    status: forward + tuple(e for e in EXITS if e != status) for status, forward in _FORWARD.items()
}

# A mentor's proposal (graduation, exits) waits for a supervisor, who confirms or declines it.
PROPOSAL_WAITING, PROPOSAL_CONFIRMED, PROPOSAL_DECLINED = "menunggu", "diterima", "ditolak"
PROPOSAL_STATES = (PROPOSAL_WAITING, PROPOSAL_CONFIRMED, PROPOSAL_DECLINED)

# Moves that set back or end a family's participation: the person must say why.
REASON_REQUIRED = frozenset({USAHA_KESULITAN, USAHA_BERHENTI, KELUAR, TIDAK_MEMENUHI_SYARAT})


class TransitionError(ValueError):
    """An illegal or incomplete status change; the message is shown to the user next to `field`."""

    def __init__(self, message, field: str = "status"):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class StaleStatusError(TransitionError):
    """Someone else changed the family since the person looked at it: nothing was saved."""

    def __init__(self):
        super().__init__(_l("Status penerima ini baru saja diubah orang lain. Periksa status terbaru lalu pilih "
                            "lagi."))


def allowed_transitions(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def status_label(status: str | None) -> str:
    return str(STATUS_LABELS.get(status, status or "—"))


def check_transition(current: str, new: str, reason: str | None) -> None:
    """Raise TransitionError with a message for the user unless `current -> new` is allowed."""
    if new not in TRANSITIONS:
        raise TransitionError(_l("Status tidak dikenal."))
    if new == current:
        raise TransitionError(_l("Status sudah %(status)s.", status=status_label(new)))
    if new not in TRANSITIONS[current]:
        raise TransitionError(
            _l("Status tidak dapat diubah dari %(old)s menjadi %(new)s.",
               old=status_label(current), new=status_label(new))
        )
    if new in REASON_REQUIRED and not (reason or "").strip():
        raise TransitionError(_l("Alasan wajib diisi untuk status %(status)s.", status=status_label(new)),
                              field="reason")


def advance_status(recipient: Recipient, new: str, by: User | None, reason: str | None = None,
                   visit: Visit | None = None):
    """Move `recipient` to `new` if the table allows it and record the change in the session; the caller commits.

    The recipient's version counter rises with the flush, so a concurrent change of the same
    recipient fails with StaleDataError instead of silently overwriting.
    """
    from .extensions import db
    from .models import StatusChange

    check_transition(recipient.status, new, reason)
    change = StatusChange(
        recipient=recipient, from_status=recipient.status, to_status=new,
        reason=(reason or "").strip() or None, changed_by=by, visit=visit,
    )
    recipient.status = new
    db.session.add(change)
    return change


def change_status(recipient: Recipient, new: str, by: User, reason: str | None = None,
                  expected_version: int | None = None, audit_action: str | None = None) -> StatusChange:
    """Save a person's status change: move along the table, audit it and commit, or save nothing.

    `expected_version` is the recipient's version the person saw (a form's hidden field); a different one, or a
    concurrent change of the same recipient (StaleDataError at the flush or commit), raises StaleStatusError. An
    illegal or incomplete change raises TransitionError (`field` and `message` for the form). Either way the
    session is rolled back. The audit event is `status_change` with the old and new status, or `audit_action`
    alone (the dashboard's confirmed graduation is `graduated`).
    """
    from . import audit
    from .extensions import db

    try:
        if expected_version is not None and expected_version != recipient.version:
            raise StaleStatusError()
        change = advance_status(recipient, new, by, reason)
        db.session.flush()
        if audit_action:
            audit.record(audit_action, recipient, user=by)
        else:
            audit.record("status_change", recipient, user=by, old=change.from_status, new=change.to_status)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleStatusError() from None
    except TransitionError:
        db.session.rollback()
        raise
    return change
