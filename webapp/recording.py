"""Recording a visit: one atomic step for the visit, its photos and an optional status change.

Exactly once: the visit carries a UUID made when the form was opened (or on the phone); sending it again
returns the visit already stored. When anything fails, no visit row remains. Photo files are never deleted here:
they are content-addressed, so a file this attempt wrote may be the file a concurrent visit with the same picture
is committing; orphans are left to `flask photos-prune`, which checks the database (DECISIONS.md).
"""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from . import audit, integrity, lifecycle, localtime, photos, review_states, storage
from .extensions import db
from .models import Photo, Recipient, User, Visit, utcnow


class VisitConflict(Exception):
    """The UUID belongs to a visit of another family or mentor: never merge, never overwrite."""


class PhotoIdTaken(Exception):
    """A photo UUID sent with this visit is already stored under another visit (e.g. a form stored on the phone
    was sent twice): the sender must mint new photo UUIDs and send again. Nothing was saved."""

    def __init__(self, taken: list[str]):
        super().__init__(", ".join(taken))
        self.taken = taken


class RecordingError(Exception):
    """The visit could not be saved for a reason the person can act on; `field` says where to show it."""

    def __init__(self, field_name: str, message):
        super().__init__(str(message))
        self.field = field_name
        self.message = message


@dataclass
class PhotoUpload:
    processed: photos.ProcessedPhoto
    tag: str
    uuid: str = field(default_factory=lambda: str(uuidlib.uuid4()))


@dataclass
class VisitInput:
    """What a visit form carries, already validated field by field."""

    uuid: str
    kind: str
    visited_at: dt.datetime
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    location_fixed_at: dt.datetime | None = None
    no_location_reason: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    next_visit_on: dt.date | None = None
    new_status: str | None = None
    status_reason: str | None = None
    status_set_aside: dict[str, Any] | None = None


def status_set_aside(seen: str | None, current: str, new_status: str | None, reason: str | None) -> dict | None:
    """The status change a visit asks for, set aside because it no longer applies: the mentor chose it from
    `seen` (the status on the form when saved, perhaps days ago offline) and the family is now at `current`
    (a supervisor moved it meanwhile). Not the mentor's mistake, so not a refusal: the visit is stored as
    evidence without the change, and the review says so. None when the change still applies (or none was asked).
    """
    if not new_status or not seen or seen not in lifecycle.STATUSES or seen == current:
        return None
    return {"to": new_status, "reason": (reason or "").strip(), "from": seen, "found": current}


def photo_row(upload: PhotoUpload) -> Photo:
    """The database row for a processed photo (its files are written by `photos.save`)."""
    p = upload.processed
    return Photo(
        uuid=upload.uuid,
        tag=upload.tag,
        stored_name=p.stored_name,
        thumb_name=p.thumb_name,
        sha256=p.sha256,
        phash=p.phash,
        width=p.width,
        height=p.height,
        bytes=len(p.display),
        exif_taken_at=p.exif_taken_at,
        exif_lat=p.exif_lat,
        exif_lon=p.exif_lon,
    )


def find_existing(visit_uuid: str) -> Visit | None:
    return db.session.scalar(select(Visit).where(Visit.uuid == visit_uuid))


def _check_same(existing: Visit, recipient: Recipient, mentor: User) -> Visit:
    if existing.recipient_id != recipient.id or existing.mentor_id != mentor.id:
        raise VisitConflict(existing.uuid)
    return existing


def _status_at_visit(recipient: Recipient, mentor: User, data: VisitInput, visit: Visit) -> None:
    """The status the visit carries: a move the mentor makes directly is made; graduation or an exit is filed as
    a proposal linked to the visit, for the supervisor to confirm (the status stays)."""
    kind = lifecycle.check_move(mentor.role, recipient.status, data.new_status, data.status_reason)
    if kind == lifecycle.PROPOSAL:
        lifecycle.file_proposal(recipient, data.new_status, mentor, data.status_reason, visit=visit)
        return
    lifecycle.advance_status(recipient, data.new_status, mentor, data.status_reason, visit=visit)
    if data.new_status == lifecycle.DISALURKAN and recipient.distributed_on is None:
        recipient.distributed_on = localtime.wita_date(data.visited_at)


def record_visit(
    recipient: Recipient,
    mentor: User,
    data: VisitInput,
    uploads: list[PhotoUpload],
    upload_dir: str,
    thresholds: integrity.Thresholds | None = None,
) -> tuple[Visit, bool]:
    """Store the visit with its photos and status change in one transaction; returns (visit, created).

    A visit whose UUID is already stored is returned as it is (created=False), whatever this attempt carried.
    """
    existing = find_existing(data.uuid)
    if existing is not None:
        return _check_same(existing, recipient, mentor), False

    try:
        for upload in uploads:
            photos.save(upload_dir, upload.processed)
        visit = Visit(
            uuid=data.uuid,
            recipient=recipient,
            mentor=mentor,
            kind=data.kind,
            visited_at=data.visited_at,
            received_at=utcnow(),
            lat=data.lat,
            lon=data.lon,
            accuracy_m=data.accuracy_m,
            location_fixed_at=data.location_fixed_at,
            no_location_reason=data.no_location_reason,
            answers=data.answers,
            next_visit_on=data.next_visit_on,
            review_state=review_states.WAITING,
            status_set_aside=data.status_set_aside,
        )
        db.session.add(visit)
        visit.photos.extend(photo_row(upload) for upload in uploads)
        if data.new_status:
            _status_at_visit(recipient, mentor, data, visit)
        db.session.flush()
        integrity.compute_flags(visit, thresholds)
        audit.record(
            "visit_recorded",
            visit,
            user=mentor,
            kind=data.kind,
            photos=len(uploads),
            status=data.new_status,
            status_set_aside=data.status_set_aside,
        )
        db.session.commit()
        return visit, True
    except IntegrityError:
        db.session.rollback()
        existing = find_existing(data.uuid)  # a concurrent retry of the same visit won the race
        if existing is not None:
            return _check_same(existing, recipient, mentor), False
        _explain_lost_race(recipient, data, uploads)
        raise
    except StaleDataError as exc:
        db.session.rollback()
        raise RecordingError(
            "status", _l("Status penerima baru saja diubah orang lain. Periksa lalu kirim lagi.")
        ) from exc
    except lifecycle.TransitionError as exc:
        db.session.rollback()
        raise RecordingError(exc.field, exc.message) from exc
    except BaseException:
        db.session.rollback()
        raise


def _explain_lost_race(recipient: Recipient, data: VisitInput, uploads: list[PhotoUpload]) -> None:
    """After a unique constraint refused the visit (and the visit itself is not stored), raise what the sender can
    act on: photo UUIDs already used by another visit, or a status proposal filed meanwhile for the family."""
    sent = [upload.uuid for upload in uploads]
    taken = list(db.session.scalars(select(Photo.uuid).where(Photo.uuid.in_(sent)))) if sent else []
    if taken:
        raise PhotoIdTaken(taken)
    waiting = lifecycle.waiting_proposal(recipient) if data.new_status else None
    if waiting is not None:
        raise RecordingError("status", lifecycle.ProposalWaiting(waiting).message)


class AlreadyResubmitted(Exception):
    """The round being corrected was already sent again (a retried resubmission)."""


def resubmit_visit(
    visit: Visit,
    mentor: User,
    corrected_round: int,
    answers: dict[str, Any],
    next_visit_on: dt.date | None,
    uploads: list[PhotoUpload],
    upload_dir: str,
    thresholds: integrity.Thresholds | None = None,
) -> Visit:
    """The mentor's correction after a send-back: new answers and added photos, back to the queue as a new round.

    The first round's decision (with the supervisor's note) stays in `visit.decisions`; the answers as they
    were go into the audit trail. Retrying the same correction changes nothing (AlreadyResubmitted).
    """
    if visit.round != corrected_round or visit.review_state != review_states.SENT_BACK:
        raise AlreadyResubmitted()
    previous = dict(visit.answers or {})
    try:
        for upload in uploads:
            photos.save(upload_dir, upload.processed)
        visit.photos.extend(photo_row(upload) for upload in uploads)
        visit.answers = answers
        visit.next_visit_on = next_visit_on
        visit.round = visit.round + 1
        visit.review_state = review_states.WAITING
        visit.reviewed_by = None
        visit.reviewed_at = None
        visit.review_note = None
        db.session.flush()
        integrity.compute_flags(visit, thresholds)
        audit.record(
            "visit_resubmitted",
            visit,
            user=mentor,
            round=visit.round,
            previous_answers=previous,
            added_photos=len(uploads),
        )
        db.session.commit()
        return visit
    except IntegrityError:  # the same correction sent twice at once: its photo UUIDs are already stored
        db.session.rollback()
        raise AlreadyResubmitted() from None
    except BaseException:
        db.session.rollback()
        raise


# --- Photos sent ahead, one request each ---------------------------------------------------------------------
# Over a link that drops every few seconds a whole visit (5 photos, ~1.5 MB) never gets through in one request.
# The phone sends each photo first, alone, keyed by (visit code, photo code); the visit's own request then names
# them. A staged photo is the phone's upload as sent, kept as a blob until the visit commits; staged photos of a
# visit that never commits are removed by `flask photos-prune` after STAGED_KEEP_S.
STAGED_FOLDER = "staged"
STAGED_KEEP_S = 14 * 24 * 3600


class PhotoIdElsewhere(Exception):
    """The photo code is already stored with another visit: the phone mints a new one (409 photo_conflict)."""


def _staged_key(mentor_id: int, visit_uuid: str, photo_uuid: str) -> str:
    return f"{STAGED_FOLDER}/{mentor_id}-{uuidlib.UUID(visit_uuid)}-{uuidlib.UUID(photo_uuid)}"


def stage_photo(upload_dir, mentor: User, visit_uuid: str, photo_uuid: str, data: bytes, max_bytes: int) -> None:
    """Keep one photo of a visit not yet sent (again: the same bytes under the same key). Raises
    photos.PhotoError for a file that is not a usable photo, PhotoIdElsewhere for a code another visit holds."""
    owner = db.session.scalar(select(Visit.uuid).join(Photo.visit).where(Photo.uuid == photo_uuid))
    if owner is not None and owner != visit_uuid:
        raise PhotoIdElsewhere(photo_uuid)
    if owner is not None:
        return  # the visit is committed with this photo already (its answer was lost)
    photos.process(data, max_bytes=max_bytes)  # refuse now what the visit's request would refuse
    storage.resolve(upload_dir).put_blob(_staged_key(mentor.id, visit_uuid, photo_uuid), data)


_ABSENT = (storage.StorageError, OSError, KeyError)


def staged_photo(upload_dir, mentor: User, visit_uuid: str, photo_uuid: str) -> bytes | None:
    """The photo the phone sent ahead for this visit under this code, or None if it never arrived."""
    try:
        return storage.resolve(upload_dir).get_blob(_staged_key(mentor.id, visit_uuid, photo_uuid))
    except (ValueError, *_ABSENT):
        return None


def forget_staged(upload_dir, mentor: User, visit_uuid: str, photo_uuids: list[str]) -> None:
    """After the visit committed: its photos sent ahead are stored as photos now."""
    store = storage.resolve(upload_dir)
    for code in photo_uuids:
        try:
            store.delete_blob(_staged_key(mentor.id, visit_uuid, code))
        except (ValueError, *_ABSENT):
            continue


def prune_staged(upload_dir, now: float) -> None:
    """Forget photos sent ahead for visits that never arrived (the visit's own request never came)."""
    storage.resolve(upload_dir).delete_blobs_older(STAGED_FOLDER, now - STAGED_KEEP_S)
