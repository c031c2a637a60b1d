"""The recipient (KPM) status lifecycle: one explicit transition table, the one function that moves along it, and
the one that saves a person's change (optimistic lock, audit, commit).

calon -> terverifikasi -> disalurkan -> usaha_berjalan <-> usaha_kesulitan -> usaha_berhenti,
usaha_berjalan -> usaha_berhenti (a business can close overnight), usaha_berjalan -> mandiri, and from any state
to keluar or tidak_memenuhi_syarat (reason required).

Who may make which move is one table, `MOVES` (role -> from-status -> {to-status: how}): a mentor moves a family
forward or into difficulty directly, but graduation and exits are only proposals that a supervisor confirms or
declines (`propose`, `confirm`, `decline`); supervisors (in their regencies) and admins make the same moves directly
and may correct any status to any other with a reason (`correct`), so no status is a dead end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

if TYPE_CHECKING:
    from .models import Recipient, StatusChange, StatusProposal, User, Visit

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
    CALON,
    TERVERIFIKASI,
    DISALURKAN,
    USAHA_BERJALAN,
    USAHA_KESULITAN,
    USAHA_BERHENTI,
    MANDIRI,
    KELUAR,
    TIDAK_MEMENUHI_SYARAT,
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
    USAHA_BERJALAN: (USAHA_KESULITAN, USAHA_BERHENTI, MANDIRI),  # a business can close overnight
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
PROPOSAL_STATE_LABELS = {
    PROPOSAL_WAITING: _l("Menunggu persetujuan koordinator"),
    PROPOSAL_CONFIRMED: _l("Disetujui"),
    PROPOSAL_DECLINED: _l("Ditolak"),
}

# Moves that set back or end a family's participation: the person must say why.
REASON_REQUIRED = frozenset({USAHA_KESULITAN, USAHA_BERHENTI, KELUAR, TIDAK_MEMENUHI_SYARAT})

# How a move is made: at once, as a proposal a supervisor decides on, or as a correction (reason required).
DIRECT, PROPOSAL, CORRECTION = "langsung", "usulan", "koreksi"
ROLES = ("mentor", "supervisor", "admin")
# What closes a case: a mentor may only propose it.
CLOSING = frozenset({MANDIRI, *EXITS})
# Who decides on proposals (a supervisor only within their regencies: access decides that).
DECIDERS = ("supervisor", "admin")


def _mentor_moves(status: str) -> dict[str, str]:
    return {to: PROPOSAL if to in CLOSING else DIRECT for to in TRANSITIONS[status]}


def _manager_moves(status: str) -> dict[str, str]:
    """The table's moves at once, and every other status as a correction (how a wrong mandiri/keluar is undone)."""
    return {to: DIRECT if to in TRANSITIONS[status] else CORRECTION for to in STATUSES if to != status}


# The one table of who may make which move: role -> from-status -> {to-status: DIRECT | PROPOSAL | CORRECTION}.
MOVES: dict[str, dict[str, dict[str, str]]] = {
    role: {status: rule(status) for status in STATUSES}
    for role, rule in (("mentor", _mentor_moves), ("supervisor", _manager_moves), ("admin", _manager_moves))
}


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
        super().__init__(_l("Status penerima ini baru saja diubah orang lain. Periksa status terbaru lalu pilih lagi."))


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
            _l(
                "Status tidak dapat diubah dari %(old)s menjadi %(new)s.",
                old=status_label(current),
                new=status_label(new),
            )
        )
    if new in REASON_REQUIRED and not (reason or "").strip():
        raise TransitionError(
            _l("Alasan wajib diisi untuk status %(status)s.", status=status_label(new)), field="reason"
        )


class ProposalWaiting(TransitionError):
    """Another proposal for this family already waits for the supervisor: nothing was filed."""

    def __init__(self, waiting: StatusProposal):
        super().__init__(
            _l(
                "Sudah ada usulan %(status)s yang menunggu persetujuan koordinator. Tunggu keputusannya dulu.",
                status=status_label(waiting.to_status),
            )
        )
        self.waiting = waiting


class ProposalDecided(TransitionError):
    """The proposal was already confirmed or declined (by someone else, or by this same click sent twice)."""

    def __init__(self, proposal: StatusProposal):
        who = proposal.decided_by.full_name if proposal.decided_by else "?"
        super().__init__(
            _l(
                "Usulan ini sudah diputuskan (%(state)s) oleh %(who)s. Tidak ada yang diubah.",
                state=proposal_state_label(proposal.state),
                who=who,
            )
        )
        self.proposal = proposal


class ProposalObsolete(TransitionError):
    """The family's status moved since the proposal was made: it is closed, nothing else changed."""

    def __init__(self, proposal: StatusProposal, current: str):
        super().__init__(
            _l(
                "Status keluarga ini sudah berubah menjadi %(status)s sejak diusulkan. Usulan ditutup; "
                "status tidak diubah.",
                status=status_label(current),
            )
        )
        self.proposal = proposal


def proposal_state_label(state: str) -> str:
    return str(PROPOSAL_STATE_LABELS.get(state, state))


def moves_for(role: str, status: str) -> dict[str, str]:
    """The moves a user of `role` may make from `status`: {to-status: DIRECT | PROPOSAL | CORRECTION}."""
    return MOVES.get(role, {}).get(status, {})


def move_label(status: str, how: str) -> str:
    """A status as a choice in a form: a proposal says the supervisor decides, a correction that it needs a reason."""
    if how == PROPOSAL:
        return str(_l("%(status)s (usulan, diputuskan koordinator)", status=status_label(status)))
    if how == CORRECTION:
        return str(_l("%(status)s (koreksi, alasan wajib)", status=status_label(status)))
    return status_label(status)


def check_move(role: str, current: str, new: str, reason: str | None) -> str:
    """How a user of `role` may move a family from `current` to `new` (DIRECT, PROPOSAL or CORRECTION); raise
    TransitionError with a message for the user if they may not, or if a required reason is missing."""
    if new not in TRANSITIONS:
        raise TransitionError(_l("Status tidak dikenal."))
    if new == current:
        raise TransitionError(_l("Status sudah %(status)s.", status=status_label(new)))
    kind = moves_for(role, current).get(new)
    if kind is None:
        raise TransitionError(
            _l(
                "Status tidak dapat diubah dari %(old)s menjadi %(new)s.",
                old=status_label(current),
                new=status_label(new),
            )
        )
    if not (reason or "").strip():
        if kind == CORRECTION:
            raise TransitionError(_l("Alasan wajib diisi untuk koreksi status."), field="reason")
        if new in REASON_REQUIRED:
            raise TransitionError(
                _l("Alasan wajib diisi untuk status %(status)s.", status=status_label(new)), field="reason"
            )
    return kind


def _refuse_kind(kind: str, current: str, new: str) -> TransitionError:
    if kind == PROPOSAL:
        return TransitionError(_l("%(new)s hanya dapat diusulkan; koordinator yang memutuskan.", new=status_label(new)))
    return TransitionError(
        _l(
            "Status tidak dapat diubah dari %(old)s menjadi %(new)s secara langsung: ini koreksi "
            "status, yang wajib disertai alasan.",
            old=status_label(current),
            new=status_label(new),
        )
    )


def waiting_proposal(recipient: Recipient) -> StatusProposal | None:
    """The family's proposal waiting for a supervisor, if any (there is at most one)."""
    from sqlalchemy import select

    from .extensions import db
    from .models import StatusProposal

    return db.session.scalar(
        select(StatusProposal).where(
            StatusProposal.recipient_id == recipient.id, StatusProposal.state == PROPOSAL_WAITING
        )
    )


def latest_proposal(recipient: Recipient) -> StatusProposal | None:
    """The family's newest proposal, whatever its state (the family page shows it and its decision)."""
    from sqlalchemy import select

    from .extensions import db
    from .models import StatusProposal

    return db.session.scalar(
        select(StatusProposal)
        .where(StatusProposal.recipient_id == recipient.id)
        .order_by(StatusProposal.created_at.desc(), StatusProposal.id.desc())
        .limit(1)
    )


def _settle_waiting(recipient: Recipient, new: str, by: User | None) -> None:
    """The status moves: a proposal still waiting is now settled — confirmed if it asked for `new`, else obsolete."""
    from .models import utcnow

    waiting = waiting_proposal(recipient)
    if waiting is None:
        return
    waiting.decided_at = utcnow()
    if waiting.to_status == new:  # e.g. the supervisor graduated the family from the dashboard
        waiting.state, waiting.decided_by = PROPOSAL_CONFIRMED, by
    else:  # nobody declined it: the family moved on (decided_by stays empty, the note says why)
        waiting.state = PROPOSAL_DECLINED
        waiting.decision_note = str(_l("Usang: status berubah menjadi %(status)s.", status=status_label(new)))


def _record(recipient: Recipient, new: str, by: User | None, reason: str | None, visit: Visit | None = None):
    """Write the move (no check): the StatusChange row, the new status, and a waiting proposal settled."""
    from .extensions import db
    from .models import StatusChange

    _settle_waiting(recipient, new, by)
    change = StatusChange(
        recipient=recipient,
        from_status=recipient.status,
        to_status=new,
        reason=(reason or "").strip() or None,
        changed_by=by,
        visit=visit,
    )
    recipient.status = new
    if new == DISALURKAN and recipient.distributed_on is None:
        # The hand-over date starts the follow-up schedule and the survival milestones: a delivery visit's WITA
        # day, or today's when a person records the hand-over on the family page.
        from . import localtime

        when = visit.visited_at if visit is not None and visit.visited_at else None
        recipient.distributed_on = localtime.wita_date(when) if when else localtime.today()
    db.session.add(change)
    return change


def advance_status(
    recipient: Recipient, new: str, by: User | None, reason: str | None = None, visit: Visit | None = None
):
    """Move `recipient` to `new` if the table allows it and record the change in the session; the caller commits.

    With a person (`by`), the move must be one their role makes directly (`MOVES`): a mentor's graduation or exit
    is refused here, it must be proposed. The recipient's version counter rises with the flush, so a concurrent
    change of the same recipient fails with StaleDataError instead of silently overwriting.
    """
    if by is None:
        check_transition(recipient.status, new, reason)
    else:
        kind = check_move(by.role, recipient.status, new, reason)
        if kind != DIRECT:
            raise _refuse_kind(kind, recipient.status, new)
    return _record(recipient, new, by, reason, visit)


def _save(
    recipient: Recipient,
    new: str,
    by: User,
    reason: str | None,
    expected_version: int | None,
    kinds: tuple[str, ...],
    audit_action: str,
    detail: dict,
) -> StatusChange:
    """Check, write, audit and commit one person's move of a kind in `kinds`, or save nothing."""
    from . import audit
    from .extensions import db

    try:
        if expected_version is not None and expected_version != recipient.version:
            raise StaleStatusError()
        kind = check_move(by.role, recipient.status, new, reason)
        if kind not in kinds:
            raise _refuse_kind(kind, recipient.status, new)
        change = _record(recipient, new, by, reason)
        db.session.flush()
        audit.record(audit_action, recipient, user=by, **detail)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleStatusError() from None
    except TransitionError:
        db.session.rollback()
        raise
    return change


def change_status(
    recipient: Recipient,
    new: str,
    by: User,
    reason: str | None = None,
    expected_version: int | None = None,
    audit_action: str | None = None,
) -> StatusChange:
    """Save a person's direct status change: move along the table, audit it and commit, or save nothing.

    `expected_version` is the recipient's version the person saw (a form's hidden field); a different one, or a
    concurrent change of the same recipient (StaleDataError at the flush or commit), raises StaleStatusError. An
    illegal or incomplete change, or one the person's role may only propose or correct, raises TransitionError
    (`field` and `message` for the form). Either way the session is rolled back. The audit event is
    `status_change` with the old and new status, or `audit_action` alone (the dashboard's graduation is
    `graduated`).
    """
    detail = {} if audit_action else {"old": recipient.status, "new": new}
    return _save(recipient, new, by, reason, expected_version, (DIRECT,), audit_action or "status_change", detail)


def correct(
    recipient: Recipient, new: str, by: User, reason: str | None, expected_version: int | None = None
) -> StatusChange:
    """A supervisor's or admin's correction of a wrong status to any other, with a reason; audited as
    `status_corrected` (old, new, reason). Same refusals as `change_status`; mentors may not correct."""
    if not (reason or "").strip():
        raise TransitionError(_l("Alasan wajib diisi untuk koreksi status."), field="reason")
    return _save(
        recipient,
        new,
        by,
        reason,
        expected_version,
        (DIRECT, CORRECTION),
        "status_corrected",
        {"old": recipient.status, "new": new, "reason": reason.strip()},
    )


def request_change(
    recipient: Recipient, new: str, by: User, reason: str | None = None, expected_version: int | None = None
) -> StatusChange | StatusProposal:
    """The family page's status form: the move as `by`'s role makes it — a direct change (StatusChange), a
    proposal for the supervisor (StatusProposal), or a correction (StatusChange)."""
    kind = moves_for(by.role, recipient.status).get(new)
    if kind == PROPOSAL:
        return propose(recipient, new, by, reason, expected_version=expected_version)
    if kind == CORRECTION:
        return correct(recipient, new, by, reason, expected_version=expected_version)
    return change_status(recipient, new, by, reason, expected_version=expected_version)


def file_proposal(
    recipient: Recipient, new: str, by: User, reason: str | None = None, visit: Visit | None = None
) -> StatusProposal:
    """Add a proposal to the session (the caller commits, e.g. with the visit that carries it).

    Refused (TransitionError) unless `by`'s role may propose this move; ProposalWaiting when another proposal
    already waits. A waiting proposal made from a status the family has left since is obsolete: it is closed.
    If the same move already waits, that proposal is returned and nothing is added (a retry).
    """
    from . import audit
    from .extensions import db
    from .models import StatusProposal, utcnow

    kind = check_move(by.role, recipient.status, new, reason)
    if kind != PROPOSAL:
        raise TransitionError(_l("Perubahan ini tidak perlu diusulkan."))
    waiting = waiting_proposal(recipient)
    if waiting is not None and waiting.from_status != recipient.status:
        waiting.state, waiting.decided_at = PROPOSAL_DECLINED, utcnow()
        waiting.decision_note = str(
            _l("Usang: status berubah menjadi %(status)s.", status=status_label(recipient.status))
        )
        db.session.flush()
        waiting = None
    if waiting is not None:
        if waiting.to_status == new:
            return waiting
        raise ProposalWaiting(waiting)
    proposal = StatusProposal(
        recipient=recipient,
        from_status=recipient.status,
        to_status=new,
        reason=(reason or "").strip() or None,
        proposed_by=by,
        visit=visit,
        state=PROPOSAL_WAITING,
    )
    db.session.add(proposal)
    db.session.flush()
    audit.record(
        "status_proposed",
        recipient,
        user=by,
        old=recipient.status,
        new=new,
        visit=visit.id if visit is not None else None,
    )
    return proposal


def propose(
    recipient: Recipient,
    new: str,
    by: User,
    reason: str | None = None,
    visit: Visit | None = None,
    expected_version: int | None = None,
) -> StatusProposal:
    """File a mentor's proposal (graduation or exit) and commit it; the family's status does not change.

    A retry of the same proposal returns the one already waiting; a different one while another waits raises
    ProposalWaiting; a form older than the family raises StaleStatusError. Nothing is saved on a refusal.
    """
    from .extensions import db

    try:
        if expected_version is not None and expected_version != recipient.version:
            raise StaleStatusError()
        proposal = file_proposal(recipient, new, by, reason, visit)
        db.session.commit()
    except TransitionError:
        db.session.rollback()
        raise
    except IntegrityError:  # a concurrent proposal for the same family won the one waiting place
        db.session.rollback()
        waiting = waiting_proposal(recipient)
        if waiting is None:
            raise
        if waiting.to_status == new:
            return waiting
        raise ProposalWaiting(waiting) from None
    return proposal


def _claim(proposal: StatusProposal, by: User, state: str, note: str | None) -> None:
    """Take the decision on a waiting proposal: one UPDATE guarded by its state, so of two concurrent decisions
    exactly one wins; the loser gets ProposalDecided."""
    from sqlalchemy import update

    from .extensions import db
    from .models import StatusProposal, utcnow

    if by.role not in DECIDERS:
        raise TransitionError(_l("Hanya koordinator atau admin yang memutuskan usulan."))
    result = db.session.execute(
        update(StatusProposal)
        .where(StatusProposal.id == proposal.id, StatusProposal.state == PROPOSAL_WAITING)
        .values(state=state, decided_by_id=by.id, decided_at=utcnow(), decision_note=(note or "").strip() or None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(proposal)
        raise ProposalDecided(proposal)
    db.session.refresh(proposal)


def confirm(proposal: StatusProposal, by: User, note: str | None = None) -> StatusChange:
    """A supervisor confirms a proposal: the family moves to the proposed status (audited), all in one commit.

    ProposalDecided when it was already decided (a second click, another supervisor); ProposalObsolete when the
    family's status moved since it was proposed (the proposal is then closed as declined); StaleStatusError when
    the family changes concurrently (nothing saved, the proposal keeps waiting).
    """
    from . import audit
    from .extensions import db

    try:
        _claim(proposal, by, PROPOSAL_CONFIRMED, note)
        recipient = proposal.recipient
        db.session.refresh(recipient)
        if recipient.status != proposal.from_status:
            raise ProposalObsolete(proposal, recipient.status)
        kind = check_move(by.role, recipient.status, proposal.to_status, proposal.reason or note)
        if kind != DIRECT:
            raise _refuse_kind(kind, recipient.status, proposal.to_status)
        change = _record(recipient, proposal.to_status, by, proposal.reason or note, proposal.visit)
        db.session.flush()
        audit.record(
            "status_proposal_confirmed",
            recipient,
            user=by,
            proposal=proposal.id,
            old=change.from_status,
            new=change.to_status,
        )
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleStatusError() from None
    except ProposalObsolete as exc:
        db.session.rollback()
        _close_obsolete(proposal, by, exc)
        raise
    except TransitionError:
        db.session.rollback()
        raise
    return change


def _close_obsolete(proposal: StatusProposal, by: User, reason: ProposalObsolete) -> None:
    from . import audit
    from .extensions import db

    try:
        _claim(proposal, by, PROPOSAL_DECLINED, str(reason))
    except ProposalDecided:
        return
    audit.record("status_proposal_obsolete", proposal.recipient, user=by, proposal=proposal.id)
    db.session.commit()


def decline(proposal: StatusProposal, by: User, note: str | None) -> StatusProposal:
    """A supervisor declines a proposal with a note for the mentor; the status stays. Audited, one commit;
    ProposalDecided when it was already decided."""
    from . import audit
    from .extensions import db

    if not (note or "").strip():
        raise TransitionError(_l("Tulis alasan menolak usulan untuk pendamping."), field="note")
    try:
        _claim(proposal, by, PROPOSAL_DECLINED, note)
        audit.record(
            "status_proposal_declined",
            proposal.recipient,
            user=by,
            proposal=proposal.id,
            proposed=proposal.to_status,
            note=note.strip(),
        )
        db.session.commit()
    except TransitionError:
        db.session.rollback()
        raise
    return proposal
