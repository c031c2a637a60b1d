"""The outbox protocol as a phone speaks it. Whatever sequence of sends, retries, reused codes and cut-off bodies
arrives, the server never answers 5xx, stores each visit once and each photo once, and a refused send leaves
nothing behind."""

import datetime as dt
import io
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select
from werkzeug.test import encode_multipart

from webapp.extensions import db
from webapp.models import Photo, Visit

from . import factories
from .conftest import login

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
ACTIONS = [
    "new",  # a visit saved on the phone: fresh codes
    "resend",  # the last send again, as it was (its answer was lost)
    "resend_new_photo_codes",  # the last visit again with other photo codes (an old app's stored item)
    "reuse_photo_code",  # a new visit carrying a photo code already stored (a cached form)
    "same_code_twice",  # two photos of one visit under one code
    "other_family",  # a stored visit's code sent for another family
    "truncated",  # the link dropped mid-body
    "garbled",  # one field holding anything at all
]
GARBAGE = st.one_of(
    st.text(max_size=80), st.sampled_from(["", "NaN", "1e308", "-1", "9" * 30, "\x00", "bukan-uuid", "rusak"])
)
FIELDS = ["lat", "lon", "accuracy", "operating", "turnover", "item-0", "tag-1", "visited_at", "status", "reason"]


def _jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), (seed * 37 % 256, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def _visit(visit_code: str, photo_codes: list[str], seed: int) -> dict:
    """A complete follow-up visit in the outbox's shape (codes minted by the phone)."""
    data = {
        "uuid": visit_code,
        "kind": "pendampingan",
        "visited_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat(),
        "no_location_reason": "sinyal_lemah",
        "operating": "ya",
        "item-0": "dipakai",
        "item-1": "dipakai",
        "turnover": "150.000",
        "mentoring": "Catatan",
    }
    for slot, code in enumerate(photo_codes, start=1):
        data[f"photo-{slot}"] = (io.BytesIO(_jpeg(seed + slot)), f"photo-{slot}.jpg")
        data[f"photo-{slot}-uuid"] = code
        data[f"tag-{slot}"] = "usaha_berjalan"
    return data


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Visit, Photo))


@SETTINGS
@given(
    actions=st.lists(st.tuples(st.sampled_from(ACTIONS), GARBAGE, st.sampled_from(FIELDS)), min_size=1, max_size=6),
    cut=st.floats(0.05, 0.95),
)
def test_no_sequence_of_phone_requests_gets_a_5xx_or_stores_twice(app, world, actions, cut):
    mentor = world.users["mentor"]
    own, second = world.recipients["own"], None
    second = db.session.scalar(select(factories.Recipient).where(factories.Recipient.name == "Keluarga Kedua"))
    if second is None:
        second = factories.recipient(own.region, mentor, name="Keluarga Kedua", package_items=["Wajan"])
        db.session.commit()
    client = app.test_client()
    login(client, mentor.username)
    headers = {"X-Kail-Outbox": "1", "X-CSRFToken": client.get("/csrf-token").json["token"]}
    url = f"/penerima/{own.id}/kunjungan/baru"
    last = None
    for n, (action, garbage, field) in enumerate(actions):
        before = _counts()
        stored_photo = db.session.scalar(select(Photo.uuid).limit(1))
        stored_visit = db.session.scalar(select(Visit.uuid).where(Visit.recipient_id == own.id).limit(1))
        target = url
        codes = [str(uuid.uuid4()), str(uuid.uuid4())]
        data = _visit(str(uuid.uuid4()), codes, n)
        if action in ("resend", "resend_new_photo_codes") and last is not None:
            data = _visit(last["uuid"], codes if action.endswith("codes") else last["codes"], n)
        elif action == "reuse_photo_code" and stored_photo:
            data = _visit(str(uuid.uuid4()), [stored_photo, codes[1]], n)
        elif action == "same_code_twice":
            data = _visit(str(uuid.uuid4()), [codes[0], codes[0]], n)
        elif action == "other_family" and stored_visit:
            data, target = _visit(stored_visit, codes, n), f"/penerima/{second.id}/kunjungan/baru"
        elif action == "garbled":
            data[field] = garbage
        if action == "truncated":
            body, content_type = encode_multipart(data)
            response = client.post(
                target,
                data=body[: int(len(body) * cut)],
                content_type=content_type,
                headers=headers,
            )
        else:
            response = client.post(target, data=data, content_type="multipart/form-data", headers=headers)
        assert response.status_code < 500, (action, response.status_code)
        after = _counts()
        if response.status_code == 201:
            assert after[0] == before[0] + 1 and after[1] == before[1] + 2
        else:  # refused, or the visit already stored: nothing new, nothing half
            assert after == before, (action, response.status_code)
        if action == "reuse_photo_code" and stored_photo:
            assert response.status_code == 409 and response.json["taken"] == [stored_photo]
        if action == "other_family" and stored_visit:
            assert response.status_code == 409 and response.json["status"] == "conflict"
        if response.status_code in (200, 201):
            assert response.json["status"] in ("created", "duplicate")
        if action not in ("truncated", "other_family"):
            last = {"uuid": data["uuid"], "codes": [data.get("photo-1-uuid"), data.get("photo-2-uuid")]}
    assert db.session.scalar(select(func.count()).select_from(Visit).where(~Visit.photos.any())) == 0
    assert db.session.scalar(select(func.count(Photo.uuid.distinct()))) == _counts()[1]


# --- photos in resumable chunks (webapp/uploads.py) ---------------------------------------------------------------
CHUNK_ACTIONS = [
    "next",  # the next chunk from where the phone believes the server is
    "next",
    "next",
    "repeat",  # the last chunk again (its answer was lost)
    "ahead",  # a chunk past what the server holds (the phone lost track)
    "query",  # the offset query, then the phone believes it
    "cut",  # the link dropped mid-chunk: fewer bytes than the request announced
    "garbled",  # one header or code holding anything at all
    "other_mentor",  # someone else's phone sends under the same photo code
    "new_declaration",  # the same code, another photo (fixed after a refusal): starts again
    "commit",  # the visit's own request, naming its photos as sent ahead
]
CHUNK_BYTES = 2048


def _noisy_jpeg(seed: int) -> bytes:
    import random

    rng = random.Random(seed)
    out = io.BytesIO()
    Image.frombytes("RGB", (48, 36), rng.randbytes(48 * 36 * 3)).resize((144, 108)).save(out, "JPEG", quality=90)
    return out.getvalue()


@SETTINGS
@given(
    actions=st.lists(
        st.tuples(st.sampled_from(CHUNK_ACTIONS), st.integers(0, 1), GARBAGE, st.integers(0, 4)),
        min_size=1,
        max_size=14,
    ),
    cut=st.floats(0.05, 0.95),
)
def test_no_sequence_of_chunk_requests_gets_a_5xx_loses_a_byte_or_stores_twice(app, world, actions, cut):
    import hashlib

    from webapp.models import PhotoUpload

    mentor, other = world.users["mentor"], world.users["mentor_same_region"]
    own = world.recipients["own"]
    client, stranger = app.test_client(), app.test_client()
    login(client, mentor.username)
    login(stranger, other.username)
    token = client.get("/csrf-token").json["token"]
    stranger_token = stranger.get("/csrf-token").json["token"]
    visit = _visit(str(uuid.uuid4()), [], 0)
    visit.pop("uuid")
    visit_code = str(uuid.uuid4())
    codes = [str(uuid.uuid4()), str(uuid.uuid4())]
    contents = [_noisy_jpeg(1), _noisy_jpeg(2)]
    believed = [0, 0]
    last = [0, 0]
    committed = False
    start_counts = _counts()  # the tables are emptied after the test, not between hypothesis's examples

    def send(who, tok, n, start, data=None, **override):
        content = contents[n]
        part = content[start : start + CHUNK_BYTES] if data is None else data
        headers = {
            "X-Kail-Outbox": "1",
            "X-CSRFToken": tok,
            "Upload-Offset": str(start),
            "Upload-Length": str(len(content)),
            "Upload-Sha256": hashlib.sha256(content).hexdigest(),
        }
        headers.update(override.pop("headers", {}))
        url = override.pop("url", f"/kunjungan/{visit_code}/foto/{codes[n]}")
        if "input_stream" not in override:
            override["data"] = part
        return who.patch(url, headers=headers, **override)

    def adopt(n, answer):
        if answer.status_code == 409 and answer.json["status"] == "photo_conflict":  # taken: the phone mints anew
            codes[n], believed[n] = str(uuid.uuid4()), 0
        if answer.status_code in (200, 409) and "offset" in (answer.json or {}):
            believed[n] = answer.json["length"] if answer.json["status"] == "complete" else answer.json["offset"]

    def commit():
        data = dict(visit, uuid=visit_code)
        for slot, code in enumerate(codes, start=1):
            data.update({f"photo-{slot}-staged": "1", f"photo-{slot}-uuid": code, f"tag-{slot}": "usaha_berjalan"})
        return client.post(
            f"/penerima/{own.id}/kunjungan/baru",
            data=data,
            content_type="multipart/form-data",
            headers={"X-Kail-Outbox": "1", "X-CSRFToken": token},
        )

    for action, n, garbage, pick in actions:
        before = _counts()
        if action == "next" or action == "repeat":
            start = believed[n] if action == "next" else last[n]
            answer = send(client, token, n, start)
            last[n] = start
            adopt(n, answer)
        elif action == "ahead":
            answer = send(client, token, n, believed[n] + CHUNK_BYTES)
            if not committed and answer.status_code == 409:  # a code another phone took first: mint anew
                assert answer.json["status"] in ("offset_mismatch", "visit_closed", "photo_conflict")
            adopt(n, answer)
        elif action == "query":
            answer = client.get(f"/kunjungan/{visit_code}/foto/{codes[n]}", headers={"X-Kail-Outbox": "1"})
            adopt(n, answer)
        elif action == "cut":
            part = contents[n][believed[n] : believed[n] + CHUNK_BYTES]
            answer = send(
                client,
                token,
                n,
                believed[n],
                data=None,
                input_stream=io.BytesIO(part[: int(len(part) * cut)]),
                headers={"Content-Length": str(len(part) or 1)},
            )
        elif action == "garbled":
            name = ["Upload-Offset", "Upload-Length", "Upload-Sha256", "url", "X-CSRFToken"][pick]
            if name == "url":
                answer = send(client, token, n, believed[n], url=f"/kunjungan/{visit_code}/foto/{garbage}x")
            else:
                answer = send(client, token, n, believed[n], headers={name: garbage.encode().hex()[:40] or "-"})
            assert answer.status_code in (200, 400, 404, 405, 409, 413, 422), (name, answer.status_code)
        elif action == "other_mentor":
            taken = db.session.scalar(
                select(func.count()).select_from(PhotoUpload).where(PhotoUpload.photo_uuid == codes[n])
            )
            answer = send(stranger, stranger_token, n, 0, url=f"/kunjungan/{uuid.uuid4()}/foto/{codes[n]}")
            if taken or committed:
                assert answer.status_code == 409 and answer.json["status"] == "photo_conflict"
        elif action == "new_declaration" and not committed:
            contents[n] = _noisy_jpeg(10 + pick)
            believed[n] = 0
            answer = send(client, token, n, 0)
            adopt(n, answer)
        else:
            answer = commit()
            if answer.status_code == 201:
                committed = True
            else:
                assert answer.status_code in (200, 409), answer.status_code
                if answer.status_code == 409:
                    assert answer.json["status"] == "photo_missing"
        assert answer.status_code < 500, (action, answer.status_code)
        if action != "commit" or answer.status_code != 201:
            assert _counts() == before, action  # only the visit's own request stores a visit and photos
    # Whatever happened, the phone finishes from what the server says it holds, and the visit arrives once.
    for n in range(2):
        for _ in range(200):
            held = client.get(f"/kunjungan/{visit_code}/foto/{codes[n]}", headers={"X-Kail-Outbox": "1"}).json
            if held["status"] == "complete":
                break
            if held["status"] == "photo_conflict":  # another phone holds the code: this one mints a new one
                codes[n] = str(uuid.uuid4())
                continue
            answer = send(client, token, n, held["offset"])
            assert answer.status_code in (200, 409), answer.json
        else:
            raise AssertionError("the photo never completed")
    final = commit()
    assert final.status_code == (200 if committed else 201), final.json
    assert commit().status_code == 200
    assert _counts() == (start_counts[0] + 1, start_counts[1] + 2)
    stored = db.session.scalars(select(Photo.uuid).join(Visit).where(Visit.uuid == visit_code))
    assert set(stored) == set(codes)
    mine = select(func.count()).select_from(PhotoUpload).where(PhotoUpload.visit_uuid == visit_code)
    assert db.session.scalar(mine) == 0  # forgotten on commit (another phone's stray chunks wait for the prune)
