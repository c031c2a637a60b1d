"""Duplicate-photo quality on real photographs: recall per transformation and the false-match rate.

Builds an evaluation corpus from real pictures that reach this machine through package registries (nothing is
committed; everything lands in --cache, default /tmp/kailcorpus):

- Debian wallpaper packages (`apt-get download` + `dpkg -x`): plasma-workspace-wallpapers, gnome-backgrounds,
  mate-backgrounds, lomiri-wallpapers(-16.04, -20.04), ukui-wallpapers — landscape, nature, city and some artwork;
  one picture per design (the largest resolution; dark/light and colour variants of one design are skipped);
- scikit-image's sample data (the wheel from PyPI): astronaut, coffee, chelsea, rocket, coins, ...;
- a few distinct photographs from Pillow's sdist `Tests/images`.

Every source picture goes through the app's own pipeline (`webapp.photos.process`, which hashes its thumbnail)
as the "original", and so does each transformed copy:

    re-encode      JPEG quality 50
    resize         half the size, JPEG 80
    brighter10     +10 % brightness
    darker10       -10 % brightness
    crop5          5 % cut from every side
    screenshot     scaled into a 1080×2340 phone screen (black around it) with a status bar and a navigation
                   bar holding a clock and icons, saved as PNG

Recall: the share of comparable originals whose copy is judged a duplicate (`photohash.is_duplicate`); the old
64-bit dHash at <= 7 bits is shown next to it; precision: each copy against every other source's picture and tile.
Unrelated pairs: every pair of pictures from different sources — originals, and 101 tiles cut from each picture
(grids of 2×2, 3×3, 4×4, the centre, strips, three-quarter corners; thumbnailed as the pipeline does), which are
different pictures of similar kind and multiply the pairs into millions; tiles of one source are never paired.
Distances are numpy popcounts over uint64 words (numpy: the `bench` extra). The false-match rate is reported as
measured, with its 95 % Clopper-Pearson upper bound, and the distance distributions of the two hashes.

    .venv/bin/python bench/duplicate_quality.py [--cache /tmp/kailcorpus]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import multiprocessing
import os
import pickle
import re
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageEnhance  # noqa: E402

from webapp import photohash, photos  # noqa: E402

DEBS = [
    "plasma-workspace-wallpapers",
    "gnome-backgrounds",
    "mate-backgrounds",
    "lomiri-wallpapers",
    "lomiri-wallpapers-16.04",
    "lomiri-wallpapers-20.04",
    "ukui-wallpapers",
]
SKIMAGE = [
    "astronaut.png",
    "brick.png",
    "camera.png",
    "chelsea.png",
    "coffee.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "hubble_deep_field.jpg",
    "motorcycle_left.png",
    "rocket.jpg",
    "moon.png",
    "page.png",
    "text.png",
    "clock_motion.png",
    "ihc.png",
    "retina.jpg",
    "cell.png",
    "color.png",
]
PILLOW = [
    "hopper.jpg",
    "flower.jpg",
    "flower2.jpg",
    "exif_gps.jpg",
    "iptc.jpg",
    "pil_sample_rgb.jpg",
    "sugarshack_bad_mpo_header.jpg",
    "ultrahdr.jpg",
    "orientation_rectangle.jpg",
]
PILLOW_VERSION = "13.0.0"
MIN_SIDE = 300
TRANSFORMS = ["re-encode", "resize", "brighter10", "darker10", "crop5", "screenshot"]


# --- the corpus ------------------------------------------------------------------------------------------------


def _run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fetch(cache: Path) -> None:
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for name in DEBS:
        if not list(debs.glob(f"{name}_*.deb")):
            _run(["apt-get", "download", name], debs)
    for deb in debs.glob("*.deb"):
        marker = cache / "x" / f".{deb.name}"
        if not marker.exists():
            _run(["dpkg", "-x", str(deb), str(cache / "x")], cache)
            marker.touch()
    pypi = cache / "pypi"
    pypi.mkdir(exist_ok=True)
    if not list(pypi.glob("scikit_image-*.whl")):
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary",
                ":all:",
                "scikit-image",
                "-d",
                str(pypi),
            ],
            pypi,
        )
    if not list(pypi.glob("pillow-*.tar.gz")):
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                "pillow",
                f"pillow=={PILLOW_VERSION}",
                "-d",
                str(pypi),
            ],
            pypi,
        )


def _design(path: Path) -> str | None:
    """One key per design: resolutions, dark/light and colour variants of one picture share it."""
    text = str(path)
    if "/plymouth/" in text or "/desktop-base/" in text or "/previews/" in text or "images_dark" in text:
        return None
    if "/wallpapers/" in text and "/contents/" in text:
        return "plasma:" + text.split("/wallpapers/")[1].split("/")[0]
    name = path.stem
    name = re.sub(r"-[ld]$", "", name)  # gnome light/dark
    name = re.sub(r"_\d+x\d+$", "", name)  # mate Elephants_3840x2160
    name = re.sub(r"-(Dark|Light)$", "", name)  # MATE-Stripes-Dark
    name = re.sub(r"^Ubuntu-Mate-\w+-no-logo$", "Ubuntu-Mate-no-logo", name)
    return "bg:" + name.lower()


def sources(cache: Path) -> dict[str, bytes]:
    """name -> file bytes, one per design, at least MIN_SIDE pixels a side."""
    found: dict[str, tuple[int, bytes]] = {}
    for path in sorted((cache / "x").rglob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png", ".webp") or path.stat().st_size < 50_000:
            continue
        key = _design(path)
        if key is None:
            continue
        data = path.read_bytes()
        try:
            with Image.open(io.BytesIO(data)) as im:
                pixels = im.width * im.height
                if min(im.size) < MIN_SIDE:
                    continue
        except OSError:
            continue
        if key not in found or pixels > found[key][0]:
            found[key] = (pixels, data)
    out = {k: v[1] for k, v in found.items()}
    wheel = next((cache / "pypi").glob("scikit_image-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        for name in SKIMAGE:
            out[f"skimage:{name}"] = z.read(f"skimage/data/{name}")
    sdist = next((cache / "pypi").glob("pillow-*.tar.gz"))
    with tarfile.open(sdist) as t:
        for name in PILLOW:
            member = t.getmember(f"pillow-{PILLOW_VERSION}/Tests/images/{name}")
            out[f"pillow:{name}"] = t.extractfile(member).read()
    # the same picture shipped twice under different names (byte-identical) counts once
    seen, unique = set(), {}
    for k, v in out.items():
        digest = hashlib.sha256(v).hexdigest()
        if digest not in seen:
            seen.add(digest)
            unique[k] = v
    return unique


# --- transformations -------------------------------------------------------------------------------------------


def _encode(image: Image.Image, fmt: str = "JPEG", quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return out.getvalue()


def screenshot(image: Image.Image) -> Image.Image:
    """The picture as a gallery app shows it on a 1080×2340 phone, with the system bars."""
    w, h = 1080, 2340
    status, nav = 84, 132
    canvas = Image.new("RGB", (w, h), (0, 0, 0))
    area = (w, h - status - nav - 160)  # the app's own toolbar below the status bar
    scale = min(area[0] / image.width, area[1] / image.height)
    shown = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
    canvas.paste(shown, ((w - shown.width) // 2, status + 160 + (area[1] - shown.height) // 2))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, w, status), fill=(31, 31, 31))
    draw.text((40, 26), "12:30", fill=(255, 255, 255), font_size=36)
    for i, x in enumerate((860, 920, 980)):  # signal, wifi, battery
        draw.rectangle((x, 30, x + 34 + 6 * i, 58), fill=(235, 235, 235))
    draw.text((40, status + 50), "<   12 Des 2026", fill=(230, 230, 230), font_size=40)  # toolbar
    draw.rectangle((0, h - nav, w, h), fill=(31, 31, 31))
    draw.ellipse((510, h - 90, 570, h - 30), outline=(200, 200, 200), width=5)
    draw.polygon([(250, h - 60), (290, h - 90), (290, h - 30)], outline=(200, 200, 200), width=5)
    draw.rectangle((800, h - 88, 856, h - 32), outline=(200, 200, 200), width=5)
    return canvas


def transformed(data: bytes) -> dict[str, bytes]:
    with Image.open(io.BytesIO(data)) as im:
        image = im.convert("RGB")
    if max(image.size) > 2400:  # like a phone's upload (the app keeps 1600 px anyway)
        image.thumbnail((2400, 2400))
    w, h = image.size
    return {
        "original": _encode(image, quality=92),
        "re-encode": _encode(image, quality=50),
        "resize": _encode(image.resize((w // 2, h // 2), Image.Resampling.BICUBIC), quality=80),
        "brighter10": _encode(ImageEnhance.Brightness(image).enhance(1.1)),
        "darker10": _encode(ImageEnhance.Brightness(image).enhance(0.9)),
        "crop5": _encode(image.crop((w // 20, h // 20, w - w // 20, h - h // 20))),
        "screenshot": _encode(screenshot(image), "PNG"),
    }


def tile_boxes(w: int, h: int) -> list[tuple[int, int, int, int]]:
    """101 pictures cut from one: 2×2, 3×3 and 4×4 grids, the centre half, three wide and three tall strips,
    four three-quarter corners (the first 40), then 5×5 and 6×6 grids (added to reach more pairs). Tiles of one
    picture overlap each other and are never paired with each other; a tile is paired only with pictures and
    tiles from *other* sources."""
    boxes = []
    for n in (2, 3, 4):
        boxes += [(w * i // n, h * j // n, w * (i + 1) // n, h * (j + 1) // n) for j in range(n) for i in range(n)]
    boxes.append((w // 4, h // 4, 3 * w // 4, 3 * h // 4))
    boxes += [(0, h * j // 3, w, h * (j + 1) // 3) for j in range(3)]
    boxes += [(w * i // 3, 0, w * (i + 1) // 3, h) for i in range(3)]
    boxes += [(x, y, x + 3 * w // 4, y + 3 * h // 4) for x in (0, w // 4) for y in (0, h // 4)]
    for n in (5, 6):
        boxes += [(w * i // n, h * j // n, w * (i + 1) // n, h * (j + 1) // n) for j in range(n) for i in range(n)]
    return boxes


TILES = len(tile_boxes(600, 600))


def _tile_thumbs(item: tuple[str, bytes]) -> dict:
    """The tiles' thumbnails as the pipeline makes them (photos.process's resize to 320 px, JPEG), without
    the full-size display copy, which the hash does not read."""
    name, data = item
    try:
        with Image.open(io.BytesIO(data)) as im:
            image = im.convert("RGB")
    except (OSError, ValueError):
        return {}
    if max(image.size) > 2400:
        image.thumbnail((2400, 2400))
    out = {}
    for i, box in enumerate(tile_boxes(*image.size)):
        tile = image.crop(box)
        if min(tile.size) < 32:  # a tiny test picture's tiles: nothing a phone sends
            continue
        thumb = tile.resize(photos._fit(tile.size, photos.THUMB_MAX), Image.Resampling.BICUBIC, reducing_gap=2.0)
        out[(name, f"t{i}")] = _encode(thumb, quality=85)
    return out


def _made(item: tuple[str, bytes]) -> dict:
    name, data = item
    try:
        return {(name, variant): photos.process(content).thumb for variant, content in transformed(data).items()}
    except (OSError, ValueError) as exc:  # a truncated test image, say
        print(f"  {name}: skipped ({exc})", file=sys.stderr)
        return {(name, "unreadable"): b""}


def tile_thumbs(cache: Path, corpus: dict[str, bytes]) -> dict:
    """{(source, "tN"): thumbnail bytes} for every source; cached."""
    path = cache / "tiles.pickle"
    have = pickle.loads(path.read_bytes()) if path.exists() else {}  # noqa: S301 - our own cache file
    todo = [(n, d) for n, d in corpus.items() if (n, "t0") not in have or (n, f"t{TILES - 1}") not in have]
    if todo:
        with multiprocessing.Pool() as pool:
            for made in pool.imap_unordered(_tile_thumbs, todo):
                have |= made
        path.write_bytes(pickle.dumps(have))
    return {k: v for k, v in have.items() if k[0] in corpus and int(k[1][1:]) < TILES}


def thumbs(cache: Path, corpus: dict[str, bytes]) -> dict:
    """{(source, variant): thumbnail bytes} through the app's pipeline; cached."""
    path = cache / "thumbs.pickle"
    have = pickle.loads(path.read_bytes()) if path.exists() else {}  # noqa: S301 - our own cache file
    changed = 0
    todo = [(n, d) for n, d in corpus.items() if (n, "original") not in have and (n, "unreadable") not in have]
    with multiprocessing.Pool() as pool:
        for made in pool.imap_unordered(_made, todo):
            have |= made
            changed += 1
            if changed % 10 == 0:
                path.write_bytes(pickle.dumps(have))
    if changed:
        path.write_bytes(pickle.dumps(have))
    return {k: v for k, v in have.items() if k[0] in corpus and (k[0], "unreadable") not in have}


# --- the numbers -----------------------------------------------------------------------------------------------


def _old_dhash(image: Image.Image) -> int:
    small = image.convert("L").resize((9, 8), Image.Resampling.BILINEAR).tobytes()
    return sum(1 << (63 - (r * 8 + c)) for r in range(8) for c in range(8) if small[r * 9 + c] > small[r * 9 + c + 1])


def _clopper_pearson_upper(k: int, n: int, level: float = 0.95) -> float:
    """Upper bound of the one-sided `level` interval for a binomial rate (bisection on the tail)."""
    if n == 0:
        return 1.0
    alpha = 1 - level

    def cdf(p: float) -> float:  # P(X <= k)
        return (
            sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))
            if k < 20
            else _normal_cdf((k + 0.5 - n * p) / math.sqrt(n * p * (1 - p) or 1e-12))
        )

    lo, hi = k / n, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if cdf(mid) > alpha:
            lo = mid
        else:
            hi = mid
    return hi


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _words(value: int, bits: int) -> list[int]:
    return [(value >> (64 * (bits // 64 - 1 - w))) & (2**64 - 1) for w in range(bits // 64)]


class HashArrays:
    """A list of pictures' hashes as numpy arrays: the stored pair, and every probe (for vectorised distances)."""

    def __init__(self, hashes: list[photohash.PhotoHashes]):
        import numpy as np

        self.stored_lookup = np.array([h.stored.lookup for h in hashes], np.uint64)
        self.stored_check = np.array([_words(h.stored.check, photohash.CHECK_BITS) for h in hashes], np.uint64)
        self.probe_lookup = np.array([[p.lookup for p in h.probes] for h in hashes], np.uint64)
        self.probe_check = np.array(
            [[_words(p.check, photohash.CHECK_BITS) for p in h.probes] for h in hashes], np.uint64
        ).reshape(len(hashes), photohash.PROBES, -1)

    def __len__(self) -> int:
        return len(self.stored_lookup)


def duplicate_matrix(new: HashArrays, stored: HashArrays, rows: slice) -> tuple:
    """For new[rows] × stored: photohash.is_duplicate as a boolean matrix, and the stored-to-stored lookup and
    check distances (for the distributions), computed with popcounts over uint64 words."""
    import numpy as np

    def lookup_bits(a, b):
        return np.bitwise_count(a[:, None] ^ b[None, :]).astype(np.int16)

    def check_bits(a, b):
        return sum(np.bitwise_count(a[:, None, w] ^ b[None, :, w]).astype(np.int16) for w in range(a.shape[1]))

    def band_near(a, b):  # one 16-bit band within one bit: what the band index finds
        x = a[:, None] ^ b[None, :]
        return np.any([np.bitwise_count((x >> np.uint64(s)) & np.uint64(0xFFFF)) <= 1 for s in (0, 16, 32, 48)], 0)

    dup = np.zeros((len(range(*rows.indices(len(new)))), len(stored)), bool)
    for j in range(photohash.PROBES):
        lb = lookup_bits(new.probe_lookup[rows, j], stored.stored_lookup)
        cb = check_bits(new.probe_check[rows, j], stored.stored_check)
        dup |= (lb <= photohash.LOOKUP_MAX) & (cb <= photohash.CHECK_MAX)
        near = (lb <= photohash.NEAR_LOOKUP_MAX) & (cb <= photohash.NEAR_CHECK_MAX)  # photohash's near rule
        if near.any():
            dup |= near & band_near(new.probe_lookup[rows, j], stored.stored_lookup)
    return (
        dup,
        lookup_bits(new.stored_lookup[rows], stored.stored_lookup),
        check_bits(new.stored_check[rows], stored.stored_check),
    )


def unrelated(keys: list, hashes: dict, old: dict) -> dict:
    """Every pair of pictures from different sources among `keys`: false duplicates (either one arriving), and
    the distance distributions of the stored hashes."""
    import numpy as np

    arrays = HashArrays([hashes[k] for k in keys])
    names = sorted({k[0] for k in keys})
    source = np.array([names.index(k[0]) for k in keys])
    old_hash = np.array([old[k] for k in keys], np.uint64)
    n = len(keys)
    out = {"pictures": n, "sources": len(names), "pairs": 0, "false": 0, "lookup_only": 0, "check_only": 0}
    out |= {"old": 0, "lookup_hist": np.zeros(65, np.int64), "check_hist": np.zeros(257, np.int64), "worst": []}
    step = 256
    for start in range(0, n, step):
        rows = slice(start, min(n, start + step))
        dup, lb, cb = duplicate_matrix(arrays, arrays, rows)
        index = np.arange(rows.start, rows.stop)
        pair = (source[index][:, None] != source[None, :]) & (index[:, None] < np.arange(n)[None, :])
        out["pairs"] += int(pair.sum())
        out["lookup_only"] += int(((lb <= photohash.LOOKUP_MAX) & pair).sum())
        out["check_only"] += int(((cb <= photohash.CHECK_MAX) & pair).sum())
        out["lookup_hist"] += np.bincount(lb[pair], minlength=65)
        out["check_hist"] += np.bincount(cb[pair], minlength=257)
        old_bits = np.bitwise_count(old_hash[index][:, None] ^ old_hash[None, :])
        out["old"] += int(((old_bits <= 7) & pair).sum())
        out["dup_rows"] = out.get("dup_rows", []) + [dup & (source[index][:, None] != source[None, :])]
        closest = np.argwhere(pair & (lb <= 14))
        out["worst"] += [(int(lb[i, j]), int(cb[i, j]), keys[index[i]], keys[j]) for i, j in closest[:20]]
    both = np.concatenate(out.pop("dup_rows"))
    out["false"] = int(np.triu(both | both.T, 1).sum())  # a pair is falsely flagged if either one arriving is
    false_at = np.argwhere(np.triu(both | both.T, 1))
    out["false_pairs"] = [(keys[i], keys[j]) for i, j in false_at[:10]]
    out["false_sources"] = Counter(tuple(sorted((keys[i][0], keys[j][0]))) for i, j in false_at).most_common()
    out["worst"] = sorted(out["worst"])[:5]
    return out


def evaluate(items: dict, tiles: dict) -> dict:
    import numpy as np

    hashes, old = {}, {}
    for key, thumb in (items | tiles).items():
        with Image.open(io.BytesIO(thumb)) as im:
            image = im.convert("RGB")
        hashes[key] = photohash.compute(image)
        old[key] = _old_dhash(image)
    names = sorted({k[0] for k in items})
    result = {"sources": len(names), "not_comparable": [], "recall": {}, "old_recall": {}, "distances": {}}
    result["not_comparable"] = [n for n in names if hashes[(n, "original")] is None]
    comparable = [n for n in names if hashes[(n, "original")] is not None]
    # every stored picture a copy could be wrongly matched with: the originals and tiles of the other sources
    stored_keys = [k for k in hashes if (k[1] == "original" or k[1].startswith("t")) and hashes[k] is not None]
    stored = HashArrays([hashes[k] for k in stored_keys])
    stored_source = np.array([k[0] for k in stored_keys])
    for t in TRANSFORMS:
        hits = old_hits = reverse = 0
        dist = []
        arriving = [n for n in comparable if hashes[(n, t)] is not None]
        for name in names:
            old_hits += (old[(name, "original")] ^ old[(name, t)]).bit_count() <= 7
        for name in comparable:
            a, b = hashes[(name, "original")], hashes[(name, t)]
            if b is not None:  # the original stored first, the copy arriving
                dist.append(photohash.distance(b, a))
                hits += photohash.is_duplicate(b, a)
                reverse += photohash.is_duplicate(a, b)
            else:
                dist.append((99, 999))
        wrong = 0
        if arriving:
            dup, _, _ = duplicate_matrix(HashArrays([hashes[(n, t)] for n in arriving]), stored, slice(None))
            dup &= np.array(arriving)[:, None] != stored_source[None, :]
            wrong = int(dup.sum())
        n = len(comparable)
        result["recall"][t] = (hits, n)
        result.setdefault("reverse", {})[t] = (reverse, n)
        result.setdefault("wrong", {})[t] = (wrong, len(arriving) * len(stored_keys))
        result["old_recall"][t] = (old_hits, len(names))
        result["distances"][t] = dist
    originals = [(n, "original") for n in comparable]
    result["originals"] = unrelated(originals, hashes, old)
    result["tiles"] = unrelated(stored_keys, hashes, old)
    result["tiles_not_comparable"] = sum(hashes[k] is None for k in tiles)
    result["tiles_total"] = len(tiles)
    return result


def _rate(k: int, n: int) -> str:
    return f"{k}/{n:,} = {k / n:.2e}" if n else "—"


def report(r: dict) -> None:
    print(
        f"{r['sources']} source pictures; not comparable (too little structure): {len(r['not_comparable'])} "
        f"{r['not_comparable']}"
    )
    print(
        f"\nthresholds: lookup <= {photohash.LOOKUP_MAX}/64 bits AND check <= {photohash.CHECK_MAX}/256 bits "
        f"(or lookup <= {photohash.NEAR_LOOKUP_MAX} with a band within 1 bit AND check <= "
        f"{photohash.NEAR_CHECK_MAX}), for one of {photohash.PROBES} probes; gate: flat share < "
        f"{photohash.FLAT_SHARE_MAX}\n"
    )
    print(
        "| copy | recall | copy stored first | precision (copy vs other sources' pictures: wrong matches) | "
        "old dHash-64 ≤ 7 | lookup bits p50 / p95 / max | check bits p50 / p95 / max |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for t in TRANSFORMS:
        hits, n = r["recall"][t]
        oh, on = r["old_recall"][t]
        wrong, tried = r["wrong"][t]
        ls = sorted(d[0] for d in r["distances"][t])
        cs = sorted(d[1] for d in r["distances"][t])

        def q(v, f):
            return v[min(len(v) - 1, int(f * (len(v) - 1)))] if v else "—"

        rh = r["reverse"][t][0]
        precision = hits / (hits + wrong) if hits + wrong else float("nan")
        print(
            f"| {t} | {hits}/{n} = {100 * hits / max(n, 1):.1f} % | {100 * rh / max(n, 1):.1f} % | "
            f"{100 * precision:.1f} % ({wrong} in {tried:,} pairs) | {oh}/{on} = {100 * oh / on:.1f} % | "
            f"{q(ls, 0.5)} / {q(ls, 0.95)} / {q(ls, 1)} | {q(cs, 0.5)} / {q(cs, 0.95)} / {q(cs, 1)} |"
        )
    print(
        f"\ntiles: {r['tiles_total']:,} cut from the sources ({len(tile_boxes(100, 100))} a source), "
        f"{r['tiles_not_comparable']:,} of them not comparable"
    )
    for label in ("originals", "tiles"):
        u = r[label]
        n = u["pairs"]
        print(f"\nunrelated pairs ({label}: {u['pictures']:,} comparable pictures from {u['sources']} sources): {n:,}")
        print(
            f"  false duplicates (either arriving): {_rate(u['false'], n)}, 95 % upper bound "
            f"{_clopper_pearson_upper(u['false'], n):.2e};  lookup <= {photohash.LOOKUP_MAX} alone: "
            f"{_rate(u['lookup_only'], n)};  check <= {photohash.CHECK_MAX} alone: {_rate(u['check_only'], n)};  "
            f"old dHash-64 <= 7: {_rate(u['old'], n)}"
        )
        for name, hist, limit in (
            ("lookup", u["lookup_hist"], photohash.LOOKUP_MAX),
            ("check", u["check_hist"], photohash.CHECK_MAX),
        ):
            total = hist.sum()
            values = range(len(hist))
            mean = sum(v * c for v, c in zip(values, hist, strict=True)) / total
            sd = math.sqrt(sum((v - mean) ** 2 * c for v, c in zip(values, hist, strict=True)) / total)
            lowest = next(v for v, c in zip(values, hist, strict=True) if c)
            print(
                f"  {name} bits (stored vs stored): mean {mean:.1f}, sd {sd:.1f}, lowest {lowest}; normal tail "
                f"P(<= {limit}) = {_normal_cdf((limit + 0.5 - mean) / sd):.1e}"
            )
        for lb, cb, a, b in u["worst"]:
            print(f"  close: {a} ~ {b}: lookup {lb}, check {cb}")
        for a, b in u["false_pairs"]:
            print(f"  FALSE DUPLICATE: {a} ~ {b}")
        involved = Counter(name for pair, count in u["false_sources"] for name in pair for _ in range(count))
        print(f"  false duplicates by source pair ({len(u['false_sources'])} pairs): {u['false_sources'][:12]}")
        print(f"  sources involved: {involved.most_common()}")


def _add_one_way_gate(share: float) -> None:
    """Wrap photohash.compute (as evaluate calls it) with a gate for one-directional gradients."""
    compute = photohash.compute
    limit = share * 128

    def gated(image: Image.Image) -> photohash.PhotoHashes | None:
        h = compute(image)
        if h is None:
            return None
        across, down = (h.stored.check >> 128).bit_count(), (h.stored.check & ((1 << 128) - 1)).bit_count()
        return None if max(across, 128 - across, down, 128 - down) >= limit else h

    photohash.compute = gated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("KAIL_CORPUS", "/tmp/kailcorpus")))  # noqa: S108
    parser.add_argument(
        "--one-way-gate",
        type=float,
        metavar="SHARE",
        help="experiment: also refuse pictures whose check hash has >= SHARE of its horizontal or vertical bits "
        "equal (a one-directional gradient); the app's gate is unchanged",
    )
    args = parser.parse_args()
    if args.one_way_gate:
        _add_one_way_gate(args.one_way_gate)
    fetch(args.cache)
    corpus = sources(args.cache)
    print(f"corpus: {len(corpus)} pictures", file=sys.stderr)
    report(evaluate(thumbs(args.cache, corpus), tile_thumbs(args.cache, corpus)))


if __name__ == "__main__":
    main()
