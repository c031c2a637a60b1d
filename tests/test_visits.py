"""Recording a visit: the form for each kind, every validation, exactly-once, atomicity, photos."""

import datetime as dt
import io
import re
import time
import uuid

import pytest
from PIL import Image
from sqlalchemy import func, select

from webapp import audit, photos
from webapp.extensions import db
from webapp.models import Photo, StatusChange, Visit

from .conftest import csrf_token, stored_files


def jpeg(color=(30, 140, 60), size=(1200, 900)) -> bytes:
    image = Image.new("RGB", size, color)
    image.paste((250, 250, 250), (size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _files(app):
    return stored_files(app)


@pytest.fixture
def family(world):
    return world.recipients["own"]  # usaha_berjalan, package: Wajan, Kompor gas


@pytest.fixture
def mentor_client(login_as):
    return login_as("mentor")


def form_url(recipient):
    return f"/penerima/{recipient.id}/kunjungan/baru"


def good_data(client, recipient, **overrides):
    """A complete follow-up visit as a phone would send it: location, two photos, checklist."""
    html = client.get(form_url(recipient)).get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(client, form_url(recipient)),
        "uuid": re.search(r'name="uuid"[^>]*value="([^"]+)"', html).group(1),
        "kind": "pendampingan",
        "visited_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).isoformat(),
        "location_fixed_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=4)).isoformat(),
        "lat": "-0.502210",
        "lon": "117.153600",
        "accuracy": "12.5",
        "operating": "ya",
        "item-0": "dipakai",
        "item-1": "rusak",
        "turnover": "1.250.000",
        "turnover_period": "minggu",
        "problems": ["bahan", "alat"],
        "problem_notes": "Harga minyak naik",
        "mentoring": "Mencatat penjualan harian",
        "next_visit_on": "2027-01-15",
        "photo-1": (io.BytesIO(jpeg()), "IMG_0001.jpg"),
        "tag-1": "usaha_berjalan",
        "photo-2": (io.BytesIO(jpeg((200, 40, 40))), "IMG_0002.jpg"),
        "tag-2": "barang_bantuan",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client, recipient, data):
    return client.post(form_url(recipient), data=data, content_type="multipart/form-data")


def test_form_for_each_kind(mentor_client, family):
    html = mentor_client.get(form_url(family)).get_data(as_text=True)
    assert 'accept="image/*" capture="environment"' in html
    assert 'enctype="multipart/form-data"' in html and "Ambil lokasi" in html
    assert "Wajan" in html and "Kompor gas" in html and 'inputmode="numeric"' in html
    # only the moves the lifecycle allows from usaha_berjalan
    select = html.split('name="status"')[1].split("</select>")[0]
    options = set(re.findall(r'<option (?:selected )?value="(\w+)"', select))
    assert options == {"usaha_kesulitan", "usaha_berhenti", "mandiri", "keluar", "tidak_memenuhi_syarat"}
    # a running business gets follow-ups only: asking for another kind changes nothing
    assert 'name="received"' not in mentor_client.get(form_url(family) + "?jenis=penyaluran").get_data(True)
    from . import factories

    verified = factories.recipient(mentor=family.mentor, status="terverifikasi")
    db.session.commit()
    penyaluran = mentor_client.get(form_url(verified)).get_data(as_text=True)
    assert 'name="received"' in penyaluran and 'name="operating"' not in penyaluran
    assert '<option selected value="disalurkan">' in penyaluran  # the hand-over concludes with it
    verifikasi = mentor_client.get(form_url(verified) + "?jenis=verifikasi").get_data(as_text=True)
    assert 'name="decile"' in verifikasi and 'name="eligible"' in verifikasi


def test_form_defaults_to_the_kind_the_status_needs(mentor_client, world):
    from . import factories

    calon = factories.recipient(mentor=world.users["mentor"], status="calon")
    verified = factories.recipient(mentor=world.users["mentor"], status="terverifikasi")
    db.session.commit()
    assert 'name="kind" type="hidden" value="verifikasi"' in mentor_client.get(form_url(calon)).get_data(True)
    assert 'value="penyaluran"' in mentor_client.get(form_url(verified)).get_data(True)


@pytest.mark.usefixtures("photo_store")  # the local folder and a real S3 server
def test_a_complete_visit_is_stored_with_photos_and_status(app, mentor_client, family, world):
    data = good_data(mentor_client, family, status="usaha_kesulitan", reason="Alat rusak, omzet turun")
    response = post(mentor_client, family, data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/penerima/{family.id}?kunjungan=tersimpan")
    visit = db.session.scalar(select(Visit))
    assert visit.uuid == data["uuid"] and visit.kind == "pendampingan"
    assert visit.mentor_id == world.users["mentor"].id and visit.review_state == "menunggu"
    assert (visit.lat, visit.lon, visit.accuracy_m) == (pytest.approx(-0.50221), pytest.approx(117.1536), 12.5)
    assert visit.location_fixed_at is not None and visit.no_location_reason is None
    assert abs((visit.received_at - visit.visited_at).total_seconds() - 180) < 60
    assert visit.next_visit_on == dt.date(2027, 1, 15)
    a = visit.answers
    assert a["operating"] == "ya" and a["turnover"] == 1_250_000 and a["turnover_period"] == "minggu"
    assert a["items"] == {"Wajan": "dipakai", "Kompor gas": "rusak"}
    assert a["problems"] == ["bahan", "alat"] and a["mentoring"] == "Mencatat penjualan harian"
    assert [p.tag for p in visit.photos] == ["usaha_berjalan", "barang_bantuan"]
    assert len(_files(app)) == 4  # display + thumbnail for each photo, nothing else
    assert all("IMG_" not in f.name for f in _files(app))  # never the client's file name
    db.session.refresh(family)
    assert family.status == "usaha_kesulitan"
    change = db.session.scalar(select(StatusChange))
    assert change.visit_id == visit.id and change.reason == "Alat rusak, omzet turun"
    page = mentor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kunjungan tersimpan" in page and f"/foto/{visit.photos[0].id}/kecil" in page
    assert "Rp 1.250.000" in page


@pytest.mark.usefixtures("photo_store")  # the local folder and a real S3 server
def test_retry_with_the_same_uuid_stores_once(app, mentor_client, family):
    data = good_data(mentor_client, family)
    first = post(mentor_client, family, data)
    files_after_first = _files(app)
    again = good_data(mentor_client, family, uuid=data["uuid"])  # the phone sends the very same visit again
    second = post(mentor_client, family, again)
    assert first.status_code == 303 and second.status_code == 303
    assert _count(Visit) == 1 and _count(Photo) == 2
    assert _files(app) == files_after_first
    assert "sudah tersimpan sebelumnya" in mentor_client.get(second.headers["Location"]).get_data(True)


def test_retry_of_a_broken_resend_still_returns_the_stored_visit(mentor_client, family):
    data = good_data(mentor_client, family)
    post(mentor_client, family, data)
    broken = {"csrf_token": data["csrf_token"], "uuid": data["uuid"], "kind": "pendampingan"}
    assert post(mentor_client, family, broken).status_code == 303
    assert _count(Visit) == 1


def test_uuid_of_another_familys_visit_is_a_conflict(mentor_client, family, world):
    from . import factories

    other = factories.recipient(mentor=world.users["mentor"])
    db.session.commit()
    data = good_data(mentor_client, family)
    post(mentor_client, family, data)
    response = post(mentor_client, other, good_data(mentor_client, other, uuid=data["uuid"]))
    assert response.status_code == 409 and "Formulir sudah dipakai" in response.get_data(True)
    assert _count(Visit) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"lat": None, "lon": None, "accuracy": None}, "no_location_reason", "pilih alasan"),
        ({"lon": None}, "lat", "Lokasi tidak lengkap"),
        ({"lat": "95"}, "lat", "Lintang harus antara"),
        ({"lon": "abc"}, "lon", "Harus berupa angka"),
        ({"photo-1": None, "photo-2": None}, "photos", "minimal satu foto"),
        ({"tag-1": "barang_bantuan"}, "photos", "Usaha berjalan"),
        ({"tag-2": "selfie"}, "tag-2", "Foto 2: pilih isi foto"),
        ({"photo-1": (io.BytesIO(b"GIF89a not really"), "x.jpg")}, "photo-1", "bukan foto"),
        ({"photo-1": (io.BytesIO(b""), "kosong.jpg")}, "photo-1", "kosong"),
        ({"photo-1": (io.BytesIO(jpeg()[:3000]), "potong.jpg")}, "photo-1", "bukan foto"),
        ({"photo-1": (io.BytesIO(b"<html><script>alert(1)</script>"), "a.jpg")}, "photo-1", "bukan foto"),
        ({"operating": None}, "operating", "beroperasi"),
        ({"item-1": None}, "item-1", "Kompor gas: pilih kondisi barang"),
        ({"item-0": "dicuri"}, "item-0", "kondisi barang"),
        ({"turnover": ""}, "turnover", "omzet"),
        ({"turnover": "abc"}, "turnover", "angka"),
        ({"turnover": "1,5 juta"}, "turnover", "angka"),
        ({"turnover": "12abc"}, "turnover", "angka"),
        ({"turnover": "-5000"}, "turnover", "angka"),
        ({"turnover": "150.000,00"}, "turnover", "angka"),
        ({"status": "terverifikasi"}, "status", "tidak dapat diubah"),
        ({"status": "keluar", "reason": ""}, "reason", "Alasan wajib"),
        ({"next_visit_on": "31-31-2026"}, "next_visit_on", "Tanggal tidak valid"),
    ],
)
def test_each_bad_input_gets_a_message_and_nothing_is_stored(app, mentor_client, family, overrides, field, message):
    data = good_data(mentor_client, family, mentoring="Teks yang diketik tetap ada", **overrides)
    response = post(mentor_client, family, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Kunjungan belum tersimpan" in html
    error = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', html)
    assert error and message.lower() in error.group(1).lower(), (field, error and error.group(1))
    assert "Teks yang diketik tetap ada" in html  # what was typed stays
    assert data["uuid"] in html  # same form: a later resend is still the same visit
    summary = re.search(r'class="alert alert--error error-summary".*?</div>', html, re.S).group(0)
    links = re.findall(r'href="#([^"]+)"', summary)
    assert links and all(f'id="{link}"' in html for link in links)  # the summary links to fields that exist
    target = {"photos": "sec-photos", "lat": "lat-error", "lon": "lon-error"}.get(field, field)
    assert target in links
    assert _count(Visit) == 0 and _count(Photo) == 0 and _count(StatusChange) == 0
    assert _files(app) == []
    db.session.refresh(family)
    assert family.status == "usaha_berjalan"


def test_failed_form_says_photos_must_be_chosen_again(mentor_client, family):
    html = post(mentor_client, family, good_data(mentor_client, family, operating=None)).get_data(True)
    assert "Foto perlu dipilih lagi" in html


def test_photo_over_the_size_limit_gets_a_message(app, mentor_client, family):
    app.config["MAX_PHOTO_MB"] = 1
    try:
        big = jpeg(size=(2600, 2600)) + b"\0" * (1024 * 1024)
        html = post(
            mentor_client, family, good_data(mentor_client, family, **{"photo-1": (io.BytesIO(big), "besar.jpg")})
        ).get_data(True)
    finally:
        app.config["MAX_PHOTO_MB"] = 20
    assert "lebih dari 1 MB" in html and _count(Visit) == 0


def test_huge_image_dimensions_get_a_message(mentor_client, family):
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, "PNG")
    html = post(
        mentor_client, family, good_data(mentor_client, family, **{"photo-1": (io.BytesIO(out.getvalue()), "bom.png")})
    ).get_data(True)
    assert "40 megapiksel" in html and _count(Visit) == 0


def test_request_over_the_body_limit_is_refused_cleanly(app, mentor_client, family):
    app.config["MAX_CONTENT_LENGTH"] = 200 * 1024
    try:
        response = post(
            mentor_client,
            family,
            good_data(mentor_client, family, **{"photo-1": (io.BytesIO(b"\xff" * 300 * 1024), "a.jpg")}),
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 40 * 1024 * 1024
    assert response.status_code == 413 and "Berkas terlalu besar" in response.get_data(True)
    assert _count(Visit) == 0


def test_visit_without_location_is_saved_with_the_reason(mentor_client, family):
    data = good_data(mentor_client, family, lat=None, lon=None, accuracy=None, no_location_reason="izin_ditolak")
    assert post(mentor_client, family, data).status_code == 303
    visit = db.session.scalar(select(Visit))
    assert visit.lat is None and visit.no_location_reason == "izin_ditolak" and visit.location_fixed_at is None


def test_implausible_phone_clock_falls_back_to_server_time(mentor_client, family):
    data = good_data(mentor_client, family, visited_at="2031-01-01T00:00:00Z")
    post(mentor_client, family, data)
    visit = db.session.scalar(select(Visit))
    assert abs((visit.visited_at - visit.received_at).total_seconds()) < 60


@pytest.mark.parametrize("overrides", [{"kind": "piknik"}, {"uuid": "bukan-uuid"}, {"uuid": None}])
def test_tampered_hidden_fields_are_refused(mentor_client, family, overrides):
    assert post(mentor_client, family, good_data(mentor_client, family, **overrides)).status_code == 400
    assert _count(Visit) == 0


def test_handover_and_verification_must_conclude_with_a_status(world, login_as):
    from . import factories

    client = login_as("mentor")
    family = factories.recipient(mentor=world.users["mentor"], status="terverifikasi")
    db.session.commit()
    base = {
        "kind": "penyaluran",
        "operating": None,
        "item-0": None,
        "item-1": None,
        "turnover": None,
        "received": ["0"],
        "tag-1": "serah_terima",
    }
    html = post(client, family, good_data(client, family, **base, status="")).get_data(True)
    assert 'id="status-error"' in html and "Bantuan disalurkan" in html
    assert _count(Visit) == 0


@pytest.mark.usefixtures("photo_store")  # the local folder and a real S3 server
def test_photo_responses_carry_their_own_csp(mentor_client, family):
    post(mentor_client, family, good_data(mentor_client, family))
    photo = db.session.scalars(select(Photo)).first()
    csp = mentor_client.get(f"/foto/{photo.id}").headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp


def test_handover_needs_received_items_and_a_handover_photo(world, login_as):
    from . import factories

    client = login_as("mentor")
    family = factories.recipient(mentor=world.users["mentor"], status="terverifikasi")
    db.session.commit()
    base = {"kind": "penyaluran", "operating": None, "item-0": None, "item-1": None, "turnover": None}
    html = post(client, family, good_data(client, family, **base)).get_data(True)
    assert "Centang barang yang diterima" in html and "Serah terima" in html
    data = good_data(client, family, **base, received=["0", "1"], **{"tag-1": "serah_terima"}, status="disalurkan")
    assert post(client, family, data).status_code == 303
    visit = db.session.scalar(select(Visit))
    assert visit.answers["received"] == ["Wajan", "Kompor gas"]
    db.session.refresh(family)
    assert family.status == "disalurkan" and family.distributed_on == visit.visited_at.date()


def test_verification_needs_its_answers(world, login_as):
    from . import factories

    client = login_as("mentor")
    family = factories.recipient(mentor=world.users["mentor"], status="calon")
    db.session.commit()
    base = {"kind": "verifikasi", "operating": None, "item-0": None, "item-1": None, "turnover": None}
    html = post(client, family, good_data(client, family, **base)).get_data(True)
    for field in ("decile", "embryo", "eligible"):
        assert f'id="{field}-error"' in html
    data = good_data(client, family, **base, decile="2", embryo="ya", eligible="layak", status="terverifikasi")
    assert post(client, family, data).status_code == 303
    assert db.session.scalar(select(Visit)).answers["eligible"] == "layak"


def test_mentor_of_another_region_cannot_record(login_as, world, family):
    client = login_as("mentor_other_region")
    token = csrf_token(client, "/kunjungan/")
    response = client.post(
        form_url(family), data={"csrf_token": token, "uuid": str(uuid.uuid4()), "kind": "pendampingan"}
    )
    assert response.status_code == 404 and _count(Visit) == 0


@pytest.mark.usefixtures("photo_store")  # the local folder and a real S3 server
def test_failure_while_saving_leaves_no_visit_and_no_file(app, mentor_client, family, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = post(mentor_client, family, good_data(mentor_client, family, status="mandiri"))
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500 and "Data Anda tidak berubah" in response.get_data(True)
    assert _count(Visit) == 0 and _count(Photo) == 0 and _count(StatusChange) == 0
    # Files written before the failure are left to `photos-prune` (a concurrent visit may be committing them)
    assert _files(app) and not photos.orphans(app.config["UPLOAD_DIR"], set())  # within the grace period
    photos.prune(app.config["UPLOAD_DIR"], lambda name: False, now=time.time() + 25 * 3600)
    assert _files(app) == []
    db.session.refresh(family)
    assert family.status == "usaha_berjalan"


@pytest.mark.usefixtures("photo_store")  # the local folder and a real S3 server
def test_the_same_picture_in_two_visits_shares_one_file(app, mentor_client, family):
    picture = jpeg()
    for _ in range(2):
        data = good_data(mentor_client, family, **{"photo-1": (io.BytesIO(picture), "a.jpg"), "photo-2": None})
        assert post(mentor_client, family, data).status_code == 303
    assert _count(Photo) == 2 and len(_files(app)) == 2
    a, b = db.session.scalars(select(Photo)).all()
    assert a.sha256 == b.sha256 and a.stored_name == b.stored_name


@pytest.mark.usefixtures("photo_store")  # the local folder and a real S3 server
def test_photo_route_serves_immutable_jpeg(mentor_client, family):
    post(mentor_client, family, good_data(mentor_client, family))
    photo = db.session.scalars(select(Photo)).first()
    for url in (f"/foto/{photo.id}", f"/foto/{photo.id}/kecil"):
        response = mentor_client.get(url)
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert "immutable" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"]
        with Image.open(io.BytesIO(response.data)) as image:
            assert max(image.size) == (1200 if url.endswith(str(photo.id)) else 320)
    assert mentor_client.get("/foto/999999").status_code == 404


def test_mentor_home_page_fragment_and_search(mentor_client, family):
    page = mentor_client.get("/kunjungan/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Kunjungan saya" in html and family.name in html
    assert "Catat kunjungan" in html and "HX-Request" in page.headers["Vary"]
    fragment = mentor_client.get("/kunjungan/?q=tidak-ada-nama", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(True) and family.name not in fragment.get_data(True)
    assert family.name in mentor_client.get(f"/kunjungan/?q={family.nik[:10]}").get_data(True)
    for qs in ("lat=abc&lon=1", "lat=200&lon=1", "halaman=-5", "status=bogus"):
        assert mentor_client.get(f"/kunjungan/?{qs}").status_code == 200


def test_home_redirects_mentors_to_their_visits(mentor_client):
    assert mentor_client.get("/").headers["Location"] == "/kunjungan/"


@pytest.mark.usefixtures("photo_store")  # the local folder and a real S3 server
def test_outbox_gets_json_created_then_duplicate(mentor_client, family):
    data = good_data(mentor_client, family, **{"photo-1-taken": "2026:11:27 08:00:00"})
    token = data.pop("csrf_token")
    headers = {"X-Kail-Outbox": "1", "X-CSRFToken": token}
    first = mentor_client.post(form_url(family), data=data, headers=headers, content_type="multipart/form-data")
    assert first.status_code == 201 and first.json["status"] == "created"
    assert first.json["url"] == f"/penerima/{family.id}?kunjungan=tersimpan"
    again = good_data(mentor_client, family, uuid=data["uuid"])
    again.pop("csrf_token")
    second = mentor_client.post(form_url(family), data=again, headers=headers, content_type="multipart/form-data")
    assert second.status_code == 200 and second.json["status"] == "duplicate"
    assert _count(Visit) == 1
    # the phone downscaled the photo (no EXIF left) and sent the capture time read from the original
    photo = db.session.scalar(select(Photo).order_by(Photo.id))
    assert photo.exif_taken_at == dt.datetime(2026, 11, 27, 8, 0)


def test_outbox_gets_json_errors(mentor_client, family):
    data = good_data(mentor_client, family, operating=None)
    token = data.pop("csrf_token")
    response = mentor_client.post(
        form_url(family),
        data=data,
        content_type="multipart/form-data",
        headers={"X-Kail-Outbox": "1", "X-CSRFToken": token},
    )
    assert response.status_code == 422 and response.json["status"] == "invalid"
    assert "operating" in response.json["errors"] and "beroperasi" in response.json["message"]
    assert not response.json["message"].lower().startswith("kunjungan ditolak server")  # the outbox adds that
    assert _count(Visit) == 0


def test_outbox_without_session_learns_it_must_log_in(client, world, family):
    # no session, so no valid token: the outbox is told in JSON, asks for a fresh token, and gets a 401
    response = client.post(form_url(family), headers={"X-Kail-Outbox": "1"})
    assert response.status_code == 400 and response.json["status"] == "csrf"
    token = client.get("/csrf-token")
    assert token.status_code == 401 and token.json["status"] == "login_required"


def test_csrf_token_endpoint_gives_a_working_token(mentor_client, family):
    token = mentor_client.get("/csrf-token").json["token"]
    data = good_data(mentor_client, family)
    data.pop("csrf_token")
    response = mentor_client.post(
        form_url(family),
        data=data,
        content_type="multipart/form-data",
        headers={"X-Kail-Outbox": "1", "X-CSRFToken": token},
    )
    assert response.status_code == 201


def test_the_form_carries_no_photo_codes_and_two_photos_under_one_code_are_both_stored(mentor_client, family):
    """Photo codes are minted on the phone when saving (or by the server for a plain post), never by the page;
    a send naming one code for two photos stores both, each under its own code, instead of failing."""
    assert "-uuid" not in mentor_client.get(form_url(family)).get_data(as_text=True)
    code = str(uuid.uuid4())
    data = good_data(mentor_client, family, **{"photo-1-uuid": code, "photo-2-uuid": code})
    token = data.pop("csrf_token")
    response = mentor_client.post(
        form_url(family),
        data=data,
        content_type="multipart/form-data",
        headers={"X-Kail-Outbox": "1", "X-CSRFToken": token},
    )
    assert response.status_code == 201
    assert _count(Photo) == 2 and code in set(db.session.scalars(select(Photo.uuid)))


def test_outbox_gets_json_messages_for_an_unreadable_amount(mentor_client, family):
    data = good_data(mentor_client, family, turnover="1,5 juta")
    token = data.pop("csrf_token")
    response = mentor_client.post(
        form_url(family),
        data=data,
        content_type="multipart/form-data",
        headers={"X-Kail-Outbox": "1", "X-CSRFToken": token},
    )
    assert response.status_code == 422 and "angka" in response.json["errors"]["turnover"]
    assert _count(Visit) == 0


def test_a_status_change_that_no_longer_applies_is_set_aside_and_the_visit_kept(app, login_as, world, family):
    """Saved offline while the family was 'usaha berjalan'; the supervisor moved it meanwhile. The visit is evidence
    and is stored; its status change is set aside, not applied over the supervisor's, and the review says so."""
    client = login_as("mentor")
    data = good_data(client, family, status="usaha_kesulitan", reason="Kompor rusak", status_from="usaha_berjalan")
    family.status = "usaha_berhenti"  # the supervisor's move, after the form was saved on the phone
    db.session.commit()
    response = post(client, family, data)
    assert response.status_code == 303
    visit = db.session.scalar(select(Visit))
    assert visit.status_set_aside == {
        "to": "usaha_kesulitan",
        "reason": "Kompor rusak",
        "from": "usaha_berjalan",
        "found": "usaha_berhenti",
    }
    db.session.refresh(family)
    assert family.status == "usaha_berhenti" and not visit.status_changes
    client.post("/akun/keluar", data={"csrf_token": csrf_token(client, "/kunjungan/")})
    html = login_as("supervisor").get("/periksa/").get_data(as_text=True)
    assert "Perubahan status tidak diterapkan: Usaha kesulitan" in html and "Kompor rusak" in html


def test_a_wrong_status_change_on_the_status_the_mentor_saw_is_still_refused(mentor_client, family):
    data = good_data(mentor_client, family, status="terverifikasi", status_from=family.status)
    assert post(mentor_client, family, data).status_code == 422
    assert _count(Visit) == 0


def test_a_visit_refused_then_fixed_is_stored_once_under_its_code(mentor_client, family):
    data = good_data(mentor_client, family, operating=None)
    token = data.pop("csrf_token")
    headers = {"X-Kail-Outbox": "1", "X-CSRFToken": token}
    refused = mentor_client.post(form_url(family), data=data, content_type="multipart/form-data", headers=headers)
    assert refused.status_code == 422 and "operating" in refused.json["errors"] and _count(Visit) == 0
    fixed = good_data(mentor_client, family, uuid=data["uuid"])
    fixed.pop("csrf_token")
    for expected in (201, 200):
        response = mentor_client.post(
            form_url(family), data=dict(fixed), content_type="multipart/form-data", headers=headers
        )
        assert response.status_code == expected
        fixed = good_data(mentor_client, family, uuid=data["uuid"])
        fixed.pop("csrf_token")
    assert _count(Visit) == 1 and _count(Photo) == 2


def _stage(client, token, visit_code, photo_code, content):
    return client.post(
        f"/kunjungan/{visit_code}/foto/{photo_code}",
        data={"photo": (io.BytesIO(content), "photo-1.jpg")},
        content_type="multipart/form-data",
        headers={"X-Kail-Outbox": "1", "X-CSRFToken": token},
    )


def test_photos_sent_ahead_one_by_one_then_the_visit_each_once(app, mentor_client, family):
    """A bad link: each photo its own idempotent request, then the visit naming them; retries change nothing."""
    data = good_data(mentor_client, family)
    token = data.pop("csrf_token")
    codes = [str(uuid.uuid4()), str(uuid.uuid4())]
    photos_sent = [jpeg(), jpeg((200, 40, 40))]
    for code, content in zip(codes, photos_sent, strict=True):
        for _ in range(2):  # the answer lost, the same photo sent again
            assert _stage(mentor_client, token, data["uuid"], code, content).status_code == 200
    visit = {k: v for k, v in data.items() if not k.startswith("photo-")}
    for slot, code in enumerate(codes, start=1):
        visit[f"photo-{slot}-staged"], visit[f"photo-{slot}-uuid"] = "1", code
    headers = {"X-Kail-Outbox": "1", "X-CSRFToken": token}

    def send():
        return mentor_client.post(
            form_url(family), data=dict(visit), content_type="multipart/form-data", headers=headers
        )

    assert send().status_code == 201
    assert send().status_code == 200  # the visit again: stored once
    assert _stage(mentor_client, token, data["uuid"], codes[0], photos_sent[0]).status_code == 200  # late retry
    assert _count(Visit) == 1 and _count(Photo) == 2
    assert set(db.session.scalars(select(Photo.uuid))) == set(codes)


def test_a_visit_naming_a_photo_that_never_arrived_asks_for_it_again(mentor_client, family):
    data = good_data(mentor_client, family)
    token = data.pop("csrf_token")
    visit = {k: v for k, v in data.items() if not k.startswith("photo-")}
    missing = str(uuid.uuid4())
    visit.update({"photo-1-staged": "1", "photo-1-uuid": missing, "tag-1": "usaha_berjalan"})
    response = mentor_client.post(
        form_url(family),
        data=visit,
        content_type="multipart/form-data",
        headers={"X-Kail-Outbox": "1", "X-CSRFToken": token},
    )
    assert response.status_code == 409 and response.json["status"] == "photo_missing"
    assert response.json["errors"]["missing"] == [missing] and _count(Visit) == 0


def test_sending_a_photo_ahead_refuses_what_the_visit_would_refuse(mentor_client, family):
    data = good_data(mentor_client, family)
    token = data.pop("csrf_token")
    code = str(uuid.uuid4())
    assert _stage(mentor_client, token, data["uuid"], code, b"not a photo").status_code == 422
    assert _stage(mentor_client, token, "bukan-kode", code, jpeg()).status_code == 400
    full = _stage(mentor_client, token, data["uuid"], code, jpeg())
    assert full.status_code == 200
    # the code now belongs to a stored visit: another visit sending a photo under it is told to mint another
    post(mentor_client, family, good_data(mentor_client, family, **{"photo-1-uuid": code}))
    other = _stage(mentor_client, token, str(uuid.uuid4()), code, jpeg())
    assert other.status_code == 409 and other.json["status"] == "photo_conflict"
    body = b'--x\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n\r\n' + jpeg()[:500]
    cut = mentor_client.post(
        f"/kunjungan/{data['uuid']}/foto/{uuid.uuid4()}",
        data=body,
        content_type="multipart/form-data; boundary=x",
        headers={"X-Kail-Outbox": "1", "X-CSRFToken": token},
    )
    assert cut.status_code < 500
