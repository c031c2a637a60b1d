"""Resumable photo uploads: a photo sent in chunks that survive a dropped connection (like tus, in five rules).

Over a rural link that drops every 20 s, a 340 KB photo (≈11 s at 250 kbps) restarted from zero at every drop
rarely gets through. So the phone sends each photo in chunks, each its own request keyed by (photo code, offset):
- the first chunk declares the photo's length and sha256 (every chunk repeats them, so no separate "create");
- the server answers with how many bytes it holds (`offset`); a query (GET) asks the same after a drop;
- a chunk is accepted only at the end of what is held; a chunk the server already holds (its answer was lost) is
  answered with the offset again, changing nothing; a chunk beyond it gets 409 with the offset to resume from;
- when every byte is in, the whole is checked against the declared length and sha256 and then handed to the
  visit's staging (`recording.stage_photo`: the same checks as a whole-photo send) — the visit commits as before;
- chunks are rows in the database, not objects in the store: two app servers share the database, a chunk's
  primary key (upload, start) makes two concurrent sends of one chunk land once, and the offset is one consistent
  query (see DECISIONS: "Resumable photo uploads").
Chunks and uploads are deleted when the visit commits (`forget`) and by `flask photos-prune` after
STALE_AFTER when it never does (`prune`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid as uuidlib
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from . import photos, recording, review_states
from .extensions import db
from .models import Photo, PhotoUpload, PhotoUploadChunk, User, Visit, utcnow

CHUNK_BYTES = 64 * 1024  # what the phone sends (see DECISIONS); the server takes any size up to MAX_CHUNK_BYTES
MAX_CHUNK_BYTES = 512 * 1024
STALE_AFTER = dt.timedelta(days=14)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class UploadRefused(Exception):
    """A chunk or query the server will not take; `status` (HTTP), `code` (for the phone), `offset` when known."""

    def __init__(self, status: int, code: str, offset: int | None = None):
        super().__init__(code)
        self.status, self.code, self.offset = status, code, offset


@dataclass
class Held:
    """What the server holds of a photo: `offset` bytes of `length`; `complete` once handed to the visit."""

    offset: int
    length: int | None
    complete: bool

    def as_json(self) -> dict:
        state = "complete" if self.complete else ("partial" if self.length else "absent")
        return {"status": state, "offset": self.offset, "length": self.length}


def codes(visit_code: str, photo_code: str) -> tuple[str, str]:
    """Both codes in canonical form; UploadRefused(400, 'bad_code') for anything that is not a UUID."""
    try:
        return str(uuidlib.UUID(visit_code)), str(uuidlib.UUID(photo_code))
    except ValueError:
        raise UploadRefused(400, "bad_code") from None


def _check_codes(mentor: User, visit_code: str, photo_code: str) -> Held | None:
    """Refuse codes that belong to someone or something else; a photo already committed with this very visit
    is complete (the phone lost the answer)."""
    visit = db.session.scalar(select(Visit).where(Visit.uuid == visit_code))
    if visit is not None and visit.mentor_id != mentor.id:
        raise UploadRefused(409, "conflict")  # another mentor's visit code: the phone mints a new one
    owner = db.session.scalar(select(Visit.uuid).join(Photo.visit).where(Photo.uuid == photo_code))
    if owner is not None and owner != visit_code:
        raise UploadRefused(409, "photo_conflict")
    if owner is not None:
        return Held(0, None, True)
    if visit is not None and visit.review_state != review_states.SENT_BACK:
        raise UploadRefused(409, "visit_closed")  # stored, and not waiting for a correction: nothing to add
    return None


def _upload(mentor: User, visit_code: str, photo_code: str) -> PhotoUpload | None:
    upload = db.session.scalar(select(PhotoUpload).where(PhotoUpload.photo_uuid == photo_code))
    if upload is not None and (upload.mentor_id != mentor.id or upload.visit_uuid != visit_code):
        raise UploadRefused(409, "photo_conflict")  # the code is being sent for another visit or by someone else
    return upload


def _offset(upload: PhotoUpload) -> int:
    held = db.session.scalar(select(func.sum(PhotoUploadChunk.size)).where(PhotoUploadChunk.upload_id == upload.id))
    return int(held or 0)


def held(mentor: User, visit_code: str, photo_code: str) -> Held:
    """The offset query: how much of this photo the server holds (0 when nothing)."""
    visit_code, photo_code = codes(visit_code, photo_code)
    committed = _check_codes(mentor, visit_code, photo_code)
    if committed is not None:
        return committed
    upload = _upload(mentor, visit_code, photo_code)
    if upload is None:
        return Held(0, None, False)
    if upload.completed_at is not None:
        return Held(upload.length, upload.length, True)
    return Held(_offset(upload), upload.length, False)


def declared(length: str | None, sha256: str | None, max_bytes: int) -> tuple[int, str]:
    """The length and sha256 a chunk declares for its whole photo, checked."""
    try:
        total = int(length or "")
    except ValueError:
        raise UploadRefused(400, "bad_length") from None
    if total <= 0:
        raise UploadRefused(400, "bad_length")
    if total > max_bytes:
        raise UploadRefused(413, "too_large")
    digest = (sha256 or "").strip().lower()
    if not _SHA256.match(digest):
        raise UploadRefused(400, "bad_checksum")
    return total, digest


def append(
    upload_dir,
    mentor: User,
    visit_code: str,
    photo_code: str,
    start: int,
    data: bytes,
    length: int,
    sha256: str,
    max_bytes: int,
) -> Held:
    """Take one chunk at `start`. Answers what is held afterwards; raises UploadRefused. When the last byte
    arrives, the whole photo is checked and staged for its visit (photos.PhotoError for a file that is no photo)."""
    visit_code, photo_code = codes(visit_code, photo_code)
    if start < 0:
        raise UploadRefused(400, "bad_offset")
    if len(data) > MAX_CHUNK_BYTES:
        raise UploadRefused(413, "chunk_too_large")
    if start + len(data) > length:
        raise UploadRefused(400, "beyond_length")
    committed = _check_codes(mentor, visit_code, photo_code)
    if committed is not None:
        return Held(length, length, True)
    upload = _upload(mentor, visit_code, photo_code)
    if upload is not None and (upload.length, upload.sha256) != (length, sha256):
        # The phone sends another photo under this code (it was fixed after a refusal): start it again.
        db.session.execute(delete(PhotoUploadChunk).where(PhotoUploadChunk.upload_id == upload.id))
        upload.length, upload.sha256, upload.completed_at = length, sha256, None
        db.session.flush()
    if upload is None:
        upload = PhotoUpload(
            photo_uuid=photo_code, visit_uuid=visit_code, mentor_id=mentor.id, length=length, sha256=sha256
        )
        db.session.add(upload)
        try:
            db.session.commit()
        except IntegrityError:  # the same photo's first chunk, sent twice at once: the other one created it
            db.session.rollback()
            upload = _upload(mentor, visit_code, photo_code)
            if upload is None:
                raise UploadRefused(409, "offset_mismatch", 0) from None
    if upload.completed_at is not None:
        return Held(upload.length, upload.length, True)
    offset = _offset(upload)
    if offset >= upload.length:  # every byte came, but staging it failed (the store did not answer): again now
        return _finish(upload_dir, mentor, upload, max_bytes)
    if start + len(data) <= offset:
        return Held(offset, upload.length, False)  # already held: its answer was lost
    if start != offset or not data:
        raise UploadRefused(409, "offset_mismatch", offset)
    db.session.add(PhotoUploadChunk(upload_id=upload.id, start=start, size=len(data), data=data))
    upload.updated_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:  # the same chunk, sent twice at once: the other send stored it
        db.session.rollback()
        return held(mentor, visit_code, photo_code)
    offset += len(data)
    if offset < upload.length:
        return Held(offset, upload.length, False)
    return _finish(upload_dir, mentor, upload, max_bytes)


def _finish(upload_dir, mentor: User, upload: PhotoUpload, max_bytes: int) -> Held:
    """Every byte is in: check the whole against what the phone declared, then stage it for the visit."""
    parts = db.session.execute(
        select(PhotoUploadChunk.start, PhotoUploadChunk.data)
        .where(PhotoUploadChunk.upload_id == upload.id)
        .order_by(PhotoUploadChunk.start)
    ).all()
    whole = b"".join(data for _, data in parts)
    if len(whole) != upload.length:  # another request finished it meanwhile (and removed the chunks)
        db.session.refresh(upload)
        if upload.completed_at is not None:
            return Held(upload.length, upload.length, True)
        raise UploadRefused(409, "offset_mismatch", _offset(upload))
    if hashlib.sha256(whole).hexdigest() != upload.sha256:
        # Bytes changed on the way or on the phone: nothing of it can be trusted, so it starts again from 0.
        db.session.execute(delete(PhotoUploadChunk).where(PhotoUploadChunk.upload_id == upload.id))
        db.session.commit()
        raise UploadRefused(409, "checksum_mismatch", 0)
    try:
        recording.stage_photo(upload_dir, mentor, upload.visit_uuid, upload.photo_uuid, whole, max_bytes)
    except photos.PhotoError:
        db.session.execute(delete(PhotoUpload).where(PhotoUpload.id == upload.id))
        db.session.commit()
        raise
    except recording.PhotoIdElsewhere:
        raise UploadRefused(409, "photo_conflict") from None
    db.session.execute(
        update(PhotoUpload).where(PhotoUpload.id == upload.id).values(completed_at=utcnow(), updated_at=utcnow())
    )
    db.session.execute(delete(PhotoUploadChunk).where(PhotoUploadChunk.upload_id == upload.id))
    db.session.commit()
    return Held(upload.length, upload.length, True)


def forget(visit_code: str) -> None:
    """The visit committed: its uploads (and any chunks left) are photos now."""
    ids = select(PhotoUpload.id).where(PhotoUpload.visit_uuid == visit_code)
    db.session.execute(delete(PhotoUploadChunk).where(PhotoUploadChunk.upload_id.in_(ids)))
    db.session.execute(delete(PhotoUpload).where(PhotoUpload.visit_uuid == visit_code))
    db.session.commit()


def prune(now: dt.datetime | None = None) -> int:
    """Uploads untouched for STALE_AFTER (their visit never came): removed with their chunks. Returns how many."""
    limit = (now or utcnow()) - STALE_AFTER
    ids = select(PhotoUpload.id).where(PhotoUpload.updated_at < limit)
    db.session.execute(delete(PhotoUploadChunk).where(PhotoUploadChunk.upload_id.in_(ids)))
    removed = db.session.execute(delete(PhotoUpload).where(PhotoUpload.updated_at < limit)).rowcount
    db.session.commit()
    return removed or 0
