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
