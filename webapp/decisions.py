"""Supervisors' decisions on visits: approve, send back for correction, reject — once per round."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from . import audit
from .extensions import db
from .models import ReviewDecision, User, Visit, utcnow
from .review_states import APPROVED, DECISIONS, NOTE_REQUIRED, WAITING


class DecisionError(ValueError):
    """A decision that cannot be taken as sent; `field` names where to show the message."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


class AlreadyDecided(Exception):
    """Someone decided this round first; `decision` is theirs (nothing was overwritten)."""

    def __init__(self, decision: ReviewDecision | None):
        super().__init__("already decided")
        self.decision = decision


def current_decision(visit: Visit, round_: int) -> ReviewDecision | None:
    return db.session.scalar(
        select(ReviewDecision).where(ReviewDecision.visit_id == visit.id, ReviewDecision.round == round_)
    )


def decide(
    visit: Visit, reviewer: User, decision: str, note: str | None, round_: int, location_accuracy_m: float = 100.0
) -> ReviewDecision:
    """Record `reviewer`'s decision on round `round_` of `visit` and commit.

    `round_` is the round the reviewer saw; if the mentor resubmitted since, or another reviewer decided
    first, AlreadyDecided is raised and nothing changes. Approving the first well-located visit of a family
    without a registered business location registers it.
    """
    note = (note or "").strip() or None
    if decision not in DECISIONS:
        raise DecisionError("decision", _l("Keputusan tidak dikenal."))
    if decision in NOTE_REQUIRED and not note:
        raise DecisionError(
            "note", _l("Tulis catatan untuk pendamping: apa yang harus diperbaiki atau kenapa ditolak.")
        )
    if visit.mentor_id is not None and visit.mentor_id == reviewer.id:
        raise DecisionError("decision", _l("Kunjungan yang Anda catat sendiri harus diperiksa orang lain."))
    if round_ != visit.round or visit.review_state != WAITING:
        raise AlreadyDecided(current_decision(visit, round_))
    try:
        record = ReviewDecision(visit=visit, round=visit.round, decision=decision, note=note, decided_by=reviewer)
        db.session.add(record)
        visit.review_state = decision
        visit.reviewed_by = reviewer
        visit.reviewed_at = utcnow()
        visit.review_note = note
        recipient = visit.recipient
        registered = False
        if (
            decision == APPROVED
            and not recipient.has_business_location
            and visit.lat is not None
            and visit.accuracy_m is not None
            and visit.accuracy_m <= location_accuracy_m
        ):
            recipient.business_lat, recipient.business_lon = visit.lat, visit.lon
            registered = True
        db.session.flush()
        audit.record(
            "visit_decided",
            visit,
            user=reviewer,
            decision=decision,
            round=round_,
            business_location_registered=registered,
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyDecided(current_decision(visit, round_)) from None
    except StaleDataError:
        db.session.rollback()
        raise DecisionError(
            "decision", _l("Data keluarga ini baru saja berubah. Muat ulang lalu putuskan lagi.")
        ) from None
    return record
