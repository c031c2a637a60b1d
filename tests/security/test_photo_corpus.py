"""The photo pipeline against files that phones and cameras really produce (tests/photos/, see its README),
and against crafted EXIF that real devices write: every file is either accepted with a sane picture or refused
with a message for the sender, never a 500; nothing of the upload's metadata reaches the stored copies."""

import io
import struct
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageStat, TiffImagePlugin

from webapp import photos

CORPUS = Path(__file__).resolve().parent.parent / "photos"
R = TiffImagePlugin.IFDRational

# name: (expected outcome, size of the stored display copy after orientation)
EXPECTED = {
    "flower.jpg": ("accept", (480, 360)),  # Canon PowerShot S40
    "broken_exif_dpi.jpg": ("accept", (100, 100)),  # Nikon D800, malformed resolution tag
    "empty_gps_ifd.jpg": ("accept", (10, 10)),  # Xiaomi Redmi Note 9S, GPS IFD without a fix
    "iptc.jpg": ("accept", (640, 480)),  # Nokia N70, IPTC block
    "flower2.jpg": ("accept", (300, 225)),  # Photoshop: XMP, IPTC, sRGB profile
    "pil_sample_cmyk.jpg": ("accept", (100, 100)),  # CMYK JPEG
    "hopper_orientation_6.jpg": ("accept", (128, 128)),  # EXIF orientation 6
    "frame_size.mpo": ("accept", (56, 70)),  # iPhone 14 Pro Max: MPO, Display P3 profile
    "sugarshack.mpo": ("accept", (640, 480)),  # Nintendo 3DS stereo pair
    "ignore_frame_size.mpo": ("accept", (64, 64)),  # Samsung NX1000
    "empty_icc.heic": ("accept", (1025, 900)),  # iPhone XS HEIC with GPS
    "L_exif_xmp_iptc.heic": ("accept", (64, 64)),  # Sony ILCE-7SM3 HEIF, greyscale
    "hopper.webp": ("accept", (128, 128)),
    "icc_profile.png": ("accept", (57, 57)),  # RGBA with an sRGB profile
    "ultrahdr.jpg": ("refuse", None),  # Pixel 6 Ultra HDR, cut short in the Pillow test suite
    "truncated_image.png": ("refuse", None),
    "unimplemented_dxgi_format.dds": ("refuse", None),  # raised NotImplementedError: a 500
    "unimplemented_pixel_format.dds": ("refuse", None),
}
ALLOWED_MARKERS = {0xD8, 0xE0, 0xDB, 0xC0, 0xC4, 0xDA, 0xD9, 0xDD}  # SOI, JFIF, tables, baseline frame, scan, EOI


def _markers(data: bytes) -> list[int]:
    """The JPEG segment markers up to the first scan."""
    assert data[:2] == b"\xff\xd8"
    found, pos = [0xD8], 2
    while pos < len(data):
        marker = data[pos + 1]
        found.append(marker)
        if marker == 0xDA:
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return found


def _assert_clean(p: photos.ProcessedPhoto) -> None:
    for data in (p.display, p.thumb):
        assert set(_markers(data)) <= ALLOWED_MARKERS, [hex(m) for m in _markers(data)]
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG" and image.mode == "RGB"
            assert not image.getexif() and "icc_profile" not in image.info and "comment" not in image.info


def test_the_corpus_is_what_the_table_describes():
    files = {f.name for f in CORPUS.iterdir() if f.name != "README.md"}
    assert files == set(EXPECTED)
    assert sum(f.stat().st_size for f in CORPUS.iterdir()) < 3 * 1024 * 1024
    readme = (CORPUS / "README.md").read_text()
    assert all(name in readme for name in files)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_corpus_file_is_accepted_sanely_or_refused_cleanly(name):
    data = (CORPUS / name).read_bytes()
    outcome, size = EXPECTED[name]
    if outcome == "refuse":
        with pytest.raises(photos.PhotoError, match="bukan foto yang dapat dibaca"):
            photos.process(data)
        return
    p = photos.process(data)
    assert (p.width, p.height) == size
    _assert_clean(p)
    with Image.open(io.BytesIO(p.display)) as display, Image.open(io.BytesIO(p.thumb)) as thumb:
        assert display.size == size and max(thumb.size) <= photos.THUMB_MAX
        with Image.open(CORPUS / name) as source:  # colours as Pillow shows the first frame, profile aside
            source.seek(0)
            expected = ImageStat.Stat(source.convert("RGB").resize(size)).mean
        assert all(abs(a - b) < 8 for a, b in zip(ImageStat.Stat(display).mean, expected, strict=True))


def test_mpo_from_a_camera_is_its_first_frame():
    with Image.open(CORPUS / "sugarshack.mpo") as mpo:
        mpo.seek(0)
        first = ImageStat.Stat(mpo.convert("RGB")).mean
    with Image.open(io.BytesIO(photos.process((CORPUS / "sugarshack.mpo").read_bytes()).display)) as display:
        assert all(abs(a - b) < 4 for a, b in zip(ImageStat.Stat(display).mean, first, strict=True))


def test_heic_from_an_iphone_keeps_time_and_position_as_evidence():
    p = photos.process((CORPUS / "empty_icc.heic").read_bytes())
    assert p.exif_taken_at is not None and p.exif_lat is not None and p.exif_lon is not None
    _assert_clean(p)


def test_jpeg_comment_and_xmp_are_not_copied():
    out = io.BytesIO()
    Image.new("RGB", (200, 100), (30, 90, 160)).save(
        out, "JPEG", comment=b"rumah pendamping: Jl. Rahasia 7", xmp=b"<x:xmpmeta>Jl. Rahasia 7</x:xmpmeta>"
    )
    p = photos.process(out.getvalue())
    _assert_clean(p)
    assert b"Rahasia" not in p.display and b"Rahasia" not in p.thumb


def test_png_text_chunks_are_not_copied():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "rumah pendamping: Jl. Rahasia 7")
    info.add_text("Author", "Rahasia")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>Rahasia</x:xmpmeta>")
    out = io.BytesIO()
    Image.new("RGB", (200, 100), (30, 90, 160)).save(out, "PNG", pnginfo=info)
    p = photos.process(out.getvalue())
    _assert_clean(p)
    assert b"Rahasia" not in p.display and b"Rahasia" not in p.thumb


def test_16_bit_png_is_rendered_not_white():
    out = io.BytesIO()
    Image.new("I;16", (100, 100), 0x8000).save(out, "PNG")  # mid grey in 16 bits
    with Image.open(io.BytesIO(photos.process(out.getvalue()).display)) as display:
        r, g, b = display.getpixel((50, 50))
        assert 118 <= r <= 138 and r == g == b


def test_colour_profile_is_converted_to_srgb_not_dropped():
    with Image.open(CORPUS / "frame_size.mpo") as iphone:
        display_p3 = iphone.info["icc_profile"]
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 100, 100)).save(out, "JPEG", quality=100, icc_profile=display_p3)
    with Image.open(io.BytesIO(photos.process(out.getvalue()).display)) as display:
        r, g, b = display.getpixel((32, 32))
    expected = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), (200, 100, 100)),
        ImageCms.ImageCmsProfile(io.BytesIO(display_p3)),
        ImageCms.createProfile("sRGB"),
    ).getpixel((0, 0))
    assert abs(r - expected[0]) <= 3 and abs(g - expected[1]) <= 3 and abs(b - expected[2]) <= 3
    assert r - 200 >= 10  # Display P3 red is more saturated than the same numbers in sRGB


def test_broken_colour_profile_is_ignored():
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 100, 100)).save(out, "JPEG", icc_profile=b"not a profile" * 20)
    assert photos.process(out.getvalue()).width == 64


def _gps_jpeg(gps: dict, exif_ifd: dict | None = None, base: dict | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x8825] = gps
    for tag, value in (base or {}).items():
        exif[tag] = value
    if exif_ifd:
        exif.get_ifd(0x8769).update(exif_ifd)
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_gps_seconds_written_as_0_over_0_keep_the_position():
    p = photos.process(_gps_jpeg({1: "S", 2: (R(0, 1), R(30, 1), R(0, 0)), 3: "E", 4: (R(117, 1), R(9, 1), R(0, 0))}))
    assert p.exif_lat == pytest.approx(-0.5) and p.exif_lon == pytest.approx(117.15)


def test_gps_refs_padded_with_nul_keep_their_sign():
    p = photos.process(_gps_jpeg({1: "S\0", 2: (0.0, 30.0, 7.92), 3: "W\0", 4: (117.0, 9.0, 12.96)}))
    assert p.exif_lat == pytest.approx(-0.5022, abs=1e-4) and p.exif_lon == pytest.approx(-117.1536, abs=1e-4)


def test_gps_zero_zero_without_a_fix_is_no_position():
    p = photos.process(_gps_jpeg({1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}))
    assert p.exif_lat is None and p.exif_lon is None


def test_gps_without_degrees_is_no_position():
    p = photos.process(_gps_jpeg({1: "N", 2: (R(0, 0), R(0, 0), R(0, 0)), 3: "E", 4: (R(117, 1), R(9, 1), R(0, 0))}))
    assert p.exif_lat is None and p.exif_lon is None


def test_capture_time_is_datetime_original_then_digitized_never_the_edit_time():
    edited_only = photos.process(_gps_jpeg({}, base={0x0132: "2026:11:30 20:00:00"}))
    assert edited_only.exif_taken_at is None  # DateTime is when an editor last saved the file
    digitized = photos.process(
        _gps_jpeg({}, exif_ifd={0x9004: "2026:11:20 09:15:00"}, base={0x0132: "2026:11:30 20:00:00"})
    )
    assert digitized.exif_taken_at.isoformat() == "2026-11-20T09:15:00"
    original = photos.process(_gps_jpeg({}, exif_ifd={0x9003: "2026:11:19 08:00:00", 0x9004: "2026:11:20 09:15:00"}))
    assert original.exif_taken_at.isoformat() == "2026-11-19T08:00:00"
    unset_clock = photos.process(_gps_jpeg({}, exif_ifd={0x9003: "0000:00:00 00:00:00", 0x9004: "2026:11:20 09:15:00"}))
    assert unset_clock.exif_taken_at.isoformat() == "2026-11-20T09:15:00"
