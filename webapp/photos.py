"""The photo pipeline: check, normalise, hash and store a visit photo. No request needed.

The original upload is never kept: only a re-encoded display copy and a thumbnail (both without EXIF),
under generated names, so nothing a client sends (names, scripts hidden in metadata) reaches the disk as is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

DISPLAY_MAX = 1600
THUMB_MAX = 320
JPEG_QUALITY = 80
MAX_PIXELS = 50_000_000  # a 50 MP camera is the largest honest source; beyond is a bomb
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}


class PhotoError(ValueError):
    """A photo that cannot be accepted; the message is for the person who sent it."""


@dataclass
class ProcessedPhoto:
    display: bytes
    thumb: bytes
    sha256: str
    phash: str
    width: int
    height: int
    exif_taken_at: dt.datetime | None


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


def _exif_taken_at(image: Image.Image) -> dt.datetime | None:
    try:
        exif = image.getexif()
        raw = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
        if isinstance(raw, bytes):
            raw = raw.decode("ascii", "replace")
        return dt.datetime.strptime(str(raw).strip()[:19], "%Y:%m:%d %H:%M:%S") if raw else None
    except (ValueError, TypeError, KeyError, OSError):
        return None  # malformed EXIF is treated as absent


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def process(data: bytes) -> ProcessedPhoto:
    """Validate an uploaded image and produce its display copy, thumbnail and hashes."""
    if not data:
        raise PhotoError(_l("Berkas foto kosong."))
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED_FORMATS:
                raise PhotoError(_l("Format foto tidak didukung. Kirim foto JPEG, PNG, atau WebP."))
            if image.width * image.height > MAX_PIXELS:
                raise PhotoError(_l("Ukuran gambar terlalu besar."))
            taken_at = _exif_taken_at(image)
            image.draft("RGB", (DISPLAY_MAX, DISPLAY_MAX))  # JPEG: decode at reduced scale, much faster
            image = ImageOps.exif_transpose(image).convert("RGB")
            image.thumbnail((DISPLAY_MAX, DISPLAY_MAX), Image.Resampling.LANCZOS)
            thumb = image.copy()
            thumb.thumbnail((THUMB_MAX, THUMB_MAX), Image.Resampling.LANCZOS)
            return ProcessedPhoto(
                display=_jpeg(image), thumb=_jpeg(thumb), sha256=hashlib.sha256(data).hexdigest(),
                phash=dhash(thumb), width=image.width, height=image.height, exif_taken_at=taken_at,
            )
    except PhotoError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        raise PhotoError(_l("Berkas ini bukan foto yang dapat dibaca.")) from exc


def stored_path(upload_dir: str | os.PathLike, name: str) -> Path:
    """Where a stored name lives: fanned out by its first two characters to keep folders small."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError("not a stored photo name")
    return Path(upload_dir) / name[:2] / name


def save(upload_dir: str | os.PathLike, photo: ProcessedPhoto) -> tuple[str, str]:
    """Write the display copy and thumbnail under fresh names; returns (stored_name, thumb_name)."""
    stem = uuid.uuid4().hex
    names = (f"{stem}.jpg", f"{stem}_t.jpg")
    for name, content in zip(names, (photo.display, photo.thumb), strict=True):
        path = stored_path(upload_dir, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(content)
        os.replace(tmp, path)  # readers never see half a file
    return names
