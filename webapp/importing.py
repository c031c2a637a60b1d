"""Recipient lists from Excel (.xlsx) or CSV: read, match headers, check every row, preview, then write all valid
rows in one transaction. Used by the admin import page and by `flask import-recipients`.

Nothing is written until `commit`; a row either passes every check or is listed with its reasons (in Indonesian,
shown next to the row and written to a downloadable error file with the original columns, so staff fix the rows
in Excel and import that file again).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import functools
import html
import io
import itertools
import json
import logging
import operator
import posixpath
import re
import secrets
import shutil
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from xml.parsers import expat

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy import text as sql_text

from . import areas, lifecycle, storage
from .extensions import db
from .models import FUNDING_SOURCES, Recipient, Region, StatusChange, User, utcnow

log = logging.getLogger(__name__)

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
    "decile": ("desil", "desildtks", "desildtsen", "desilkesejahteraan", "desilnasional"),
    "decile_registry": ("registri", "registry", "sumberdatadesil", "sumberdesil", "basisdata"),
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
    "nik": "NIK",
    "kk_number": "No KK",
    "name": "Nama",
    "gender": "Jenis Kelamin",
    "phone": "No HP",
    "address": "Alamat",
    "region": "Kabupaten/Kota",
    "kecamatan": "Kecamatan",
    "desa": "Desa/Kelurahan",
    "decile": "Desil",
    "decile_registry": "Registri",
    "business_type": "Jenis Usaha",
    "business_description": "Keterangan Usaha",
    "package_items": "Paket Bantuan",
    "funding_source": "Sumber Dana",
    "budget_year": "Tahun Anggaran",
    "mentor": "Pendamping",
    "business_lat": "Lintang Usaha",
    "business_lon": "Bujur Usaha",
}
_ALIASES = {alias: column for column, aliases in COLUMNS.items() for alias in aliases}
# The registry's own family ids: read (they say which registry the file comes from), not stored.
REGISTRY_ID_HEADERS = {"iddtsen": "DTSEN", "iddtks": "DTKS", "idkeluargadtsen": "DTSEN", "idkeluargadtks": "DTKS"}
DTSEN_SINCE = 2025  # the budget year from which a file that names no registry is read as DTSEN


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not a spreadsheet, no header row, too many rows)."""


_NOT_KEY = re.compile(r"[^a-z0-9]")


@functools.lru_cache(maxsize=65_536)  # the same regency, kecamatan and desa names come back row after row
def _key(text: Any) -> str:
    return _NOT_KEY.sub("", str(text or "").lower())


place_key = _key  # the one normalised form of a place name: import matching and the kecamatan filters


def _text(value: Any) -> str:
    """A cell as trimmed text; Excel numbers without a fraction lose their '.0'; an export's formula guard goes."""
    if type(value) is str:  # the usual case first: this runs for every cell of every row
        text = value.strip()
    elif value is None:
        return ""
    else:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, dt.datetime):
            value = value.date()
        text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    elif len(text) > 3 and text[0] == "=" and _TEXT_FORMULA.fullmatch(text):
        text = text[2:-1]  # ="6472…": how our CSV error file keeps a NIK as text for Excel
    return text


_TEXT_FORMULA = re.compile(r'="[0-9]+"')


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


def table_rows(path: Path, filename: str) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """The header row of an .xlsx (first sheet) or .csv (UTF-8, UTF-16 or Windows-1252; comma, semicolon or tab)
    and an iterator over its data rows, read as they are consumed (a 100,000-row file is never in memory at once).

    Only non-empty rows come out, each cut or padded to the header row's width; a file that cannot be read within
    the limits below (hostile or broken spreadsheets included) raises ImportFileError with the reason, from this
    call or while iterating."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx_rows(path)
    elif suffix == ".csv":
        rows = _csv_rows(path)
    else:
        raise ImportFileError(_l("Pilih file Excel (.xlsx) atau CSV (.csv)."))
    headers, rest = _find_header(rows)
    return headers, _data_rows(rest, len(headers))


def _data_rows(rest: Iterator[tuple[int, list[Any]]], width: int) -> Iterator[tuple[int, list[Any]]]:
    count = 0
    for line, cells in rest:
        cells = list(cells[:width])
        for cell in cells:  # a loop, not any(): it runs for every row and usually stops at the first cell
            if cell is not None and (type(cell) is not str or cell.strip()) and _text(cell):
                break
        else:
            continue  # blank lines between blocks are common in hand-kept sheets
        count += 1
        if count > MAX_ROWS:
            limit = format(MAX_ROWS, ",").replace(",", ".")
            raise ImportFileError(_l("File berisi lebih dari %(n)s baris. Bagi menjadi beberapa file.", n=limit))
        if len(cells) < width:
            cells += [None] * (width - len(cells))
        yield line, cells


def read_table(path: Path, filename: str) -> Table:
    """The whole file as a Table (the CLI and tests); see `table_rows`."""
    headers, rows = table_rows(path, filename)
    return Table(headers, list(rows))


# --- reading .xlsx ---------------------------------------------------------------------------------------------
# An .xlsx is a zip of XML parts. Before anything is decompressed the zip's directory is checked (entries, names,
# sizes, compression ratio); then only the parts needed are read, each streamed through expat with a cap on any
# text run, so neither a zip bomb, a 1 GB shared string, a forged <dimension> nor a million declared blank rows
# can make the reading slow or large. Python's zipfile never returns more than an entry's declared size.

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CELL = 32_767  # characters in one cell, Excel's own limit
MAX_COLUMNS = 200  # cells to the right of this are ignored
MAX_ZIP_ENTRIES = 2_000
MAX_ZIP_RATIO = 100  # a part larger than 1 MB that unpacks to more than 100x its packed size is a zip bomb
MAX_ZIP_TOTAL = 1024 * 1024 * 1024
MAX_SHEET_BYTES = 100 * 1024 * 1024  # 100,000 rows of the 15-column template: 51 MB as Excel writes it, 90 MB as
# openpyxl does. Reading costs up to ~0.09 s of CPU per MB of sheet on a busy core, so the limit keeps every accepted
# file inside the 10 s preview target (docs/PERFORMANCE.md); a wider file of 100,000 rows is told to split itself.
MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024
MAX_SHARED_STRINGS = 2_000_000
MAX_SMALL_PART_BYTES = 16 * 1024 * 1024  # workbook, relationships, styles
MAX_XML_RUN = 256 * 1024  # bytes between two '<': one cell of 32,767 characters, escaped, is at most ~200 KB
_CHUNK = 256 * 1024  # read at a time; at most MAX_XML_RUN (see _parse_part)
assert _CHUNK <= MAX_XML_RUN  # noqa: S101
_ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".jar", ".cab")
_ODD_NAME = re.compile(r"(^[/\\])|\\|(^|/)\.\.?(/|$)|[\x00-\x1f\x7f]|^[A-Za-z]:")
_ESCAPED_CHAR = re.compile(r"_x([0-9A-Fa-f]{4})_")
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d*)")
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

_UNREADABLE = _l("File Excel tidak bisa dibaca. Simpan ulang sebagai .xlsx lalu coba lagi.")
_TOO_LONG = _l("Ada sel yang berisi lebih dari 32.767 karakter (batas Excel). Periksa file lalu coba lagi.")


def _too_big(part: str, size: int, limit: int) -> ImportFileError:
    return ImportFileError(
        _l(
            "File Excel terlalu besar setelah dibuka (%(part)s: %(mb)s MB, paling banyak "
            "%(limit)s MB). Bagi menjadi beberapa file.",
            part=part,
            mb=max(1, size // (1024 * 1024)),
            limit=limit // (1024 * 1024),
        )
    )


def inspect_xlsx(archive: zipfile.ZipFile) -> None:
    """Refuse, before decompressing anything, an archive no spreadsheet program would write."""
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise ImportFileError(
            _l(
                "File Excel berisi terlalu banyak bagian (%(n)s). Simpan ulang sebagai .xlsx biasa lalu coba lagi.",
                n=len(entries),
            )
        )
    names = set()
    total = 0
    for entry in entries:
        name = entry.filename
        if (
            name in names
            or len(name) > 255
            or name.count("/") > 8
            or _ODD_NAME.search(name)
            or name.lower().endswith(_ARCHIVE_SUFFIXES)
            or entry.flag_bits & 0x1
        ):
            raise ImportFileError(
                _l(
                    "File Excel berisi bagian yang tidak wajar (%(name)s) dan tidak dibaca. "
                    "Simpan ulang sebagai .xlsx biasa lalu coba lagi.",
                    name=name[:60],
                )
            )
        names.add(name)
        total += entry.file_size
        if entry.file_size > 1024 * 1024 and entry.file_size > MAX_ZIP_RATIO * max(entry.compress_size, 1):
            raise ImportFileError(
                _l(
                    "File Excel ini dimampatkan secara tidak wajar (%(name)s mengembang "
                    "%(ratio)s kali) dan tidak dibaca.",
                    name=name[:60],
                    ratio=entry.file_size // max(entry.compress_size, 1),
                )
            )
    if total > MAX_ZIP_TOTAL:
        raise _too_big("total", total, MAX_ZIP_TOTAL)


def _parse_part(archive: zipfile.ZipFile, name: str, limit: int, start=None, end=None) -> Iterator[bytes]:
    """Stream one XML part through expat, yielding its bytes chunk by chunk as they pass: well-formed, no DTD or
    entity declarations, no text run above MAX_XML_RUN. `start`/`end` are expat handlers (small parts only)."""
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        raise ImportFileError(_UNREADABLE) from exc
    if info.file_size > limit:
        raise _too_big(name, info.file_size, limit)
    parser = expat.ParserCreate(namespace_separator=" ")

    def refuse(*_args):
        raise ImportFileError(_UNREADABLE)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    if start:
        parser.StartElementHandler = start
    if end:
        parser.EndElementHandler = end
    run = 0  # bytes since the last '<'; a run inside one chunk is shorter than a chunk, so only its ends matter
    with archive.open(info) as source:
        while chunk := source.read(_CHUNK):
            first = chunk.find(b"<")
            if first < 0:
                run += len(chunk)
            else:
                run += first
                if run <= MAX_XML_RUN:
                    run = len(chunk) - chunk.rfind(b"<") - 1
            if run > MAX_XML_RUN:
                raise ImportFileError(_TOO_LONG)
            parser.Parse(chunk, False)
            yield chunk
        parser.Parse(b"", True)


def _local(name: str) -> str:
    return name.rpartition(" ")[2]


@dataclass
class _Workbook:
    """Where the first worksheet and its shared strings and styles are, and the workbook's date system."""

    sheet: str
    shared_strings: str | None
    styles: str | None
    date1904: bool


def _relationships(archive: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(id, type, part name) of each internal relationship of `part`, from its .rels beside it; targets are
    resolved relative to the part's folder (or the package root if absolute) and may not leave the package."""
    folder, _slash, base = part.rpartition("/")
    rels_name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
    if rels_name not in archive.NameToInfo:
        return []
    found: list[tuple[str, str, str]] = []

    def start(name, attrs):
        if _local(name) != "Relationship" or attrs.get("TargetMode", "Internal") == "External":
            return
        target = attrs.get("Target", "")
        joined = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        resolved = posixpath.normpath(joined)
        if resolved.startswith("../") or resolved in ("..", "."):
            raise ImportFileError(_UNREADABLE)
        found.append((attrs.get("Id", ""), attrs.get("Type", "").rpartition("/")[2], resolved))

    for _chunk in _parse_part(archive, rels_name, MAX_SMALL_PART_BYTES, start=start):
        pass
    return found


def _workbook(archive: zipfile.ZipFile) -> _Workbook:
    """Follow the package's relationships (_rels/.rels -> the workbook -> its own .rels) to the first worksheet,
    as the workbook lists its sheets; read the date system (workbookPr date1904) on the way."""
    document = next((target for _id, kind, target in _relationships(archive, "") if kind == "officeDocument"), None)
    if document is None and "xl/workbook.xml" in archive.NameToInfo:
        document = "xl/workbook.xml"  # a package without its root relationships: where every program puts it
    if document is None:
        raise ImportFileError(_UNREADABLE)
    sheet_ids: list[str] = []
    date1904 = [False]

    def on_workbook(name, attrs):
        tag = _local(name)
        if tag == "sheet":
            sheet_ids.append(attrs.get(f"{_REL_NS} id", ""))
        elif tag == "workbookPr":
            date1904[0] = attrs.get("date1904", "0").strip().lower() in ("1", "true")

    for _chunk in _parse_part(archive, document, MAX_SMALL_PART_BYTES, start=on_workbook):
        pass
    rels = _relationships(archive, document)
    by_id = {rel_id: (kind, target) for rel_id, kind, target in rels}
    sheets = [by_id[i][1] for i in sheet_ids if i in by_id and by_id[i][0] == "worksheet"]
    if not sheets:
        raise ImportFileError(_UNREADABLE)
    shared = next((target for _id, kind, target in rels if kind == "sharedStrings"), None)
    styles = next((target for _id, kind, target in rels if kind == "styles"), None)
    return _Workbook(sheets[0], shared, styles, date1904[0])


def _unescape(text: str) -> str:
    """Excel writes characters XML cannot hold as _xHHHH_ (a carriage return as _x000D_, NUL as _x0000_)."""
    return _ESCAPED_CHAR.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


_P = rb"(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix
_SI = re.compile(rb"<" + _P + rb"si\b[^>]*?(?:/>|>(.*?)</" + _P + rb"si>)", re.S)
_T = re.compile(rb"<" + _P + rb"t\b[^>]*?(?:/>|>(.*?)</" + _P + rb"t>)", re.S)
_RPH = re.compile(rb"<" + _P + rb"rPh\b.*?</" + _P + rb"rPh>", re.S)
_ROW = re.compile(rb"<" + _P + rb"row\b([^>]*?)(?:/>|>(.*?)</" + _P + rb"row>)", re.S)
_C = re.compile(rb"<" + _P + rb"c\b([^>]*?)(?:/>|>(.*?)</" + _P + rb"c>)", re.S)
_V = re.compile(rb"<" + _P + rb"v\b[^>]*?(?:/>|>(.*?)</" + _P + rb"v>)", re.S)
_ATTR = re.compile(rb"""\b([rts])\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ROW_NUMBER = re.compile(rb"""\br\s*=\s*["'](\d+)["']""")
MAX_ROW_BYTES = 16 * 1024 * 1024  # one <row> element, unparsed


def _xml_text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return _unescape(html.unescape(text) if "&" in text else text)


def _elements(
    archive: zipfile.ZipFile,
    name: str,
    limit: int,
    pattern: re.Pattern,
    closing: bytes,
    plain_run: re.Pattern | None = None,
) -> Iterator[re.Match]:
    """The matches of `pattern` (whole elements ending in `closing`) in a part, found chunk by chunk once
    expat has passed the chunk; what is not matched yet waits for the next chunk, at most MAX_ROW_BYTES.

    With `plain_run`, a run of elements written the usual way comes out as one match of it instead (the caller
    tells them apart by `match.re`), so the common case costs one regular expression per chunk, not per element."""
    buffer = b""
    for chunk in itertools.chain(_parse_part(archive, name, limit), [None]):
        if chunk is None:
            end = len(buffer)
        else:
            buffer += chunk
            end = buffer.rfind(closing) + len(closing)
        if end >= len(closing):
            last = 0
            while last < end:
                run = plain_run.match(buffer, last, end) if plain_run is not None else None
                match = run if run is not None and run.end() > last else pattern.search(buffer, last, end)
                if match is None:
                    break
                yield match
                last = match.end()
            buffer = buffer[last:]
        if len(buffer) > MAX_ROW_BYTES:
            raise ImportFileError(_TOO_LONG)


_PLAIN_T = re.compile(rb'(?:<is>)?<t(?: xml:space="preserve")?>([^<]*)</t>(?:</is>)?')


def _inline_text(body: bytes) -> str:
    plain = _PLAIN_T.fullmatch(body)  # the usual case, quicker
    if plain is not None:
        text = _xml_text(plain.group(1))
        if len(text) > EXCEL_MAX_CELL:
            raise ImportFileError(_TOO_LONG)
        return text
    if b"rPh" in body:
        body = _RPH.sub(b"", body)
    text = "".join(_xml_text(m.group(1) or b"") for m in _T.finditer(body))
    if len(text) > EXCEL_MAX_CELL:
        raise ImportFileError(_TOO_LONG)
    return text


_PLAIN_SI = '<si><t(?: xml:space="preserve")?>([^<]*)</t></si>'
_PLAIN_SI_TEXTS = re.compile(_PLAIN_SI)  # over the decoded run: every string comes out as text at once
_PLAIN_SI_RUN = re.compile(rb'(?:<si><t(?: xml:space="preserve")?+>[^<]*+</t></si>)++')  # possessive: no backtracking


def _plain_text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    if "&" in text or "_x" in text:
        text = _unescape(html.unescape(text))
    if len(text) > EXCEL_MAX_CELL:
        raise ImportFileError(_TOO_LONG)
    return text


def _shared_strings(archive: zipfile.ZipFile, name: str | None) -> list[str]:
    strings: list[str] = []
    if name is None or name not in archive.NameToInfo:
        return strings
    for match in _elements(archive, name, MAX_SHARED_STRINGS_BYTES, _SI, b"si>", plain_run=_PLAIN_SI_RUN):
        if match.re is _PLAIN_SI_RUN:
            run = match.group().decode("utf-8")
            found = _PLAIN_SI_TEXTS.findall(run)
            if "&" in run or "_x" in run:
                found = [_unescape(html.unescape(text)) if "&" in text or "_x" in text else text for text in found]
            if found and max(map(len, found)) > EXCEL_MAX_CELL:
                raise ImportFileError(_TOO_LONG)
            strings.extend(found)
        else:
            strings.append(_inline_text(match.group(1) or b""))
        if len(strings) > MAX_SHARED_STRINGS:
            raise _too_big(name, archive.getinfo(name).file_size, MAX_SHARED_STRINGS_BYTES)
    return strings


def _date_styles(archive: zipfile.ZipFile, name: str | None) -> set[int]:
    """Indexes of the cell styles whose number format is a date (their numbers are read as dates)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    if name is None or name not in archive.NameToInfo:
        return set()
    formats: dict[int, str] = dict(BUILTIN_FORMATS)
    xf_formats: list[int] = []
    state = {"in_cell_xfs": False}

    def start(tag, attrs):
        tag = _local(tag)
        if tag == "numFmt" and attrs.get("numFmtId", "").isdigit():
            formats[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            state["in_cell_xfs"] = True
        elif tag == "xf" and state["in_cell_xfs"]:
            number = attrs.get("numFmtId", "0")
            xf_formats.append(int(number) if number.isdigit() else 0)

    def end(tag):
        if _local(tag) == "cellXfs":
            state["in_cell_xfs"] = False

    for _chunk in _parse_part(archive, name, MAX_SMALL_PART_BYTES, start=start, end=end):
        pass
    return {index for index, number in enumerate(xf_formats) if is_date_format(formats.get(number, ""))}


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index


def _number(text: str) -> int | float:
    text = text.strip()
    if "." in text or "E" in text or "e" in text or text.lower() in ("nan", "inf", "-inf", "infinity"):
        return float(text)
    return int(text)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """The first sheet's non-empty rows with their row numbers, values as openpyxl reads them with data_only
    (the cached result of a formula), never padded to the declared <dimension>."""
    try:
        yield from _xlsx_sheet_rows(path)
    except ImportFileError:
        raise
    except Exception as exc:  # broken zip, XML, numbers or references: "not a workbook we can read", never a 500
        log.info("unreadable xlsx: %r", exc)
        raise ImportFileError(_UNREADABLE) from exc


def _xlsx_sheet_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH
    from openpyxl.utils.datetime import from_excel as from_serial

    with zipfile.ZipFile(path) as archive:
        inspect_xlsx(archive)
        book = _workbook(archive)
        epoch = MAC_EPOCH if book.date1904 else WINDOWS_EPOCH

        def from_excel(number):
            return from_serial(number, epoch)

        shared = _shared_strings(archive, book.shared_strings)
        dates = _date_styles(archive, book.styles)
        line = rows = 0
        for row in _elements(archive, book.sheet, MAX_SHEET_BYTES, _ROW, b"row>", plain_run=_PLAIN_ROW_RUN):
            if row.re is _PLAIN_ROW_RUN:
                for line, values in _plain_rows(row, shared, dates, from_excel):
                    rows += 1
                    if line > EXCEL_MAX_ROWS or rows > EXCEL_MAX_ROWS:
                        raise ImportFileError(_UNREADABLE)
                    if values:
                        yield line, values
                continue
            number = _ROW_NUMBER.search(row.group(1))
            line = int(number.group(1)) if number else line + 1
            rows += 1
            if line > EXCEL_MAX_ROWS or rows > EXCEL_MAX_ROWS:
                raise ImportFileError(_UNREADABLE)
            cells: dict[int, Any] = {}
            column = 0
            for cell in _C.finditer(row.group(2) or b""):
                attrs = {key: (double or single) for key, double, single in _ATTR.findall(cell.group(1))}
                ref = _CELL_REF.match(attrs.get(b"r", b"").decode("ascii", "replace"))
                column = _column_index(ref.group(1)) if ref else column + 1
                body = cell.group(2)
                if column > MAX_COLUMNS or not body:
                    continue
                value = _cell_value(
                    attrs.get(b"t", b"n").decode("ascii", "replace"),
                    attrs.get(b"s", b"0"),
                    body,
                    shared,
                    dates,
                    from_excel,
                )
                if value is not None and value != "":
                    cells[column] = value
            if cells:
                values: list[Any] = [None] * max(cells)
                for index, value in cells.items():
                    values[index - 1] = value
                yield line, values


# Rows as Excel, LibreOffice and openpyxl write them: <row r="N" ...>, cells with attributes r, s, t in this order
# holding a <v> or an inline <is><t>. A run of such rows is cut into rows and cells by one regular expression over
# the run, several times quicker than element by element. Anything else (formulas, rich text, other attribute
# orders, namespace prefixes, rows without a number) goes through the general path above, with the same result.
_PLAIN_CELL = (
    rb'<c r="([A-Z]{1,3})[0-9]+"(?: s="([0-9]+)")?(?: t="(s|n|inlineStr|str|b)")?'
    rb'(?:/>|>(?:<v>([^<]*)</v>|<is><t(?: xml:space="preserve")?>([^<]*)</t></is>)?</c>)'
)
_PLAIN_ROW_START = rb'<row r="([0-9]+)"(?: [A-Za-z0-9_:]+="[^"<>]*")*\s*(/?)>'
# The same shapes without groups and with possessive repeats (nothing in them ever needs to give text back): the
# check that a run is plain then costs a fraction of what backtracking repeats cost.
_PLAIN_ROW_RUN = re.compile(
    rb'(?:<row r="[0-9]++"(?: [A-Za-z0-9_:]++="[^"<>]*+")*+\s*+(?:/>|>(?:'
    rb'<c r="[A-Z]{1,3}+[0-9]++"(?: s="[0-9]++")?+(?: t="(?:s|n|inlineStr|str|b)")?+'
    rb'(?:/>|>(?:<v>[^<]*+</v>|<is><t(?: xml:space="preserve")?+>[^<]*+</t></is>)?+</c>)'
    rb")*+</row>))++"
)
_PLAIN_ITEMS = re.compile(_PLAIN_CELL + rb"|" + _PLAIN_ROW_START + rb"|(</row>)")  # cells first: most items are
_NUMBERS: dict[bytes, int | float] = {}  # a number cell's text -> its value: the same few come back cell after cell
MAX_NUMBERS = 4096


def _column_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_PLAIN_COLUMNS = {_column_letters(n).encode(): n for n in range(1, MAX_COLUMNS + 1)}  # farther ones: ignored


def _plain_rows(run: re.Match, shared: list[str], dates: set[int], from_excel) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values) of each row in a run that `_PLAIN_ROW_RUN` matched, as the general path reads them.
    This runs for every cell of a 100,000-row sheet: one pass, values put straight into the row's list."""
    string, start, end = run.string, run.start(), run.end()
    escaped = string.find(b"&", start, end) >= 0 or string.find(b"_x", start, end) >= 0
    columns = _PLAIN_COLUMNS
    line = 0
    values: list[Any] = []
    numbers = _NUMBERS
    for letters, style, kind, text, inline, number, empty, _close in _PLAIN_ITEMS.findall(string, start, end):
        if not letters:  # a row starts or ends
            if number:
                line, values = int(number), []
                if empty:
                    yield line, values
            else:
                yield line, values
            continue
        column = columns.get(letters)
        if column is None:  # beyond MAX_COLUMNS
            continue
        if kind == b"inlineStr":
            if not inline:
                continue
            value: Any = inline.decode("utf-8")
            if escaped and ("&" in value or "_x" in value):
                value = _unescape(html.unescape(value))
            if len(value) > EXCEL_MAX_CELL:
                raise ImportFileError(_TOO_LONG)
        elif not text:
            continue
        elif not kind or kind == b"n":
            value = numbers.get(text)
            if value is None:
                if not text.strip():
                    continue
                value = _number(text.decode("ascii"))
                if len(numbers) < MAX_NUMBERS:
                    numbers[text] = value
            if dates and style and int(style) in dates:
                value = from_excel(value)
        elif kind == b"s":
            index = int(text)
            if index < 0:
                raise IndexError(index)
            value = shared[index]
            if value == "":
                continue
        elif kind == b"str":
            value = _plain_text(text)
        else:  # b"b", the one kind left
            value = text.strip() == b"1"
        size = len(values)
        if column > size:  # the usual case: the next column, or one after a gap
            if column > size + 1:
                values.extend([None] * (column - size - 1))
            values.append(value)
        else:  # a column written twice or out of order: the last value wins, as in the general path
            values[column - 1] = value


def _cell_value(kind: str, style: bytes, body: bytes, shared: list[str], dates: set[int], from_excel) -> Any:
    """A cell's value as openpyxl gives it with data_only: shared or inline text, number, date, boolean."""
    if kind == "inlineStr":
        return _inline_text(body)
    value = _V.search(body)
    text = value.group(1) if value else None
    if text is None:
        return None
    if kind == "s":
        index = int(text)
        if index < 0:
            raise IndexError(index)
        return shared[index]
    if kind in ("str", "e", "d"):
        return _inline_text(b"<t>" + text + b"</t>")
    if kind == "b":
        return text.strip() == b"1"
    if not text.strip():
        return None
    number = _number(text.decode("ascii"))
    if style.isdigit() and int(style) in dates:
        return from_excel(number)
    return number


# --- reading .csv ----------------------------------------------------------------------------------------------

MAX_CSV_LINE = 1024 * 1024  # characters in one line; csv's own limit on a field is 128 KB


def _csv_encoding(path: Path) -> str:
    """UTF-16 when it says so (Excel's "Unicode text"), UTF-8 if every byte decodes, else Windows-1252.
    Read in chunks: the file is never in memory at once."""
    with path.open("rb") as fh:
        head = fh.read(4096)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if head.count(b"\x00") > len(head) // 20:  # binary, or UTF-16 without its mark: not a CSV we can read
            raise ImportFileError(_l("File CSV tidak bisa dibaca. Simpan ulang sebagai CSV (UTF-8) lalu coba lagi."))
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            chunk = head
            while chunk:
                decoder.decode(chunk)
                chunk = fh.read(1024 * 1024)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """Records with their number as Excel would show it; blank lines (or only separators) are skipped cheaply,
    but still counted, up to Excel's 1,048,576 rows; no line longer than MAX_CSV_LINE is ever read whole."""
    encoding = _csv_encoding(path)
    too_long = _l(
        "Ada baris di file CSV yang lebih panjang dari %(n)s karakter. Periksa file lalu coba lagi.", n="1.048.576"
    )
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        first = fh.readline(MAX_CSV_LINE + 1)
        if len(first) > MAX_CSV_LINE:
            raise ImportFileError(too_long)
        delimiter = max((",", ";", "\t"), key=first.count)  # ties: the comma
        blank = " \t\r\n" + delimiter
        skipped = 0

        def lines() -> Iterator[str]:
            nonlocal skipped
            line, physical = first, 1
            while line:
                if line.strip(blank):
                    yield line
                else:
                    skipped += 1
                line = fh.readline(MAX_CSV_LINE + 1)
                physical += 1
                if len(line) > MAX_CSV_LINE:
                    raise ImportFileError(too_long)
                if physical > EXCEL_MAX_ROWS and line:
                    raise ImportFileError(
                        _l(
                            "File berisi lebih dari %(n)s baris (termasuk baris kosong). Hapus "
                            "baris kosongnya atau bagi menjadi beberapa file.",
                            n="1.048.576",
                        )
                    )

        try:
            for number, cells in enumerate(csv.reader(lines(), delimiter=delimiter), start=1):
                yield number + skipped, cells[:MAX_COLUMNS]
        except csv.Error as exc:
            raise ImportFileError(_l("File CSV rusak: %(detail)s", detail=str(exc))) from exc


@dataclass(slots=True)
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
    registry: str | None = None  # DTKS or DTSEN when the headers name it ("Desil DTSEN", "ID DTKS")

    @property
    def registry_note(self) -> str:
        """Where the deciles' registry is read from, for the preview page."""
        if "decile_registry" in self.columns:
            return str(_l("Registri desil dibaca dari kolom %(column)s.", column=HEADER_LABELS["decile_registry"]))
        if self.registry:
            return str(_l("Desil dibaca sebagai desil %(registry)s (dari judul kolom).", registry=self.registry))
        registries = {"DTSEN" if year >= DTSEN_SINCE else "DTKS" for year in self.years}
        if len(registries) > 1:
            return str(
                _l(
                    "Judul kolom tidak menyebut DTKS atau DTSEN: desil dibaca menurut tahun anggaran tiap baris, "
                    "DTKS sebelum %(year)s dan DTSEN sejak %(year)s.",
                    year=DTSEN_SINCE,
                )
            )
        return str(
            _l(
                "Judul kolom tidak menyebut DTKS atau DTSEN: desil dibaca sebagai desil %(registry)s "
                "(tahun anggaran %(year)s).",
                registry=registries.pop(),
                year=", ".join(map(str, self.years)),
            )
        )

    @property
    def valid(self) -> list[Row]:
        return [r for r in self.rows if r.ok]

    @property
    def years(self) -> list[int]:
        """The budget years the valid rows will be stored under (a row's own year wins over the chosen one)."""
        return sorted({r.values.get("budget_year") or self.budget_year for r in self.rows if r.ok}) or [
            self.budget_year
        ]

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
        self.region_by_key: dict[str, Region] = {}
        for r in self.regions:
            for alias in areas.region_names(r.code, r.name, r.kind):
                self.region_by_key.setdefault(_key(alias), r)
        self.region_ids = {r: r.id for r in self.regions}  # a mapped attribute costs more, row after row
        self.places: dict[int, dict[str, tuple[str, dict[str, str]]]] = {}
        for r in self.regions:
            districts = areas.districts_of(r.kind, r.name)
            self.places[r.id] = _by_key({k: (k, _by_key({d: d for d in desas})) for k, desas in districts.items()})
        mentors = db.session.scalars(select(User).where(User.role == "mentor", User.active.is_(True))).all()
        self.mentor_by_key: dict[str, list[User]] = {}
        for m in mentors:
            for alias in {m.username, m.full_name}:
                self.mentor_by_key.setdefault(_key(alias), []).append(m)
        self.mentor_regions = {m.id: set(m.region_ids) for m in mentors}
        self.years_by_nik: dict[str, set[int]] = {}
        for nik, year in _registered(sorted(n for n in niks if len(n) == 16 and n.isdigit())):
            self.years_by_nik.setdefault(nik, set()).add(year)
        self.budget_year = budget_year
        self._gettext = get_translations().ugettext
        self._said: dict[str, str] = {}

    def say(self, message: Any) -> str:
        """A message in the user's language. A file can repeat one message on 100,000 rows: each message is
        translated once per file (Flask-Babel's lazy strings look up the locale and catalogue on every use)."""
        args, variables = getattr(message, "_args", None), getattr(message, "_kwargs", None)
        if not (isinstance(args, tuple) and len(args) == 1 and isinstance(args[0], str)):
            return str(message)
        translated = self._said.get(args[0])
        if translated is None:
            translated = self._said[args[0]] = self._gettext(args[0])
        return translated % variables if variables else translated


def _registered(niks: list[str]) -> Iterable[tuple[str, int]]:
    """(NIK, budget year) of every recipient with one of `niks`: one query with the whole set as one parameter
    (PostgreSQL: an array; SQLite: a JSON list), not a query per row nor thousands of bound values."""
    if not niks:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        query = sql_text("SELECT nik, budget_year FROM recipients WHERE nik = ANY(:niks)")
        return db.session.execute(query, {"niks": niks}).all()
    query = sql_text("SELECT nik, budget_year FROM recipients WHERE nik IN (SELECT value FROM json_each(:niks))")
    return db.session.execute(query, {"niks": json.dumps(niks)}).all()


_ALSO_CALLED = re.compile(r"(.+?)\s*\((.+)\)")


def _by_key(named: dict[str, Any]) -> dict[str, Any]:
    """`named` keyed by `_key` of each name; "Samboja (Semboja)" also answers to "Samboja" and to "Semboja"
    (unless another name already has that key)."""
    keyed = {_key(name): value for name, value in named.items()}
    for name, value in named.items():
        other = _ALSO_CALLED.fullmatch(name)
        if other:
            for part in other.groups():
                keyed.setdefault(_key(part), value)
    return keyed


KECAMATAN_PREFIXES = ("kecamatan", "kec")
DESA_PREFIXES = ("desa", "kelurahan", "kel", "ds")


@functools.lru_cache(maxsize=65_536)
def _place_key(text: str, prefixes: tuple[str, ...]) -> str:
    """'Kec. Samarinda Ulu' and 'samarinda  ulu' both match 'Samarinda Ulu'."""
    words = text.strip().split(maxsplit=1)
    if len(words) == 2 and _key(words[0]) in prefixes:
        text = words[1]
    return _key(text)


def _suggest(word: str, options: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.75)
    return str(_l(" Maksud Anda: %(name)s?", name=match[0])) if match else ""


_DIGIT_SEPARATORS = re.compile(r"[\s.\-]")


def _digits(text: str) -> str:
    return _DIGIT_SEPARATORS.sub("", text)


_NO_TEXTS = dict.fromkeys(COLUMNS, "")


class _RowCheck:
    """One row under check: its cells by column, the values read so far, and what the whole file shares.
    Made for every row of a 100,000-row file: each cell becomes text once, and `get(column)` is a dict lookup."""

    __slots__ = ("preview", "row", "look", "first_line_of", "region", "values", "get")

    def __init__(
        self,
        preview: Preview,
        row: Row,
        look: _Lookups,
        first_line_of: dict[tuple[str, int], int],
        layout: tuple[tuple[str, ...], Callable[[list[Any]], tuple[Any, ...]]] | None = None,
    ):
        self.preview, self.row, self.look = preview, row, look
        self.first_line_of = first_line_of  # (NIK, budget year) -> the first line that has it
        self.region: Region | None = None  # set by the regency check; the place and mentor checks depend on it
        self.values: dict[str, Any] = row.values  # the row's valid values
        names, pick = layout or _layout(preview)
        cells = pick(row.cells)
        texts = [value.strip() if type(value) is str else _text(value) for value in cells]  # `_text`, quicker
        joined = "".join(texts)
        if "'" in joined or "=" in joined:  # maybe an export's formula guard to drop: the whole of `_text`
            texts = [_text(value) for value in cells]
        by_column = _NO_TEXTS.copy()  # column -> the cell as text ("" for a column the file does not have)
        by_column.update(zip(names, texts, strict=True))
        self.get: Callable[[str], str] = by_column.__getitem__

    def err(self, message: Any) -> None:
        self.row.errors.append(self.look.say(message))

    def warn(self, message: Any) -> None:
        self.row.warnings.append(self.look.say(message))


def _layout(preview: Preview) -> tuple[tuple[str, ...], Callable[[list[Any]], tuple[Any, ...]]]:
    """The columns the file has and a function that picks their cells out of a row, in that order."""
    names, indexes = tuple(preview.columns), tuple(preview.columns.values())
    if len(indexes) > 1:
        return names, operator.itemgetter(*indexes)
    return names, lambda cells: tuple(cells[index] for index in indexes)


def _check_nul(c: _RowCheck) -> bool:
    """A NUL character (code 0) in any cell: the databases cannot store it, so the row is refused as a whole."""
    cells = c.row.cells[: len(c.preview.headers)]
    for value in cells:
        if type(value) is str and "\x00" in value:
            break
    else:
        return True
    for index, value in enumerate(cells):
        if isinstance(value, str) and "\x00" in value:
            c.err(
                _l(
                    "Kolom %(column)s berisi karakter NUL (kode 0) yang tidak bisa disimpan. Hapus karakter itu "
                    "lalu impor lagi.",
                    column=c.preview.headers[index] or index + 1,
                )
            )
    return not c.row.errors


def _check_required(c: _RowCheck) -> bool:
    """One error per empty required cell; False when the row has none of them (nothing else is worth saying)."""
    for column in REQUIRED:
        if not c.get(column):
            c.err(_l("%(column)s wajib diisi.", column=HEADER_LABELS[column]))
    return not (c.row.errors and all(not c.get(column) for column in REQUIRED))


def _check_nik(c: _RowCheck) -> None:
    nik = _digits(c.get("nik"))
    if not nik:
        return
    if not (nik.isdigit() and len(nik) == 16):
        c.err(_l("NIK harus 16 angka (tertulis: %(value)s).", value=c.get("nik")[:40]))
        return
    nik_cell = c.row.cells[c.preview.columns["nik"]] if "nik" in c.preview.columns else None
    if isinstance(nik_cell, (int, float)):  # noqa: UP038 (a tuple: no union object per row)
        c.warn(
            _l(
                "NIK tersimpan sebagai angka di Excel: periksa digit terakhirnya (Excel hanya menyimpan "
                "15 digit). Format kolom NIK sebagai Teks."
            )
        )
    if not nik.startswith("64"):
        c.warn(_l("NIK bukan dari Kalimantan Timur (kode %(code)s): periksa domisili.", code=nik[:2]))
    c.values["nik"] = nik


def _check_kk_number(c: _RowCheck) -> None:
    kk = _digits(c.get("kk_number"))
    if kk and not (kk.isdigit() and len(kk) == 16):
        c.err(_l("No KK harus 16 angka (tertulis: %(value)s).", value=c.get("kk_number")[:40]))
    elif kk:
        c.values["kk_number"] = kk


def _check_name(c: _RowCheck) -> None:
    name = " ".join(c.get("name").split())
    if len(name) > 120:
        c.err(_l("Nama maksimal 120 karakter."))
    elif name and not name[0].isalpha():
        c.err(_l("Nama harus diawali huruf (tertulis: %(value)s).", value=name[:40]))
    elif name:
        c.values["name"] = name


def _check_budget_year(c: _RowCheck) -> None:
    """The row's own year if it has one, else the year chosen for the file."""
    year_text = c.get("budget_year")
    year = c.preview.budget_year
    if year_text:
        if year_text.isdigit() and 2000 <= int(year_text) <= 2100:
            year = int(year_text)
        else:
            c.err(_l("Tahun anggaran tidak valid: %(value)s.", value=year_text[:20]))
    c.values["budget_year"] = year


def _check_nik_history(c: _RowCheck) -> None:
    """The same NIK earlier in the file or already a recipient that year: an error; in other years: a warning."""
    if "nik" not in c.values:
        return
    nik, year = c.values["nik"], c.values["budget_year"]
    first = c.first_line_of.setdefault((nik, year), c.row.line)
    if first != c.row.line:
        c.err(_l("NIK ganda dalam file: sama dengan baris %(line)s.", line=first))
    years = c.look.years_by_nik.get(nik)
    if not years:  # most rows: a new NIK
        return
    if year in years:
        c.err(_l("NIK sudah terdaftar sebagai penerima tahun anggaran %(year)s.", year=year))
    earlier = sorted(y for y in years if year - PREVIOUS_YEARS_WARNING <= y < year)
    if earlier:
        c.warn(
            _l(
                "Sudah terdaftar sebagai penerima UEP tahun anggaran %(years)s (3 tahun terakhir): bantuan "
                "UEP sekali saja, periksa lagi.",
                years=", ".join(map(str, earlier)),
            )
        )
    later = sorted(y for y in years if y > year)
    if later:
        c.warn(
            _l(
                "Sudah terdaftar untuk tahun anggaran %(years)s, setelah %(year)s: periksa tahun anggarannya.",
                years=", ".join(map(str, later)),
                year=year,
            )
        )


def _check_region(c: _RowCheck) -> None:
    text = c.get("region")
    if not text:
        return
    c.region = c.look.region_by_key.get(_key(text))
    if c.region is None:
        c.err(str(_l("Kabupaten/kota tidak dikenal: %(value)s.", value=text[:80])) + _suggest_region(text, c.look))
    else:
        c.values["region_id"] = c.look.region_ids[c.region]


def _suggest_region(text: str, look: _Lookups) -> str:
    """The regencies a word could mean ("Kutai" -> Kutai Barat, Kutai Kartanegara, Kutai Timur), else the
    closest spelling of any of their names and abbreviations."""
    key = _place_key(text, tuple(_key(p) for prefixes in areas.REGION_PREFIXES.values() for p in prefixes))
    if len(key) >= 4:
        starting = {r.full_name for k, r in look.region_by_key.items() if k.startswith(key)}
        if 1 < len(starting) <= 4:
            return str(_l(" Maksud Anda salah satu dari: %(names)s?", names=", ".join(sorted(starting))))
    close = difflib.get_close_matches(_key(text), list(look.region_by_key), n=1, cutoff=0.75)
    return str(_l(" Maksud Anda: %(name)s?", name=look.region_by_key[close[0]].full_name)) if close else ""


def _check_place(c: _RowCheck) -> None:
    """Kecamatan within the regency, then desa/kelurahan within the kecamatan, matched by key to the area list."""
    region, kecamatan_text, desa_text = c.region, c.get("kecamatan"), c.get("desa")
    if region is None or not kecamatan_text:
        return
    places = c.look.places[c.values["region_id"]]
    found = places.get(_place_key(kecamatan_text, KECAMATAN_PREFIXES))
    if found is None:
        c.err(
            str(_l("Kecamatan tidak ada di %(region)s: %(kec)s.", kec=kecamatan_text[:80], region=region.full_name))
            + _suggest(kecamatan_text, [k for k, _d in places.values()])
        )
        return
    kec, desas = found
    c.values["kecamatan"] = _as_written(kecamatan_text, KECAMATAN_PREFIXES)
    if not desa_text:
        return
    desa = desas.get(_place_key(desa_text, DESA_PREFIXES))
    if desa is None:
        c.err(
            str(_l("Desa/kelurahan tidak ada di Kecamatan %(kec)s: %(desa)s.", desa=desa_text[:80], kec=kec))
            + _suggest(desa_text, desas.values())
        )
    else:
        c.values["desa"] = _as_written(desa_text, DESA_PREFIXES)


@functools.lru_cache(maxsize=65_536)
def _as_written(name: str, prefixes: tuple[str, ...]) -> str:
    """A place name as the file writes it ("Nipah-Nipah", "SAMARINDA ULU"): only its spaces collapsed and a
    leading "Kec."/"Desa"/"Kel." word dropped. Matching is by key; the name itself is never silently respelt."""
    words = name.split()
    if len(words) > 1 and _key(words[0]) in prefixes:
        words = words[1:]
    return " ".join(words)[:80]


def _check_decile(c: _RowCheck) -> None:
    decile_text = c.get("decile").lower().replace("desil", "").strip()
    if not decile_text:
        return
    if decile_text.isdigit() and 1 <= int(decile_text) <= 5:
        c.values["decile"] = int(decile_text)
    else:
        c.err(_l("Desil harus 1 sampai 5 (tertulis: %(value)s).", value=c.get("decile")[:20]))


def _check_registry(c: _RowCheck) -> None:
    """DTKS or DTSEN: the row's Registri column, else the headers' wording, else the budget year."""
    written = _key(c.get("decile_registry"))
    if written in ("dtks", "dtsen"):
        c.values["decile_registry"] = written.upper()
    elif written:
        c.err(_l("Registri harus DTKS atau DTSEN (tertulis: %(value)s).", value=c.get("decile_registry")[:20]))
    else:
        year = c.values.get("budget_year", c.preview.budget_year)
        c.values["decile_registry"] = c.preview.registry or ("DTSEN" if year >= DTSEN_SINCE else "DTKS")


def _check_business_type(c: _RowCheck) -> None:
    business = " ".join(c.get("business_type").split())
    if len(business) > 80:
        c.err(_l("Jenis usaha maksimal 80 karakter."))
    elif business:
        c.values["business_type"] = business


def _check_gender(c: _RowCheck) -> None:
    """L or P as written; when empty, read from the NIK."""
    gender = _key(c.get("gender"))
    if gender in ("l", "lakilaki", "pria", "m"):
        c.values["gender"] = "L"
    elif gender in ("p", "perempuan", "wanita", "f"):
        c.values["gender"] = "P"
    elif gender:
        c.err(_l("Jenis kelamin harus L atau P (tertulis: %(value)s).", value=c.get("gender")[:20]))
    elif "nik" in c.values:
        c.values["gender"] = "P" if int(c.values["nik"][6:8]) > 40 else "L"  # NIK: women's birth day + 40


_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_PHONE = re.compile(r"\+?\d{8,15}")
_ITEM_SEPARATORS = re.compile(r"[;\n]")


def _check_phone(c: _RowCheck) -> None:
    phone = _PHONE_SEPARATORS.sub("", c.get("phone"))
    if phone and not _PHONE.fullmatch(phone):
        c.err(_l("No HP tidak valid: %(value)s.", value=c.get("phone")[:30]))
    c.values["phone"] = phone or None


def _check_free_text(c: _RowCheck) -> None:
    """Address, business description and package items: taken as written, within their lengths."""
    address = " ".join(c.get("address").split())
    if len(address) > 255:
        c.err(_l("Alamat maksimal 255 karakter."))
    c.values["address"] = address[:255]
    c.values["business_description"] = c.get("business_description")[:2000]
    items = c.get("package_items")
    if ";" in items or "\n" in items:
        c.values["package_items"] = [item.strip() for item in _ITEM_SEPARATORS.split(items) if item.strip()][:50]
    else:  # one item or none: the usual cell
        items = items.strip()
        c.values["package_items"] = [items] if items else []


def _check_funding_source(c: _RowCheck) -> None:
    source = _key(c.get("funding_source"))
    if not source or source == "apbd":
        c.values["funding_source"] = "APBD"
    elif source in ("apbdp", "apbdperubahan"):
        c.values["funding_source"] = "APBD-P"
    else:
        c.err(
            _l(
                "Sumber dana harus %(options)s (tertulis: %(value)s).",
                options="/".join(FUNDING_SOURCES),
                value=c.get("funding_source")[:20],
            )
        )


def _check_mentor(c: _RowCheck) -> None:
    """An active mentor by user name or full name, one of the regency's if the regency is known."""
    mentor_text = c.get("mentor")
    c.values["mentor_id"] = None
    if not mentor_text:
        return
    matches = c.look.mentor_by_key.get(_key(mentor_text), [])
    if c.region is not None:
        matches = [m for m in matches if c.region.id in c.look.mentor_regions[m.id]]
    if len(matches) == 1:
        c.values["mentor_id"] = matches[0].id
    elif not matches:
        c.err(
            _l(
                "Pendamping %(name)s tidak dikenal di wilayah ini (isi nama pengguna pendamping).",
                name=mentor_text[:60],
            )
        )
    else:
        c.err(_l("Nama pendamping %(name)s tidak unik: isi nama penggunanya.", name=mentor_text[:60]))


def _check_location(c: _RowCheck) -> None:
    """Both coordinates or neither, decimal comma allowed, inside East Kalimantan."""
    lat_text, lon_text = c.get("business_lat").replace(",", "."), c.get("business_lon").replace(",", ".")
    c.values["business_lat"] = c.values["business_lon"] = None
    if not (lat_text or lon_text):
        return
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        c.err(_l("Lintang dan bujur usaha harus angka desimal, keduanya diisi."))
        return
    (lat_min, lat_max), (lon_min, lon_max) = areas.KALTIM_BOUNDS
    if lat_min <= lat <= lat_max and lon_min <= lon <= lon_max:
        c.values["business_lat"], c.values["business_lon"] = round(lat, 6), round(lon, 6)
    else:
        c.err(_l("Lokasi usaha di luar Kalimantan Timur (%(lat)s, %(lon)s).", lat=lat, lon=lon))


# The columns each check reads -> the check. They run in this order, which is the order of a row's messages;
# later checks use what earlier ones stored (the NIK and budget year, the regency).
_CHECKS: dict[tuple[str, ...], Callable[[_RowCheck], None]] = {
    ("nik",): _check_nik,
    ("kk_number",): _check_kk_number,
    ("name",): _check_name,
    ("budget_year",): _check_budget_year,
    ("nik", "budget_year"): _check_nik_history,
    ("region",): _check_region,
    ("kecamatan", "desa"): _check_place,
    ("decile",): _check_decile,
    ("decile_registry", "budget_year"): _check_registry,
    ("business_type",): _check_business_type,
    ("gender", "nik"): _check_gender,
    ("phone",): _check_phone,
    ("address", "business_description", "package_items"): _check_free_text,
    ("funding_source",): _check_funding_source,
    ("mentor", "region"): _check_mentor,
    ("business_lat", "business_lon"): _check_location,
}
_CHECK_ORDER = tuple(_CHECKS.values())


def _check_row(
    preview: Preview, row: Row, look: _Lookups, first_line_of: dict[tuple[str, int], int], layout=None
) -> None:
    """Fill `row.values` with what is valid and `row.errors`/`row.warnings` with the reasons, in Indonesian."""
    check = _RowCheck(preview, row, look, first_line_of, layout)
    if not _check_nul(check) or not _check_required(check):
        return
    for checker in _CHECK_ORDER:
        checker(check)


def _matched(headers: list[str], filename: str, budget_year: int) -> Preview:
    """A preview without rows yet: which header is which column, which are ignored, which required are missing."""
    preview = Preview(filename=filename, budget_year=budget_year, headers=headers)
    named = set()
    for index, header in enumerate(headers):
        key = _key(header)
        named.update(word.upper() for word in ("dtks", "dtsen") if word in key)
        column = _ALIASES.get(key)
        if column and column not in preview.columns:
            preview.columns[column] = index
        elif header and key not in REGISTRY_ID_HEADERS:
            preview.ignored_headers.append(header)
    preview.registry = named.pop() if len(named) == 1 else None
    preview.missing = [HEADER_LABELS[c] for c in REQUIRED if c not in preview.columns]
    return preview


def _nik_of(preview: Preview, cells: list[Any]) -> str:
    return _digits(_text(cells[preview.columns["nik"]])) if "nik" in preview.columns else ""


def _checked(
    preview: Preview,
    rows: Iterable[tuple[int, list[Any]]],
    look: _Lookups,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Row]:
    """Each row checked, one at a time (the caller keeps what it needs of it)."""
    first_line_of: dict[tuple[str, int], int] = {}
    layout = _layout(preview)
    n = 0
    for n, (line, cells) in enumerate(rows, start=1):
        row = Row(line, cells)
        _check_row(preview, row, look, first_line_of, layout)
        yield row
        if progress and n % 500 == 0:
            progress(500)
    if progress:
        progress(n % 500)


def validate(table: Table, filename: str, budget_year: int, progress: Callable[[int], None] | None = None) -> Preview:
    """Match the headers and check every row; nothing is written."""
    preview = _matched(table.headers, filename, budget_year)
    if preview.missing:
        return preview
    look = _Lookups(budget_year, {_nik_of(preview, cells) for _line, cells in table.rows})
    preview.rows.extend(_checked(preview, table.rows, look, progress))
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
        batch = [
            {**values, "status": lifecycle.CALON, "version": 1, "created_at": now, "updated_at": now}
            for values in rows[start : start + 1000]
        ]
        ids = db.session.scalars(insert(Recipient).returning(Recipient.id, sort_by_parameter_order=True), batch).all()
        db.session.execute(
            insert(StatusChange),
            [
                {
                    "recipient_id": rid,
                    "from_status": None,
                    "to_status": lifecycle.CALON,
                    "changed_at": now,
                    "changed_by_id": user.id if user else None,
                    "reason": None,
                }
                for rid in ids
            ],
        )
        stored += len(ids)
        if progress:
            progress(len(ids))
    return stored


def error_rows(preview: Preview) -> Iterator[list[Any]]:
    """The invalid rows with their original cells and a last column of reasons: fix in Excel, import again."""
    yield [*preview.headers, "Baris", "Kesalahan"]
    for row in preview.invalid:
        yield [
            *(_text(c).replace("\x00", "") for c in row.cells[: len(preview.headers)]),
            row.line,
            "; ".join(row.errors),
        ]


def count_existing(budget_year: int) -> int:
    return (
        db.session.scalar(select(func.count()).select_from(Recipient).where(Recipient.budget_year == budget_year)) or 0
    )


# --- staged uploads ------------------------------------------------------------------------------------------------
# The web import keeps the uploaded file between preview and import under a random token, in the photo store's
# `imports/` (UPLOAD_DIR/imports/, or the bucket every app server shares: `storage.py` blobs), with files beside it:
# <token>.json (owner, file name, budget year, once imported the count), <token>.rows.jsonl (the rows as read, one
# JSON array a line, so the file is parsed once per upload) and <token>.check.jsonl (the check result the preview
# page shows; reloading it neither parses nor checks again). Both are written row by row into this server's
# UPLOAD_DIR/imports/ as the file is read and checked, then kept in the store, so a 100,000-row upload is never held
# in memory as rows. "Import" checks the stored rows again against the database as it is then, and that result,
# frozen, is what the page shows afterwards.

IMPORT_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
KEEP_IMPORTS_S = 24 * 3600
PREVIEW_SAMPLE = 10  # valid rows shown as an example (their values are kept in the check result)


def _imports_dir(upload_dir: str | Path) -> Path:
    path = Path(upload_dir) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _put(upload_dir, name: str, content: bytes) -> None:
    storage.resolve(upload_dir).put_blob(f"imports/{name}", content)


def _get(upload_dir, name: str) -> bytes:
    """A staged file's bytes; FileNotFoundError when absent."""
    return storage.resolve(upload_dir).get_blob(f"imports/{name}")


def _put_file(upload_dir, name: str, path: Path) -> None:
    """Keep a file written in this server's scratch folder in the store (moved, in a local store)."""
    store = storage.resolve(upload_dir)
    if isinstance(store, storage.LocalStorage):
        target = store.root / "imports" / name
        if target != path:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
        return
    try:
        store.put_blob(f"imports/{name}", path.read_bytes())
    finally:
        path.unlink(missing_ok=True)


def _lines(upload_dir, name: str) -> Iterator[str]:
    """A stored text file line by line (read from the disk as they come in a local store); OSError when absent."""
    store = storage.resolve(upload_dir)
    if isinstance(store, storage.LocalStorage):
        with (store.root / "imports" / name).open(encoding="utf-8") as fh:
            yield from fh
    else:
        yield from io.StringIO(_get(upload_dir, name).decode("utf-8"))


def _forget_old_imports(upload_dir) -> None:
    storage.resolve(upload_dir).delete_blobs_older("imports", time.time() - KEEP_IMPORTS_S)


def _save_meta(upload_dir: str | Path, token: str, meta: dict) -> None:
    _put(upload_dir, f"{token}.json", json.dumps(meta).encode())


# Cells as JSON keep their type where JSON has one (a NIK typed as a number still warns); dates become text.
_JSON = json.JSONEncoder(default=_text, ensure_ascii=False)


def _store_rows(
    upload_dir, token: str, headers: list[str], rows: Iterable[tuple[int, list[Any]]], nik_index: int | None
) -> set[str]:
    """The rows as read, one line each after a line of headers; returns the NIKs (for one database lookup)."""
    encode = _JSON.encode
    niks: set[str] = set()
    scratch = _imports_dir(upload_dir) / f".{token}.rows.part"
    try:
        with scratch.open("w", encoding="utf-8") as out:
            out.write(encode(headers) + "\n")
            for line, cells in rows:
                out.write(encode([line, cells]) + "\n")
                if nik_index is not None:
                    niks.add(_digits(_text(cells[nik_index])))
        _put_file(upload_dir, f"{token}.rows.jsonl", scratch)
    finally:
        scratch.unlink(missing_ok=True)
    return niks


def _stored_rows(upload_dir, token: str) -> tuple[list[str], Iterator[tuple[int, list[Any]]]] | None:
    """The headers and (read line by line as they are consumed) the rows stored by `_store_rows`."""
    name = f"{token}.rows.jsonl"
    try:
        headers = json.loads(next(_lines(upload_dir, name)))
    except (OSError, ValueError, StopIteration):
        return None

    def rows() -> Iterator[tuple[int, list[Any]]]:
        lines = _lines(upload_dir, name)
        next(lines)
        for text in lines:
            line, cells = json.loads(text)
            yield line, cells

    return headers, rows()


def _stored_niks(upload_dir, token: str, preview: Preview) -> set[str]:
    stored = _stored_rows(upload_dir, token)
    return {_nik_of(preview, cells) for _line, cells in stored[1]} if stored else set()


def _nik_index(headers: list[str]) -> int | None:
    return next((i for i, header in enumerate(headers) if _ALIASES.get(_key(header)) == "nik"), None)


def _save_check(upload_dir, token: str, preview: Preview, rows: Iterable[Row]) -> None:
    """What the preview page and the error file need, written row by row as `rows` are checked: every row's line
    and reasons, the invalid rows' cells, the values of rows with warnings and of the first valid rows."""
    dumps = _JSON.encode
    shown = 0
    scratch = _imports_dir(upload_dir) / f".{token}.check.part"
    try:
        with scratch.open("w", encoding="utf-8") as out:
            head = {
                "headers": preview.headers,
                "columns": preview.columns,
                "ignored_headers": preview.ignored_headers,
                "missing": preview.missing,
                "registry": preview.registry,
            }
            out.write(dumps(head) + "\n")
            for row in rows:
                if row.errors:
                    out.write(dumps([row.line, row.cells, None, row.errors, []]) + "\n")
                elif row.warnings or shown < PREVIEW_SAMPLE:
                    out.write(dumps([row.line, None, row.values, [], row.warnings]) + "\n")
                else:
                    out.write(f"[{row.line}]\n")  # most rows: valid, nothing to say
                shown += not row.errors
        _put_file(upload_dir, f"{token}.check.jsonl", scratch)
    finally:
        scratch.unlink(missing_ok=True)


_NO_VALUES: dict = {}
_NONE: list = []


def _load_check(upload_dir, token: str, meta: dict) -> Preview | None:
    try:
        lines = _lines(upload_dir, f"{token}.check.jsonl")
        data = json.loads(next(lines))
        preview = Preview(
            filename=meta["filename"],
            budget_year=meta["budget_year"],
            headers=data["headers"],
            columns=data["columns"],
            ignored_headers=data["ignored_headers"],
            missing=data["missing"],
            registry=data.get("registry"),
        )
        append = preview.rows.append
        for text in lines:
            if "," not in text:  # "[line]": valid, nothing to say (shared empties: these are read-only)
                append(Row(int(text.strip()[1:-1]), _NONE, _NO_VALUES, _NONE, _NONE))
            else:
                line, cells, values, errors, warnings = json.loads(text)
                append(Row(line, cells or [], values or {}, errors, warnings))
    except (OSError, ValueError, StopIteration):
        return None
    return preview


def _discard(upload_dir, token: str, stored: str) -> None:
    for name in (stored, f"{token}.json", f"{token}.rows.jsonl", f"{token}.check.jsonl"):
        storage.resolve(upload_dir).delete_blob(f"imports/{name}")


def stage_upload(
    upload_dir: str | Path, data: BinaryIO, filename: str | None, user_id: int, budget_year: int
) -> tuple[str, dict]:
    """Store an uploaded file under a random token for `user_id` (dropping stored files older than a day), read
    it once, check every row and store the result; return the token and its metadata. Raises ImportFileError,
    keeping nothing, when the file cannot be read."""
    filename = Path((filename or "daftar.xlsx").replace("\x00", "")).name[:120] or "daftar.xlsx"
    token = secrets.token_urlsafe(24)
    folder = _imports_dir(upload_dir)  # the file is read here, then kept in the store
    _forget_old_imports(upload_dir)
    stored = f"{token}{Path(filename).suffix.lower()}"
    meta = {"user_id": user_id, "filename": filename, "stored": stored, "budget_year": budget_year, "committed": None}
    try:
        with (folder / stored).open("wb") as out:
            shutil.copyfileobj(data, out)
        if not isinstance(storage.resolve(upload_dir), storage.LocalStorage):
            _put(upload_dir, stored, (folder / stored).read_bytes())
            (folder / stored).rename(folder / f".{stored}.read")  # this server's copy, read below, then dropped
            stored_path = folder / f".{stored}.read"
        else:
            stored_path = folder / stored
        try:
            headers, rows = table_rows(stored_path, filename)
            niks = _store_rows(upload_dir, token, headers, rows, _nik_index(headers))
        except ImportFileError:
            raise
        except Exception as exc:  # whatever the file does to the readers: a reason on the field, never a 500
            log.warning("import file unreadable: %r", exc)
            raise ImportFileError(
                _l("File tidak bisa dibaca. Simpan ulang sebagai .xlsx atau CSV (UTF-8) lalu coba lagi.")
            ) from exc
        _check_stored(upload_dir, token, filename, budget_year, niks)
        _save_meta(upload_dir, token, meta)
    except BaseException:
        _discard(upload_dir, token, stored)
        raise
    finally:
        (folder / f".{stored}.read").unlink(missing_ok=True)
    return token, meta


def _check_stored(
    upload_dir, token: str, filename: str, budget_year: int, niks: set[str] | None = None, keep: bool = False
) -> Preview:
    """Check the stored rows (the NIKs, unless given, from a first pass over the rows file, for one lookup) and
    store the result. With `keep` the returned preview holds every checked row (to import them); without, none."""
    headers, _rows = _stored_rows(upload_dir, token)
    preview = _matched(headers, filename, budget_year)
    if preview.missing:
        _save_check(upload_dir, token, preview, [])
        return preview
    look = _Lookups(budget_year, _stored_niks(upload_dir, token, preview) if niks is None else niks)
    checked = _checked(preview, _stored_rows(upload_dir, token)[1], look)
    if keep:
        checked = _kept(checked, preview.rows)
    _save_check(upload_dir, token, preview, checked)
    return preview


def _kept(rows: Iterator[Row], into: list[Row]) -> Iterator[Row]:
    for row in rows:
        into.append(row)
        yield row


def load_staged(upload_dir: str | Path, token: str, user_id: int) -> tuple[dict, Path] | None:
    """A stored upload's metadata and file; None unless the token is well formed, exists and belongs to `user_id`."""
    if not IMPORT_TOKEN.fullmatch(token):
        return None
    try:
        meta = json.loads(_get(upload_dir, f"{token}.json"))
    except (OSError, ValueError):
        return None
    if meta.get("user_id") != user_id:
        return None
    return meta, _imports_dir(upload_dir) / meta["stored"]


def staged_preview(upload_dir: str | Path, token: str, meta: dict, path: Path) -> Preview:
    """The stored check result, read back without parsing or checking anything; once imported, it is the result
    the import was made from (the imported rows would now read as duplicates). An upload stored without one
    (an older version) is read and checked once. Raises ImportFileError if that file cannot be read."""
    preview = _load_check(upload_dir, token, meta)
    return preview if preview is not None else recheck(upload_dir, token, meta, path)


def recheck(upload_dir: str | Path, token: str, meta: dict, path: Path) -> Preview:
    """Check the stored rows again against the database as it is now (before writing); store and return it."""
    if _stored_rows(upload_dir, token) is None:  # staged by an older version, always in a local folder
        headers, rows = table_rows(path, meta["filename"])
        _store_rows(upload_dir, token, headers, rows, _nik_index(headers))
    return _check_stored(upload_dir, token, meta["filename"], meta["budget_year"], keep=True)


def mark_imported(upload_dir: str | Path, token: str, meta: dict, stored: int) -> None:
    """Record in the sidecar that `stored` rows were imported (the stored check result stays as it was)."""
    meta["committed"] = stored
    _save_meta(upload_dir, token, meta)
