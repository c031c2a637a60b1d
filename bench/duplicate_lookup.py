"""Near-duplicate photo lookup: milliseconds per photo at 20k, 200k and 2M stored photos, and how it grows.

Times the app's own `webapp.integrity.similar_photos(phash)` (the banded search the `foto_duplikat` flag uses: the
three probes of a `webapp.photohash` text against the stored lookup hashes' four indexed 16-bit bands: 4 x 17 values
for the centre probe, 4 x 2 for the crop probes; then both hashes checked), one call per looked-up photo, in the app
context, on databases filled by bench/generate.py (one photo row per 2 visits' worth of the national shape:
recipients = photos / 20, visits = photos / 2). Half the probes are stored hashes with 0-3 lookup bits and 0-20
check bits flipped (duplicates), half fresh random hashes (the common case: a new picture). Also counts the
candidate rows the band index hands back (the work that grows with the table), and times a reference variant that
fetches (id, phash) without building Photo objects for the matches (`columns_only` below).

Growth: the ratio of medians between consecutive sizes, and the log-log slope (1.0 = linear; the target is
sublinear, i.e. well under 1).

    .venv/bin/python bench/duplicate_lookup.py --database-url sqlite:////tmp/kailbench/dup.sqlite3
    .venv/bin/python bench/duplicate_lookup.py --database-url postgresql://kail_bench:kail_bench@127.0.0.1/kail_bench

Each size gets its own dataset: SQLite files named after the given one (dup20000.sqlite3, ...), PostgreSQL schemas
(`dup20000`, ...) in the given database; existing datasets of the right size are reused. `--url-for 2000000=URL`
points a size at an existing dataset instead (e.g. the national one from generate.py).
"""

# ruff: noqa: S311  (seeded random probes)
from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402


def url_for_size(base: str, size: int) -> str:
    """A dataset per size: a sibling SQLite file, or a schema of the same PostgreSQL database."""
    if base.startswith("sqlite:///"):
        path = Path(base[len("sqlite:///") :])
        suffix = path.suffix or ".sqlite3"
        return f"sqlite:///{path.with_name(f'{path.stem}{size}{suffix}')}"
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path=dup{size}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def photo_count(url: str) -> int:
    from sqlalchemy import create_engine, text

    from webapp.config import normalise_database_url

    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        return 0
    engine = create_engine(normalise_database_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM photos")).scalar()
    except Exception:  # noqa: BLE001 - no table (yet): an empty dataset
        return 0
    finally:
        engine.dispose()


def ensure_dataset(url: str, size: int) -> None:
    have = photo_count(url)
    if have == size:
        return
    if have:
        print(f"{url}: has {have:,} photos, not {size:,}: regenerating", file=sys.stderr)
    generate.reset_database(url)
    recipients = max(10, size // 20)
    r = generate.generate(url, recipients, size // 2, size, quiet=True)
    print(
        f"generated {size:,} photos ({r['rows']:,} rows) in {r['seconds']:.0f} s, {r['rows_per_s']:,.0f} rows/s",
        file=sys.stderr,
    )


def _band_query(phash: str, what):
    from sqlalchemy import or_, select

    from webapp.integrity import BAND_COLUMNS, _neighbour_values
    from webapp.photohash import bands, parse

    values = [set() for _ in BAND_COLUMNS]
    for i, probe in enumerate(parse(phash).probes):
        for band, value in enumerate(bands(probe.lookup)):
            values[band].update(_neighbour_values(value) if i == 0 else (value,))
    return select(*what).where(or_(*(col.in_(sorted(v)) for col, v in zip(BAND_COLUMNS, values, strict=True))))


def columns_only(phash: str) -> list[tuple[int, int]]:
    """Reference variant: the same band query, fetching (id, phash) only, no ORM objects."""
    from webapp.extensions import db
    from webapp.models import Photo
    from webapp.photohash import distance, is_duplicate, parse

    target = parse(phash)
    hits = []
    for pid, other in db.session.execute(_band_query(phash, (Photo.id, Photo.phash))):
        candidate = parse(other)
        if candidate is not None and is_duplicate(target, candidate):
            hits.append((pid, distance(target, candidate)[0]))
    return sorted(hits, key=lambda h: (h[1], h[0]))


def candidates(phash: str) -> int:
    from sqlalchemy import func

    from webapp.extensions import db

    return db.session.scalar(_band_query(phash, (func.count(),)))


def _random_text(rng: random.Random) -> str:
    return "2:" + "".join(f"{rng.getrandbits(64):016x}{rng.getrandbits(256):064x}" for _ in range(3))


def _near(text: str, rng: random.Random) -> str:
    """A near-duplicate arriving: its first probe is the stored hash with a few bits flipped."""
    lookup, check = int(text[2:18], 16), int(text[18:82], 16)
    for _ in range(rng.randint(0, 3)):
        lookup ^= 1 << rng.randrange(64)
    for _ in range(rng.randint(0, 20)):
        check ^= 1 << rng.randrange(256)
    return f"2:{lookup:016x}{check:064x}" + _random_text(rng)[82:]


def measure(url: str, lookups: int, seed: int) -> dict:
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.integrity import similar_photos
    from webapp.models import Photo

    app = generate.make_app(url)
    rng = random.Random(seed)
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Photo))
        stored = [
            p
            for (p,) in db.session.execute(
                select(Photo.phash).where(Photo.id.in_([rng.randint(1, n) for _ in range(lookups)]))
            )
        ]
        probes = [_near(rng.choice(stored), rng) if i % 2 and stored else _random_text(rng) for i in range(lookups)]
        for phash in probes[:20]:  # warm the caches
            similar_photos(phash)
            db.session.rollback()
        app_ms, cols_ms, found, cands = [], [], 0, []
        for phash in probes:
            start = time.perf_counter()
            matches = similar_photos(phash)
            app_ms.append((time.perf_counter() - start) * 1e3)
            found += bool(matches)
            db.session.rollback()  # a new request: empty identity map
            start = time.perf_counter()
            columns_only(phash)
            cols_ms.append((time.perf_counter() - start) * 1e3)
            db.session.rollback()
        for phash in probes[:50]:
            cands.append(candidates(phash))
        db.session.rollback()
        dialect = db.engine.dialect.name
        db.engine.dispose()
    app_ms.sort()
    return {
        "photos": n,
        "dialect": dialect,
        "p50": statistics.median(app_ms),
        "p95": app_ms[int(0.95 * (len(app_ms) - 1))],
        "cols_p50": statistics.median(cols_ms),
        "candidates": statistics.mean(cands),
        "found": found / lookups,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/kailbench/dup.sqlite3")
    parser.add_argument("--sizes", default="20000,200000,2000000", help="photo counts, comma-separated")
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--url-for", action="append", default=[], metavar="SIZE=URL", help="use an existing dataset for a size"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    given = {int(k): v for k, v in (item.split("=", 1) for item in args.url_for)}
    rows = []
    for size in sizes:
        url = given.get(size) or url_for_size(args.database_url, size)
        if size not in given:
            ensure_dataset(url, size)
        rows.append(measure(url, args.lookups, args.seed))
        r = rows[-1]
        print(f"{r['photos']:,} photos: p50 {r['p50']:.2f} ms", file=sys.stderr)
    print(f"{rows[0]['dialect']}, {args.lookups} lookups a size (half near-duplicates of stored photos, half new)")
    print()
    print(
        "| photos | similar_photos p50 ms | p95 ms | candidate rows | ×p50 vs previous size | slope | "
        "(id, phash) only p50 ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for i, r in enumerate(rows):
        growth = slope = ""
        if i:
            prev = rows[i - 1]
            ratio = r["p50"] / prev["p50"]
            growth = f"{ratio:.1f}× (size ×{r['photos'] / prev['photos']:.0f})"
            slope = f"{math.log(ratio) / math.log(r['photos'] / prev['photos']):.2f}"
        print(
            f"| {r['photos']:,} | {r['p50']:.2f} | {r['p95']:.2f} | {r['candidates']:.0f} | {growth} | {slope} | "
            f"{r['cols_p50']:.2f} |"
        )
    overall = (
        math.log(rows[-1]["p50"] / rows[0]["p50"]) / math.log(rows[-1]["photos"] / rows[0]["photos"])
        if len(rows) > 1
        else float("nan")
    )
    print(
        f"\nlog-log slope {rows[0]['photos']:,} → {rows[-1]['photos']:,}: **{overall:.2f}** "
        f"(1.0 = linear; target: sublinear)"
    )


if __name__ == "__main__":
    main()
