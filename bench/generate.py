"""Fill a Kail database with realistic-shaped data at province or national scale, fast (bulk inserts).

The schema comes from the app's own Alembic migrations (`flask_migrate.upgrade()` in the app context); rows are
written with SQLAlchemy Core `insert()` executemany batches (SQLite) or PostgreSQL `COPY` through psycopg, with
explicit ids so foreign keys are known without round trips. Shapes follow webapp/demo.py: the 10 Kaltim regions
from the app's seed (plus synthetic regencies beyond 10, about 168 families each, as PKH's ~500 regencies have),
one supervisor per region, one mentor per ~56 families, statuses with their histories, visits with answers JSON,
review decisions for decided visits, a few integrity flags, and photo rows with random `webapp.photohash` texts
(three random 64-bit lookup / 256-bit check pairs; the stored lookup hash split into bands by
`webapp.models.phash_bands`; about 1% are near-duplicates of an earlier photo), fake stored names and
sha256. No photo files are written.

Accounts (password `kail-bench-pw`, not demo accounts): admin, koordinator1..N (one per region),
pendamping1..M. Dates are relative to today, so "overdue" and "last 30 days" mean something on any day.

Defaults: 1,680 recipients (Kaltim this year), 10 visits a recipient and 2 photos a visit (the national shape).
National scale: `--recipients 100000 --visits 1000000 --photos 2000000`. On PostgreSQL several datasets can live in
one database, one schema each: end the URL with `?options=-csearch_path%3Dn100k` (`--reset` drops that schema only).

    .venv/bin/python bench/generate.py --database-url sqlite:////tmp/kailbench/k1680.sqlite3 --reset
    .venv/bin/python bench/generate.py --database-url postgresql://kail_bench:kail_bench@127.0.0.1/kail_bench \
        --reset --recipients 100000 --visits 1000000 --photos 2000000
"""

# ruff: noqa: S105, S311, S608  (bench data: fixed password, seeded random, table names from our metadata)
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_PASSWORD = "kail-bench-pw"
FAMILIES_PER_MENTOR = 56  # Kaltim: 1,680 families, 30 mentors
FAMILIES_PER_REGION = 168  # Kaltim's quota per regency
BATCH = 5_000


def default_url(recipients: int) -> str:
    return f"sqlite:////tmp/kailbench/k{recipients}.sqlite3"


def reset_database(url: str) -> None:
    """Drop everything: the SQLite file, or the public schema of the (bench-only) PostgreSQL database."""
    from webapp.config import normalise_database_url

    url = normalise_database_url(url)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        # One database, several datasets: a URL may pick its schema with ?options=-csearch_path%3Dname
        schema = conn.execute(text("SHOW search_path")).scalar().split(",")[0].strip().strip('"')
        if schema == "$user":
            schema = "public"
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def make_app(url: str, upload_dir: str | None = None):
    """The app on `url` (DATABASE_URL set too, as `flask db upgrade` would see it)."""
    os.environ["DATABASE_URL"] = url
    from webapp import create_app

    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "kail-bench", "LOG_LEVEL": "WARNING"}
    if upload_dir:
        config["UPLOAD_DIR"] = upload_dir
    return create_app(config)


class Writer:
    """Bulk rows into a table: COPY on PostgreSQL, Core insert() executemany elsewhere."""

    def __init__(self, conn):
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}

    def write(self, table, columns: list[str], rows: Iterable[tuple]) -> int:
        n = 0
        if self.pg:
            raw = self.conn.connection.driver_connection
            json_cols = {i for i, c in enumerate(columns) if table.c[c].type.__class__.__name__ == "JSON"}
            cols = ", ".join(f'"{c}"' for c in columns)
            with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    if json_cols:
                        row = tuple(json.dumps(v) if i in json_cols else v for i, v in enumerate(row))
                    copy.write_row(row)
                    n += 1
        else:
            stmt = table.insert()
            batch: list[dict] = []
            for row in rows:
                batch.append(dict(zip(columns, row, strict=True)))
                if len(batch) >= BATCH:
                    self.conn.execute(stmt, batch)
                    n += len(batch)
                    batch = []
            if batch:
                self.conn.execute(stmt, batch)
                n += len(batch)
        self.counts[table.name] = self.counts.get(table.name, 0) + n
        return n

    def fix_sequences(self, tables) -> None:
        if not self.pg:
            return
        from sqlalchemy import text

        for table in tables:
            if "id" in table.c:
                self.conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f'(SELECT COALESCE(MAX(id), 1) FROM "{table.name}"))'
                    )
                )


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def generate(
    url: str, recipients: int, visits: int, photos: int, regions: int | None = None, seed: int = 8, quiet: bool = False
) -> dict:
    """Create the schema and fill it; returns counts and timings."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select
    from werkzeug.security import generate_password_hash

    from webapp import areas, demo, lifecycle, photohash
    from webapp.extensions import db
    from webapp.models import FLAG_CODES, PHASH_INDEX_COLUMNS, answer_columns, phash_columns

    app = make_app(url)
    t0 = time.perf_counter()
    with app.app_context():
        upgrade()
        if db.session.scalar(select(func.count()).select_from(db.metadata.tables["recipients"])):
            raise SystemExit("the database already has recipients: use --reset")
    t_schema = time.perf_counter() - t0
    rng = random.Random(seed)
    today = dt.date.today()
    now = dt.datetime.combine(today, dt.time(2, 0))  # 10.00 WITA
    t = db.metadata.tables
    timings: dict[str, float] = {}

    with app.app_context():
        engine = db.engine
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA synchronous=OFF")
                conn.exec_driver_sql("PRAGMA cache_size=-1000000")  # 1 GB: random-keyed indexes stay in memory
            else:
                conn.exec_driver_sql("SET synchronous_commit = off")
                conn.exec_driver_sql("SET maintenance_work_mem = '256MB'")
            w = Writer(conn)
            start = time.perf_counter()

            # Regions: the app's own seed rows, then synthetic regencies for national scale.
            n_regions = regions or max(10, round(recipients / FAMILIES_PER_REGION))
            region_rows = areas.region_rows()
            for i in range(len(region_rows), n_regions):
                region_rows.append(
                    {
                        "code": f"{7000 + i:04d}",
                        "name": f"Sintetis {i + 1:04d}",
                        "kind": "Kabupaten",
                        "capital": f"Ibukota {i + 1}",
                        "lat": round(rng.uniform(-9, 4), 4),
                        "lon": round(rng.uniform(96, 140), 4),
                        "quota": FAMILIES_PER_REGION,
                    }
                )
            region_rows = region_rows[:n_regions]
            for i, row in enumerate(region_rows, start=1):
                row["id"] = i
            cols = ["id", "code", "name", "kind", "capital", "lat", "lon", "quota"]
            w.write(t["regions"], cols, ([r[c] for c in cols] for r in region_rows))

            # Families per region (even split), then accounts.
            per_region = [recipients // n_regions + (1 if i < recipients % n_regions else 0) for i in range(n_regions)]
            pw = generate_password_hash(BENCH_PASSWORD)
            users = [(1, "admin", "Admin Bench", None, "admin")]
            user_regions = []
            mentors_of: list[list[int]] = []
            uid = 1
            mentor_no = 0
            for i, r in enumerate(region_rows):
                uid += 1
                users.append((uid, f"koordinator{i + 1}", f"Koordinator {r['name']}", f"0812{i + 1:08d}", "supervisor"))
                user_regions.append((uid, r["id"]))
                ids = []
                for _ in range(max(1, math.ceil(per_region[i] / FAMILIES_PER_MENTOR))):
                    uid += 1
                    mentor_no += 1
                    users.append(
                        (
                            uid,
                            f"pendamping{mentor_no}",
                            f"{rng.choice(demo.FEMALE_NAMES)} {rng.choice(demo.FAMILY_NAMES)}",
                            f"0813{mentor_no:08d}",
                            "mentor",
                        )
                    )
                    user_regions.append((uid, r["id"]))
                    ids.append(uid)
                mentors_of.append(ids)
            w.write(
                t["users"],
                ["id", "username", "full_name", "phone", "role", "active", "is_demo", "password_hash", "created_at"],
                ((u[0], u[1], u[2], u[3], u[4], True, False, pw, now) for u in users),
            )
            w.write(t["user_regions"], ["user_id", "region_id"], user_regions)

            # Recipients and their status histories.
            statuses = list(demo.STATUS_WEIGHTS)
            weights = list(demo.STATUS_WEIGHTS.values())
            businesses = list(demo.PACKAGES)
            fams: list[tuple] = []  # (id, region index, mentor id, status, distributed_on, lat, lon, items)
            rec_rows, change_rows = [], []
            rid = cid = 0
            for ri, region in enumerate(region_rows):
                kec = areas.districts_of(region["kind"], region["name"]) or {"Kecamatan Satu": ["Desa Satu"]}
                kec_names = list(kec)
                for k in range(per_region[ri]):
                    rid += 1
                    female = rng.random() < 0.6
                    status = rng.choices(statuses, weights)[0]
                    path = demo.PATHS[status]
                    created = now - dt.timedelta(days=rng.randint(200, 700), hours=rng.randint(0, 8))
                    times = [created]
                    for _s in path[1:]:
                        step = times[-1] + dt.timedelta(days=rng.randint(20, 120))
                        times.append(min(step, now - dt.timedelta(days=1)))
                    distributed = (
                        times[path.index(lifecycle.DISALURKAN)].date() if lifecycle.DISALURKAN in path else None
                    )
                    located = distributed is not None and rng.random() < 0.7
                    lat = round(region["lat"] + rng.uniform(-0.08, 0.08), 6) if located else None
                    lon = round(region["lon"] + rng.uniform(-0.08, 0.08), 6) if located else None
                    business = rng.choice(businesses)
                    mentor = mentors_of[ri][k % len(mentors_of[ri])]
                    k_name = rng.choice(kec_names)
                    items = demo.PACKAGES[business]
                    rec_rows.append(
                        (
                            rid,
                            f"{region['code']}{rid:012d}",
                            f"{region['code']}{rid + 10**11:012d}",
                            f"{rng.choice(demo.FEMALE_NAMES if female else demo.MALE_NAMES)} "
                            f"{rng.choice(demo.FAMILY_NAMES)}",
                            "P" if female else "L",
                            f"0813{rng.randint(10**7, 10**8 - 1)}",
                            f"{rng.choice(demo.STREETS)} No. {rng.randint(1, 120)}",
                            k_name,
                            rng.choice(kec[k_name]),
                            region["id"],
                            rng.choices([1, 2, 3, 4, 5], [30, 28, 20, 14, 8])[0],
                            business,
                            f"Usaha {business.lower()} di rumah.",
                            list(items),
                            "APBD-P" if k % 10 == 9 else "APBD",
                            today.year - 1,
                            distributed,
                            mentor,
                            lat,
                            lon,
                            status,
                            1,
                            created,
                            times[-1],
                        )
                    )
                    prev = None
                    for step, when in zip(path, times, strict=True):
                        cid += 1
                        change_rows.append(
                            (cid, rid, prev, step, demo.REASONS.get(step), mentor if prev else None, when)
                        )
                        prev = step
                    fams.append((rid, ri, mentor, status, distributed, lat, lon, items))
            rcols = [
                "id",
                "nik",
                "kk_number",
                "name",
                "gender",
                "phone",
                "address",
                "kecamatan",
                "desa",
                "region_id",
                "decile",
                "business_type",
                "business_description",
                "package_items",
                "funding_source",
                "budget_year",
                "distributed_on",
                "mentor_id",
                "business_lat",
                "business_lon",
                "status",
                "version",
                "created_at",
                "updated_at",
            ]
            w.write(t["recipients"], rcols, rec_rows)
            w.write(
                t["status_changes"],
                ["id", "recipient_id", "from_status", "to_status", "reason", "changed_by_id", "changed_at"],
                change_rows,
            )
            del rec_rows, change_rows
            timings["recipients"] = time.perf_counter() - start

            # Visits: spread over distributed families (else every family), most approved, a few pending.
            start = time.perf_counter()
            visited_fams = [f for f in fams if f[4] is not None] or fams
            visit_meta: list[int] = []  # visit ids, in order
            pending_ids: list[int] = []
            decision_rows: list[tuple] = []
            flag_rows: list[tuple] = []

            def visit_rows() -> Iterator[tuple]:
                vid = 0
                base, extra = divmod(visits, len(visited_fams))
                for fi, (rid_, _ri, mentor, status, distributed, blat, blon, items) in enumerate(visited_fams):
                    count = base + (1 if fi < extra else 0)
                    start_day = distributed or (now.date() - dt.timedelta(days=300))
                    span = max(1, (now.date() - start_day).days)
                    for j in range(count):
                        vid += 1
                        when = dt.datetime.combine(
                            start_day + dt.timedelta(days=span * (j + 1) // (count + 1)),
                            dt.time(rng.randint(0, 9), rng.randint(0, 59)),
                        )
                        recent = (now - when).days < 21
                        roll = rng.random()
                        if recent and j == count - 1 and roll < 0.6:
                            state = "menunggu"
                        elif roll < 0.02:
                            state = "perbaikan"
                        elif roll < 0.03:
                            state = "ditolak"
                        elif roll < 0.05 and recent:
                            state = "menunggu"
                        else:
                            state = "disetujui"
                        struggling = status in (lifecycle.USAHA_KESULITAN, lifecycle.USAHA_BERHENTI)
                        answers = {
                            "operating": "sebagian" if struggling else "ya",
                            "turnover": rng.randrange(30_000, 120_000 if struggling else 400_000, 5_000),
                            "turnover_period": "hari",
                            "items": {item: "dipakai" for item in items},
                            "problems": ["pembeli"] if struggling else [],
                            "problem_notes": "",
                            "mentoring": "Membahas pencatatan penjualan harian dan menyisihkan modal.",
                        }
                        lat = round(blat + rng.uniform(-0.0005, 0.0005), 6) if blat is not None else None
                        lon = round(blon + rng.uniform(-0.0005, 0.0005), 6) if blon is not None else None
                        decided = state != "menunggu"
                        if decided:
                            decision_rows.append(
                                (
                                    vid,
                                    vid,
                                    1,
                                    state,
                                    "Mohon foto ulang." if state == "perbaikan" else None,
                                    None,
                                    when + dt.timedelta(days=1),
                                )
                            )
                        else:
                            pending_ids.append(vid)
                        if rng.random() < (0.3 if not decided else 0.03):
                            flag_rows.append(
                                (len(flag_rows) + 1, vid, rng.choice(FLAG_CODES), "peringatan", {"bench": True}, when)
                            )
                        visit_meta.append(vid)
                        kind = "penyaluran" if j == 0 else "pendampingan"
                        copied = answer_columns(answers)  # what the app's model hook keeps as columns
                        yield (
                            vid,
                            _uuid(rng),
                            rid_,
                            mentor,
                            kind,
                            when,
                            when + dt.timedelta(minutes=5),
                            lat,
                            lon,
                            round(rng.uniform(5, 40), 1) if lat is not None else None,
                            when if lat is not None else None,
                            None if lat is not None else "lainnya",
                            answers,
                            state,
                            when + dt.timedelta(days=1) if decided else None,
                            "Mohon foto ulang." if state == "perbaikan" else None,
                            None,
                            1,
                            copied["operating"],
                            copied["turnover_per_day"],
                            copied["items_total"],
                            copied["items_in_use"],
                        )

            vcols = [
                "id",
                "uuid",
                "recipient_id",
                "mentor_id",
                "kind",
                "visited_at",
                "received_at",
                "lat",
                "lon",
                "accuracy_m",
                "location_fixed_at",
                "no_location_reason",
                "answers",
                "review_state",
                "reviewed_at",
                "review_note",
                "next_visit_on",
                "round",
                "operating",
                "turnover_per_day",
                "items_total",
                "items_in_use",
            ]
            w.write(t["visits"], vcols, visit_rows())
            w.write(
                t["review_decisions"],
                ["id", "visit_id", "round", "decision", "note", "decided_by_id", "decided_at"],
                decision_rows,
            )
            w.write(t["evidence_flags"], ["id", "visit_id", "code", "severity", "evidence", "created_at"], flag_rows)
            timings["visits"] = time.perf_counter() - start

            # Photos: spread over visits; random 64-bit dHash, ~1% near-duplicates of an earlier one.
            start = time.perf_counter()
            n_visits = len(visit_meta)

            def photo_rows() -> Iterator[tuple]:
                recent_hashes: list[list[int]] = []
                tags = ("usaha_berjalan", "barang_bantuan", "serah_terima", "nota_pembelian")
                for pid in range(1, photos + 1):
                    vid = visit_meta[(pid - 1) * n_visits // photos] if n_visits else None
                    # webapp.photohash's text: three (64-bit lookup, 256-bit check) pairs, the first one stored
                    if recent_hashes and rng.random() < 0.01:
                        value = list(rng.choice(recent_hashes))
                        for _ in range(rng.randint(0, 5)):
                            value[0] ^= 1 << rng.randrange(64)
                        for _ in range(rng.randint(0, 30)):
                            value[1] ^= 1 << rng.randrange(256)
                    else:
                        value = [rng.getrandbits(64), rng.getrandbits(256)]
                    value[2:] = [rng.getrandbits(64), rng.getrandbits(256), rng.getrandbits(64), rng.getrandbits(256)]
                    if len(recent_hashes) < 10_000:
                        recent_hashes.append(value)
                    else:
                        recent_hashes[rng.randrange(10_000)] = value
                    phash = f"{photohash.VERSION}:" + "".join(f"{value[i]:016x}{value[i + 1]:064x}" for i in (0, 2, 4))
                    digest = hashlib.sha256(pid.to_bytes(8, "big")).hexdigest()
                    yield (
                        pid,
                        _uuid(rng),
                        vid,
                        tags[pid % 2],
                        f"{digest}.jpg",
                        f"{digest[::-1]}.jpg",
                        digest,
                        phash,
                        1600,
                        1200,
                        rng.randint(150_000, 450_000),
                        now - dt.timedelta(days=rng.randint(1, 600)),
                        None,
                        None,
                        *phash_columns(phash).values(),
                        now,
                    )

            pcols = [
                "id",
                "uuid",
                "visit_id",
                "tag",
                "stored_name",
                "thumb_name",
                "sha256",
                "phash",
                "width",
                "height",
                "bytes",
                "exif_taken_at",
                "exif_lat",
                "exif_lon",
                *PHASH_INDEX_COLUMNS,
                "created_at",
            ]
            if photos and not n_visits:
                raise SystemExit("photos need visits: give --visits > 0")
            w.write(t["photos"], pcols, photo_rows())
            timings["photos"] = time.perf_counter() - start
            w.fix_sequences(
                [
                    t[name]
                    for name in (
                        "regions",
                        "users",
                        "recipients",
                        "status_changes",
                        "visits",
                        "review_decisions",
                        "evidence_flags",
                        "photos",
                    )
                ]
            )
        start = time.perf_counter()
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        timings["analyze"] = time.perf_counter() - start
        engine.dispose()
    total_rows = sum(w.counts.values())
    elapsed = sum(timings.values())
    result = {
        "counts": w.counts,
        "timings": timings,
        "schema_s": t_schema,
        "rows": total_rows,
        "seconds": elapsed,
        "rows_per_s": total_rows / elapsed if elapsed else 0.0,
        "dialect": "postgresql" if w.pg else "sqlite",
    }
    if not quiet:
        print_report(url, result)
    return result


def print_report(url: str, r: dict) -> None:
    from sqlalchemy.engine import make_url

    print(f"database: {make_url(url).render_as_string(hide_password=True)} ({r['dialect']})")
    print("| table | rows |")
    print("|---|---:|")
    for name, n in r["counts"].items():
        print(f"| {name} | {n:,} |")
    print(f"| **total** | **{r['rows']:,}** |")
    print()
    print("| phase | seconds |")
    print("|---|---:|")
    print(f"| schema (migrations) | {r['schema_s']:.1f} |")
    for name, s in r["timings"].items():
        print(f"| {name} | {s:.1f} |")
    print(f"\n{r['rows']:,} rows in {r['seconds']:.1f} s = **{r['rows_per_s']:,.0f} rows/s** (schema excluded)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: a SQLite file under /tmp/kailbench/)")
    parser.add_argument("--recipients", type=int, default=1680)
    parser.add_argument("--visits", type=int, help="default: 10 per recipient")
    parser.add_argument("--photos", type=int, help="default: 2 per visit")
    parser.add_argument("--regions", type=int, help="default: max(10, recipients / 168)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--reset", action="store_true", help="drop the SQLite file / PostgreSQL public schema first")
    args = parser.parse_args(argv)
    url = args.database_url or default_url(args.recipients)
    visits = args.visits if args.visits is not None else 10 * args.recipients
    photos = args.photos if args.photos is not None else 2 * visits
    if args.reset:
        reset_database(url)
    elif url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    generate(url, args.recipients, visits, photos, args.regions, args.seed)


if __name__ == "__main__":
    main()
