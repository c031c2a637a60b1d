"""Property-based fuzzing: generated values thrown at every form and at the outbox endpoint.

Whatever arrives, the server answers with a message or a refusal — never a 500 — and writes nothing half:
either a complete visit (with its photos) or nothing at all.
"""

import datetime as dt
import io
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Photo, StatusChange, Visit

from .conftest import csrf_token, login

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        ["", " ", "0", "-1", "1e308", "NaN", "inf", "9" * 40, "<script>", "' OR 1=1 --", "\x00", "ya", "dipakai"]
    ),
)
numberish = st.one_of(text, st.floats(allow_nan=True).map(str), st.integers().map(str))
VISIT_FIELDS = [
    "uuid",
    "kind",
    "visited_at",
    "location_fixed_at",
    "lat",
    "lon",
    "accuracy",
    "no_location_reason",
    "operating",
    "turnover",
    "turnover_period",
    "problems",
    "problem_notes",
    "mentoring",
    "next_visit_on",
    "decile",
    "embryo",
    "embryo_notes",
    "eligible",
    "status",
    "reason",
    "item-0",
    "item-1",
    "received",
    "tag-1",
    "photo-1-uuid",
    "photo-1-taken",
]


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 100, 60)).save(out, "JPEG")
    return out.getvalue()


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Visit, Photo, StatusChange))


def _consistent():
    """Every stored visit is whole: it has at least one photo."""
    empty = db.session.scalar(select(func.count()).select_from(Visit).where(~Visit.photos.any()))
    return empty == 0


@SETTINGS
@given(
    data=st.dictionaries(st.sampled_from(VISIT_FIELDS), numberish, max_size=len(VISIT_FIELDS)),
    photo=st.sampled_from([None, b"", b"not an image", "jpeg"]),
    outbox=st.booleans(),
)
def test_visit_form_never_500_and_never_half_saved(app, world, data, photo, outbox):
    client = app.test_client()
    login(client, world.users["mentor"].username)
    own = world.recipients["own"]
    payload = dict(data)
    headers = {}
    if outbox:
        headers = {"X-Kail-Outbox": "1", "X-CSRFToken": client.get("/csrf-token").json["token"]}
    else:
        payload["csrf_token"] = csrf_token(client, f"/penerima/{own.id}/kunjungan/baru")
    if photo is not None:
        payload["photo-1"] = (io.BytesIO(_jpeg() if photo == "jpeg" else photo), "x.jpg")
    before = _counts()
    response = client.post(
        f"/penerima/{own.id}/kunjungan/baru", data=payload, headers=headers, content_type="multipart/form-data"
    )
    assert response.status_code < 500, response.status_code
    after = _counts()
    assert after[0] in (before[0], before[0] + 1) and _consistent()
    if after[0] == before[0]:
        assert after[1] == before[1] and after[2] == before[2]


@SETTINGS
@given(data=st.dictionaries(st.sampled_from(["status", "reason", "version"]), numberish, max_size=3))
def test_status_form_never_500(app, world, data):
    client = app.test_client()
    login(client, world.users["mentor"].username)
    own = world.recipients["own"]
    payload = {"csrf_token": csrf_token(client, f"/penerima/{own.id}"), **data}
    before = _counts()
    response = client.post(f"/penerima/{own.id}/status", data=payload)
    assert response.status_code < 500
    if response.status_code != 302:
        assert _counts() == before


@SETTINGS
@given(username=st.text(max_size=100), password=st.text(max_size=300))
def test_login_never_500(app, world, username, password):
    client = app.test_client()
    response = client.post(
        "/akun/masuk", data={"username": username, "password": password, "csrf_token": csrf_token(client)}
    )
    assert response.status_code in (200, 302, 400, 401, 429)


@SETTINGS
@given(
    data=st.dictionaries(st.sampled_from(["decision", "note", "round"]), numberish, max_size=3),
    query=st.text(alphabet=string.printable, max_size=60),
)
def test_review_decision_and_filters_never_500(app, world, data, query):
    from webapp import photos, recording
    from webapp.demo import demo_photo

    own = world.recipients["own"]
    visit = db.session.scalar(select(Visit).where(Visit.recipient_id == own.id))
    if visit is None:
        upload = recording.PhotoUpload(photos.process(demo_photo("fuzz", 1)), "usaha_berjalan")
        visit, _ = recording.record_visit(
            own,
            own.mentor,
            recording.VisitInput(
                uuid="00000000-0000-4000-8000-0000000000ff",
                kind="pendampingan",
                visited_at=dt.datetime(2026, 11, 20, 2),
            ),
            [upload],
            app.config["UPLOAD_DIR"],
        )
    client = app.test_client()
    login(client, world.users["supervisor"].username)
    payload = {"csrf_token": csrf_token(client, "/periksa/"), **data}
    assert client.post(f"/periksa/{visit.id}", data=payload, headers={"HX-Request": "true"}).status_code < 500
    for url in ("/periksa/?", "/peta/?", "/periksa/pendamping?", "/penerima/?"):
        assert client.get(url + query).status_code < 500, url + query
