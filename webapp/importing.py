"""Recipient lists from Excel (.xlsx) or CSV: read, match headers, check every row, preview, then write all valid
rows in one transaction. Used by the admin import page and by `flask import-recipients`.

Nothing is written until `commit`; a row either passes every check or is listed with its reasons (in Indonesian,
shown next to the row and written to a downloadable error file with the original columns, so staff fix the rows
in Excel and import that file again).
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select

from . import areas, lifecycle
from .extensions import db
from .models import FUNDING_SOURCES, Recipient, Region, StatusChange, User, utcnow

MAX_ROWS = 100_000
HEADER_SEARCH_ROWS = 10  # DTKS extracts often have a title above the header row
PREVIOUS_YEARS_WARNING = 3

# Canonical column -> the header spellings accepted (compared after `_key`: lower case, letters and digits only).
COLUMNS: dict[str, tuple[str, ...]] = {
    "nik": ("nik", "noinduk", "nomorindukkependudukan"),
    "kk_number": ("nokk", "nomorkk", "kk", "nokartukeluarga", "nomorkartukeluarga"),
    "name": ("nama", "namakpm", "namapenerima", "namalengkap", "namakepalakeluarga"),
    "region": ("kabupatenkota", "kabkota", "kabupaten", "kota", "kabupatenataukota"),
    "kecamatan": ("kecamatan", "kec"),
    "desa": ("desakelurahan", "desa", "kelurahan", "desakel", "kelurahandesa"),
    "decile": ("desil", "desildtks"),
    "business_type": ("jenisusaha", "usaha"),
    "gender": ("jeniskelamin", "jk", "lp", "kelamin"),
    "phone": ("nohp", "telepon", "notelepon", "nomorhp", "hp", "notelp", "telp"),
    "address": ("alamat",),
    "business_description": ("keteranganusaha", "deskripsiusaha"),
    "package_items": ("paketbantuan", "barangbantuan", "isipaket"),
    "funding_source": ("sumberdana", "sumberanggaran", "anggaran"),
    "budget_year": ("tahunanggaran", "tahun"),
    "mentor": ("pendamping", "namapendamping", "usernamependamping"),
    "business_lat": ("lintangusaha", "latitude", "lat", "lintang"),
    "business_lon": ("bujurusaha", "longitude", "lon", "lng", "bujur"),
}
REQUIRED = ("nik", "kk_number", "name", "region", "kecamatan", "desa", "decile", "business_type")
# The export's headers, in order; the import reads the same file back (see exporting.RECIPIENT_HEADERS).
HEADER_LABELS = {
    "nik": "NIK", "kk_number": "No KK", "name": "Nama", "gender": "Jenis Kelamin", "phone": "No HP",
    "address": "Alamat", "region": "Kabupaten/Kota", "kecamatan": "Kecamatan", "desa": "Desa/Kelurahan",
    "decile": "Desil", "business_type": "Jenis Usaha", "business_description": "Keterangan Usaha",
    "package_items": "Paket Bantuan", "funding_source": "Sumber Dana", "budget_year": "Tahun Anggaran",
    "mentor": "Pendamping", "business_lat": "Lintang Usaha", "business_lon": "Bujur Usaha",
}
_ALIASES = {alias: column for column, aliases in COLUMNS.items() for alias in aliases}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not a spreadsheet, no header row, too many rows)."""


def _key(text: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text or "").lower())


def _text(value: Any) -> str:
    """A cell as trimmed text; Excel numbers without a fraction lose their '.0'; an export's formula guard goes."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text


@dataclass
class Table:
    """A sheet: its header cells (as written) and data rows, each with its 1-based line number in the file."""

    headers: list[str]
    rows: list[tuple[int, list[Any]]]


def _find_header(rows: Iterator[tuple[int, list[Any]]]) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    for line, cells in rows:
        if line > HEADER_SEARCH_ROWS:
            break
        keys = {_ALIASES.get(_key(c)) for c in cells}
        if "nik" in keys and "name" in keys:
            return [_text(c) for c in cells], rows
    raise ImportFileError(_l("Baris judul kolom tidak ditemukan: 10 baris pertama harus memuat kolom NIK dan Nama."))


def read_table(path: Path, filename: str) -> Table:
    """Read .xlsx (first sheet) or .csv (UTF-8 or Windows-1252, comma or semicolon) into a Table."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx_rows(path)
    elif suffix == ".csv":
        rows = _csv_rows(path)
    else:
        raise ImportFileError(_l("Pilih file Excel (.xlsx) atau CSV (.csv)."))
    headers, rest = _find_header(rows)
    data = []
    for line, cells in rest:
        if not any(_text(c) for c in cells):
            continue  # blank lines between blocks are common in hand-kept sheets
        data.append((line, list(cells) + [None] * (len(headers) - len(cells))))
        if len(data) > MAX_ROWS:
            limit = format(MAX_ROWS, ",").replace(",", ".")
            raise ImportFileError(_l("File berisi lebih dari %(n)s baris. Bagi menjadi beberapa file.", n=limit))
    return Table(headers, data)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zip, XML and openpyxl errors all mean "not a workbook we can read"
        raise ImportFileError(_l("File Excel tidak bisa dibaca. Simpan ulang sebagai .xlsx lalu coba lagi.")) from exc
    try:
        sheet = workbook.worksheets[0]
        for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, list(cells)
    finally:
        workbook.close()


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise ImportFileError(_l("File CSV tidak bisa dibaca. Simpan ulang sebagai CSV (UTF-8) lalu coba lagi."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        yield from enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1)
    except csv.Error as exc:
        raise ImportFileError(_l("File CSV rusak: %(detail)s", detail=str(exc))) from exc


@dataclass
class Row:
    line: int
    cells: list[Any]
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Preview:
    filename: str
    budget_year: int
    headers: list[str]
    columns: dict[str, int] = field(default_factory=dict)  # canonical column -> index in the row
    ignored_headers: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    @property
    def valid(self) -> list[Row]:
        return [r for r in self.rows if r.ok]

    @property
    def invalid(self) -> list[Row]:
        return [r for r in self.rows if not r.ok]

    @property
    def with_warnings(self) -> list[Row]:
        return [r for r in self.rows if r.ok and r.warnings]

    def cell(self, row: Row, column: str) -> str:
        index = self.columns.get(column)
        return _text(row.cells[index]) if index is not None and index < len(row.cells) else ""


class _Lookups:
    """Everything the row checks compare against, read from the database once per file."""

    def __init__(self, budget_year: int, niks: Iterable[str]):
        self.regions = db.session.scalars(select(Region)).all()
        self.region_by_key = {}
        for r in self.regions:
            for alias in (r.name, r.full_name, r.code, f"kab {r.name}", f"kab. {r.name}"):
                self.region_by_key[_key(alias)] = r
        self.places: dict[int, dict[str, tuple[str, dict[str, str]]]] = {}
        for r in self.regions:
            self.places[r.id] = {_key(kec): (kec, {_key(d): d for d in desas})
                                 for kec, desas in areas.districts_of(r.kind, r.name).items()}
        mentors = db.session.scalars(select(User).where(User.role == "mentor", User.active.is_(True))).all()
        self.mentor_by_key: dict[str, list[User]] = {}
        for m in mentors:
            for alias in {m.username, m.full_name}:
                self.mentor_by_key.setdefault(_key(alias), []).append(m)
        self.mentor_regions = {m.id: set(m.region_ids) for m in mentors}
        wanted = {n for n in niks if len(n) == 16}
        self.years_by_nik: dict[str, set[int]] = {}
        wanted_list = sorted(wanted)
        for start in range(0, len(wanted_list), 5000):  # bounded IN lists
            chunk = wanted_list[start:start + 5000]
            for nik, year in db.session.execute(select(Recipient.nik, Recipient.budget_year)
                                                .where(Recipient.nik.in_(chunk))):
                self.years_by_nik.setdefault(nik, set()).add(year)
        self.budget_year = budget_year


KECAMATAN_PREFIXES = ("kecamatan", "kec")
DESA_PREFIXES = ("desa", "kelurahan", "kel", "ds")


def _place_key(text: str, prefixes: tuple[str, ...]) -> str:
    """'Kec. Samarinda Ulu' and 'samarinda  ulu' both match 'Samarinda Ulu'."""
    words = text.strip().split(maxsplit=1)
    if len(words) == 2 and _key(words[0]) in prefixes:
        text = words[1]
    return _key(text)


def _suggest(word: str, options: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.75)
    return str(_l(" Maksud Anda: %(name)s?", name=match[0])) if match else ""


def _digits(text: str) -> str:
    return re.sub(r"[\s.\-]", "", text)


def _check_row(preview: Preview, row: Row, look: _Lookups, first_line_of: dict[tuple[str, int], int]) -> None:
    get = lambda column: preview.cell(row, column)  # noqa: E731
    err, warn, v = row.errors.append, row.warnings.append, row.values

    for column in REQUIRED:
        if not get(column):
            err(str(_l("%(column)s wajib diisi.", column=HEADER_LABELS[column])))
    if row.errors and all(not get(c) for c in REQUIRED):
        return

    nik_cell = row.cells[preview.columns["nik"]] if "nik" in preview.columns else None
    nik = _digits(get("nik"))
    if nik and not (nik.isdigit() and len(nik) == 16):
        err(str(_l("NIK harus 16 angka (tertulis: %(value)s).", value=get("nik")[:40])))
    elif nik:
        if isinstance(nik_cell, int | float):
            warn(str(_l("NIK tersimpan sebagai angka di Excel: periksa digit terakhirnya (Excel hanya menyimpan "
                        "15 digit). Format kolom NIK sebagai Teks.")))
        if not nik.startswith("64"):
            warn(str(_l("NIK bukan dari Kalimantan Timur (kode %(code)s): periksa domisili.", code=nik[:2])))
        v["nik"] = nik
    kk = _digits(get("kk_number"))
    if kk and not (kk.isdigit() and len(kk) == 16):
        err(str(_l("No KK harus 16 angka (tertulis: %(value)s).", value=get("kk_number")[:40])))
    elif kk:
        v["kk_number"] = kk

    name = " ".join(get("name").split())
    if len(name) > 120:
        err(str(_l("Nama maksimal 120 karakter.")))
    elif name and not name[0].isalpha():
        err(str(_l("Nama harus diawali huruf (tertulis: %(value)s).", value=name[:40])))
    elif name:
        v["name"] = name

    year_text = get("budget_year")
    year = preview.budget_year
    if year_text:
        if year_text.isdigit() and 2000 <= int(year_text) <= 2100:
            year = int(year_text)
        else:
            err(str(_l("Tahun anggaran tidak valid: %(value)s.", value=year_text[:20])))
    v["budget_year"] = year

    if "nik" in v:
        first = first_line_of.setdefault((v["nik"], year), row.line)
        if first != row.line:
            err(str(_l("NIK ganda dalam file: sama dengan baris %(line)s.", line=first)))
        years = look.years_by_nik.get(v["nik"], set())
        if year in years:
            err(str(_l("NIK sudah terdaftar sebagai penerima tahun anggaran %(year)s.", year=year)))
        earlier = sorted(y for y in years if year - PREVIOUS_YEARS_WARNING <= y < year)
        if earlier:
            warn(str(_l("Sudah terdaftar sebagai penerima UEP tahun anggaran %(years)s (3 tahun terakhir): bantuan "
                        "UEP sekali saja, periksa lagi.", years=", ".join(map(str, earlier)))))
        later = sorted(y for y in years if y > year)
        if later:
            warn(str(_l("Sudah terdaftar untuk tahun anggaran %(years)s, setelah %(year)s: periksa tahun "
                        "anggarannya.", years=", ".join(map(str, later)), year=year)))

    region = None
    if get("region"):
        region = look.region_by_key.get(_key(get("region")))
        if region is None:
            err(str(_l("Kabupaten/kota tidak dikenal: %(value)s.", value=get("region")[:80]))
                + _suggest(get("region"), [r.name for r in look.regions]))
        else:
            v["region_id"] = region.id
    if region is not None and get("kecamatan"):
        found = look.places[region.id].get(_place_key(get("kecamatan"), KECAMATAN_PREFIXES))
        if found is None:
            err(str(_l("Kecamatan tidak ada di %(region)s: %(kec)s.", kec=get("kecamatan")[:80],
                       region=region.full_name))
                + _suggest(get("kecamatan"), [k for k, _d in look.places[region.id].values()]))
        else:
            kec, desas = found
            v["kecamatan"] = kec
            if get("desa"):
                desa = desas.get(_place_key(get("desa"), DESA_PREFIXES))
                if desa is None:
                    err(str(_l("Desa/kelurahan tidak ada di Kecamatan %(kec)s: %(desa)s.", desa=get("desa")[:80],
                               kec=kec)) + _suggest(get("desa"), desas.values()))
                else:
                    v["desa"] = desa

    decile_text = get("decile").lower().replace("desil", "").strip()
    if decile_text:
        if decile_text.isdigit() and 1 <= int(decile_text) <= 5:
            v["decile"] = int(decile_text)
        else:
            err(str(_l("Desil harus 1 sampai 5 (tertulis: %(value)s).", value=get("decile")[:20])))

    business = " ".join(get("business_type").split())
    if len(business) > 80:
        err(str(_l("Jenis usaha maksimal 80 karakter.")))
    elif business:
        v["business_type"] = business

    gender = _key(get("gender"))
    if gender in ("l", "lakilaki", "pria", "m"):
        v["gender"] = "L"
    elif gender in ("p", "perempuan", "wanita", "f"):
        v["gender"] = "P"
    elif gender:
        err(str(_l("Jenis kelamin harus L atau P (tertulis: %(value)s).", value=get("gender")[:20])))
    elif "nik" in v:
        v["gender"] = "P" if int(v["nik"][6:8]) > 40 else "L"  # NIK: women's birth day + 40

    phone = re.sub(r"[\s\-()]", "", get("phone"))
    if phone and not re.fullmatch(r"\+?\d{8,15}", phone):
        err(str(_l("No HP tidak valid: %(value)s.", value=get("phone")[:30])))
    v["phone"] = phone or None

    address = " ".join(get("address").split())
    if len(address) > 255:
        err(str(_l("Alamat maksimal 255 karakter.")))
    v["address"] = address[:255]
    v["business_description"] = get("business_description")[:2000]
    v["package_items"] = [item.strip() for item in re.split(r"[;\n]", get("package_items")) if item.strip()][:50]

    source = _key(get("funding_source"))
    if not source or source == "apbd":
        v["funding_source"] = "APBD"
    elif source in ("apbdp", "apbdperubahan"):
        v["funding_source"] = "APBD-P"
    else:
        err(str(_l("Sumber dana harus %(options)s (tertulis: %(value)s).", options="/".join(FUNDING_SOURCES),
                   value=get("funding_source")[:20])))

    mentor_text = get("mentor")
    v["mentor_id"] = None
    if mentor_text:
        matches = look.mentor_by_key.get(_key(mentor_text), [])
        if region is not None:
            matches = [m for m in matches if region.id in look.mentor_regions[m.id]]
        if len(matches) == 1:
            v["mentor_id"] = matches[0].id
        elif not matches:
            err(str(_l("Pendamping %(name)s tidak dikenal di wilayah ini (isi nama pengguna pendamping).",
                       name=mentor_text[:60])))
        else:
            err(str(_l("Nama pendamping %(name)s tidak unik: isi nama penggunanya.", name=mentor_text[:60])))

    lat_text, lon_text = get("business_lat").replace(",", "."), get("business_lon").replace(",", ".")
    v["business_lat"] = v["business_lon"] = None
    if lat_text or lon_text:
        try:
            lat, lon = float(lat_text), float(lon_text)
        except ValueError:
            err(str(_l("Lintang dan bujur usaha harus angka desimal, keduanya diisi.")))
        else:
            (lat_min, lat_max), (lon_min, lon_max) = areas.KALTIM_BOUNDS
            if lat_min <= lat <= lat_max and lon_min <= lon <= lon_max:
                v["business_lat"], v["business_lon"] = round(lat, 6), round(lon, 6)
            else:
                err(str(_l("Lokasi usaha di luar Kalimantan Timur (%(lat)s, %(lon)s).", lat=lat, lon=lon)))


def validate(table: Table, filename: str, budget_year: int,
             progress: Callable[[int], None] | None = None) -> Preview:
    """Match the headers and check every row; nothing is written."""
    preview = Preview(filename=filename, budget_year=budget_year, headers=table.headers)
    for index, header in enumerate(table.headers):
        column = _ALIASES.get(_key(header))
        if column and column not in preview.columns:
            preview.columns[column] = index
        elif header:
            preview.ignored_headers.append(header)
    preview.missing = [HEADER_LABELS[c] for c in REQUIRED if c not in preview.columns]
    if preview.missing:
        return preview
    nik_index = preview.columns["nik"]
    look = _Lookups(budget_year, (_digits(_text(cells[nik_index])) for _line, cells in table.rows))
    first_line_of: dict[tuple[str, int], int] = {}
    for n, (line, cells) in enumerate(table.rows, start=1):
        row = Row(line, cells)
        _check_row(preview, row, look, first_line_of)
        preview.rows.append(row)
        if progress and n % 500 == 0:
            progress(500)
    if progress:
        progress(len(table.rows) % 500)
    return preview


def commit(preview: Preview, user: User | None, progress: Callable[[int], None] | None = None) -> int:
    """Insert every valid row, with its first status-history entry, in the caller's transaction.

    The caller commits (or rolls back on IntegrityError, e.g. the same NIK imported meanwhile by someone else:
    then nothing of the file is stored).
    """
    now = utcnow()
    rows = [r.values for r in preview.valid]
    stored = 0
    for start in range(0, len(rows), 1000):
        batch = [{**values, "status": lifecycle.CALON, "version": 1, "created_at": now, "updated_at": now}
                 for values in rows[start:start + 1000]]
        ids = db.session.scalars(insert(Recipient).returning(Recipient.id, sort_by_parameter_order=True),
                                 batch).all()
        db.session.execute(insert(StatusChange), [
            {"recipient_id": rid, "from_status": None, "to_status": lifecycle.CALON, "changed_at": now,
             "changed_by_id": user.id if user else None, "reason": None}
            for rid in ids])
        stored += len(ids)
        if progress:
            progress(len(ids))
    return stored


def error_rows(preview: Preview) -> Iterator[list[Any]]:
    """The invalid rows with their original cells and a last column of reasons: fix in Excel, import again."""
    yield [*preview.headers, "Baris", "Kesalahan"]
    for row in preview.invalid:
        yield [*(_text(c) for c in row.cells[:len(preview.headers)]), row.line, "; ".join(row.errors)]


def count_existing(budget_year: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Recipient)
                             .where(Recipient.budget_year == budget_year)) or 0
