"""Near-duplicate photo lookup: milliseconds per photo at 20k, 200k and 2M stored photos, and how it grows.

Times the app's own `webapp.integrity.similar_photos(phash)` (what the `foto_duplikat` flag uses: the three probes
of a `webapp.photohash` text, 4 x 17 band values each, read as index-only scans of the (band, lookup hash, id)
indexes, the lookup distance tested inside PostgreSQL; then the few rows within it fetched and their check hash
compared), one call per looked-up photo, in the app context. Half the probes are stored hashes with 0-3 lookup
bits and 0-20 check bits flipped (duplicates), half fresh random hashes (the common case: a new picture). Also
counts the index entries the band look-ups read (the work that grows with the table), the candidate query's own
execution time inside PostgreSQL (EXPLAIN ANALYZE: the database's work without the client machine's load) and the
load average while measuring (the machine is shared).

Datasets: `--photos-only` writes only the photos table (COPY, random hashes of the current scheme, 1 % near
copies; the foreign key to visits dropped in the bench schema): what the lookup reads, in minutes instead of the
hours a full national dataset takes; without it, bench/generate.py's whole dataset (recipients = photos / 20,
visits = photos / 2).

Growth: the ratio of medians between consecutive sizes, and the log-log slope (1.0 = linear; the target is
sublinear, i.e. well under 1).

    .venv/bin/python bench/duplicate_lookup.py --database-url sqlite:////tmp/kailbench/dup.sqlite3
    .venv/bin/python bench/duplicate_lookup.py --photos-only \
        --database-url postgresql://kail_test:kail_test@127.0.0.1:5432/kail_photohash

Each size gets its own dataset: SQLite files named after the given one (dup20000.sqlite3, ...), PostgreSQL schemas
(`dup20000`, ...) in the given database; existing datasets of the right size are reused. `--url-for 2000000=URL`
points a size at an existing dataset instead (e.g. the national one from generate.py).
"""

# ruff: noqa: S311  (seeded random probes)
from __future__ import annotations

import argparse
import math
import os
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


def random_text(rng: random.Random) -> str:
    """A stored hash text of the current scheme for a random (new, unrelated) picture."""
    from webapp import photohash

    def pair():
        return photohash.PhotoHash(rng.getrandbits(photohash.LOOKUP_BITS), rng.getrandbits(photohash.CHECK_BITS))

    probes = tuple(pair() for _ in range(photohash.PROBES))
    return photohash.PhotoHashes(probes[0], probes).text()


def photos_only_dataset(url: str, size: int, seed: int = 8) -> None:
    """Only the photos table, `size` rows of random hashes (1 % near-duplicates of an earlier one), written with
    COPY: what the lookup reads, without the 4.5 million other rows of a national dataset. The schema comes
    from the migrations; the photos' foreign key to visits is dropped in this bench schema (no visits exist)."""
    from flask_migrate import upgrade
    from sqlalchemy import inspect, text

    from webapp.extensions import db
    from webapp.models import PHASH_INDEX_COLUMNS, phash_columns

    generate.reset_database(url)
    app = generate.make_app(url)
    rng = random.Random(seed)
    with app.app_context():
        upgrade()
        table = db.metadata.tables["photos"]
        start = time.perf_counter()
        with db.engine.begin() as conn:
            for fk in inspect(conn).get_foreign_keys("photos"):
                conn.execute(text(f'ALTER TABLE photos DROP CONSTRAINT "{fk["name"]}"'))

            def rows():
                recent: list[str] = []
                now = generate.dt.datetime(2026, 12, 1)
                for pid in range(1, size + 1):
                    phash = _near(rng.choice(recent), rng) if recent and rng.random() < 0.01 else random_text(rng)
                    recent.append(phash) if len(recent) < 10_000 else None
                    digest = f"{pid:064x}"
                    yield (
                        pid, f"00000000-0000-4000-8000-{pid:012x}", 1 + pid // 2, "usaha_berjalan", f"{digest}.jpg",
                        f"t{digest}.jpg", digest, phash, 1600, 1200, 200_000, None, None, None,
                        *phash_columns(phash).values(), now,
                    )  # fmt: skip

            generate.Writer(conn).write(
                table,
                ["id", "uuid", "visit_id", "tag", "stored_name", "thumb_name", "sha256", "phash", "width", "height",
                 "bytes", "exif_taken_at", "exif_lat", "exif_lon", *PHASH_INDEX_COLUMNS, "created_at"],
                rows(),
            )  # fmt: skip
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE photos") if db.engine.dialect.name == "postgresql" else text("ANALYZE"))
        db.engine.dispose()
    print(f"photos-only dataset: {size:,} rows in {time.perf_counter() - start:.0f} s", file=sys.stderr)


def ensure_dataset(url: str, size: int, photos_only: bool = False) -> None:
    have = photo_count(url)
    if have == size:
        return
    if have:
        print(f"{url}: has {have:,} photos, not {size:,}: regenerating", file=sys.stderr)
    if photos_only:
        photos_only_dataset(url, size)
        return
    generate.reset_database(url)
    recipients = max(10, size // 20)
    r = generate.generate(url, recipients, size // 2, size, quiet=True)
    print(
        f"generated {size:,} photos ({r['rows']:,} rows) in {r['seconds']:.0f} s, {r['rows_per_s']:,.0f} rows/s",
        file=sys.stderr,
    )


def read_older_datasets_as_current() -> None:
    """A dataset built before migration 0017 holds "3:" texts: random hashes in the very layout of the current
    scheme (only the version prefix differs, and the bench's hashes are random anyway). Read them as the current
    scheme instead of rebuilding millions of rows."""
    from webapp import photohash

    real = photohash.parse

    def parse(text: str | None):
        if text and text.startswith("3:") and len(text) == photohash.TEXT_LENGTH:
            text = f"{photohash.VERSION}:{text[2:]}"
        return real(text)

    photohash.parse = parse


def _lookups(phash: str) -> list[int]:
    from webapp.photohash import parse

    return sorted({probe.lookup for probe in parse(phash).probes})


def server_ms(phash: str) -> float | None:
    """The candidate query's execution time inside PostgreSQL (EXPLAIN ANALYZE): what the database itself spends,
    less sensitive to a loaded client machine than the wall clock."""
    from sqlalchemy import text

    from webapp.extensions import db
    from webapp.integrity import candidate_query

    if db.engine.dialect.name != "postgresql":
        return None
    from webapp.photohash import LOOKUP_MAX, NEAR_LOOKUP_MAX

    query = candidate_query(_lookups(phash), max(LOOKUP_MAX, NEAR_LOOKUP_MAX))  # as similar_photos asks it
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = db.session.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}")).scalar()
    return plan[0]["Execution Time"]


def candidates(phash: str) -> int:
    """Index entries the band look-ups read (before the lookup-distance test): the work that grows with the table."""
    from sqlalchemy import func, select, union_all

    from webapp.extensions import db
    from webapp.integrity import BAND_COLUMNS, _neighbour_values
    from webapp.models import Photo
    from webapp.photohash import bands

    values = [set() for _ in BAND_COLUMNS]
    for lookup in _lookups(phash):
        for band, value in enumerate(bands(lookup)):
            values[band].update(_neighbour_values(value))
    parts = [select(Photo.id).where(c.in_(sorted(v))) for c, v in zip(BAND_COLUMNS, values, strict=True)]
    return db.session.scalar(select(func.count()).select_from(union_all(*parts).subquery()))


def _random_text(rng: random.Random) -> str:
    return random_text(rng)


def _near(text: str, rng: random.Random) -> str:
    """A near-duplicate arriving: its first probe is the stored hash with a few bits flipped."""
    from webapp import photohash

    stored = photohash.parse(text).stored
    lookup, check = stored.lookup, stored.check
    for _ in range(rng.randint(0, 3)):
        lookup ^= 1 << rng.randrange(photohash.LOOKUP_BITS)
    for _ in range(rng.randint(0, 20)):
        check ^= 1 << rng.randrange(photohash.CHECK_BITS)
    others = photohash.parse(random_text(rng)).probes[1:]
    first = photohash.PhotoHash(lookup, check)
    return photohash.PhotoHashes(first, (first, *others)).text()


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
        app_ms, cols_ms, trip_ms, found, cands = [], [], [], 0, []
        for phash in probes:
            start = time.perf_counter()
            matches = similar_photos(phash)
            app_ms.append((time.perf_counter() - start) * 1e3)
            found += bool(matches)
            db.session.rollback()  # a new request: empty identity map
            cols_ms.append(server_ms(phash))
            db.session.rollback()
            start = time.perf_counter()
            db.session.execute(select(1)).all()  # the machine's own round trip at this moment (load)
            trip_ms.append((time.perf_counter() - start) * 1e3)
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
        "server_p50": statistics.median(cols_ms) if cols_ms[0] is not None else float("nan"),
        "load": os.getloadavg()[0],
        "trip_p50": statistics.median(trip_ms),
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
        "--photos-only", action="store_true", help="generate only the photos table (COPY; PostgreSQL or SQLite)"
    )
    parser.add_argument(
        "--url-for", action="append", default=[], metavar="SIZE=URL", help="use an existing dataset for a size"
    )
    args = parser.parse_args()
    read_older_datasets_as_current()
    sizes = [int(s) for s in args.sizes.split(",")]
    given = {int(k): v for k, v in (item.split("=", 1) for item in args.url_for)}
    rows = []
    for size in sizes:
        url = given.get(size) or url_for_size(args.database_url, size)
        if size not in given:
            ensure_dataset(url, size, args.photos_only)
        rows.append(measure(url, args.lookups, args.seed))
        r = rows[-1]
        print(f"{r['photos']:,} photos: p50 {r['p50']:.2f} ms, found {r['found']:.0%}", file=sys.stderr)
    print(f"{rows[0]['dialect']}, {args.lookups} lookups a size (half near-duplicates of stored photos, half new)")
    print()
    print(
        "| photos | similar_photos p50 ms | p95 ms | candidate rows | ×p50 vs previous size | slope | "
        "candidate query in PostgreSQL p50 ms | SELECT 1 round trip p50 ms | load average |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i, r in enumerate(rows):
        growth = slope = ""
        if i:
            prev = rows[i - 1]
            ratio = r["p50"] / prev["p50"]
            growth = f"{ratio:.1f}× (size ×{r['photos'] / prev['photos']:.0f})"
            slope = f"{math.log(ratio) / math.log(r['photos'] / prev['photos']):.2f}"
        print(
            f"| {r['photos']:,} | {r['p50']:.2f} | {r['p95']:.2f} | {r['candidates']:.0f} | {growth} | {slope} | "
            f"{r['server_p50']:.2f} | {r['trip_p50']:.2f} | {r['load']:.1f} |"
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
