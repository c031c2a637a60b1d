"""The photo pipeline: check, normalise, hash and store a visit photo. No request needed.

What a phone sends is judged by decoding it, never by its name or MIME type. The upload itself is never kept:
only a re-encoded display copy (longest side 1600 px) and a thumbnail (320 px), both without metadata, under
content-addressed names (the sha256 of the stored bytes), so nothing hidden in a file reaches the disk and the
same picture stored twice is one file. EXIF capture time and GPS are read first and kept in the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

DISPLAY_MAX = 1600
THUMB_MAX = 320
JPEG_QUALITY = 80
MAX_PIXELS = 40_000_000  # refused before decoding: larger is no phone photo, and may be a decompression bomb
MAX_BYTES = 20 * 1024 * 1024
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}


class PhotoError(ValueError):
    """A photo that cannot be accepted; the message is for the person who sent it."""


@dataclass
class ProcessedPhoto:
    display: bytes
    thumb: bytes
    sha256: str  # of the upload as sent: the exact same file sent again has the same value
    phash: str
    width: int
    height: int
    exif_taken_at: dt.datetime | None
    exif_lat: float | None = None
    exif_lon: float | None = None

    @property
    def stored_name(self) -> str:
        return hashlib.sha256(self.display).hexdigest() + ".jpg"

    @property
    def thumb_name(self) -> str:
        return hashlib.sha256(self.thumb).hexdigest() + ".jpg"


def dhash(image: Image.Image, size: int = 8) -> str:
    """64-bit difference hash as 16 hex digits: near-identical pictures differ in few bits."""
    small = image.convert("L").resize((size + 1, size), Image.Resampling.BILINEAR)
    pixels = small.tobytes()  # mode L: one byte a pixel, row by row
    bits = 0
    for row in range(size):
        for col in range(size):
            left = pixels[row * (size + 1) + col]
            right = pixels[row * (size + 1) + col + 1]
            bits = (bits << 1) | (1 if left > right else 0)
    return f"{bits:016x}"


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _exif_taken_at(exif: Image.Exif) -> dt.datetime | None:
    try:
        raw = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
        if isinstance(raw, bytes):
            raw = raw.decode("ascii", "replace")
        return dt.datetime.strptime(str(raw).strip()[:19], "%Y:%m:%d %H:%M:%S") if raw else None
    except (ValueError, TypeError, KeyError, OSError, AttributeError):
        return None  # malformed EXIF is treated as absent


def _degrees(value, ref) -> float | None:
    degrees, minutes, seconds = (float(part) for part in value)
    result = degrees + minutes / 60 + seconds / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    return -result if str(ref).strip().upper() in ("S", "W") else result


def _exif_gps(exif: Image.Exif) -> tuple[float | None, float | None]:
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        if not gps:
            return None, None
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps.get(ExifTags.GPS.GPSLatitudeRef, "N"))
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps.get(ExifTags.GPS.GPSLongitudeRef, "E"))
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return round(lat, 7), round(lon, 7)
    except (ValueError, TypeError, KeyError, ZeroDivisionError, OSError, AttributeError):
        pass
    return None, None


def _jpeg(image: Image.Image) -> bytes:
    """Baseline JPEG: optimised/progressive encoding cost more time than the few per cent of bytes it saved."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """`size` scaled so its longest side is at most `longest`, proportions kept."""
    scale = max(size) / longest
    return (max(1, round(size[0] / scale)), max(1, round(size[1] / scale))) if scale > 1 else size


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: transparent parts of a PNG/WebP become white, not black."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def process(data: bytes, max_bytes: int = MAX_BYTES) -> ProcessedPhoto:
    """Validate an uploaded image and produce its display copy, thumbnail, hashes and EXIF evidence."""
    if not data:
        raise PhotoError(_l("Berkas foto kosong."))
    if len(data) > max_bytes:
        raise PhotoError(_l("Foto lebih dari %(mb)s MB. Kirim foto yang lebih kecil.", mb=max_bytes // (1024 * 1024)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in ACCEPTED_FORMATS:
                    raise PhotoError(_l("Format foto tidak didukung. Kirim foto JPEG, PNG, atau WebP."))
                if image.width * image.height > MAX_PIXELS:
                    raise PhotoError(_l("Gambar terlalu besar (lebih dari 40 megapiksel)."))
                exif = image.getexif()
                taken_at = _exif_taken_at(exif)
                exif_lat, exif_lon = _exif_gps(exif)
                # JPEG: let the decoder scale down by 1/2, 1/4 or 1/8 on the way in. The box must have the
                # picture's own proportions: draft() only scales while both sides stay at or above it.
                image.draft("RGB", _fit(image.size, DISPLAY_MAX))
                image = _flatten(ImageOps.exif_transpose(image))
                image.thumbnail((DISPLAY_MAX, DISPLAY_MAX), Image.Resampling.BICUBIC, reducing_gap=2.0)
                thumb = image.resize(_fit(image.size, THUMB_MAX), Image.Resampling.BICUBIC, reducing_gap=2.0)
                return ProcessedPhoto(
                    display=_jpeg(image), thumb=_jpeg(thumb), sha256=hashlib.sha256(data).hexdigest(),
                    phash=dhash(thumb), width=image.width, height=image.height, exif_taken_at=taken_at,
                    exif_lat=exif_lat, exif_lon=exif_lon,
                )
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoError(_l("Gambar terlalu besar (lebih dari 40 megapiksel).")) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise PhotoError(_l("Berkas ini bukan foto yang dapat dibaca (rusak atau bukan gambar).")) from exc


def stored_path(upload_dir: str | os.PathLike, name: str) -> Path:
    """Where a stored name lives: sharded by its first two characters to keep folders small."""
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
        raise ValueError("not a stored photo name")
    return Path(upload_dir) / name[:2] / name


def save(upload_dir: str | os.PathLike, photo: ProcessedPhoto) -> list[Path]:
    """Write the display copy and thumbnail; returns the paths this call created (for cleanup on failure).

    A file that already exists has the same content (content-addressed) and is left as it is.
    """
    created = []
    for name, content in ((photo.stored_name, photo.display), (photo.thumb_name, photo.thumb)):
        path = stored_path(upload_dir, name)
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.{uuid.uuid4().hex}.part")  # unique: threads may write the same photo
        tmp.write_bytes(content)
        os.replace(tmp, path)  # readers never see half a file
        created.append(path)
    return created


def remove(paths: list[Path]) -> None:
    """Undo `save` for files no database row will point to."""
    for path in paths:
        path.unlink(missing_ok=True)
