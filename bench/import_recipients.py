"""How long a 10,000-row recipient list takes to import: read (xlsx / csv), check every row, write in one
transaction. The same code path as the admin page and `flask import-recipients`.

    .venv/bin/python bench/import_recipients.py                       # SQLite in a temp folder, 10,000 rows
    .venv/bin/python bench/import_recipients.py --rows 50000 --database-url postgresql+psycopg://…/kail_bench

The database is emptied (schema rebuilt by the migrations) before each run. Prints seconds per phase.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path


def make_rows(n: int) -> list[list[str]]:
    from webapp import areas

    rng = random.Random(10_000)
    places = []
    for region in areas.region_rows():
        for kecamatan, desas in areas.districts_of(region["kind"], region["name"]).items():
            places.extend((region["code"], region["name"], kecamatan, desa) for desa in desas)
    rows = []
    for i in range(n):
        code, region, kecamatan, desa = rng.choice(places)
        day = rng.randint(1, 28) + (40 if i % 2 else 0)
        nik = f"{code}{i // 10000:02d}{day:02d}{rng.randint(1, 12):02d}{rng.randint(60, 99):02d}{i % 10000:04d}"
        rows.append(
            [
                nik,
                f"{code}{i:012d}",
                f"Warga Bench {i}",
                region,
                kecamatan,
                desa,
                str(rng.randint(1, 5)),
                rng.choice(["Gorengan", "Warung sembako", "Jahit", "Kue basah"]),
                "Wajan; Kompor gas",
            ]
        )
    return rows


HEADERS = [
    "NIK",
    "No KK",
    "Nama",
    "Kabupaten/Kota",
    "Kecamatan",
    "Desa/Kelurahan",
    "Desil",
    "Jenis Usaha",
    "Paket Bantuan",
]


def write_files(rows: list[list[str]], folder: Path) -> dict[str, Path]:
    from openpyxl import Workbook

    csv_path = folder / "daftar.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    xlsx_path = folder / "daftar.xlsx"
    workbook.save(xlsx_path)
    return {"xlsx": xlsx_path, "csv": csv_path}


def run(database_url: str, path: Path) -> dict[str, float]:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from webapp import create_app, importing
    from webapp.demo import seed_regions
    from webapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    with app.app_context():
        if database_url.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        seed_regions()
        db.session.commit()
        times = {}
        start = time.perf_counter()
        table = importing.read_table(path, path.name)
        times["read"] = time.perf_counter() - start
        start = time.perf_counter()
        preview = importing.validate(table, path.name, 2026)
        times["check"] = time.perf_counter() - start
        assert not preview.invalid, preview.invalid[0].errors
        start = time.perf_counter()
        stored = importing.commit(preview, None)
        db.session.commit()
        times["write"] = time.perf_counter() - start
        assert stored == len(table.rows)
        db.session.remove()
        db.engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temp folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = write_files(make_rows(args.rows), folder)
        print(
            f"{args.rows:,} rows; xlsx {files['xlsx'].stat().st_size / 1e6:.1f} MB, "
            f"csv {files['csv'].stat().st_size / 1e6:.1f} MB"
        )
        print(f"{'file':6} {'read s':>8} {'check s':>8} {'write s':>8} {'total s':>8} {'rows/s':>9}")
        for kind, path in files.items():
            url = args.database_url or f"sqlite:///{folder / f'bench-{kind}.sqlite3'}"
            t = run(url, path)
            total = sum(t.values())
            print(
                f"{kind:6} {t['read']:8.2f} {t['check']:8.2f} {t['write']:8.2f} {total:8.2f} {args.rows / total:9,.0f}"
            )


if __name__ == "__main__":
    main()
