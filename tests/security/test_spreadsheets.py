"""Hostile spreadsheets (issue 16, item 5): every upload up to the size limit is read within 10 s and 256 MB
more memory, or refused with a reason next to the file field; never a 500, never a staged file left behind.
The preview page shows the stored check result (the file is parsed once per upload). NUL characters in a cell
are a row error (item 11).

The hostile files are built here with zipfile; `bench/import_hostile.py` measures the same files.
"""

from __future__ import annotations

import codecs
import io
import os
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from webapp import importing
from webapp.extensions import db

from .. import factories
from ..conftest import csrf_token, login

HEADERS = list(factories.import_row(1))
# A ceiling against the old minutes-long reads, not the 10 s target: this runs under tracemalloc (several times
# slower) on shared machines; bench/import_hostile.py and bench/import_preview.py measure the target.
TIME_LIMIT_S = 60
MEMORY_LIMIT = 256 * 1024 * 1024

# --- building .xlsx files by hand ---------------------------------------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inline_row(line: int, values: list[str]) -> str:
    cells = "".join(
        f'<c r="{chr(65 + i)}{line}" t="inlineStr"><is><t>{_esc(v)}</t></is></c>' for i, v in enumerate(values)
    )
    return f'<row r="{line}">{cells}</row>'


def _good_rows(n: int = 1) -> str:
    return _inline_row(1, HEADERS) + "".join(
        _inline_row(k + 1, list(factories.import_row(k).values())) for k in range(1, n + 1)
    )


def xlsx(
    sheet_data: str = "",
    *,
    dimension: str = "A1:H2",
    shared: str | None = None,
    sheets: int = 1,
    extra: dict[str, bytes] | None = None,
    sheet_xml: str | None = None,
) -> bytes:
    """A minimal workbook: `sheets` sheets (the first holds `sheet_data`), optional shared strings and extra parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        overrides = f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>' + "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{ct}.worksheet+xml"/>'
            for n in range(1, sheets + 1)
        )
        if shared is not None:
            overrides += f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-'
            'types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f"{overrides}</Types>",
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_RELS}/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        listed = "".join(f'<sheet name="S{n}" sheetId="{n}" r:id="rId{n}"/>' for n in range(1, sheets + 1))
        z.writestr(
            "xl/workbook.xml", f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><sheets>{listed}</sheets></workbook>'
        )
        rels = "".join(
            f'<Relationship Id="rId{n}" Type="{_RELS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, sheets + 1)
        )
        if shared is not None:
            rels += f'<Relationship Id="rIdS" Type="{_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            z.writestr("xl/sharedStrings.xml", shared)
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{_PKG}">{rels}</Relationships>')
        for n in range(1, sheets + 1):
            xml = (
                sheet_xml
                if sheet_xml is not None
                else (
                    f'<worksheet xmlns="{_MAIN}"><dimension ref="{dimension}"/><sheetData>'
                    f"{sheet_data if n == 1 else ''}</sheetData></worksheet>"
                )
            )
            z.writestr(f"xl/worksheets/sheet{n}.xml", xml)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def shared_strings_bomb(size: int = 1024 * 1024 * 1024) -> bytes:
    """One shared string of `size` characters (1 GB by default): about 1 MB packed."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        base = xlsx(_inline_row(1, HEADERS) + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>', shared="")
        with zipfile.ZipFile(io.BytesIO(base)) as source:
            for item in source.infolist():
                if item.filename != "xl/sharedStrings.xml":
                    z.writestr(item, source.read(item))
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(f'<sst xmlns="{_MAIN}"><si><t>'.encode())
            block = b"a" * (4 * 1024 * 1024)
            for _ in range(size // len(block)):
                part.write(block)
            part.write(b"</t></si></sst>")
    return out.getvalue()


def declared_blank_rows(n: int = 20_000) -> bytes:
    """A header, one family, then `n` rows that hold only a styled empty cell in the last column, and a
    dimension claiming all of Excel's grid."""
    blanks = "".join(f'<row r="{k}"><c r="XFD{k}" s="0"/></row>' for k in range(3, n + 3))
    return xlsx(_good_rows(1) + blanks, dimension="A1:XFD1048576")


def broken_xml_with_dimension() -> bytes:
    sheet = (
        f'<worksheet xmlns="{_MAIN}"><dimension ref="A1:XFD1048576"/><sheetData>{_good_rows(1)}'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>rusak</is></c>'
    )
    return xlsx(sheet_xml=sheet)


def huge_cell() -> bytes:
    """A 40,000-character cell (Excel's limit is 32,767), inline and shared."""
    return xlsx(_good_rows(1) + _inline_row(3, ["6472014101900003", "x" * 40_000]))


def huge_shared_cell() -> bytes:
    return xlsx(
        _inline_row(1, HEADERS) + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>',
        shared=f'<sst xmlns="{_MAIN}"><si><t>{"y" * 40_000}</t></si></sst>',
    )


def huge_text_run() -> bytes:
    """3 MB of text (random, so no zip bomb) with no tag in it: refused before expat buffers it."""
    return xlsx(_good_rows(1) + _inline_row(3, [os.urandom(1_500_000).hex()]))


def many_sheets(n: int = 3_000) -> bytes:
    return xlsx(_good_rows(1), sheets=n)


def row_number_far_away() -> bytes:
    """A row numbered beyond Excel's last row (openpyxl would yield every blank row up to it)."""
    return xlsx(_good_rows(1) + _inline_row(10**12, ["x"]))


def odd_names() -> bytes:
    return xlsx(_good_rows(1), extra={"../../etc/cron.d/kail": b"x"})


def nested_archive() -> bytes:
    return xlsx(_good_rows(1), extra={"xl/media/inner.zip": xlsx(_good_rows(1))})


def with_doctype() -> bytes:
    sheet = (
        f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        f'<worksheet xmlns="{_MAIN}"><sheetData>{_good_rows(1)}</sheetData></worksheet>'
    )
    return xlsx(sheet_xml=sheet)


def not_a_zip() -> bytes:
    return b"%PDF-1.7\n" + b"\x00\x01binary" * 1000


def zip_without_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    return out.getvalue()


def csv_long_line(size: int = 100 * 1024 * 1024) -> bytes:
    return (",".join(HEADERS) + "\n").encode() + b"6472014101900001," + b"a" * size + b"\n"


def csv_blank_lines(n: int = 2_000_000) -> bytes:
    return (",".join(HEADERS) + "\n").encode() + b"\n" * n


def csv_utf16() -> bytes:
    text = "\t".join(HEADERS) + "\n" + "\t".join(factories.import_row(1, Nama="Fransiskus Kéwa").values()) + "\n"
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


def csv_binary_nuls() -> bytes:
    return ("\x00".join(",".join(HEADERS)) + "\n").encode()


# name -> (upload file name, builder, what must happen: "read" or a piece of the refusal)
HOSTILE: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "shared strings zip bomb (1 GB string)": ("bom.xlsx", shared_strings_bomb, "dimampatkan secara tidak wajar"),
    "20,000 declared blank rows": ("kosong.xlsx", declared_blank_rows, "read"),
    "broken XML with a dimension": ("rusak.xlsx", broken_xml_with_dimension, "tidak bisa dibaca"),
    "huge inline cell (40,000 chars)": ("sel.xlsx", huge_cell, "32.767"),
    "huge shared string (40,000 chars)": ("sel2.xlsx", huge_shared_cell, "32.767"),
    "3 MB text run": ("teks.xlsx", huge_text_run, "32.767"),
    "3,000 sheets": ("lembar.xlsx", many_sheets, "terlalu banyak bagian"),
    "row number 10^12": ("baris.xlsx", row_number_far_away, "tidak bisa dibaca"),
    "odd part name (../)": ("nama.xlsx", odd_names, "tidak wajar"),
    "nested archive": ("bersarang.xlsx", nested_archive, "tidak wajar"),
    "DOCTYPE with entities": ("dtd.xlsx", with_doctype, "tidak bisa dibaca"),
    "PDF renamed .xlsx": ("pdf.xlsx", not_a_zip, "tidak bisa dibaca"),
    "zip without a workbook": ("docx.xlsx", zip_without_workbook, "tidak bisa dibaca"),
    "xlsx renamed .csv": ("excel.csv", lambda: xlsx(_good_rows(1)), "tidak bisa dibaca"),
    "CSV with a 100 MB line": ("panjang.csv", csv_long_line, "lebih panjang dari"),
    "CSV with 2,000,000 blank lines": ("kosong.csv", csv_blank_lines, "termasuk baris kosong"),
    "CSV in UTF-16 (tab-separated)": ("unicode.csv", csv_utf16, "read"),
    "CSV that is mostly NUL bytes": ("biner.csv", csv_binary_nuls, "tidak bisa dibaca"),
}


def measure(func: Callable[[], object]) -> tuple[object, float, int]:
    """(result or the exception raised, seconds, peak traced memory in bytes)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = func()
    except Exception as exc:  # noqa: BLE001 - the refusal is the result
        result = exc
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, elapsed, peak


@pytest.fixture
def admin_client(client, app):
    admin = factories.user("admin", regions=[])
    db.session.commit()
    login(client, admin.username)
    return client


def _imports(app) -> list[str]:
    folder = Path(app.config["UPLOAD_DIR"]) / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_file_is_read_or_refused_in_time_and_memory(app, tmp_path, name):
    filename, build, expected = HOSTILE[name]
    path = tmp_path / filename
    path.write_bytes(build())
    result, elapsed, peak = measure(lambda: importing.read_table(path, filename))
    if expected == "read":
        assert isinstance(result, importing.Table), result
        assert len(result.rows) == 1 and all(len(cells) == len(HEADERS) for _line, cells in result.rows)
    else:
        assert isinstance(result, importing.ImportFileError), result
        assert expected in str(result)
    assert elapsed < TIME_LIMIT_S, f"{name}: {elapsed:.1f} s"
    assert peak < MEMORY_LIMIT, f"{name}: {peak / 2**20:.0f} MB"


@pytest.mark.parametrize(
    "name",
    [
        "shared strings zip bomb (1 GB string)",
        "broken XML with a dimension",
        "3,000 sheets",
        "PDF renamed .xlsx",
        "CSV that is mostly NUL bytes",
    ],
)
def test_web_upload_refuses_with_a_reason_on_the_field_and_keeps_nothing(admin_client, app, name):
    filename, build, expected = HOSTILE[name]
    token = csrf_token(admin_client, "/kelola-data/impor")
    response = admin_client.post(
        "/kelola-data/impor", data={"csrf_token": token, "budget_year": "2026", "file": (io.BytesIO(build()), filename)}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert expected in page and 'aria-invalid="true"' in page
    assert _imports(app) == [], "nothing of a refused upload stays on disk"


def test_unexpected_reader_failure_is_a_refusal_not_a_500(admin_client, app, monkeypatch):
    def explode(path, filename):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(importing, "table_rows", explode)
    token = csrf_token(admin_client, "/kelola-data/impor")
    response = admin_client.post(
        "/kelola-data/impor",
        data={"csrf_token": token, "budget_year": "2026", "file": (io.BytesIO(b"NIK,Nama\n"), "a.csv")},
    )
    assert response.status_code == 422 and "tidak bisa dibaca" in response.get_data(as_text=True)
    assert _imports(app) == []


def test_declared_blank_rows_are_not_counted_or_padded(app, tmp_path):
    path = tmp_path / "kosong.xlsx"
    path.write_bytes(declared_blank_rows())
    table = importing.read_table(path, "kosong.xlsx")
    assert [line for line, _cells in table.rows] == [2]
    assert len(table.headers) == len(HEADERS)


def test_the_preview_page_does_not_parse_or_check_the_file_again(admin_client, app, monkeypatch):
    token = csrf_token(admin_client, "/kelola-data/impor")
    data = xlsx(_good_rows(3))
    response = admin_client.post(
        "/kelola-data/impor",
        data={"csrf_token": token, "budget_year": "2026", "file": (io.BytesIO(data), "daftar.xlsx")},
    )
    assert response.status_code == 303
    preview_url = response.headers["Location"]

    def forbidden(*_args, **_kwargs):
        raise AssertionError("the preview must reuse the stored check result")

    for reader in ("read_table", "table_rows", "validate", "_checked"):
        monkeypatch.setattr(importing, reader, forbidden)
    for _ in range(2):
        page = admin_client.get(preview_url)
        assert page.status_code == 200 and "Warga Impor 2" in page.get_data(as_text=True)
    assert admin_client.get(preview_url + "/kesalahan.csv").status_code == 200
    monkeypatch.undo()
    for reader in ("read_table", "table_rows"):  # importing checks the stored rows, no parsing
        monkeypatch.setattr(importing, reader, forbidden)
    response = admin_client.post(preview_url, data={"csrf_token": token, "expected": "3"})
    assert response.status_code == 303
    assert "Sudah diimpor: 3 keluarga" in admin_client.get(preview_url).get_data(as_text=True)


def test_nul_in_a_cell_is_a_row_error_in_indonesian(admin_client, app):
    rows = [
        factories.import_row(1),
        factories.import_row(2, Nama="Siti\x00Aminah"),
        factories.import_row(3, **{"Jenis Usaha": "Warung\x00"}),
    ]
    token = csrf_token(admin_client, "/kelola-data/impor")
    response = admin_client.post(
        "/kelola-data/impor",
        data={
            "csrf_token": token,
            "budget_year": "2026",
            "file": (io.BytesIO(factories.csv_text(rows).encode()), "nul.csv"),
        },
    )
    assert response.status_code == 303
    preview_url = response.headers["Location"]
    page = admin_client.get(preview_url).get_data(as_text=True)
    assert "Kolom Nama berisi karakter NUL" in page and "Kolom Jenis Usaha berisi karakter NUL" in page
    errors = admin_client.get(preview_url + "/kesalahan.xlsx")
    assert errors.status_code == 200
    table = [[c.value for c in row] for row in load_workbook(io.BytesIO(errors.data)).active.iter_rows()]
    assert [r[2] for r in table[1:]] == ["SitiAminah", "Warga Impor 3"] and "NUL" in table[1][-1]
    response = admin_client.post(preview_url, data={"csrf_token": token, "expected": "1"})
    assert response.status_code == 303  # the valid row is stored; no NUL reaches the database


def test_nul_written_the_excel_way_is_a_row_error(app, tmp_path):
    path = tmp_path / "nul.xlsx"
    path.write_bytes(
        xlsx(
            _good_rows(1)
            + _inline_row(
                3, [*factories.import_row(2).values()][:2] + ["Ani_x0000_"] + [*factories.import_row(2).values()][3:]
            )
        )
    )
    preview = importing.validate(importing.read_table(path, "nul.xlsx"), "nul.xlsx", 2026)
    assert [r.line for r in preview.invalid] == [3]
    assert "karakter NUL" in preview.invalid[0].errors[0]


def test_odd_encodings_are_read(app, tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(csv_utf16())
    assert importing.read_table(path, "u.csv").rows[0][1][2] == "Fransiskus Kéwa"
    text = factories.csv_text([factories.import_row(1, Nama="Kéwa")])
    path.write_bytes(codecs.BOM_UTF8 + text.encode())
    assert importing.read_table(path, "u.csv").headers[0] == "NIK"
    wide = b",".join([b"x" * 1000] * 300) + b"\n"  # 300 KB lines: the non-UTF-8 byte comes after 1.8 MB
    path.write_bytes(text.encode("cp1252") + wide * 6 + "é\n".encode("cp1252"))
    assert importing.read_table(path, "u.csv").rows[0][1][2] == "Kéwa"


# --- the reader follows the package, not fixed paths -----------------------------------------------------------

_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _package(parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return out.getvalue()


def _rels(*relationships: tuple[str, str, str]) -> str:
    items = "".join(
        f'<Relationship Id="{rid}" Type="{_RELS}/{kind}" Target="{target}"/>' for rid, kind, target in relationships
    )
    return f'<Relationships xmlns="{_PKG}">{items}</Relationships>'


def _sheet(rows: str) -> str:
    return f'<worksheet xmlns="{_MAIN}"><sheetData>{rows}</sheetData></worksheet>'


def workbook_elsewhere() -> bytes:
    """A workbook that is not at xl/workbook.xml, its first tab listed second in its relationships, a relative
    and an absolute target: the parts are found only by following _rels/.rels and the workbook's own .rels."""
    first = (
        _inline_row(1, ["NIK", "Nama"]) + '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c></row>'
    )
    return _package(
        {
            "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/buku/utama.xml" ContentType="{_CT}.sheet.main+xml"/></Types>',
            "_rels/.rels": _rels(("r1", "officeDocument", "buku/utama.xml")),
            "buku/utama.xml": f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><sheets>'
            '<sheet name="Daftar" sheetId="1" r:id="rB"/><sheet name="Contoh" sheetId="2" r:id="rA"/>'
            "</sheets></workbook>",
            "buku/_rels/utama.xml.rels": _rels(
                ("rA", "worksheet", "lembar/contoh.xml"),
                ("rB", "worksheet", "/buku/lembar/daftar.xml"),
                ("rS", "sharedStrings", "../buku/teks.xml"),
            ),
            "buku/lembar/contoh.xml": _sheet(_inline_row(1, ["NIK", "Nama"]) + _inline_row(2, ["1", "Contoh"])),
            "buku/lembar/daftar.xml": _sheet(first),
            "buku/teks.xml": f'<sst xmlns="{_MAIN}"><si><t>6472010101900001</t></si><si><t>Siti Aminah</t></si></sst>',
        }
    )


def test_the_first_tab_is_found_through_the_package_relationships(app, tmp_path):
    path = tmp_path / "lain.xlsx"
    path.write_bytes(workbook_elsewhere())
    table = importing.read_table(path, "lain.xlsx")
    assert table.headers == ["NIK", "Nama"]
    assert table.rows == [(2, ["6472010101900001", "Siti Aminah"])]


def test_a_relationship_pointing_outside_the_package_is_refused(app, tmp_path):
    parts = {
        "_rels/.rels": _rels(("r1", "officeDocument", "xl/workbook.xml")),
        "xl/workbook.xml": f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><sheets>'
        '<sheet name="A" sheetId="1" r:id="r1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": _rels(("r1", "worksheet", "../../../etc/passwd")),
    }
    path = tmp_path / "keluar.xlsx"
    path.write_bytes(_package(parts))
    with pytest.raises(importing.ImportFileError, match="tidak bisa dibaca"):
        importing.read_table(path, "keluar.xlsx")


@pytest.mark.parametrize("date1904", [False, True])
def test_dates_follow_the_workbooks_date_system(app, tmp_path, date1904):
    """Excel for Mac wrote workbooks in the 1904 date system: the same serial number is another day."""
    import datetime as dt

    from openpyxl import Workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    workbook = Workbook()
    if date1904:
        workbook.epoch = CALENDAR_MAC_1904
    sheet = workbook.active
    sheet.append(["NIK", "Nama", "Tanggal"])
    sheet.append(["6472010101900001", "Siti", dt.datetime(2025, 3, 14)])
    path = tmp_path / "tanggal.xlsx"
    workbook.save(path)
    assert load_workbook(path).epoch == (CALENDAR_MAC_1904 if date1904 else dt.datetime(1899, 12, 30))
    table = importing.read_table(path, "tanggal.xlsx")
    assert table.rows[0][1][2] == dt.datetime(2025, 3, 14)


def _workbook_with_styles(rows: str) -> bytes:
    """A sheet with shared strings and cell styles 1 (general) and 2 (a date format), as Excel links them."""
    return _package(
        {
            "_rels/.rels": _rels(("r1", "officeDocument", "xl/workbook.xml")),
            "xl/workbook.xml": f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><sheets>'
            '<sheet name="A" sheetId="1" r:id="r1"/></sheets></workbook>',
            "xl/_rels/workbook.xml.rels": _rels(
                ("r1", "worksheet", "worksheets/sheet1.xml"),
                ("r2", "sharedStrings", "sharedStrings.xml"),
                ("r3", "styles", "styles.xml"),
            ),
            "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{_MAIN}" xmlns:x14ac="urn:x14ac"><sheetData>{rows}'
            "</sheetData></worksheet>",
            "xl/sharedStrings.xml": f'<sst xmlns="{_MAIN}"><si><t>NIK</t></si><si><t>Nama</t></si></sst>',
            "xl/styles.xml": f'<styleSheet xmlns="{_MAIN}"><cellXfs count="3"><xf numFmtId="0"/>'
            '<xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>',
        }
    )


def test_rows_written_the_usual_way_and_any_other_way_read_the_same(app, tmp_path):
    """The quick path (rows as Excel, LibreOffice and openpyxl write them) and the general one agree, also when
    both kinds of row are mixed in one sheet."""
    import datetime as dt

    plain = [
        '<row r="1" spans="1:3" x14ac:dyDescent="0.25"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="inlineStr"><is><t>Desil</t></is></c></row>',
        '<row r="3"><c r="A3" t="inlineStr"><is><t xml:space="preserve">6472010101900001 </t></is></c>'
        '<c r="B3" t="str"><v>Siti &amp; Ani_x000D_</v></c><c r="D3" s="2"><v>45730</v></c>'
        '<c r="E3" s="1" t="b"><v>1</v></c><c r="F3" s="1"><v>2.5</v></c></row>',
        '<row r="4" customFormat="1"/>',
    ]
    general = [  # the same cells: attributes in another order, a formula, rich text, an empty row written open
        '<row r="1"><c t="s" r="A1"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="inlineStr"><is><r><t>Des</t></r><r><t>il</t></r></is></c></row>',
        '<row r="3"><c r="A3" t="inlineStr"><is><t xml:space="preserve">6472010101900001 </t></is></c>'
        '<c r="B3" t="str"><f>A1</f><v>Siti &amp; Ani_x000D_</v></c><c s="2" r="D3"><v>45730</v></c>'
        '<c t="b" r="E3" s="1"><v>1</v></c><c r="F3" s="1"><v>2.5</v></c></row>',
        '<row r="4" customFormat="1"></row>',
    ]
    read = []
    for name, rows in (("biasa", plain), ("lain", general), ("campur", [plain[0], general[1], plain[2]])):
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(_workbook_with_styles("".join(rows)))
        read.append(importing.read_table(path, path.name))
    assert read[0].headers == ["NIK", "Nama", "Desil"]
    assert read[0].rows == [(3, ["6472010101900001 ", "Siti & Ani\r", None])]
    full = importing._xlsx_rows(tmp_path / "biasa.xlsx")
    assert list(full)[1] == (3, ["6472010101900001 ", "Siti & Ani\r", None, dt.datetime(2025, 3, 14), True, 2.5])
    assert read[1] == read[0] and read[2] == read[0]
    assert list(importing._xlsx_rows(tmp_path / "lain.xlsx")) == list(importing._xlsx_rows(tmp_path / "biasa.xlsx"))


def test_a_sheet_over_the_unpacked_limit_is_refused_before_reading_with_advice_to_split(app, tmp_path, monkeypatch):
    """The sheet limit (MAX_SHEET_BYTES) is what keeps every accepted xlsx inside the preview's 10 s: a wider or
    longer file is refused by its unpacked size as the zip's directory states it, and told to split itself."""
    path = tmp_path / "lebar.xlsx"
    path.write_bytes(xlsx(_good_rows(400)))
    size = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size
    assert isinstance(importing.read_table(path, "lebar.xlsx"), importing.Table)
    monkeypatch.setattr(importing, "MAX_SHEET_BYTES", size - 1)
    result, _elapsed, _peak = measure(lambda: importing.read_table(path, "lebar.xlsx"))
    assert isinstance(result, importing.ImportFileError), result
    assert "terlalu besar setelah dibuka" in str(result) and "Bagi menjadi beberapa file" in str(result)
