"""Exports for staff who live in Excel: recipients, visits (with photo links), status history and the per-regency
summary, as .xlsx or .csv (visits also as GeoJSON).

Rows come from the database in chunks and go straight out (CSV, GeoJSON) or into openpyxl's write-only sheet,
which spools to a temporary file, so 100,000 rows never sit in memory. Text that a spreadsheet would run as a
formula (=, +, -, @, tab, carriage return first) is prefixed with an apostrophe in both formats.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased
from werkzeug.datastructures import Headers
from werkzeug.routing import Map

from . import lifecycle, outcomes, review_states, visit_kinds
from .extensions import db
from .importing import HEADER_LABELS, Preview, error_rows
from .localtime import to_wita
from .models import EvidenceFlag, Photo, Recipient, Region, StatusChange, User, Visit

CHUNK = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

RECIPIENT_COLUMNS = (
    "nik",
    "kk_number",
    "name",
    "gender",
    "phone",
    "address",
    "region",
    "kecamatan",
    "desa",
    "decile",
    "decile_registry",
    "business_type",
    "business_description",
    "package_items",
    "funding_source",
    "budget_year",
    "mentor",
    "business_lat",
    "business_lon",
)
RECIPIENT_HEADERS = [HEADER_LABELS[c] for c in RECIPIENT_COLUMNS] + ["Status", "Tanggal Penyaluran"]


def download_name(name: str) -> str:
    """A file name safe to send: no control characters or path separators (names can come from uploads)."""
    return re.sub(r"[\x00-\x1f\x7f/\\]", "", name).strip() or "kail"


def download_headers(filename: str) -> dict[str, str]:
    """Headers for a streamed download: Content-Disposition encoded per RFC 6266 exactly as Werkzeug's
    `send_file(download_name=...)` writes it (an ASCII fallback, plus filename* in UTF-8 when needed)."""
    filename = download_name(filename)
    try:
        filename.encode("ascii")
        names = {"filename": filename}
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
        names = {"filename": simple, "filename*": f"UTF-8''{quote(filename, safe='!#$&+-.^_`|~')}"}
    headers = Headers()
    headers.set("Content-Disposition", "attachment", **names)
    return {"Content-Disposition": headers["Content-Disposition"], "Cache-Control": "no-store"}


def public_url_builder(public_url: str, url_map: Map) -> Callable[..., str]:
    """Absolute URLs for links that leave the app (exports): built from the configured PUBLIC_URL, never from
    the request's Host header. `build(endpoint, **values)`."""
    parts = urlsplit(public_url)
    adapter = url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return lambda endpoint, **values: adapter.build(endpoint, values, force_external=True)


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would read as a formula gets a leading apostrophe; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def wita(value: dt.datetime | None) -> dt.datetime | None:
    """Stored UTC -> WITA wall-clock time, naive (spreadsheets have no time zones)."""
    local = to_wita(value)
    return local.replace(tzinfo=None) if local else None


@dataclass
class Export:
    """A table to download: a file stem, its headers and a generator of rows (plain Python values)."""

    stem: str
    headers: list[str]
    rows: Callable[[], Iterator[list[Any]]]
    # Identifier columns (16-digit NIKs) Excel must keep as text: the CSV writes their digits-only cells as ="…",
    # the workbook formats them as Text ("@"); see docs/DECISIONS.md, "Import: NIKs stay text in the files we hand
    # out".
    text_columns: frozenset[int] = frozenset()


def _chunks(query: Select, key) -> Iterator[list[Any]]:
    """Run `query` a chunk at a time, paging by `key` (an increasing unique column) instead of OFFSET."""
    last = None
    while True:
        page = query.order_by(key).limit(CHUNK)
        if last is not None:
            page = page.where(key > last)
        rows = db.session.execute(page).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]
        for row in rows:  # forget what was streamed: the identity map would otherwise grow with every row
            for value in row:
                if hasattr(value, "_sa_instance_state"):
                    db.session.expunge(value)


def recipients(scope_ids: Select) -> Export:
    mentor = aliased(User)

    def rows():
        query = (
            select(Recipient.id, Recipient, Region.name, mentor.username)
            .join(Region, Recipient.region_id == Region.id)
            .outerjoin(mentor, Recipient.mentor_id == mentor.id)
            .where(Recipient.id.in_(scope_ids))
        )
        for chunk in _chunks(query, Recipient.id):
            for _id, r, region_name, mentor_name in chunk:
                yield [
                    r.nik,
                    r.kk_number,
                    r.name,
                    r.gender,
                    r.phone,
                    r.address,
                    region_name,
                    r.kecamatan,
                    r.desa,
                    r.decile,
                    r.decile_registry,
                    r.business_type,
                    r.business_description,
                    "; ".join(r.package_items or []),
                    r.funding_source,
                    r.budget_year,
                    mentor_name,
                    r.business_lat,
                    r.business_lon,
                    lifecycle.status_label(r.status),
                    r.distributed_on,
                ]

    return Export("penerima", RECIPIENT_HEADERS, rows, text_columns=frozenset({0, 1}))


VISIT_HEADERS = [
    "ID Kunjungan",
    "NIK",
    "Nama",
    "Kabupaten/Kota",
    "Pendamping",
    "Jenis Kunjungan",
    "Waktu Kunjungan (WITA)",
    "Lintang",
    "Bujur",
    "Akurasi (m)",
    "Alasan Tanpa Lokasi",
    "Usaha Beroperasi",
    "Omzet (Rp)",
    "Periode Omzet",
    "Status Pemeriksaan",
    "Putaran",
    "Catatan Pemeriksa",
    "Tanda Integritas",
    "Jumlah Foto",
    "Tautan Foto",
]


def _visit_rows(scope_ids: Select, photo_url: Callable[[int], str]) -> Iterator[tuple[Visit, str, str, str, list]]:
    """Visits in scope with their family, regency, mentor, flags and photo links, chunk by chunk (no N+1)."""
    mentor = aliased(User)
    query = (
        select(Visit.id, Visit, Recipient.nik, Recipient.name, Region.name, mentor.username)
        .join(Recipient, Visit.recipient_id == Recipient.id)
        .join(Region, Recipient.region_id == Region.id)
        .outerjoin(mentor, Visit.mentor_id == mentor.id)
        .where(Visit.recipient_id.in_(scope_ids))
    )
    for chunk in _chunks(query, Visit.id):
        ids = [row[0] for row in chunk]
        photos: dict[int, list[str]] = {}
        for visit_id, photo_id in db.session.execute(
            select(Photo.visit_id, Photo.id).where(Photo.visit_id.in_(ids)).order_by(Photo.id)
        ):
            photos.setdefault(visit_id, []).append(photo_url(photo_id))
        flags: dict[int, list[str]] = {}
        for visit_id, code in db.session.execute(
            select(EvidenceFlag.visit_id, EvidenceFlag.code)
            .where(EvidenceFlag.visit_id.in_(ids))
            .order_by(EvidenceFlag.id)
        ):
            flags.setdefault(visit_id, []).append(code)
        for visit_id, visit, nik, name, region_name, mentor_name in chunk:
            yield visit, nik, name, region_name, mentor_name, flags.get(visit_id, []), photos.get(visit_id, [])


def _label(code: str | None) -> str | None:
    """An answer code as the words the form showed ("ya" -> "Ya, berjalan"); None stays empty."""

    return visit_kinds.answer_label(code) if code else None


def visits(scope_ids: Select, photo_url: Callable[[int], str]) -> Export:
    def rows():
        for v, nik, name, region_name, mentor_name, flags, photos in _visit_rows(scope_ids, photo_url):
            answers = v.answers or {}
            yield [
                v.uuid,
                nik,
                name,
                region_name,
                mentor_name,
                visit_kinds.kind_title(v.kind),
                wita(v.visited_at),
                v.lat,
                v.lon,
                v.accuracy_m,
                _label(v.no_location_reason),
                _label(answers.get("operating")),
                answers.get("turnover"),
                _label(answers.get("turnover_period")),
                review_states.state_label(v.review_state),
                v.round,
                v.review_note,
                ", ".join(flags),
                len(photos),
                " ".join(photos),
            ]

    return Export("kunjungan", VISIT_HEADERS, rows, text_columns=frozenset({1}))


def visits_geojson(scope_ids: Select, photo_url: Callable[[int], str]) -> Iterator[str]:
    """Visits with a location as a GeoJSON FeatureCollection, streamed feature by feature."""
    yield '{"type": "FeatureCollection", "features": ['
    first = True
    for v, nik, name, region_name, mentor_name, flags, photos in _visit_rows(scope_ids, photo_url):
        if v.lat is None or v.lon is None:
            continue
        feature = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [v.lon, v.lat]},
            "properties": {
                "id": v.uuid,
                "nik": nik,
                "nama": name,
                "kabupaten_kota": region_name,
                "pendamping": mentor_name,
                "jenis": v.kind,
                "waktu_wita": wita(v.visited_at).isoformat(timespec="minutes"),
                "akurasi_m": v.accuracy_m,
                "pemeriksaan": v.review_state,
                "tanda": flags,
                "foto": photos,
            },
        }
        yield ("" if first else ",") + "\n" + json.dumps(feature, ensure_ascii=False)
        first = False
    yield "\n]}\n"


HISTORY_HEADERS = ["NIK", "Nama", "Kabupaten/Kota", "Dari Status", "Ke Status", "Alasan", "Oleh", "Waktu (WITA)"]


def status_history(scope_ids: Select) -> Export:
    by = aliased(User)

    def rows():
        query = (
            select(
                StatusChange.id,
                StatusChange.from_status,
                StatusChange.to_status,
                StatusChange.reason,
                StatusChange.changed_at,
                Recipient.nik,
                Recipient.name,
                Region.name,
                by.username,
            )
            .join(Recipient, StatusChange.recipient_id == Recipient.id)
            .join(Region, Recipient.region_id == Region.id)
            .outerjoin(by, StatusChange.changed_by_id == by.id)
            .where(StatusChange.recipient_id.in_(scope_ids))
        )
        for chunk in _chunks(query, StatusChange.id):
            for _id, old, new, reason, at, nik, name, region_name, username in chunk:
                yield [
                    nik,
                    name,
                    region_name,
                    lifecycle.status_label(old) if old else "",
                    lifecycle.status_label(new),
                    reason,
                    username,
                    wita(at),
                ]

    return Export("riwayat-status", HISTORY_HEADERS, rows, text_columns=frozenset({0}))


@dataclass(frozen=True)
class RegionRow:
    """A regency as plain values: exports run after the request's session has gone (streamed responses)."""

    id: int
    code: str
    full_name: str
    quota: int


def summary(
    regions: list[Region], scope: outcomes.Scope, today: dt.date, followup_months, budget_year: int | None = None
) -> Export:
    """One row per regency with the dashboard's figures, counted by the dashboard's functions over the dashboard's
    scope (`outcomes.dashboard_scope`, `outcomes.region_figures`): realisation by budget source for one budget year
    (the quota is a year's); status counts, coverage, backlog, overdue families, survival and the other pillars over
    every family in scope, whatever its budget year. `budget_year` is the one asked for: `outcomes.count_targets`
    counts it if families of that year are in scope, else the latest year in scope."""
    headers = [
        "Tahun Anggaran (Target & Realisasi)",
        "Kode",
        "Kabupaten/Kota",
        "Target",
        "Terdaftar",
        "Disalurkan APBD",
        "Disalurkan APBD-P",
        "Disalurkan",
        "% Realisasi",
        *[lifecycle.status_label(s) for s in lifecycle.STATUSES],
        "Disalurkan (aktif)",
        "Dikunjungi & Disetujui 30 Hari",
        "% Cakupan",
        "Menunggu Diperiksa",
        "Kunjungan Terlambat",
        *[
            f"{name} {months} Bulan"
            for months in outcomes.SURVIVAL_MONTHS
            for name in ("Bertahan", "Kesulitan", "Berhenti", "Dinilai", "% Bertahan", "Belum Dinilai", "Keluar")
        ],
        "Ikut Pelatihan",
        "Pilar 1 (BLT/Sembako/PKH)",
        "Pilar 3 (Rumah/Sanitasi/Air)",
    ]

    plain = [RegionRow(r.id, r.code, r.full_name, r.quota) for r in regions]

    def rows():
        year, figures = outcomes.region_figures(scope, plain, today, followup_months, budget_year)
        for target, f in figures:
            region = target.region
            yield [
                year,
                region.code,
                region.full_name,
                region.quota,
                target.registered,
                target.apbd,
                target.apbd_p,
                target.total,
                target.pct,
                *[n for _status, n in f.statuses],
                f.distributed,
                f.covered_30d,
                f.coverage_pct,
                f.backlog,
                f.overdue,
                *[
                    n
                    for s in f.survival
                    for n in (s.running, s.struggling, s.stopped, s.assessed, s.pct, s.not_assessed, s.left)
                ],
                f.reach.trained,
                f.reach.pillar_1,
                f.reach.pillar_3,
            ]

    return Export("ringkasan-kabupaten-kota", headers, rows)


def import_errors(preview: Preview, stem: str) -> Export:
    """An import's invalid rows (original columns, row number, reasons) as a table to download."""
    rows = list(error_rows(preview))
    ids = frozenset(preview.columns[c] for c in ("nik", "kk_number") if c in preview.columns)
    return Export(stem, rows[0], lambda: iter(rows[1:]), text_columns=ids)


# --- writers ---------------------------------------------------------------------------------------------------


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else neutralise(value)


def csv_stream(export: Export) -> Iterator[str]:
    """UTF-8 with a byte-order mark (so Excel shows Indonesian names right), comma-separated, line by line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(export.headers)
    text_columns = export.text_columns
    for n, row in enumerate(export.rows(), start=1):
        cells = [_csv_cell(v) for v in row]
        for index in text_columns:
            if index < len(cells) and isinstance(cells[index], str) and cells[index].isdigit():
                cells[index] = f'="{cells[index]}"'
        writer.writerow(cells)
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_file(export: Export, sheet_title: str | None = None) -> tempfile.SpooledTemporaryFile:
    """Write the export into a workbook (write-only: rows go to disk as they come) and return the open file."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(sheet_title or export.stem)[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in export.headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    date_style, time_style = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"
    for row in export.rows():
        cells = []
        for index, value in enumerate(row):
            if isinstance(value, dt.datetime):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = time_style
            elif isinstance(value, dt.date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = date_style
            else:
                if isinstance(value, str):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)  # NUL and other controls XML cannot hold
                cell = WriteOnlyCell(sheet, value=neutralise(value))
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula, even if openpyxl would guess one
                if index in export.text_columns:
                    cell.number_format = "@"  # stays text when edited in Excel
            cells.append(cell)
        sheet.append(cells)
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(out)
    out.seek(0)
    return out
