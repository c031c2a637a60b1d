"""The photo pipeline versus a plain decode of the same camera JPEG, timed in the same run.

Makes a 4000×3000 camera-like JPEG (smooth gradients + sensor-like noise + shapes, quality 90, EXIF with capture
time, camera model and GPS) and times, interleaved over `--repeat` rounds (the order rotates every round, so machine
noise hits every variant alike):

  (a) a plain full-size Pillow decode: `Image.open(io.BytesIO(data)).load()`
  (b) the app's own pipeline, `webapp.photos.process(data)`: EXIF read, draft decode, display copy (1600 px),
      thumbnail (320 px), sha256 and dHash; then `webapp.photos.save()` of both files into a temporary folder
      (`--no-save` leaves the writes out).
and, for reference (not app code):
  (c) the floor: only a draft decode at the 1/2 scale a 1600 px display copy needs (2000×1500);
  (d) a proposed pipeline: the same outputs as (b) with the draft box in the image's aspect ratio (so the decoder
      really scales by 1/2), BICUBIC with `reducing_gap`, baseline JPEG (no optimize/progressive); see
      `proposed_process` below.

Reports medians, the ratio of each to (a) (issue 8 target for b/a: ≤ 0.5), and the peak memory of each, measured in
a fresh subprocess per variant: peak RSS growth (VmHWM from /proc/self/status, reset through clear_refs just before
the run; ru_maxrss is useless here because Linux carries it over exec from the parent) and tracemalloc's peak of
Python-tracked allocations (Pillow's pixel buffers are allocated in C and show only in RSS).

    .venv/bin/python bench/photo_pipeline.py [--repeat 9] [--no-save]
"""

# ruff: noqa: S311, S603  (a seeded random test image; the subprocess runs this very file)
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import ExifTags, Image, ImageDraw, ImageFilter, ImageOps  # noqa: E402

TEMP_DIRS: list[str] = []
LABELS = {
    "plain": "(a) plain full-size decode",
    "pipeline": "(b) app pipeline (webapp.photos)",
    "floor": "(c) draft decode at 1/2 only (floor)",
    "proposed": "(d) proposed pipeline (bench only)",
}


def camera_jpeg(width: int = 4000, height: int = 3000, seed: int = 1) -> bytes:
    """A JPEG that compresses like a phone photo: gradients, shapes, per-pixel noise; EXIF as a camera writes."""
    rng = random.Random(seed)
    small = Image.linear_gradient("L").resize((width, height))
    base = Image.merge(
        "RGB", (small, small.rotate(90).resize((width, height)), Image.radial_gradient("L").resize((width, height)))
    )
    draw = ImageDraw.Draw(base)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        draw.ellipse(
            (x, y, x + rng.randint(50, 900), y + rng.randint(50, 700)), fill=tuple(rng.randrange(256) for _ in range(3))
        )
    base = base.filter(ImageFilter.GaussianBlur(3))
    noise = Image.merge("RGB", [Image.effect_noise((width, height), 28) for _ in range(3)])
    image = Image.blend(base, noise, 0.18)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Samsung"
    exif[ExifTags.Base.Model] = "Galaxy A15"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:11:20 09:14:03"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (0.0, 30.0, 7.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (117.0, 9.0, 12.0)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def plain_decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def draft_only(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", _fit(image.size, 1600))
        image.load()


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    scale = max(size) / longest
    return (max(1, round(size[0] / scale)), max(1, round(size[1] / scale))) if scale > 1 else size


def proposed_process(data: bytes):
    """What webapp.photos.process could do: the same checks and outputs, faster (reference only, not app code)."""
    from webapp import photohash, photos

    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        taken_at = photos._exif_taken_at(exif)
        exif_lat, exif_lon = photos._exif_gps(exif)
        # The box must have the image's aspect ratio: with (1600, 1600) a 4:3 picture keeps its full size, because
        # draft() only scales while *both* sides stay at or above the box.
        image.draft("RGB", _fit(image.size, photos.DISPLAY_MAX))
        image = photos._flatten(ImageOps.exif_transpose(image))
        image.thumbnail((photos.DISPLAY_MAX, photos.DISPLAY_MAX), Image.Resampling.BICUBIC, reducing_gap=2.0)
        thumb = image.resize(_fit(image.size, photos.THUMB_MAX), Image.Resampling.BICUBIC, reducing_gap=2.0)

        def jpeg(im: Image.Image) -> bytes:
            out = io.BytesIO()
            im.save(out, "JPEG", quality=photos.JPEG_QUALITY)
            return out.getvalue()

        return photos.ProcessedPhoto(
            display=jpeg(image),
            thumb=jpeg(thumb),
            sha256=hashlib.sha256(data).hexdigest(),
            phash=photohash.hash_text(thumb),
            width=image.width,
            height=image.height,
            exif_taken_at=taken_at,
            exif_lat=exif_lat,
            exif_lon=exif_lon,
        )


def make_pipeline(save: bool, proposed: bool = False):
    from webapp import photos

    upload_dir = tempfile.mkdtemp(prefix="kail-photo-bench-")
    TEMP_DIRS.append(upload_dir)
    process = proposed_process if proposed else photos.process

    def pipeline(data: bytes):
        processed = process(data)
        if save:
            for path in photos.save(upload_dir, processed):  # written, then removed: every round writes
                Path(path).unlink()
        return processed

    return pipeline


def variants(save: bool) -> dict:
    return {
        "plain": plain_decode,
        "pipeline": make_pipeline(save),
        "floor": draft_only,
        "proposed": make_pipeline(save, proposed=True),
    }


def _cleanup() -> None:
    for folder in TEMP_DIRS:
        shutil.rmtree(folder, ignore_errors=True)


def _vm(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def child(variant: str, path: str, save: bool) -> None:
    """One variant, once, in a fresh interpreter: its memory, as JSON on stdout."""
    import tracemalloc

    data = Path(path).read_bytes()
    func = variants(save)[variant]
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM) to the current RSS
    before = _vm("VmHWM")
    tracemalloc.start()
    func(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = _vm("VmHWM")
    _cleanup()
    print(json.dumps({"rss_growth_kb": after - before, "hwm_kb": after, "tracemalloc_peak_kb": peak // 1024}))


def measure_memory(variant: str, path: str, save: bool) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--file", path] + ([] if save else ["--no-save"]),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _hash_distance(a: str, b: str) -> str:
    """How far apart two stored photo hashes are (lookup and check bits), as the duplicate flag compares them."""
    from webapp import photohash

    first, second = photohash.parse(a), photohash.parse(b)
    if first is None or second is None:
        return "not comparable"
    lookup, check = photohash.distance(first, second)
    return f"{lookup}/{photohash.LOOKUP_BITS} lookup and {check}/{photohash.CHECK_BITS} check bits apart"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--no-save", action="store_true", help="time process() only, without writing the files")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file, not args.no_save)
        return

    from webapp import photos

    data = camera_jpeg()
    fd, path = tempfile.mkstemp(suffix=".jpg", prefix="kail-camera-")
    os.write(fd, data)
    os.close(fd)
    try:
        funcs = variants(not args.no_save)
        for func in funcs.values():
            func(data)  # warm up (imports, first allocations)
        times: dict[str, list[float]] = {name: [] for name in funcs}
        names = list(funcs)
        for i in range(args.repeat):
            for name in names[i % len(names) :] + names[: i % len(names)]:  # rotate who goes first
                start = time.perf_counter()
                funcs[name](data)
                times[name].append(time.perf_counter() - start)
        mem = {v: measure_memory(v, path, not args.no_save) for v in funcs}
    finally:
        os.unlink(path)
        _cleanup()

    app_out, proposed_out = photos.process(data), proposed_process(data)
    print(
        f"input: 4000×3000 JPEG q90 with EXIF, {len(data) / 1e6:.2f} MB; app output: display "
        f"{app_out.width}×{app_out.height} {len(app_out.display) / 1e3:.0f} KB + thumbnail "
        f"{len(app_out.thumb) / 1e3:.0f} KB; proposed: {len(proposed_out.display) / 1e3:.0f} KB + "
        f"{len(proposed_out.thumb) / 1e3:.0f} KB, photo hash {_hash_distance(app_out.phash, proposed_out.phash)} "
        f"from the app's; {args.repeat} interleaved rounds; files saved: {'no' if args.no_save else 'yes'}"
    )
    print()
    print("| variant | median ms | min ms | max ms | ÷ (a) | peak RSS growth | tracemalloc peak |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    a = statistics.median(times["plain"])
    for key, label in LABELS.items():
        m, ts = mem[key], times[key]
        med = statistics.median(ts)
        print(
            f"| {label} | {med * 1e3:.0f} | {min(ts) * 1e3:.0f} | {max(ts) * 1e3:.0f} | {med / a:.2f} | "
            f"{m['rss_growth_kb'] / 1024:.0f} MB | {m['tracemalloc_peak_kb'] / 1024:.1f} MB |"
        )
    b = statistics.median(times["pipeline"]) / a
    print(f"\nratio b/a = **{b:.2f}** (target ≤ 0.50: {'met' if b <= 0.5 else 'missed'})")


if __name__ == "__main__":
    main()
