"""Perceptual photo hashes for the duplicate-photo flag: two independent hashes that must agree, and a gate.

A photo is hashed after its flat borders are trimmed (so a screenshot of it, with the phone's bars and the black
around the picture, hashes like the picture itself):

- the *lookup hash*: the signs of the 64 lowest-frequency DCT coefficients (zig-zag order, without the mean) of a
  32×32 grey copy, split into four 16-bit bands that the database indexes with the whole hash
  (`models.Photo.phash_b0..b3`, `phash_lookup`); two copies of one picture differ in a few bits of it;
- the *check hash*: 256 bits of horizontal and vertical brightness differences on a 16×8 / 8×16 grid (dHash),
  compared only for the candidates the lookup hash found.

A pair is a duplicate only when both hashes are close (or, for a pair the band index finds anyway, the lookup hash
a little further and the check hash very close: see `is_duplicate`). Pictures with too little structure — dark,
flat, a wall, a blurred shot, or a picture made of a few flat areas with an edge between them — have no stable
hash (their bits are noise or all zeros, or any two such pictures with an edge in the same place agree): they get
no hash at all and are shown as "tidak bisa dibandingkan", never flagged. Thresholds and their measured recall
and false-match rate: docs/PERFORMANCE.md ("Duplicate-photo quality"), bench/duplicate_quality.py.

The flat borders are found on a slightly blurred copy (JPEG noise), the hashes are taken from the sharp one, at
the thumbnail's own resolution (a screenshot's picture is only ~150 px wide in a 320 px thumbnail).

Stored text (`Photo.phash`): "4:" + three probes of 16 hex digits (lookup) + 64 hex digits (check), the first one
the stored pair; or "4:-" for a picture that cannot be compared. Version 2 (a median-thresholded 8×8 DCT block,
trimmed more eagerly) was replaced by migration 0013; version 3 (the same hashes without the flat-area gate and
the near rule) by migration 0017. Pillow only, no numpy: ~10 ms of CPU a photo.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from PIL import Image, ImageFilter, ImageStat

VERSION = "4"
NOT_COMPARABLE = f"{VERSION}:-"
LOOKUP_BITS = 64
CHECK_BITS = 256
PROBES = 3
LOOKUP_MAX = 7  # differing lookup bits still a duplicate, for each probe (the most the 4 x 16-bit bands guarantee)
CHECK_MAX = 56  # differing check bits still a duplicate (of 256)
MIN_CONTRAST = 8.0  # standard deviation of the trimmed grey picture (0-255) below which it is not comparable
MIN_EDGES = 0.20  # share of the check grid's differences above the noise step, below which not comparable
FLAT_SIZE = 64  # the centre is reduced to FLAT_SIZE x FLAT_SIZE for the flat-area gate ...
FLAT_BLOCK = 4  # ... and cut into blocks of FLAT_BLOCK x FLAT_BLOCK pixels;
FLAT_BLOCK_RANGE = 4  # a block whose brightest and darkest pixels are at most this far apart is flat;
FLAT_SHARE_MAX = 0.65  # a centre with at least this share of flat blocks is not comparable (a few flat areas)
NEAR_LOOKUP_MAX = 10  # the near rule: lookup bits still a duplicate when one band differs in <= 1 bit ...
NEAR_CHECK_MAX = 30  # ... and the check hash is this close (of 256)
EDGE_STEP = 6  # grey levels: a difference smaller than this is noise
INSET = 0.05  # the border left out of the stored hash (and added back by the probes)
WORK_SIZE = 320  # the picture is reduced to this longest side before anything else (the thumbnail's size)
TRIM_FLAT_SHARE = 0.98  # a border row/column is trimmed while this share of it is within FLAT_RANGE of its median
FLAT_RANGE = 3
MIN_RUN = 0.08  # a run of busy lines shorter than this share of the side is a bar's icons, not the picture
TRIM_MAX = 0.85  # never trim more than this share of a side in total (a phone screenshot: ~75 %)


@dataclass(frozen=True)
class PhotoHash:
    lookup: int  # 64 bits
    check: int  # 256 bits

    def hex(self) -> str:
        return f"{self.lookup:016x}{self.check:064x}"


@dataclass(frozen=True)
class PhotoHashes:
    """A picture's hashes: `stored` (of its centre, without a 5 % border) is what other pictures are compared
    with, and is indexed; `probes` are what this picture looks up with: its centre, the whole picture (a 5 %
    crop of a stored picture is that picture's centre) and the centre of its centre (a stored 5 % crop of this
    picture has that as its centre)."""

    stored: PhotoHash
    probes: tuple[PhotoHash, PhotoHash, PhotoHash]

    def text(self) -> str:
        return f"{VERSION}:" + "".join(h.hex() for h in self.probes)


TEXT_LENGTH = 2 + 3 * 80


def parse(text: str | None) -> PhotoHashes | None:
    """The hashes in a stored text; None for a picture that cannot be compared or an old-scheme hash."""
    if not text or not text.startswith(f"{VERSION}:") or len(text) != TEXT_LENGTH:
        return None
    probes = tuple(PhotoHash(int(text[i : i + 16], 16), int(text[i + 16 : i + 80], 16)) for i in range(2, 242, 80))
    return PhotoHashes(probes[0], probes)  # type: ignore[arg-type]


def bands(lookup: int) -> tuple[int, int, int, int]:
    """The lookup hash as four 16-bit integers, most significant first (the indexed columns)."""
    return tuple((lookup >> shift) & 0xFFFF for shift in (48, 32, 16, 0))  # type: ignore[return-value]


def _stored(stored: PhotoHashes | PhotoHash) -> PhotoHash:
    return stored.stored if isinstance(stored, PhotoHashes) else stored


def distance(new: PhotoHashes, stored: PhotoHashes | PhotoHash) -> tuple[int, int]:
    """(lookup bits, check bits) between the closest of `new`'s probes and `stored`'s stored hash."""
    s = _stored(stored)
    return min(((p.lookup ^ s.lookup).bit_count(), (p.check ^ s.check).bit_count()) for p in new.probes)


def _band_near(a: int, b: int) -> bool:
    """Whether one of the four 16-bit bands of two lookup hashes differs in at most one bit: exactly the pairs
    the band index hands back as candidates (integrity.candidate_query)."""
    return any(band.bit_count() <= 1 for band in bands(a ^ b))


def _close(p: PhotoHash, s: PhotoHash, lookup_max: int, check_max: int) -> bool:
    lookup, check = (p.lookup ^ s.lookup).bit_count(), (p.check ^ s.check).bit_count()
    if lookup <= lookup_max and check <= check_max:
        return True
    # The near rule: a copy whose lookup hash moved a little further than 7 bits (a screenshot of a fine pattern)
    # is still found when the index finds it and the check hash is very close.
    return lookup <= NEAR_LOOKUP_MAX and check <= NEAR_CHECK_MAX and _band_near(p.lookup, s.lookup)


def is_duplicate(
    new: PhotoHashes, stored: PhotoHashes | PhotoHash, lookup_max: int = LOOKUP_MAX, check_max: int = CHECK_MAX
) -> bool:
    """Whether `new` shows the same picture as `stored`: for one of its probes, both hashes are close, or the
    near rule holds (what the band index finds, see integrity.similar_photos)."""
    s = _stored(stored)
    return any(_close(p, s, lookup_max, check_max) for p in new.probes)


def signed64(value: int) -> int:
    """A 64-bit hash as the signed integer a BIGINT column holds."""
    return value - (1 << 64) if value >= 1 << 63 else value


# --- computing -------------------------------------------------------------------------------------------------


def _rows(image: Image.Image) -> list[bytes]:
    w = image.width
    data = image.tobytes()
    return [data[i : i + w] for i in range(0, len(data), w)]


def _flat(line: bytes, spread: float) -> bool:
    ordered = sorted(line)
    median = ordered[len(ordered) // 2]
    near = bisect.bisect_right(ordered, median + spread) - bisect.bisect_left(ordered, median - spread)
    return near >= TRIM_FLAT_SHARE * len(line)


def _content_range(lines: list[bytes], spread: float) -> tuple[int, int]:
    """From the first to the last long run of lines that are not flat: the picture, without the bars, the
    letterboxing or a frame around it. Short runs near the edges (a status bar's clock and icons, a toolbar's
    title) are skipped; flat stretches inside the picture are kept."""
    n = len(lines)
    gap, long_run = max(1, n // 50), max(2, round(n * MIN_RUN))
    runs, start, last = [], None, None
    for i, line in enumerate(lines):
        if _flat(line, spread):
            continue
        if start is None or i - last > gap:
            if start is not None:
                runs.append((start, last + 1))
            start = i
        last = i
    if start is not None:
        runs.append((start, last + 1))
    long = [r for r in runs if r[1] - r[0] >= long_run]
    if not long or long[-1][1] - long[0][0] < (1 - TRIM_MAX) * n:
        return 0, n  # no clear picture inside: keep everything (the structure gate decides)
    return long[0][0], long[-1][1]


def trim_box(grey: Image.Image) -> tuple[int, int, int, int]:
    """The box of `grey` without its flat borders: status and navigation bars, letterboxing, a uniform frame."""
    top, bottom = _content_range(_rows(grey), FLAT_RANGE)
    rows = grey.crop((0, top, grey.width, bottom))
    left, right = _content_range(_rows(rows.transpose(Image.Transpose.TRANSPOSE)), FLAT_RANGE)
    return left, top, right, bottom


# The 64 lowest frequencies after the mean, in zig-zag order (u + v, then u): every (u, v) with u + v <= 10 but one.
_ZIGZAG = sorted(((u, v) for u in range(11) for v in range(11) if u + v <= 10), key=lambda f: (f[0] + f[1], f[0]))[1:65]
_COS = [[math.cos(math.pi * (2 * x + 1) * u / 64) for x in range(32)] for u in range(11)]


def _dct_low(pixels: bytes) -> dict[tuple[int, int], float]:
    """The coefficients (u horizontal, v vertical) in _ZIGZAG of the 2-D DCT of a 32×32 picture, unnormalised."""
    rows = [
        [sum(c * p for c, p in zip(cos, pixels[r * 32 : (r + 1) * 32], strict=True)) for cos in _COS] for r in range(32)
    ]
    return {(u, v): sum(_COS[v][r] * rows[r][u] for r in range(32)) for u, v in _ZIGZAG}


def _lookup_hash(grey: Image.Image) -> int:
    """One bit a low frequency: whether its coefficient is positive. Unlike bits thresholded at the median of
    the coefficients, a bit flips only when its own coefficient crosses zero (measured: fewer flips under crops)."""
    small = grey.resize((32, 32), Image.Resampling.BILINEAR, reducing_gap=2.0).tobytes()
    coefficients = _dct_low(small)
    bits = 0
    for frequency in _ZIGZAG:
        bits = (bits << 1) | (coefficients[frequency] > 0)
    return bits


def _check_hash(grey: Image.Image) -> tuple[int, float]:
    """256 bits: left > right on a 17×8 grid and top > bottom on an 8×17 grid (twice 128 bits); and the share
    of those differences larger than noise."""
    bits = 0
    strong = 0
    wide = grey.resize((17, 8), Image.Resampling.BILINEAR, reducing_gap=2.0).tobytes()
    tall = grey.resize((8, 17), Image.Resampling.BILINEAR, reducing_gap=2.0).tobytes()
    for row in range(8):
        for col in range(16):
            a, b = wide[row * 17 + col], wide[row * 17 + col + 1]
            bits = (bits << 1) | (a > b)
            strong += abs(a - b) >= EDGE_STEP
    for row in range(16):
        for col in range(8):
            a, b = tall[row * 8 + col], tall[(row + 1) * 8 + col]
            bits = (bits << 1) | (a > b)
            strong += abs(a - b) >= EDGE_STEP
    return bits, strong / CHECK_BITS


def prepare(image: Image.Image) -> Image.Image:
    """The grey picture without its flat borders (found on a blurred copy, which JPEG noise does not break up)."""
    grey = image.convert("L")
    if max(grey.size) > WORK_SIZE:
        grey = grey.copy()
        grey.thumbnail((WORK_SIZE, WORK_SIZE), Image.Resampling.BILINEAR)
    return grey.crop(trim_box(grey.filter(ImageFilter.BoxBlur(1))))


def contrast(grey: Image.Image) -> float:
    return ImageStat.Stat(grey).stddev[0]


def _inset(grey: Image.Image, share: float) -> Image.Image:
    dx, dy = round(grey.width * share), round(grey.height * share)
    return grey.crop((dx, dy, grey.width - dx, grey.height - dy))


def _hash(grey: Image.Image) -> PhotoHash:
    return PhotoHash(_lookup_hash(grey), _check_hash(grey)[0])


def flat_share(grey: Image.Image) -> float:
    """The share of the picture (reduced to 64×64, in 4×4 blocks) that is flat: blocks whose pixels lie within
    FLAT_BLOCK_RANGE grey levels. A photograph has texture nearly everywhere (measured: median 5 %, 99th
    percentile 58 % of the corpus's originals); a picture of two or three flat areas with an edge between them
    (a dune, a painted wall and the sky, a tile of a geometric wallpaper) is mostly flat, and any two such
    pictures with their edge in the same place agree in both hashes."""
    small = grey.resize((FLAT_SIZE, FLAT_SIZE), Image.Resampling.BILINEAR, reducing_gap=2.0).tobytes()
    per_side = FLAT_SIZE // FLAT_BLOCK
    flat = 0
    for by in range(per_side):
        rows = [
            small[(by * FLAT_BLOCK + y) * FLAT_SIZE : (by * FLAT_BLOCK + y + 1) * FLAT_SIZE] for y in range(FLAT_BLOCK)
        ]
        for bx in range(0, FLAT_SIZE, FLAT_BLOCK):
            block = b"".join(row[bx : bx + FLAT_BLOCK] for row in rows)
            flat += max(block) - min(block) <= FLAT_BLOCK_RANGE
    return flat / (per_side * per_side)


def comparable(centre: Image.Image) -> bool:
    """The structure gate: enough contrast, enough gradient cells above noise, and not mostly flat areas."""
    return (
        contrast(centre) >= MIN_CONTRAST and _check_hash(centre)[1] >= MIN_EDGES and flat_share(centre) < FLAT_SHARE_MAX
    )


def compute(image: Image.Image) -> PhotoHashes | None:
    """The picture's hashes, or None when it has too little structure to be compared."""
    grey = prepare(image)
    if grey.width < 16 or grey.height < 16:
        return None
    centre = _inset(grey, INSET)
    if not comparable(centre):
        return None
    stored = _hash(centre)
    return PhotoHashes(stored, (stored, _hash(grey), _hash(_inset(centre, INSET))))


def hash_text(image: Image.Image) -> str:
    """What `Photo.phash` stores for `image` (see the module's docstring)."""
    h = compute(image)
    return h.text() if h is not None else NOT_COMPARABLE
