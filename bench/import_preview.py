"""How long a valid 100,000-row upload takes to preview, and how much memory it costs: `importing.stage_upload`
exactly as the admin page calls it (store the file, read it once, store the rows, check every row against the
database, store the check result).

    .venv/bin/python bench/import_preview.py                      # SQLite, 100,000 rows, xlsx and csv
    .venv/bin/python bench/import_preview.py --reader openpyxl    # the same through openpyxl's read-only mode
    .venv/bin/python bench/import_preview.py --profile            # cProfile's top functions instead of figures
    .venv/bin/python bench/import_preview.py --database-url postgresql+psycopg://…/kail_bench

Each measurement runs in its own (spawned) process. "extra MB" is the process's peak RSS (VmHWM) during the
preview above its RSS before it: what the worker really pays. "traced MB" is tracemalloc's peak, with --traced
(slower). "CPU s" is the process's user + system time: on a loaded machine it is the better estimate of the wall
time on an idle one. 20,000 of the NIKs are already registered (an earlier year), so the duplicate lookup has
something to find. The load average is printed: figures on a busy 2-core machine are upper bounds.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing as mp
import os
import pstats
import resource
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_recipients import make_rows  # noqa: E402

# All the columns of the export (which the import reads back), as an office would keep them.
HEADERS = [
    "NIK",
    "No KK",
    "Nama",
    "Jenis Kelamin",
    "No HP",
    "Alamat",
    "Kabupaten/Kota",
    "Kecamatan",
    "Desa/Kelurahan",
    "Desil",
    "Jenis Usaha",
    "Keterangan Usaha",
    "Paket Bantuan",
    "Sumber Dana",
    "Tahun Anggaran",
]


def full_rows(n: int) -> list[list[str]]:
    rows = []
    for i, (nik, kk, name, region, kecamatan, desa, decile, business, package) in enumerate(make_rows(n)):
        rows.append(
            [
                nik,
                kk,
                name,
                "P" if i % 2 else "L",
                f"0812{i:08d}",
                f"Jl. Pahlawan No. {i % 200} RT {i % 40:02d}",
                region,
                kecamatan,
                desa,
                decile,
                business,
                "Usaha rumahan sejak 2019, berhenti waktu pandemi",
                package,
                "APBD",
                "2026",
            ]
        )
    return rows


def extra_headers(extra: int) -> list[str]:
    """Columns the import ignores (an office's own notes), named in the header row so their cells are kept."""
    return [f"Catatan {n}" for n in range(1, extra + 1)]


def write_files(rows: list[list[str]], folder: Path, extra: int = 0) -> dict[str, Path]:
    """The rows as csv, as openpyxl writes xlsx (inline strings) and as Excel does (shared strings); `extra`
    ignored columns of one-digit numbers after the 15 (the most cells the upload limit lets a file carry)."""
    import csv

    from openpyxl import Workbook

    headers = HEADERS + extra_headers(extra)
    tail = [[n % 10 for n in range(i, i + extra)] for i in range(10)]
    csv_path = folder / "daftar.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        for i, row in enumerate(rows):
            writer.writerow(row + tail[i % 10])
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for i, row in enumerate(rows):
        sheet.append(row + tail[i % 10])
    xlsx_path = folder / "daftar.xlsx"
    workbook.save(xlsx_path)
    shared_path = folder / "daftar-excel.xlsx"
    with_shared_strings(xlsx_path, shared_path)
    return {
        "xlsx (inline strings, openpyxl)": xlsx_path,
        "xlsx (shared strings, as Excel)": shared_path,
        "csv": csv_path,
    }


def with_shared_strings(source: Path, target: Path) -> None:
    """The same workbook as Excel and LibreOffice write it: text in a shared-strings part, styled cells."""
    import re
    import zipfile
    from xml.sax.saxutils import escape

    strings: dict[bytes, int] = {}

    def shared(match: re.Match) -> bytes:
        index = strings.setdefault(match.group(2), len(strings))
        return b'<c r="' + match.group(1) + b'" t="s"><v>' + str(index).encode() + b"</v></c>"

    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t>([^<]*)</t></is></c>', shared, data)
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings"/></Relationships>',
                )
            elif info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                    b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            out.writestr(info, data)
        items = "".join(f"<si><t>{escape(text.decode())}</t></si>" for text in strings)
        out.writestr(
            "xl/sharedStrings.xml",
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>',
        )


def prepare_database(database_url: str, registered: list[str]) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from webapp import create_app
    from webapp.demo import seed_regions
    from webapp.extensions import db
    from webapp.models import Recipient, Region

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    with app.app_context():
        if database_url.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        seed_regions()
        db.session.commit()
        region = db.session.query(Region).first()
        batch = [
            {
                "nik": nik,
                "kk_number": nik,
                "name": "Terdaftar",
                "gender": "L",
                "region_id": region.id,
                "kecamatan": "-",
                "desa": "-",
                "decile": 1,
                "business_type": "Jahit",
                "budget_year": 2024,
                "funding_source": "APBD",
                "status": "calon",
                "version": 1,
            }
            for nik in registered
        ]
        for start in range(0, len(batch), 5000):
            db.session.execute(insert(Recipient), batch[start : start + 5000])
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def _openpyxl_rows(path: Path):
    """The alternative: the same zip checks, then openpyxl's read-only mode (first sheet, values only)."""
    import zipfile

    from openpyxl import load_workbook

    from webapp import importing

    with zipfile.ZipFile(path) as archive:
        importing.inspect_xlsx(archive)
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        for line, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
            if any(v is not None and v != "" for v in values):
                yield line, list(values)
    finally:
        workbook.close()


def _memory_kb(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process; unlike ru_maxrss, the peak is not inherited across exec."""
    for text in Path("/proc/self/status").read_text().splitlines():
        if text.startswith(field + ":"):
            return int(text.split()[1])
    raise LookupError(field)


def _preview(database_url: str, path: str, reader: str, profile: bool, traced: bool, out) -> None:
    from webapp import create_app, importing

    if reader == "openpyxl":
        importing._xlsx_rows = _openpyxl_rows  # the alternative the decision was measured against
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    with app.app_context(), tempfile.TemporaryDirectory() as upload_dir:
        from webapp.extensions import db

        db.session.execute(db.select(1))  # connect before measuring
        usage = resource.getrusage(resource.RUSAGE_SELF)
        rss_before, cpu_before = _memory_kb("VmRSS"), usage.ru_utime + usage.ru_stime
        profiler = cProfile.Profile() if profile else None
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        refused = None
        with open(path, "rb") as fh:
            try:
                token, _meta = importing.stage_upload(upload_dir, fh, Path(path).name, 1, 2026)
            except importing.ImportFileError as exc:  # a file over a limit: the reason, as the page shows it
                refused = str(exc)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_upload = usage.ru_utime + usage.ru_stime - cpu_before
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else None
        started_load = time.perf_counter()
        if refused is None:
            meta, stored = importing.load_staged(upload_dir, token, 1)
            preview = importing.staged_preview(upload_dir, token, meta, stored)
        loaded = time.perf_counter() - started_load
        usage = resource.getrusage(resource.RUSAGE_SELF)
        rss = (_memory_kb("VmHWM") - rss_before) / 1024
        cpu_page = usage.ru_utime + usage.ru_stime - cpu_before - cpu_upload
        report = ""
        if profiler:
            stream = io.StringIO()
            pstats.Stats(profiler, stream=stream).sort_stats(os.environ.get("SORT", "tottime")).print_stats(40)
            report = stream.getvalue()
        counts = (len(preview.rows), len(preview.invalid), len(preview.with_warnings)) if refused is None else None
        out.send((elapsed, loaded, cpu_upload, cpu_page, rss, peak, counts, refused, report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--registered", type=int, default=20_000, help="NIKs of the file already registered")
    parser.add_argument("--extra-columns", type=int, default=0, help="ignored columns of one-digit numbers")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temp folder")
    parser.add_argument("--reader", choices=("kail", "openpyxl"), default="kail")
    parser.add_argument("--only", choices=("xlsx", "csv"), default=None)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--traced", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = full_rows(args.rows)
        files = write_files(rows, folder, args.extra_columns)
        url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
        prepare_database(url, [row[0] for row in rows[: args.registered]])
        columns = len(HEADERS) + args.extra_columns
        print(f"{args.rows:,} rows, {columns} columns, {args.registered:,} NIKs registered in 2024")
        for kind, path in files.items():
            if path.suffix == ".xlsx":
                with zipfile.ZipFile(path) as archive:
                    sheet = archive.getinfo("xl/worksheets/sheet1.xml")
                    print(
                        f"{kind}: sheet {sheet.file_size / 2**20:.0f} MB unpacked, "
                        f"{path.stat().st_size / 2**20:.1f} MB packed"
                    )
        print(
            "| file | size MB | reader | upload s | page load s | CPU s: upload | page | extra MB (RSS) | traced MB "
            "| rows | invalid | warned |"
        )
        print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for kind, path in files.items():
            if args.only and not kind.startswith(args.only):
                continue
            receive, send = mp.Pipe(duplex=False)
            reader = args.reader if kind.startswith("xlsx") else "kail"
            # spawned, not forked: the child's peak RSS starts from its own imports, not from this process's rows
            work = (url, str(path), reader, args.profile, args.traced, send)
            child = mp.get_context("spawn").Process(target=_preview, args=work)
            child.start()
            child.join()
            elapsed, loaded, cpu_upload, cpu_page, rss, peak, counts, refused, report = receive.recv()
            traced = "–" if peak is None else f"{peak:,.0f}"
            outcome = " | ".join(f"{n:,}" for n in counts) if counts else f"refused: {refused} | – | –"
            print(
                f"| {kind} | {path.stat().st_size / 1e6:.1f} | {reader} | {elapsed:.1f} | {loaded:.1f} "
                f"| {cpu_upload:.1f} | {cpu_page:.1f} | {rss:,.0f} | {traced} | {outcome} |",
                flush=True,
            )
            if report:
                print(report)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
