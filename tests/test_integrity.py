"""Integrity flags, each with constructed data, and the band index behind duplicate-photo detection."""

import datetime as dt
import io
import uuid

import pytest
from PIL import Image
from sqlalchemy import select

from webapp import integrity, photohash, photos, recording
from webapp.demo import demo_photo
from webapp.extensions import db
from webapp.models import EvidenceFlag

NOON_WITA = dt.datetime(2026, 11, 20, 4, 0)  # 12.00 WITA, stored as UTC


def _upload(data: bytes, tag="usaha_berjalan", taken_at=None) -> recording.PhotoUpload:
    processed = photos.process(data)
    if taken_at is not None:
        processed.exif_taken_at = taken_at
    return recording.PhotoUpload(processed, tag)


def record(app, recipient, mentor=None, photo_seed=1, photo_data=None, taken_at="default", **fields):
    """Store a visit through the real recording path (so flags are computed as in production)."""
    visited_at = fields.pop("visited_at", NOON_WITA)
    if taken_at == "default":
        taken_at = visited_at + dt.timedelta(hours=8, minutes=-2)  # camera clock in WITA, just before
    values = dict(lat=recipient.business_lat, lon=recipient.business_lon, accuracy_m=10.0)
    values.update(fields)
    data = recording.VisitInput(uuid=str(uuid.uuid4()), kind="pendampingan", visited_at=visited_at, **values)
    upload = _upload(photo_data or demo_photo("uji", photo_seed), taken_at=taken_at)
    visit, _ = recording.record_visit(recipient, mentor or recipient.mentor, data, [upload], app.config["UPLOAD_DIR"])
    return visit


def codes(visit):
    return {f.code for f in visit.flags if f.severity == "peringatan"}


@pytest.fixture
def family(world):
    r = world.recipients["own"]  # Samarinda
    r.business_lat, r.business_lon = -0.5022, 117.1536
    db.session.commit()
    return r


def test_a_clean_visit_has_no_flags(app, family):
    assert record(app, family).flags == []


def test_tanpa_lokasi_keeps_the_reason(app, family):
    visit = record(app, family, lat=None, lon=None, accuracy_m=None, no_location_reason="izin_ditolak")
    flag = next(f for f in visit.flags if f.code == "tanpa_lokasi")
    assert flag.evidence["reason"] == "izin_ditolak"
    assert "Izin lokasi ditolak" in integrity.explain(flag)


def test_akurasi_rendah_beyond_the_threshold(app, family):
    assert "akurasi_rendah" in codes(record(app, family, accuracy_m=150.0, photo_seed=2))
    assert "akurasi_rendah" not in codes(record(app, family, accuracy_m=99.0, photo_seed=3))


def test_jauh_dari_usaha_beyond_300_m(app, family):
    far = record(app, family, lat=family.business_lat + 0.0036, photo_seed=4)  # ~400 m north
    flag = next(f for f in far.flags if f.code == "jauh_dari_usaha")
    assert 380 < flag.evidence["distance_m"] < 420
    assert "m dari lokasi usaha" in integrity.explain(flag)
    assert integrity.format_distance(60045) == "60,0 km" and integrity.format_distance(412.4) == "412 m"
    assert "jauh_dari_usaha" not in codes(record(app, family, lat=family.business_lat + 0.002, photo_seed=5))


def test_no_registered_location_means_no_distance_flag(app, world):
    r = world.recipients["same_region"]
    assert not r.has_business_location
    visit = record(app, r, lat=-0.5, lon=117.15, photo_seed=6)
    assert "jauh_dari_usaha" not in codes(visit)


def test_di_luar_wilayah_outside_kaltim_and_far_from_the_regency(app, family):
    outside = record(app, family, lat=-3.3194, lon=114.5908, photo_seed=7)  # Banjarmasin
    assert next(f for f in outside.flags if f.code == "di_luar_wilayah").evidence["outside"] == "kaltim"
    tanjung_redeb = record(app, family, lat=2.153, lon=117.494, photo_seed=8)  # in Kaltim, 300 km from Samarinda
    flag = next(f for f in tanjung_redeb.flags if f.code == "di_luar_wilayah")
    assert flag.evidence["outside"] == "region" and flag.evidence["distance_km"] > 250
    assert "Samarinda" in integrity.explain(flag)


def test_foto_duplikat_across_families_and_earlier_visits(app, world, family):
    other = world.recipients["same_region"]
    other.business_lat, other.business_lon = -0.51, 117.16
    db.session.commit()
    first = record(app, family, photo_seed=20)
    assert "foto_duplikat" not in codes(first)
    # the same picture re-encoded, sent as evidence for another family
    reencoded = io.BytesIO()
    Image.open(io.BytesIO(demo_photo("uji", 20))).save(reencoded, "JPEG", quality=60)
    copy = record(app, other, photo_data=reencoded.getvalue())
    flag = next(f for f in copy.flags if f.code == "foto_duplikat")
    assert flag.evidence["other_visit_id"] == first.id and not flag.evidence["same_recipient"]
    # the same family, a later visit, the old picture again
    again = record(app, family, photo_seed=20, visited_at=NOON_WITA + dt.timedelta(days=30))
    assert next(f for f in again.flags if f.code == "foto_duplikat").evidence["same_recipient"]


def test_foto_lama_and_missing_exif(app, family):
    old = record(app, family, photo_seed=30, taken_at=dt.datetime(2026, 11, 10, 9, 0))  # 10 days before
    flag = next(f for f in old.flags if f.code == "foto_lama")
    assert flag.severity == "peringatan" and flag.evidence["days"] > 9
    fresh = record(app, family, photo_seed=31, taken_at=dt.datetime(2026, 11, 18, 12, 0))  # 2 days: fine
    assert not [f for f in fresh.flags if f.code == "foto_lama"]
    no_exif = record(app, family, photo_seed=32, taken_at=None)
    info = next(f for f in no_exif.flags if f.code == "foto_lama")
    assert info.severity == "info" and "EXIF" in integrity.explain(info)
    assert "foto_lama" not in codes(no_exif)  # informational only


def test_perjalanan_mustahil_for_the_same_mentor(app, world, family):
    other = world.recipients["same_region"]
    record(app, family, photo_seed=40)
    # 50 km away, 20 minutes later: 150 km/h
    late = record(
        app,
        other,
        mentor=family.mentor,
        lat=family.business_lat + 0.45,
        lon=family.business_lon,
        visited_at=NOON_WITA + dt.timedelta(minutes=20),
        photo_seed=41,
    )
    flag = next(f for f in late.flags if f.code == "perjalanan_mustahil")
    assert flag.evidence["speed_kmh"] > 120 and flag.evidence["minutes"] == 20
    # the same distance in two hours is a plausible trip
    calm = record(
        app,
        other,
        mentor=family.mentor,
        lat=family.business_lat + 0.45,
        lon=family.business_lon,
        visited_at=NOON_WITA + dt.timedelta(hours=3),
        photo_seed=42,
    )
    assert "perjalanan_mustahil" not in codes(calm)


def test_di_luar_jam_in_wita(app, family):
    assert "di_luar_jam" in codes(record(app, family, visited_at=dt.datetime(2026, 11, 20, 21, 30), photo_seed=50))
    assert "di_luar_jam" in codes(record(app, family, visited_at=dt.datetime(2026, 11, 20, 12, 5), photo_seed=51))
    assert "di_luar_jam" not in codes(
        record(app, family, visited_at=dt.datetime(2026, 11, 20, 22, 30), photo_seed=52)
    )  # 06.30 WITA
    assert "di_luar_jam" not in codes(
        record(app, family, visited_at=dt.datetime(2026, 11, 20, 11, 59), photo_seed=53)
    )  # 19.59 WITA


def test_every_flag_has_an_indonesian_explanation(app):
    for code in integrity.FLAG_LABELS:
        text = integrity.explain(EvidenceFlag(code=code, evidence={}))
        assert text and text != code


def _variants(data: bytes) -> dict[str, bytes]:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = image.size
    out = {}
    for name, variant, quality in (
        ("re-encoded", image, 55),
        ("resized", image.resize((w * 6 // 10, h * 6 // 10)), 80),
        ("cropped", image.crop((w // 100, h // 100, w - w // 100, h - h // 100)), 85),
    ):
        buffer = io.BytesIO()
        variant.save(buffer, "JPEG", quality=quality)
        out[name] = buffer.getvalue()
    return out


def test_band_index_finds_near_duplicates_and_ignores_unrelated(app, family):
    originals = {
        seed: record(app, family, photo_seed=seed, visited_at=NOON_WITA + dt.timedelta(days=seed))
        for seed in range(100, 114)
    }
    originals = {seed: v for seed, v in originals.items() if v.photos[0].comparable}  # flat demo pictures are not
    assert len(originals) >= 10
    for seed, visit in originals.items():
        for name, data in _variants(demo_photo("uji", seed)).items():
            found = integrity.similar_photos(photos.process(data).phash)
            assert visit.photos[0].id in [p.id for p, _ in found], (seed, name)
            assert {p.visit_id for p, _ in found} == {visit.id}, (seed, name)  # and nothing unrelated
    for seed in range(200, 220):  # pictures never stored
        assert integrity.similar_photos(photos.process(demo_photo("uji", seed)).phash) == []


def test_band_index_recall_is_guaranteed_up_to_seven_bits(app, family):
    """Flip up to 7 random bits of a stored lookup hash in any of the picture's three probes: the band look-up
    must find it; 8 bits is refused (the bands guarantee no more)."""
    import random

    visit = record(app, family, photo_seed=300)
    stored = visit.photos[0].phash
    assert visit.photos[0].comparable
    rng = random.Random(5)
    for _ in range(200):
        at = rng.randrange(3)  # the matching pair as the picture's first, second or third probe
        bits = rng.sample(range(64), rng.randint(0, 7))
        lookup = int(stored[2:18], 16) ^ sum(1 << b for b in bits)
        other = "".join(f"{rng.getrandbits(64):016x}{rng.getrandbits(256):064x}" for _ in range(2))
        probe = f"{lookup:016x}{stored[18:82]}"
        text = f"{photohash.VERSION}:" + (other[: 80 * at] + probe + other[80 * at :])
        assert visit.photos[0].id in [p.id for p, _ in integrity.similar_photos(text)]
    with pytest.raises(ValueError):
        integrity.similar_photos(stored, max_bits=8)


def test_the_lookup_reads_the_band_indexes_only(app):
    """The candidate query must neither scan the photos table nor read its rows: each band is an index-only
    scan of its (band, lookup hash, id) index (checked with the database's own planner)."""
    from sqlalchemy import text

    dialect = db.engine.dialect.name
    query = integrity.candidate_query([0x0123456789ABCDEF, 0xFEDCBA9876543210, 42])
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    names = [f"ix_photos_band{band}_lookup" for band in range(4)]
    if dialect == "sqlite":
        plan = " ".join(str(row) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert all(f"COVERING INDEX {name}" in plan for name in names), plan
    else:
        db.session.execute(text("SET enable_seqscan = off"))  # an empty test table would be scanned anyway
        db.session.execute(text("SET enable_bitmapscan = off"))
        plan = " ".join(str(row) for row in db.session.execute(text(f"EXPLAIN {compiled}")))
        db.session.execute(text("RESET enable_seqscan"))
        db.session.execute(text("RESET enable_bitmapscan"))
        assert plan.count("Index Only Scan") == 4 and all(name in plan for name in names), plan


def test_flags_are_stored_with_the_visit(app, family):
    visit = record(app, family, accuracy_m=500.0, photo_seed=60)
    stored = db.session.scalars(select(EvidenceFlag).where(EvidenceFlag.visit_id == visit.id)).all()
    assert {f.code for f in stored} >= {"akurasi_rendah"}


def test_flag_help_shows_the_configured_limits(app, login_as, monkeypatch):
    texts = integrity.flag_help(integrity.Thresholds(accuracy_m=50.0, distance_m=500.0))
    assert "(lebih dari 50 m)" in texts["akurasi_rendah"] and "lebih dari 500 m dari" in texts["jauh_dari_usaha"]
    assert set(texts) == set(integrity.FLAG_LABELS)
    monkeypatch.setitem(app.config, "FLAG_DISTANCE_M", 250.0)
    client = login_as("mentor")
    html = client.get("/bantuan").get_data(True)
    assert "lebih dari 250 m dari lokasi usaha" in html and "(lebih dari 100 m)" in html
    assert "300 m" not in html
    english = client.get("/bantuan", headers={"Accept-Language": "en"}).get_data(True)
    assert "more than 250 m from the registered business" in english and "(over 100 m)" in english


def test_the_duplicate_flag_names_the_wita_day_of_the_other_visit(app, world, family):
    """The first visit at 05.00 WITA on 20 November (21.00 UTC on the 19th): the flag says 20 Nov."""
    first = record(app, family, photo_seed=21, visited_at=dt.datetime(2026, 11, 19, 21, 0))
    again = record(app, family, photo_seed=21, visited_at=dt.datetime(2026, 12, 1, 4, 0))
    flag = next(f for f in again.flags if f.code == "foto_duplikat")
    assert flag.evidence["other_visit_id"] == first.id
    text = integrity.explain(flag, world.users["supervisor"])
    assert "20 Nov 2026" in text and "19 Nov" not in text and "bit" not in text
    assert "hampir sama" in text or "sama persis" in text
