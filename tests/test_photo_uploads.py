"""Resumable photo uploads (webapp/uploads.py): a photo sent in chunks, resumed after a drop from the offset the
server holds, checked whole, then committed with its visit. Runs on SQLite and PostgreSQL (TEST_DATABASE_URL) and
with the photo store in a folder and in a real S3 bucket (`photo_store`)."""

import datetime as dt
import hashlib
import io
import uuid

import pytest
from sqlalchemy import func, select

from webapp import uploads
from webapp.extensions import db
from webapp.models import Photo, PhotoUpload, PhotoUploadChunk, Visit

from .conftest import csrf_token, login
from .test_visits import form_url, good_data

CHUNK = 4096  # small chunks, so a test photo of ~20 KB is several


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def mentor_client(login_as):
    return login_as("mentor")


@pytest.fixture
def family(world):
    return world.recipients["own"]


@pytest.fixture
def token(mentor_client, family):
    return csrf_token(mentor_client, form_url(family))


def photo_bytes(seed: int = 0) -> bytes:
    """A photo large enough to take several chunks."""
    import random

    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (120, 90), bytes(rng.getrandbits(8) for _ in range(120 * 90 * 3)))
    out = io.BytesIO()
    image.resize((480, 360)).save(out, "JPEG", quality=80)
    return out.getvalue()


def chunk(client, token, visit, photo, content, start, size=CHUNK, **headers):
    part = content[start : start + size]
    sent = {
        "X-Kail-Outbox": "1",
        "X-CSRFToken": token,
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": str(start),
        "Upload-Length": str(len(content)),
        "Upload-Sha256": hashlib.sha256(content).hexdigest(),
    }
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})
    return client.patch(f"/kunjungan/{visit}/foto/{photo}", data=part, headers=sent)


def offset(client, visit, photo):
    return client.get(f"/kunjungan/{visit}/foto/{photo}", headers={"X-Kail-Outbox": "1"})


def send_whole(client, token, visit, photo, content):
    start = 0
    while True:
        answer = chunk(client, token, visit, photo, content, start)
        assert answer.status_code == 200, answer.json
        if answer.json["status"] == "complete":
            return answer
        start = answer.json["offset"]


def commit_visit(client, family, data, codes, token):
    visit = {k: v for k, v in data.items() if not k.startswith("photo-")}
    for slot, code in enumerate(codes, start=1):
        visit[f"photo-{slot}-staged"], visit[f"photo-{slot}-uuid"] = "1", code
    return client.post(
        form_url(family),
        data=visit,
        content_type="multipart/form-data",
        headers={"X-Kail-Outbox": "1", "X-CSRFToken": token},
    )


def test_a_photo_in_chunks_resumes_after_a_drop_and_commits_with_its_visit_once(
    app, photo_store, mentor_client, family, token
):
    data = good_data(mentor_client, family)
    data.pop("csrf_token")
    visit, codes = data["uuid"], [str(uuid.uuid4()), str(uuid.uuid4())]
    contents = [photo_bytes(1), photo_bytes(2)]
    assert len(contents[0]) > 3 * CHUNK
    # nothing held yet
    assert offset(mentor_client, visit, codes[0]).json == {"status": "absent", "offset": 0, "length": None}
    first = chunk(mentor_client, token, visit, codes[0], contents[0], 0)
    assert first.status_code == 200 and first.json["offset"] == CHUNK and first.headers["Upload-Offset"] == str(CHUNK)
    # the answer was lost: the same chunk again changes nothing
    again = chunk(mentor_client, token, visit, codes[0], contents[0], 0)
    assert again.status_code == 200 and again.json["offset"] == CHUNK and _count(PhotoUploadChunk) == 1
    # a chunk past what the server holds (the phone lost track) is told where to resume
    ahead = chunk(mentor_client, token, visit, codes[0], contents[0], 2 * CHUNK)
    assert ahead.status_code == 409 and ahead.json["status"] == "offset_mismatch" and ahead.json["offset"] == CHUNK
    # after the drop, the phone asks and resumes from there
    held = offset(mentor_client, visit, codes[0]).json
    assert held == {"status": "partial", "offset": CHUNK, "length": len(contents[0])}
    start = held["offset"]
    while True:
        answer = chunk(mentor_client, token, visit, codes[0], contents[0], start)
        assert answer.status_code == 200
        if answer.json["status"] == "complete":
            break
        start = answer.json["offset"]
    assert _count(PhotoUploadChunk) == 0  # the whole is staged; the chunks are gone
    assert offset(mentor_client, visit, codes[0]).json["status"] == "complete"
    # a late retry of the last chunk after completion: complete, nothing more
    late = chunk(mentor_client, token, visit, codes[0], contents[0], len(contents[0]) - 10)
    assert late.status_code == 200 and late.json["status"] == "complete"
    send_whole(mentor_client, token, visit, codes[1], contents[1])
    assert commit_visit(mentor_client, family, data, codes, token).status_code == 201
    assert commit_visit(mentor_client, family, data, codes, token).status_code == 200  # the answer lost: once
    assert _count(Visit) == 1 and set(db.session.scalars(select(Photo.uuid))) == set(codes)
    assert _count(PhotoUpload) == 0  # forgotten on commit
    # the stored photo is the one sent (re-encoded by the normal pipeline from those bytes)
    assert offset(mentor_client, visit, codes[0]).json["status"] == "complete"
    assert chunk(mentor_client, token, visit, codes[0], contents[0], 0).json["status"] == "complete"


def test_bytes_that_do_not_match_the_declared_sha256_start_again_from_zero(app, mentor_client, family, token):
    visit, code = str(uuid.uuid4()), str(uuid.uuid4())
    content = photo_bytes(3)
    wrong = hashlib.sha256(b"another photo").hexdigest()
    start = 0
    while start + CHUNK < len(content):
        start = chunk(mentor_client, token, visit, code, content, start, Upload_Sha256=wrong).json["offset"]
    last = chunk(mentor_client, token, visit, code, content, start, Upload_Sha256=wrong)
    assert last.status_code == 409 and last.json["status"] == "checksum_mismatch" and last.json["offset"] == 0
    assert offset(mentor_client, visit, code).json["offset"] == 0 and _count(PhotoUploadChunk) == 0
    # sent again with its true sha256: the declaration changed, the upload starts over and completes
    assert send_whole(mentor_client, token, visit, code, content).json["status"] == "complete"


def test_every_bad_chunk_gets_a_clear_4xx_with_its_reason(app, mentor_client, family, token, world):
    visit, code = str(uuid.uuid4()), str(uuid.uuid4())
    content = photo_bytes(4)
    cases = [
        ({"Upload_Length": "abc"}, 400, "bad_length"),
        ({"Upload_Length": "0"}, 400, "bad_length"),
        ({"Upload_Length": str(app.config["MAX_PHOTO_MB"] * 1024 * 1024 + 1)}, 413, "too_large"),
        ({"Upload_Sha256": "xyz"}, 400, "bad_checksum"),
        ({"Upload_Offset": "-5"}, 400, "bad_offset"),
        ({"Upload_Offset": "satu"}, 400, "bad_offset"),
        ({"Upload_Length": "10"}, 400, "beyond_length"),
    ]
    for headers, status, reason in cases:
        answer = chunk(mentor_client, token, visit, code, content, 0, **headers)
        assert (answer.status_code, answer.json["status"]) == (status, reason), headers
        assert answer.json["message"]
    bad_code = chunk(mentor_client, token, "bukan-kode", code, content, 0)
    assert bad_code.status_code == 400 and bad_code.json["status"] == "bad_code"
    assert offset(mentor_client, visit, "rusak").status_code == 400
    huge = mentor_client.patch(
        f"/kunjungan/{visit}/foto/{code}",
        data=b"x" * (uploads.MAX_CHUNK_BYTES + 1),
        headers={
            "X-Kail-Outbox": "1",
            "X-CSRFToken": token,
            "Upload-Offset": "0",
            "Upload-Length": str(uploads.MAX_CHUNK_BYTES + 10),
            "Upload-Sha256": "0" * 64,
        },
    )
    assert huge.status_code == 413 and huge.json["status"] == "chunk_too_large"
    # garbage bytes that are no photo: refused as the visit would refuse them, nothing kept
    garbage = b"\x00garbage" * 700
    start, answer = 0, None
    while start < len(garbage):
        answer = chunk(mentor_client, token, visit, code, garbage, start)
        if answer.status_code != 200:
            break
        start = answer.json["offset"]
    assert answer.status_code == 422 and answer.json["status"] == "invalid" and answer.json["message"]
    assert _count(PhotoUpload) == 0 and _count(PhotoUploadChunk) == 0
    # no token: refused before anything is read
    no_token = mentor_client.patch(f"/kunjungan/{visit}/foto/{code}", data=b"x", headers={"X-Kail-Outbox": "1"})
    assert no_token.status_code == 400 and no_token.json["status"] == "csrf"
    assert _count(PhotoUpload) == 0


def test_codes_of_another_mentor_or_a_closed_visit_are_refused(app, client, mentor_client, family, token, world):
    data = good_data(mentor_client, family)
    data.pop("csrf_token")
    visit, code = data["uuid"], str(uuid.uuid4())
    content = photo_bytes(5)
    assert chunk(mentor_client, token, visit, code, content, 0).status_code == 200
    # another mentor sending under the same photo code (or the same visit code) is told to mint another
    other = app.test_client()
    login(other, world.users["mentor_same_region"].username)
    other_token = csrf_token(other, "/kunjungan/")
    taken = chunk(other, other_token, str(uuid.uuid4()), code, content, 0)
    assert taken.status_code == 409 and taken.json["status"] == "photo_conflict"
    assert offset(other, str(uuid.uuid4()), code).json["status"] == "photo_conflict"
    # the same code for another visit of the same mentor: also someone else's
    assert chunk(mentor_client, token, str(uuid.uuid4()), code, content, 0).json["status"] == "photo_conflict"
    send_whole(mentor_client, token, visit, code, content)
    assert commit_visit(mentor_client, family, data, [code], token).status_code == 201
    # the visit is stored and not sent back: a new photo for it is refused, the other mentor cannot use its code
    closed = chunk(mentor_client, token, visit, str(uuid.uuid4()), content, 0)
    assert closed.status_code == 409 and closed.json["status"] == "visit_closed"
    foreign = chunk(other, other_token, visit, str(uuid.uuid4()), content, 0)
    assert foreign.status_code == 409 and foreign.json["status"] == "conflict"
    assert "tidak ada lagi di daftar Anda" in foreign.json["message"]  # a correction of a visit moved away
    # supervisors and admins record no visits
    supervisor = app.test_client()
    login(supervisor, world.users["supervisor"].username)
    assert offset(supervisor, visit, code).status_code == 403
    assert _count(PhotoUpload) == 0 and _count(Visit) == 1


def test_a_sent_back_visit_takes_new_photos_in_chunks(app, mentor_client, family, token, world):
    data = good_data(mentor_client, family)
    data.pop("csrf_token")
    first = [str(uuid.uuid4())]
    send_whole(mentor_client, token, data["uuid"], first[0], photo_bytes(6))
    assert commit_visit(mentor_client, family, data, first, token).status_code == 201
    stored = db.session.scalar(select(Visit))
    stored.review_state = "perbaikan"
    db.session.commit()
    added = str(uuid.uuid4())
    assert send_whole(mentor_client, token, data["uuid"], added, photo_bytes(7)).json["status"] == "complete"
    correction = {
        "round": "1",
        "operating": "ya",
        "item-0": "dipakai",
        "item-1": "dipakai",
        "turnover": "1.250.000",
        "turnover_period": "minggu",
        "mentoring": "Foto tambahan",
        "photo-1-staged": "1",
        "photo-1-uuid": added,
        "tag-1": "usaha_berjalan",
    }
    answer = mentor_client.post(
        f"/kunjungan/{stored.id}/perbaiki",
        data=correction,
        content_type="multipart/form-data",
        headers={"X-Kail-Outbox": "1", "X-CSRFToken": token},
    )
    assert answer.status_code < 300, answer.json
    assert _count(Photo) == 2 and _count(PhotoUpload) == 0


def test_stale_uploads_are_pruned_by_the_cli(app, runner, mentor_client, family, token):
    visit = str(uuid.uuid4())
    content = photo_bytes(8)
    old, fresh = str(uuid.uuid4()), str(uuid.uuid4())
    chunk(mentor_client, token, visit, old, content, 0)
    chunk(mentor_client, token, visit, fresh, content, 0)
    row = db.session.scalar(select(PhotoUpload).where(PhotoUpload.photo_uuid == old))
    row.updated_at -= uploads.STALE_AFTER + dt.timedelta(hours=1)
    db.session.commit()
    result = runner.invoke(args=["photos-prune"])
    assert result.exit_code == 0 and "1 unfinished photo uploads" in result.output
    assert set(db.session.scalars(select(PhotoUpload.photo_uuid))) == {fresh}
    assert _count(PhotoUploadChunk) == 1
    assert offset(mentor_client, visit, old).json["offset"] == 0  # the phone simply starts that photo again


def test_a_store_that_fails_at_the_last_chunk_is_tried_again_on_the_next_request(
    app, mentor_client, family, token, monkeypatch
):
    from webapp import recording, storage

    visit, code = str(uuid.uuid4()), str(uuid.uuid4())
    content = photo_bytes(9)
    real = recording.stage_photo

    def unreachable(*args, **kwargs):
        raise storage.StorageUnavailable("the bucket did not answer")

    monkeypatch.setattr(recording, "stage_photo", unreachable)
    start = 0
    while start + CHUNK < len(content):
        start = chunk(mentor_client, token, visit, code, content, start).json["offset"]
    failed = chunk(mentor_client, token, visit, code, content, start)
    assert failed.status_code == 503 and failed.json["status"] == "retry"
    # every byte is held; the offset query says so, and nothing was lost
    assert offset(mentor_client, visit, code).json == {
        "status": "partial",
        "offset": len(content),
        "length": len(content),
    }
    monkeypatch.setattr(recording, "stage_photo", real)
    again = chunk(mentor_client, token, visit, code, content, len(content), size=0)  # the phone's empty "go on"
    assert again.status_code == 200 and again.json["status"] == "complete"
    assert recording.staged_photo(app.config["UPLOAD_DIR"], family.mentor, visit, code) == content


def test_the_same_chunks_sent_twice_at_once_land_once(app, world, family):
    """A retry while the dropped send is still being read: two requests for the same chunk at the same time."""
    import threading

    clients = []
    for _ in range(2):
        client = app.test_client()
        login(client, world.users["mentor"].username)
        clients.append((client, csrf_token(client, form_url(family))))
    visit, code = str(uuid.uuid4()), str(uuid.uuid4())
    content = photo_bytes(10)
    answers: list = []
    start = 0
    while True:
        barrier = threading.Barrier(2)

        def send(client, token, at=start, barrier=barrier):
            with app.app_context():
                barrier.wait()
                answers.append(chunk(client, token, visit, code, content, at))

        threads = [threading.Thread(target=send, args=pair) for pair in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        last = answers[-2:]
        assert all(a.status_code == 200 for a in last), [(a.status_code, a.json) for a in last]
        if any(a.json["status"] == "complete" for a in last):
            break
        assert {a.json["offset"] for a in last} == {start + CHUNK}
        start += CHUNK
    db.session.expire_all()
    assert offset(clients[0][0], visit, code).json["status"] == "complete"
    assert _count(PhotoUpload) == 1 and _count(PhotoUploadChunk) == 0
