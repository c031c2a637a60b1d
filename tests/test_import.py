"""Recipient import: header matching, every rejection reason, preview before writing, all-or-nothing commit,
the error file, the web flow and the command line."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp import exporting, importing, lifecycle
from webapp.extensions import db
from webapp.models import AuditEvent, Recipient, StatusChange

from . import factories
from .conftest import csrf_token, login


def _preview(tmp_path, rows, year=2026, headers=None, name="daftar.csv"):
    path = tmp_path / name
    path.write_text(factories.csv_text(rows, headers), encoding="utf-8")
    return importing.validate(importing.read_table(path, name), name, year)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Recipient))


def test_valid_rows_are_previewed_then_stored_with_their_first_status(app, tmp_path):
    admin = factories.user("admin", regions=[])
    preview = _preview(tmp_path, [factories.import_row(1), factories.import_row(2, **{"Jenis Usaha": "Warung"})])
    assert [r.line for r in preview.valid] == [2, 3] and not preview.invalid
    assert _count() == 0, "validation writes nothing"
    assert importing.commit(preview, admin) == 2
    db.session.commit()
    stored = db.session.scalars(select(Recipient).order_by(Recipient.nik)).all()
    assert [(r.name, r.status, r.budget_year, r.kecamatan, r.desa, r.region.code) for r in stored] == [
        ("Warga Impor 1", lifecycle.CALON, 2026, "Samarinda Ulu", "Air Hitam", "6472"),
        ("Warga Impor 2", lifecycle.CALON, 2026, "Samarinda Ulu", "Air Hitam", "6472"),
    ]
    history = db.session.scalars(select(StatusChange)).all()
    assert {(h.from_status, h.to_status, h.changed_by_id) for h in history} == {(None, "calon", admin.id)}


def test_headers_match_whatever_their_case_spacing_and_punctuation(app, tmp_path):
    headers = [" nik ", "NO. KK", "nama kpm", "KABUPATEN / KOTA", "kec", "Desa/Kel", "DESIL", "jenis  usaha"]
    row = dict(zip(headers, factories.import_row(5).values(), strict=True))
    row.update({"KABUPATEN / KOTA": "kota samarinda", "kec": "Kec. SAMARINDA ULU", "Desa/Kel": "Kel. air hitam"})
    preview = _preview(tmp_path, [row], headers=headers)
    assert not preview.missing and len(preview.valid) == 1
    assert (preview.valid[0].values["kecamatan"], preview.valid[0].values["desa"]) == ("SAMARINDA ULU", "air hitam")


def test_title_rows_above_the_header_are_skipped(app, tmp_path):
    path = tmp_path / "dtks.csv"
    path.write_text("DAFTAR CALON PENERIMA UEP 2026\n\n" + factories.csv_text([factories.import_row(1)]))
    preview = importing.validate(importing.read_table(path, "dtks.csv"), "dtks.csv", 2026)
    assert len(preview.valid) == 1 and preview.valid[0].line == 4


def test_semicolon_csv_in_windows_encoding(app, tmp_path):
    text = factories.csv_text([factories.import_row(1, Nama="Fransiskus Kéwa")]).replace(",", ";")
    path = tmp_path / "excel.csv"
    path.write_bytes(text.encode("cp1252"))
    preview = importing.validate(importing.read_table(path, "excel.csv"), "excel.csv", 2026)
    assert preview.valid[0].values["name"] == "Fransiskus Kéwa"


def test_missing_required_columns_are_named(app, tmp_path):
    headers = ["NIK", "Nama", "Kabupaten/Kota"]
    preview = _preview(tmp_path, [factories.import_row(1)], headers=headers)
    assert preview.missing == ["No KK", "Kecamatan", "Desa/Kelurahan", "Desil", "Jenis Usaha"]
    assert preview.rows == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"NIK": "647201410190001"}, "NIK harus 16 angka"),
        ({"NIK": "64720141019ABCDE"}, "NIK harus 16 angka"),
        ({"No KK": "12345"}, "No KK harus 16 angka"),
        ({"Nama": ""}, "Nama wajib diisi"),
        ({"Nama": '=HYPERLINK("http://x")'}, "Nama harus diawali huruf"),
        ({"Nama": "+62 Siti"}, "Nama harus diawali huruf"),
        ({"Desil": "7"}, "Desil harus 1 sampai 5"),
        ({"Desil": "0"}, "Desil harus 1 sampai 5"),
        ({"Kabupaten/Kota": "Samarindah"}, "Kabupaten/kota tidak dikenal: Samarindah. Maksud Anda: Kota Samarinda?"),
        ({"Kecamatan": "Samarinda Ulu Baru"}, "Kecamatan tidak ada di Kota Samarinda: Samarinda Ulu Baru"),
        (
            {"Desa/Kelurahan": "Air Putih Sekali"},
            "Desa/kelurahan tidak ada di Kecamatan Samarinda Ulu: Air Putih Sekali",
        ),
        ({"Jenis Usaha": ""}, "Jenis Usaha wajib diisi"),
        ({"Jenis Kelamin": "X"}, "Jenis kelamin harus L atau P"),
        ({"No HP": "08-12"}, "No HP tidak valid"),
        ({"Sumber Dana": "APBN"}, "Sumber dana harus APBD/APBD-P"),
        ({"Tahun Anggaran": "20x6"}, "Tahun anggaran tidak valid"),
        ({"Pendamping": "tidak-ada"}, "Pendamping tidak-ada tidak dikenal"),
        ({"Lintang Usaha": "6.2", "Bujur Usaha": "106.8"}, "Lokasi usaha di luar Kalimantan Timur"),
    ],
)
def test_each_bad_row_is_refused_with_its_reason(app, tmp_path, change, message):
    headers = [
        *factories.import_row(1),
        "Jenis Kelamin",
        "No HP",
        "Sumber Dana",
        "Tahun Anggaran",
        "Pendamping",
        "Lintang Usaha",
        "Bujur Usaha",
    ]
    good, bad = factories.import_row(1), factories.import_row(2, **change)
    preview = _preview(tmp_path, [good, bad], headers=headers)
    assert [r.line for r in preview.valid] == [2]
    assert len(preview.invalid) == 1 and preview.invalid[0].line == 3
    assert any(message in e for e in preview.invalid[0].errors), preview.invalid[0].errors


def test_duplicate_nik_in_the_file_points_to_the_first_row(app, tmp_path):
    first_nik = factories.import_row(1)["NIK"]
    rows = [factories.import_row(1), factories.import_row(2), factories.import_row(3, NIK=first_nik)]
    preview = _preview(tmp_path, rows)
    assert [r.line for r in preview.invalid] == [4]
    assert preview.invalid[0].errors == ["NIK ganda dalam file: sama dengan baris 2."]


def test_nik_already_registered_for_the_same_year_is_refused_earlier_years_only_warned(app, tmp_path):
    factories.recipient(nik=factories.import_row(1)["NIK"], budget_year=2026)
    factories.recipient(nik=factories.import_row(2)["NIK"], budget_year=2024)
    factories.recipient(nik=factories.import_row(3)["NIK"], budget_year=2020)  # more than 3 years ago: silent
    preview = _preview(tmp_path, [factories.import_row(1), factories.import_row(2), factories.import_row(3)])
    assert preview.invalid[0].errors == ["NIK sudah terdaftar sebagai penerima tahun anggaran 2026."]
    assert [r.line for r in preview.valid] == [3, 4]
    assert preview.valid[0].warnings == [
        "Sudah terdaftar sebagai penerima UEP tahun anggaran 2024 (3 tahun "
        "terakhir): bantuan UEP sekali saja, periksa lagi."
    ]
    assert preview.valid[1].warnings == []


def test_nik_from_outside_kaltim_is_a_warning_and_gender_comes_from_the_nik(app, tmp_path):
    preview = _preview(tmp_path, [factories.import_row(1, NIK="3174014507900001")])
    row = preview.valid[0]
    assert row.warnings == ["NIK bukan dari Kalimantan Timur (kode 31): periksa domisili."]
    assert row.values["gender"] == "P"  # birth day 45 = a woman born on the 5th


def test_mentor_is_matched_by_username_within_the_region(app, tmp_path):
    mentor = factories.user("mentor", username="pendamping-smd")
    factories.user("mentor", regions=[factories.region("6471")], username="pendamping-bpn")
    headers = [*factories.import_row(1), "Pendamping"]
    rows = [factories.import_row(1, Pendamping="PENDAMPING-SMD"), factories.import_row(2, Pendamping="pendamping-bpn")]
    preview = _preview(tmp_path, rows, headers=headers)
    assert preview.valid[0].values["mentor_id"] == mentor.id
    assert "tidak dikenal di wilayah ini" in preview.invalid[0].errors[0]


def test_commit_is_all_or_nothing(app, tmp_path):
    """A NIK registered by someone else between preview and commit: the whole file is refused, nothing stays."""
    preview = _preview(tmp_path, [factories.import_row(n) for n in range(1, 6)])
    factories.recipient(nik=factories.import_row(4)["NIK"], budget_year=2026)
    db.session.commit()
    with pytest.raises(IntegrityError):
        importing.commit(preview, None)
    db.session.rollback()
    assert _count() == 1


def test_not_a_spreadsheet_is_refused_as_a_whole(app, tmp_path):
    path = tmp_path / "virus.xlsx"
    path.write_bytes(b"MZ\x90\x00 not a zip")
    with pytest.raises(importing.ImportFileError, match="tidak bisa dibaca"):
        importing.read_table(path, "virus.xlsx")
    path = tmp_path / "catatan.csv"
    path.write_text("ini bukan daftar\nhanya catatan\n")
    with pytest.raises(importing.ImportFileError, match="NIK dan Nama"):
        importing.read_table(path, "catatan.csv")


def _xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_web_import_preview_commit_errors_file_then_fixed_file(client, app):
    """The new user's path: upload, see what is wrong, import the good rows, fix the error file, import it."""
    admin = factories.user("admin", regions=[], username="admin-impor")
    db.session.commit()
    login(client, admin.username)
    headers = list(factories.import_row(1))
    rows = [list(factories.import_row(n).values()) for n in range(1, 21)]
    rows[4][6] = "9"  # decile
    rows[9][0] = "12345"  # NIK
    rows[14][4] = "Kecamatan Khayalan"
    token = csrf_token(client, "/kelola-data/impor")
    response = client.post(
        "/kelola-data/impor",
        data={
            "csrf_token": token,
            "budget_year": "2026",
            "file": (io.BytesIO(_xlsx([headers, *rows])), "daftar 2026.xlsx"),
        },
    )
    assert response.status_code == 303
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert re.findall(r'kpi__value">(\d+)', page) == ["20", "17", "3", "0"]
    assert "Desil harus 1 sampai 5" in page and _count() == 0

    errors = client.get(preview_url + "/kesalahan.xlsx")
    sheet = load_workbook(io.BytesIO(errors.data)).active
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    assert table[0] == [*headers, "Baris", "Kesalahan"]
    assert [r[-2] for r in table[1:]] == [6, 11, 16]

    response = client.post(preview_url, data={"csrf_token": token, "expected": "17"})
    assert response.status_code == 303 and _count() == 17
    again = client.post(preview_url, data={"csrf_token": token, "expected": "17"})  # double click / retry
    assert again.status_code == 303 and _count() == 17
    after = client.get(preview_url).get_data(as_text=True)
    assert "Sudah diimpor: 17 keluarga" in after
    assert re.findall(r'kpi__value">(\d+)', after) == ["20", "17", "3", "0"], "the imported rows are not errors"
    sheet = load_workbook(io.BytesIO(client.get(preview_url + "/kesalahan.xlsx").data)).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == table, "the error file is still the 3 rows"

    fixed = [row[:-2] for row in table[1:]]
    fixed[0][6], fixed[1][0], fixed[2][4] = "3", "6472014101990010", "Samarinda Ulu"
    response = client.post(
        "/kelola-data/impor",
        data={
            "csrf_token": token,
            "budget_year": "2026",
            "file": (io.BytesIO(_xlsx([table[0], *fixed])), "kesalahan.xlsx"),
        },
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.findall(r'kpi__value">(\d+)', page) == ["3", "3", "0", "0"]
    assert "Baris, Kesalahan" in page  # the error file's extra columns are named as ignored
    client.post(response.headers["Location"], data={"csrf_token": token, "expected": "3"})
    assert _count() == 20
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "recipients_imported")).all()
    assert sorted(e.detail["rows"] for e in events) == [3, 17]


def test_stale_preview_is_shown_again_instead_of_written(client, app):
    admin = factories.user("admin", regions=[])
    token = factories.stored_import(
        app.config["UPLOAD_DIR"], admin, factories.csv_text([factories.import_row(1), factories.import_row(2)])
    )
    db.session.commit()
    login(client, admin.username)
    factories.recipient(nik=factories.import_row(2)["NIK"], budget_year=2026)  # someone was faster
    response = client.post(
        f"/kelola-data/impor/{token}", data={"csrf_token": csrf_token(client, "/kelola-data/impor"), "expected": "2"}
    )
    assert response.status_code == 409
    assert "Data berubah sejak pratinjau" in response.get_data(as_text=True)
    assert _count() == 1


def test_bad_uploads_get_messages_next_to_the_field(client, app):
    admin = factories.user("admin", regions=[])
    db.session.commit()
    login(client, admin.username)
    token = csrf_token(client, "/kelola-data/impor")
    cases = [
        ({"budget_year": "2026"}, "Pilih file Excel atau CSV."),
        ({"budget_year": "2026", "file": (io.BytesIO(b"x"), "daftar.pdf")}, "Hanya file .xlsx atau .csv."),
        ({"budget_year": "1890", "file": (io.BytesIO(b"NIK,Nama\n"), "a.csv")}, "Tahun anggaran antara 2000"),
        ({"budget_year": "2026", "file": (io.BytesIO(b"PK\x03\x04broken"), "a.xlsx")}, "tidak bisa dibaca"),
    ]
    for data, message in cases:
        response = client.post("/kelola-data/impor", data={"csrf_token": token, **data})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert _count() == 0


def test_someone_elses_upload_is_not_found(client, app):
    owner, other = factories.user("admin", regions=[]), factories.user("admin", regions=[])
    token = factories.stored_import(app.config["UPLOAD_DIR"], owner, factories.csv_text([factories.import_row(1)]))
    db.session.commit()
    login(client, other.username)
    assert client.get(f"/kelola-data/impor/{token}").status_code == 404
    assert client.get("/kelola-data/impor/../../etc/passwd").status_code == 404
    assert client.get("/kelola-data/impor/" + "a" * 30).status_code == 404


def test_cli_import_with_progress_errors_file_and_skip_invalid(app, tmp_path):
    runner = app.test_cli_runner()
    rows = [factories.import_row(n) for n in range(1, 6)] + [factories.import_row(6, Desil="9")]
    path = tmp_path / "daftar.csv"
    path.write_text(factories.csv_text(rows))
    result = runner.invoke(args=["import-recipients", str(path), "--year", "2026"])
    assert result.exit_code == 1
    assert "6 rows: 5 valid (0 with warnings), 1 invalid." in result.output
    assert "line 7: Desil harus 1 sampai 5" in result.output and "Nothing written" in result.output
    assert (tmp_path / "daftar-kesalahan.xlsx").exists() and _count() == 0

    result = runner.invoke(args=["import-recipients", str(path), "--year", "2026", "--dry-run"])
    assert result.exit_code == 0 and "Dry run" in result.output and _count() == 0

    result = runner.invoke(
        args=[
            "import-recipients",
            str(path),
            "--year",
            "2026",
            "--skip-invalid",
            "--errors",
            str(tmp_path / "salah.csv"),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "5 recipients imported." in result.output and "Importing" in result.output
    assert _count() == 5
    assert "Desil harus 1 sampai 5" in (tmp_path / "salah.csv").read_text(encoding="utf-8-sig")


def test_rows_with_warnings_need_an_explicit_tick_before_importing(client, app):
    admin = factories.user("admin", regions=[])
    factories.recipient(nik=factories.import_row(2)["NIK"], budget_year=2025)
    token = factories.stored_import(
        app.config["UPLOAD_DIR"], admin, factories.csv_text([factories.import_row(1), factories.import_row(2)])
    )
    db.session.commit()
    login(client, admin.username)
    page = client.get(f"/kelola-data/impor/{token}").get_data(as_text=True)
    assert "Sudah terdaftar sebagai penerima UEP tahun anggaran 2025" in page and 'name="confirm_warnings"' in page
    csrf = csrf_token(client, "/kelola-data/impor")
    response = client.post(f"/kelola-data/impor/{token}", data={"csrf_token": csrf, "expected": "2"})
    assert response.status_code == 422
    assert "Centang dulu: 1 baris punya peringatan" in response.get_data(as_text=True)
    assert _count() == 1
    confirmed = {"csrf_token": csrf, "expected": "2", "confirm_warnings": "1"}
    response = client.post(f"/kelola-data/impor/{token}", data=confirmed)
    assert response.status_code == 303 and _count() == 3


def test_template_has_an_empty_first_sheet_and_the_example_on_the_second(client, app, tmp_path):
    admin = factories.user("admin", regions=[])
    db.session.commit()
    login(client, admin.username)
    workbook = load_workbook(io.BytesIO(client.get("/kelola-data/impor/contoh.xlsx").data))
    assert workbook.sheetnames == ["Penerima", "Contoh dan petunjuk"]
    first = [[c.value for c in row] for row in workbook["Penerima"].iter_rows() if any(c.value for c in row)]
    assert first == [exporting.RECIPIENT_HEADERS[:-2]]
    example = [c.value for c in next(workbook["Contoh dan petunjuk"].iter_rows(min_row=2, max_row=2))]
    headers = exporting.RECIPIENT_HEADERS[:-2]
    rows = [dict(zip(headers, ("" if v is None else str(v) for v in example), strict=True))]
    preview = _preview(tmp_path, rows, headers=headers)
    assert len(preview.valid) == 1, [r.errors for r in preview.rows]  # the example itself is a valid row


# --- issue 17, item 13: regency names, places as written, NIKs as text, DTKS or DTSEN ---------------------------


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("PPU", "6409"),
        ("Kab. PPU", "6409"),
        ("Penajam Paser Utara", "6409"),
        ("Kukar", "6403"),
        ("KAB. KUTAI KARTANEGARA", "6403"),
        ("Kubar", "6402"),
        ("Kutim", "6404"),
        ("Mahulu", "6411"),
        ("Kota Samarinda", "6472"),
        ("Kab. Paser", "6401"),
        ("Kabupaten Berau", "6405"),
        ("Balikpapan", "6471"),
        ("Kota Bontang", "6474"),
        ("6472", "6472"),
    ],
)
def test_regency_names_and_abbreviations_are_understood(app, tmp_path, written, code):
    from webapp import areas
    from webapp.models import Region

    region = db.session.scalar(select(Region).where(Region.code == code))
    kecamatan, desas = next(iter(areas.districts_of(region.kind, region.name).items()))
    row = factories.import_row(1, **{"Kabupaten/Kota": written, "Kecamatan": kecamatan, "Desa/Kelurahan": desas[0]})
    preview = _preview(tmp_path, [row])
    assert not preview.invalid, preview.rows[0].errors
    assert preview.valid[0].values["region_id"] == region.id


def test_all_ten_regencies_have_their_aliases_and_an_ambiguous_word_gets_the_candidates(app, tmp_path):
    from webapp import areas

    assert {r["code"] for r in areas.region_rows()} == set(areas.REGION_ALIASES), "every regency/city listed"
    preview = _preview(tmp_path, [factories.import_row(1, **{"Kabupaten/Kota": "Kutai"})])
    (error,) = [e for e in preview.rows[0].errors if "Kabupaten/kota" in e]
    assert "Kabupaten Kutai Barat, Kabupaten Kutai Kartanegara, Kabupaten Kutai Timur" in error
    preview = _preview(tmp_path, [factories.import_row(1, **{"Kabupaten/Kota": "Samarindaa"})])
    assert "Maksud Anda: Kota Samarinda?" in preview.rows[0].errors[0]


def test_a_place_name_is_stored_as_written_and_matched_by_its_key(app, tmp_path):
    """areaid spells the village "Nipah Nipah": the file's "Nipah-Nipah" is found, and kept as the file wrote it."""
    rows = [
        factories.import_row(
            1, **{"Kabupaten/Kota": "PPU", "Kecamatan": "KEC. PENAJAM", "Desa/Kelurahan": "Nipah-Nipah"}
        ),
        factories.import_row(
            2, **{"Kabupaten/Kota": "Kukar", "Kecamatan": "Semboja", "Desa/Kelurahan": "Desa  Sanipah"}
        ),
    ]
    preview = _preview(tmp_path, rows)
    assert not preview.invalid, [r.errors for r in preview.rows]
    assert [(r.values["kecamatan"], r.values["desa"]) for r in preview.valid] == [
        ("PENAJAM", "Nipah-Nipah"),
        ("Semboja", "Sanipah"),
    ]
    importing.commit(preview, None)
    db.session.commit()
    stored = db.session.scalars(select(Recipient).order_by(Recipient.nik)).all()
    assert [(r.kecamatan, r.desa) for r in stored] == [("PENAJAM", "Nipah-Nipah"), ("Semboja", "Sanipah")]


def test_template_keeps_nik_and_kk_as_text(client, app):
    admin = factories.user("admin", regions=[])
    db.session.commit()
    login(client, admin.username)
    workbook = load_workbook(io.BytesIO(client.get("/kelola-data/impor/contoh.xlsx").data))
    sheet, guide = workbook["Penerima"], workbook["Contoh dan petunjuk"]
    assert [sheet.cell(row=1, column=c).value for c in (1, 2)] == ["NIK", "No KK"]
    for column in ("A", "B"):
        assert sheet.column_dimensions[column].number_format == "@"
        assert {sheet[f"{column}{row}"].number_format for row in range(2, 1002)} == {"@"}
        assert guide[f"{column}2"].number_format == "@" and guide[f"{column}2"].data_type == "s"
    assert sheet["C2"].number_format == "General", "only the NIK and No KK columns"


def test_csv_error_file_keeps_niks_as_text_and_reads_back(client, app, tmp_path):
    admin = factories.user("admin", regions=[])
    db.session.commit()
    login(client, admin.username)
    bad = factories.import_row(1, Desil="9")
    token = csrf_token(client, "/kelola-data/impor")
    data = factories.csv_text([bad, factories.import_row(2, Nama="=HYPERLINK(1)")]).encode()
    response = client.post(
        "/kelola-data/impor", data={"csrf_token": token, "budget_year": "2026", "file": (io.BytesIO(data), "a.csv")}
    )
    errors = client.get(response.headers["Location"] + "/kesalahan.csv").get_data(as_text=True)
    assert f'"=""{bad["NIK"]}""","=""{bad["No KK"]}"""' in errors, errors
    assert "'=HYPERLINK(1)" in errors, "other text keeps its formula guard"
    fixed = tmp_path / "kesalahan.csv"
    fixed.write_text(errors.lstrip("\ufeff").replace(",9,", ",3,"), encoding="utf-8")
    preview = importing.validate(importing.read_table(fixed, fixed.name), fixed.name, 2026)
    assert preview.rows[0].values["nik"] == bad["NIK"] and preview.rows[0].values["kk_number"] == bad["No KK"]


@pytest.mark.parametrize(
    ("headers", "year", "registry"),
    [
        ({"Desil": "Desil DTSEN"}, 2024, "DTSEN"),
        ({"Desil": "Desil DTKS"}, 2026, "DTKS"),
        ({"Desil": "DESIL_DTSEN", "ID DTSEN": "ID DTSEN"}, 2024, "DTSEN"),
        ({}, 2024, "DTKS"),
        ({}, 2025, "DTSEN"),
    ],
)
def test_the_deciles_registry_comes_from_the_headers_or_the_budget_year(app, tmp_path, headers, year, registry):
    row = factories.import_row(1)
    names = [headers.get(h, h) for h in row] + [h for h in headers if h not in row]
    data = dict(zip(names, [*row.values(), *(["3100000000001"] * (len(names) - len(row)))], strict=True))
    preview = _preview(tmp_path, [data], year=year, headers=names)
    assert not preview.invalid and not preview.ignored_headers, (preview.rows[0].errors, preview.ignored_headers)
    assert preview.valid[0].values["decile_registry"] == registry
    assert registry in preview.registry_note


def test_a_registry_column_wins_and_is_checked(app, tmp_path):
    rows = [
        factories.import_row(1, Registri="dtks"),
        factories.import_row(2, Registri="DTSEN"),
        factories.import_row(3, Registri="BPS"),
    ]
    preview = _preview(tmp_path, rows, year=2026)
    assert [r.values.get("decile_registry") for r in preview.valid] == ["DTKS", "DTSEN"]
    assert preview.invalid[0].errors == ["Registri harus DTKS atau DTSEN (tertulis: BPS)."]


def test_the_decile_is_labelled_with_its_registry_on_the_family_page_and_in_exports(client, app, tmp_path):
    admin = factories.user("admin", regions=[])
    rows = [factories.import_row(1, Registri=""), factories.import_row(2, Registri="DTKS")]
    preview = _preview(tmp_path, rows, year=2026)
    importing.commit(preview, admin)
    db.session.commit()
    login(client, admin.username)
    first, second = db.session.scalars(select(Recipient).order_by(Recipient.nik)).all()
    assert (first.decile_registry, second.decile_registry) == ("DTSEN", "DTKS")
    page = client.get(f"/penerima/{first.id}").get_data(as_text=True)
    assert "Desil DTSEN" in page and "Desil DTKS" not in page
    assert "Desil DTKS" in client.get(f"/penerima/{second.id}").get_data(as_text=True)
    export = exporting.recipients(select(Recipient.id))
    column = export.headers.index("Desil")
    assert export.headers[column + 1] == "Registri"
    assert sorted((r[0], r[column], r[column + 1]) for r in export.rows()) == [
        (first.nik, 2, "DTSEN"),
        (second.nik, 2, "DTKS"),
    ]


def test_the_preview_names_the_rows_years_and_the_regency_each_name_was_read_as(client, app):
    """The admin sees before importing that "Kukar" became Kabupaten Kutai Kartanegara, and that rows carrying
    their own year are stored under it, not under the year chosen on the form."""
    admin = factories.user("admin", regions=[], username="admin-pratinjau")
    db.session.commit()
    login(client, admin.username)
    rows = [
        factories.import_row(
            1, **{"Kabupaten/Kota": "Kukar", "Kecamatan": "Samboja", "Desa/Kelurahan": "Sanipah", "Tahun": "2025"}
        )
    ]
    response = client.post(
        "/kelola-data/impor",
        data={
            "csrf_token": csrf_token(client, "/kelola-data/impor"),
            "budget_year": "2026",
            "file": (io.BytesIO(factories.csv_text(rows).encode()), "daftar.csv"),
        },
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "tahun anggaran 2025" in page and "tahun anggaran 2026" not in page
    assert "<td>Kabupaten Kutai Kartanegara</td>" in page
