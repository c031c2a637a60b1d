"""The photo pipeline: sizes, hashes, EXIF time, and refusal of what is not a photo."""

import datetime as dt
import hashlib
import io

import pytest
from PIL import Image

from webapp import photos
from webapp.demo import demo_photo


def _jpeg(size=(4000, 3000), exif_time: str | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 120, 40))
    out = io.BytesIO()
    exif = Image.Exif()
    if exif_time:
        exif[0x0132] = exif_time  # DateTime
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def test_camera_photo_is_downscaled_with_thumbnail_and_hashes():
    p = photos.process(_jpeg(exif_time="2026:11:20 09:15:00"))
    assert max(p.width, p.height) == photos.DISPLAY_MAX
    with Image.open(io.BytesIO(p.display)) as display, Image.open(io.BytesIO(p.thumb)) as thumb:
        assert display.format == "JPEG" and max(display.size) == 1600
        assert max(thumb.size) == photos.THUMB_MAX
        assert not display.getexif()  # metadata (location, device) is not passed on
    assert len(p.sha256) == 64 and len(p.phash) == 16
    assert p.exif_taken_at == dt.datetime(2026, 11, 20, 9, 15)


def test_dhash_is_stable_and_discriminates():
    a1 = photos.process(demo_photo("warung", seed=1)).phash
    a2 = photos.process(demo_photo("warung", seed=1)).phash
    b = photos.process(demo_photo("warung", seed=2)).phash
    assert a1 == a2
    assert bin(int(a1, 16) ^ int(b, 16)).count("1") > 8


@pytest.mark.parametrize("data", [b"", b"<html><script>alert(1)</script></html>", b"GIF89a" + b"\0" * 100,
                                  _jpeg((100, 100))[:200]])
def test_non_photos_are_refused(data):
    with pytest.raises(photos.PhotoError):
        photos.process(data)


def test_save_is_content_addressed_and_leaves_no_partial_files(tmp_path):
    p = photos.process(_jpeg((800, 600)))
    created = photos.save(tmp_path, p)
    assert {c.name for c in created} == {p.stored_name, p.thumb_name}
    assert p.stored_name == hashlib.sha256(p.display).hexdigest() + ".jpg"
    assert photos.stored_path(tmp_path, p.stored_name).read_bytes() == p.display
    assert photos.stored_path(tmp_path, p.stored_name).parent.name == p.stored_name[:2]
    assert not list(tmp_path.rglob("*.part"))
    assert photos.save(tmp_path, p) == []  # the same picture again: nothing new written
    for bad in ("../etc/passwd", ".hidden", "a/b.jpg", ""):
        with pytest.raises(ValueError):
            photos.stored_path(tmp_path, bad)
