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
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from flask_babel import lazy_gettext as _l
from PIL import ExifTags, Image, ImageCms, ImageOps

from . import photohash, storage

try:  # iPhones send HEIC; without the plugin such a photo is refused as unreadable
    import pillow_heif

    pillow_heif.register_heif_opener(thumbnails=False)
except ImportError:  # pragma: no cover
    pillow_heif = None

DISPLAY_MAX = 1600
THUMB_MAX = 320
JPEG_QUALITY = 80
MAX_PIXELS = 40_000_000  # JPEG, refused before decoding: larger is no phone photo, and may be a decompression bomb
MAX_BYTES = 20 * 1024 * 1024
# Pixels a format may have, checked from the header before decoding. A JPEG is decoded at 1/2 to 1/8 of its size
# (`draft`), so 40 MP costs what 2.5 MP would. PNG, WebP and HEIC decode at full size (and WebP twice, through its
# animation decoder): phones send them at most 12 MP (4032x3024, 4080x3072), never 40.
OTHER_MAX_PIXELS = 13_000_000
PIXEL_BUDGET = {
    "JPEG": MAX_PIXELS,
    "MPO": MAX_PIXELS,
    "PNG": OTHER_MAX_PIXELS,
    "WEBP": OTHER_MAX_PIXELS,
    "HEIF": OTHER_MAX_PIXELS,
}
ACCEPTED_FORMATS = set(PIXEL_BUDGET)
_OTHER_TOO_LARGE = _l("Gambar PNG, WebP, atau HEIC ini terlalu besar (lebih dari 13 megapiksel). Kirim foto JPEG.")
_SRGB = ImageCms.createProfile("sRGB")


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
    """When the picture was taken: DateTimeOriginal, else DateTimeDigitized. DateTime is when it was last edited."""
    try:
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
        for tag in (ExifTags.Base.DateTimeOriginal, ExifTags.Base.DateTimeDigitized):
            raw = ifd.get(tag)
            if isinstance(raw, bytes):
                raw = raw.decode("ascii", "replace")
            raw = str(raw or "").strip("\0 ")
            if raw:
                try:
                    return dt.datetime.strptime(raw[:19], "%Y:%m:%d %H:%M:%S")
                except ValueError:
                    continue  # e.g. "0000:00:00 00:00:00" from a camera whose clock was never set
    except (ValueError, TypeError, KeyError, OSError, AttributeError):
        pass  # malformed EXIF is treated as absent
    return None


def _part(value) -> float:
    """One rational of a GPS coordinate; an undefined one (0/0, as some phones write for seconds) counts as 0."""
    number = float(value)
    return 0.0 if math.isnan(number) else number


def _degrees(value, ref) -> float:
    degrees, minutes, seconds = value
    if math.isnan(float(degrees)):
        raise ValueError("no degrees")
    result = float(degrees) + _part(minutes) / 60 + _part(seconds) / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    return -result if str(ref).strip("\0 ").upper() in ("S", "W") else result  # refs may be NUL-padded: "S\0"


def _exif_gps(exif: Image.Exif) -> tuple[float | None, float | None]:
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        if not gps:
            return None, None
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps.get(ExifTags.GPS.GPSLatitudeRef, "N"))
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps.get(ExifTags.GPS.GPSLongitudeRef, "E"))
        if lat == 0 and lon == 0:
            return None, None  # what a device without a fix writes: no position, not a point in the Gulf of Guinea
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return round(lat, 7), round(lon, 7)
    except (ValueError, TypeError, KeyError, ZeroDivisionError, OSError, AttributeError):
        pass
    return None, None


def _jpeg(image: Image.Image) -> bytes:
    """Baseline JPEG: optimised/progressive encoding cost more time than the few per cent of bytes it saved.

    Nothing of the upload's metadata goes along: Pillow copies a JPEG comment (and XMP) from `info` when saving,
    so `info` is emptied and no EXIF or colour profile is passed (the pixels are already sRGB).
    """
    image.info = {}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """`size` scaled so its longest side is at most `longest`, proportions kept."""
    scale = max(size) / longest
    return (max(1, round(size[0] / scale)), max(1, round(size[1] / scale))) if scale > 1 else size


def _resizable(image: Image.Image) -> Image.Image:
    """A mode that resizes smoothly and keeps its colours: 16-bit and float greys scaled to 8 bits (a plain
    conversion clips them to white), palettes expanded (a palette image only resizes by nearest neighbour)."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return image.convert("I").point(lambda v: v / 256).convert("L")
    if image.mode == "I":
        return image.point(lambda v: v / 256).convert("L")  # 16-bit greys read as 32-bit
    if image.mode == "F":
        return image.convert("L")
    if image.mode in ("P", "PA"):
        return image.convert("RGBA" if image.mode == "PA" or "transparency" in image.info else "RGB")
    if image.mode == "1":
        return image.convert("L")
    if image.mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return image.convert("RGBA" if "A" in image.getbands() else "RGB")
    return image


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB in sRGB: a colour profile (Display P3 of iPhones, Adobe RGB of cameras, CMYK of print) is converted,
    not dropped; transparent parts of a PNG/WebP become white, not black. A broken profile is ignored."""
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            space = profile.profile.xcolor_space.strip()
            if image.mode in ("RGBA", "LA"):
                image = _flatten(image)
            if (space, image.mode) in (("RGB", "RGB"), ("CMYK", "CMYK"), ("GRAY", "L")):
                return ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError, AttributeError):
            pass
    return _flatten(image)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: transparent parts of a PNG/WebP become white, not black."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _unreadable() -> PhotoError:
    return PhotoError(_l("Berkas ini bukan foto yang dapat dibaca (rusak atau bukan gambar)."))


def too_large_message(max_bytes: int):
    """The refusal of a file over the size limit (the phone's form shows the same words before sending)."""
    return _l("Foto lebih dari %(mb)s MB. Kirim foto yang lebih kecil.", mb=max_bytes // (1024 * 1024))


def process(data: bytes, max_bytes: int = MAX_BYTES) -> ProcessedPhoto:
    """Validate an uploaded image and produce its display copy, thumbnail, hashes and EXIF evidence.

    Memory is bounded before anything is decoded: the header's size must fit the format's pixel budget, and a
    JPEG is decoded already scaled down (1/2 to 1/8, `draft`). Every step after the decode works on the
    downscaled picture, and the full-size one is freed as soon as it is downscaled.
    """
    if not data:
        raise PhotoError(_l("Berkas foto kosong."))
    if len(data) > max_bytes:
        raise PhotoError(too_large_message(max_bytes))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                if opened.format not in ACCEPTED_FORMATS:
                    raise PhotoError(
                        _l("Format foto tidak didukung. Kirim foto JPEG, PNG, WebP, atau HEIC (foto iPhone).")
                    )
                if opened.width * opened.height > MAX_PIXELS:
                    raise PhotoError(_l("Gambar terlalu besar (lebih dari 40 megapiksel)."))
                if opened.width * opened.height > PIXEL_BUDGET[opened.format]:
                    raise PhotoError(_OTHER_TOO_LARGE)
                exif = opened.getexif()
                taken_at = _exif_taken_at(exif)
                exif_lat, exif_lon = _exif_gps(exif)
                orientation = exif.get(ExifTags.Base.Orientation)
                icc = opened.info.get("icc_profile")
                # JPEG (and a camera's MPO, whose first frame is the picture): let the decoder scale down by 1/2,
                # 1/4 or 1/8 on the way in. The box must have the picture's own proportions: draft() only scales
                # while both sides stay at or above it.
                if opened.format in ("JPEG", "MPO"):
                    opened.draft(opened.mode if opened.mode in ("L", "CMYK") else "RGB", _fit(opened.size, DISPLAY_MAX))
                opened.load()
                image = _resizable(opened)
                if image is not opened:
                    opened.close()  # the full-size decode is not needed any more
                image.thumbnail((DISPLAY_MAX, DISPLAY_MAX), Image.Resampling.BICUBIC, reducing_gap=2.0)
            if orientation and orientation != 1:
                image.getexif()[ExifTags.Base.Orientation] = orientation
                image = ImageOps.exif_transpose(image)
            image = _to_srgb(image, icc)
            thumb = image.resize(_fit(image.size, THUMB_MAX), Image.Resampling.BICUBIC, reducing_gap=2.0)
            return ProcessedPhoto(
                display=_jpeg(image),
                thumb=_jpeg(thumb),
                sha256=hashlib.sha256(data).hexdigest(),
                phash=photohash.hash_text(thumb),
                width=image.width,
                height=image.height,
                exif_taken_at=taken_at,
                exif_lat=exif_lat,
                exif_lon=exif_lon,
            )
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoError(_l("Gambar terlalu besar (lebih dari 40 megapiksel).")) from exc
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure (NotImplementedError of DDS, struct.error…)
        raise _unreadable() from exc


def stored_path(target, name: str) -> Path:
    """Where a stored name lives in a local folder: sharded by its first two characters to keep folders small.
    (`target` is a folder or a local store; an object store has keys, see `storage.S3Storage.key`.)"""
    store = storage.resolve(target)
    if not isinstance(store, storage.LocalStorage):
        raise TypeError("photos in an object store have no local path: use photos.read or storage.current().open")
    return store.path(name)


def read(target, name: str) -> bytes:
    """A stored file's bytes from a folder or the app's store; FileNotFoundError when it is not stored."""
    return storage.resolve(target).read(name)


def open_stored(name: str):
    """What `send_file` serves for a stored name from the app's store: a path (folder) or the bytes (bucket).
    FileNotFoundError when it is not stored; `storage.StorageUnavailable` when the store does not answer."""
    return storage.current().open(name)


def save(target, photo: ProcessedPhoto) -> list:
    """Write the display copy and thumbnail into `target` (a folder, the app's UPLOAD_DIR standing for its
    configured store, or a store); returns the paths (keys) this call created.

    Files are content-addressed and may be shared by photo rows of other visits, being committed at this very
    moment: so a file is created atomically and never overwritten, and a file that already exists gets a fresh
    modification time, which keeps `prune` (the only place files are deleted) away from it until the photo row
    is committed. An unreachable store raises `storage.StorageUnavailable`.
    """
    store = storage.resolve(target)
    created = []
    for name, content in ((photo.stored_name, photo.display), (photo.thumb_name, photo.thumb)):
        path = store.save(name, content)
        if path is not None:
            created.append(path)
    return created


PRUNE_GRACE = dt.timedelta(hours=24)


def orphans(target, referenced: set[str], grace: dt.timedelta = PRUNE_GRACE, now: float | None = None) -> list:
    """Stored photo files no photo row names and untouched for longer than `grace` (candidates for `prune`)."""
    store = storage.resolve(target)
    names = storage.orphan_names(store, referenced, grace, now)
    return [store.path(n) if isinstance(store, storage.LocalStorage) else PurePosixPath(store.key(n)) for n in names]


def prune(
    target,
    is_referenced,
    grace: dt.timedelta = PRUNE_GRACE,
    now: float | None = None,
    referenced: set[str] | None = None,
) -> list:
    """Delete orphan files: not named by any committed photo row, and not saved again within `grace`.

    `is_referenced(name)` asks the database at the moment of deletion; each store checks a candidate again
    just before deleting it and puts back what a request saved or committed meanwhile (see `storage`).
    Returns the deleted paths (keys).
    """
    store = storage.resolve(target)
    limit = (time.time() if now is None else now) - grace.total_seconds()
    names = storage.orphan_names(store, referenced or set(), grace, now)
    return store.prune(names, is_referenced, limit)
