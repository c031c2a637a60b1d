"""The photo pipeline: sizes, hashes, EXIF time, and refusal of what is not a photo."""

import datetime as dt
import hashlib
import io

import pytest
from PIL import Image

from webapp import photohash, photos, storage
from webapp.demo import demo_photo


def _jpeg(size=(4000, 3000), exif_time: str | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 120, 40))
    out = io.BytesIO()
    exif = Image.Exif()
    if exif_time:
        exif.get_ifd(0x8769)[0x9003] = exif_time  # DateTimeOriginal (DateTime, 0x0132, is the last edit)
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def test_camera_photo_is_downscaled_with_thumbnail_and_hashes():
    p = photos.process(_jpeg(exif_time="2026:11:20 09:15:00"))
    assert max(p.width, p.height) == photos.DISPLAY_MAX
    with Image.open(io.BytesIO(p.display)) as display, Image.open(io.BytesIO(p.thumb)) as thumb:
        assert display.format == "JPEG" and max(display.size) == 1600
        assert max(thumb.size) == photos.THUMB_MAX
        assert not display.getexif()  # metadata (location, device) is not passed on
    assert len(p.sha256) == 64
    assert p.phash == photohash.NOT_COMPARABLE  # one flat colour: too little structure to compare
    assert p.exif_taken_at == dt.datetime(2026, 11, 20, 9, 15)


def test_photo_hash_is_stable_and_discriminates():
    a1 = photos.process(demo_photo("warung", seed=1)).phash
    a2 = photos.process(demo_photo("warung", seed=1)).phash
    b = photos.process(demo_photo("warung", seed=2)).phash
    assert a1 == a2 and len(a1) == photohash.TEXT_LENGTH
    assert not photohash.is_duplicate(photohash.parse(b), photohash.parse(a1))


@pytest.mark.parametrize(
    "data", [b"", b"<html><script>alert(1)</script></html>", b"GIF89a" + b"\0" * 100, _jpeg((100, 100))[:200]]
)
def test_non_photos_are_refused(data):
    with pytest.raises(photos.PhotoError):
        photos.process(data)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """An empty photo store: a folder, or a prefix of a bucket on the real S3 server."""
    if request.param == "s3":
        return storage.S3Storage(request.getfixturevalue("s3_url"))
    return storage.LocalStorage(tmp_path)


def test_save_is_content_addressed_and_leaves_no_partial_files(store, tmp_path):
    p = photos.process(_jpeg((800, 600)))
    created = photos.save(store, p)
    assert {c.name for c in created} == {p.stored_name, p.thumb_name}
    assert {c.parent.name for c in created} == {p.stored_name[:2], p.thumb_name[:2]}  # sharded
    assert p.stored_name == hashlib.sha256(p.display).hexdigest() + ".jpg"
    assert photos.read(store, p.stored_name) == p.display
    assert sorted(name for name, _ in store.listing()) == sorted((p.stored_name, p.thumb_name))
    assert not list(tmp_path.rglob("*.part"))
    assert photos.save(store, p) == []  # the same picture again: nothing new written
    for bad in ("../etc/passwd", ".hidden", "a/b.jpg", ""):
        with pytest.raises(ValueError):
            photos.stored_path(tmp_path, bad)
        with pytest.raises(ValueError):
            photos.read(store, bad)


def _exif_jpeg(size, orientation=None, gps=None, color=(200, 120, 40)) -> bytes:
    """A JPEG whose left half is red, so the applied rotation can be seen in the result."""
    image = Image.new("RGB", size, color)
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        (lat, lat_ref), (lon, lon_ref) = gps
        exif[0x8825] = {1: lat_ref, 2: lat, 3: lon_ref, 4: lon}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.mark.parametrize(
    ("orientation", "size", "red_at"),
    [
        (None, (400, 200), "left"),
        (3, (400, 200), "right"),  # rotated 180°
        (6, (400, 200), "top"),  # rotated 90° clockwise: stored landscape, shown portrait
        (8, (400, 200), "bottom"),  # rotated 90° counter-clockwise
    ],
)
def test_exif_orientation_is_applied(orientation, size, red_at):
    p = photos.process(_exif_jpeg(size, orientation))
    with Image.open(io.BytesIO(p.display)) as image:
        w, h = image.size
        assert (w > h) == (orientation in (None, 3))
        probes = {
            "left": (w // 8, h // 2),
            "right": (7 * w // 8, h // 2),
            "top": (w // 2, h // 8),
            "bottom": (w // 2, 7 * h // 8),
        }
        r, g, b = image.convert("RGB").getpixel(probes[red_at])
        assert r > 200 and g < 60 and b < 60, (orientation, red_at, (r, g, b))


def test_exif_gps_is_kept_as_evidence_and_stripped_from_files():
    gps = (((0, 30, 7.92), "S"), ((117, 9, 12.96), "E"))  # Samarinda
    p = photos.process(_exif_jpeg((800, 600), gps=gps))
    assert p.exif_lat == pytest.approx(-0.5022, abs=1e-4)
    assert p.exif_lon == pytest.approx(117.1536, abs=1e-4)
    for data in (p.display, p.thumb):
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif() and "exif" not in image.info


def test_malformed_exif_is_treated_as_absent():
    image = Image.new("RGB", (64, 64), "white")
    exif = Image.Exif()
    exif[0x0132] = "not a date at all" * 50
    exif[0x8825] = {2: (1.0, 2.0), 4: 5.0}  # two parts instead of three, a bare number
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    p = photos.process(out.getvalue())
    assert p.exif_taken_at is None and p.exif_lat is None


def test_png_with_alpha_becomes_white_not_black():
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))  # fully transparent
    out = io.BytesIO()
    image.save(out, "PNG")
    p = photos.process(out.getvalue())
    with Image.open(io.BytesIO(p.display)) as display:
        assert display.mode == "RGB" and display.getpixel((100, 50))[0] > 240


def test_webp_accepted():
    out = io.BytesIO()
    Image.new("RGB", (300, 200), "green").save(out, "WEBP")
    assert photos.process(out.getvalue()).width == 300


def test_oversized_dimensions_refused_before_decoding(monkeypatch):
    # A PNG header claiming 10000x10000 (100 MP): refused from the header, never decoded.
    out = io.BytesIO()
    Image.new("1", (10000, 10000)).save(out, "PNG")
    data = out.getvalue()
    assert len(data) < 100_000
    with pytest.raises(photos.PhotoError, match="40 megapiksel"):
        photos.process(data)


def test_too_many_bytes_refused():
    with pytest.raises(photos.PhotoError, match="lebih dari 1 MB"):
        photos.process(b"\xff\xd8" + b"\0" * (1024 * 1024 + 10), max_bytes=1024 * 1024)


@pytest.mark.parametrize(
    "data",
    [
        b"this is a text file named photo.jpg\n" * 10,
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"%PDF-1.4 fake",
    ],
)
def test_things_named_jpg_are_judged_by_decoding(data):
    with pytest.raises(photos.PhotoError):
        photos.process(data)


def test_gif_and_tiff_refused_even_though_pillow_reads_them():
    for fmt in ("GIF", "TIFF"):
        out = io.BytesIO()
        Image.new("RGB", (50, 50), "blue").save(out, fmt)
        with pytest.raises(photos.PhotoError, match="Format.*HEIC"):  # HEIC is accepted: the message says so
            photos.process(out.getvalue())


def test_truncated_jpeg_refused():
    data = _jpeg((1200, 900))
    with pytest.raises(photos.PhotoError):
        photos.process(data[: len(data) // 2])


def test_hamming_distance():
    assert photos.hamming("0000000000000000", "000000000000000f") == 4
    assert photos.hamming("ffffffffffffffff", "ffffffffffffffff") == 0
