"""Exports: scope, formats, formula-injection guard, chunked streaming, the summary's numbers, and the round trip
export -> import into an empty database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from webapp import areas, exporting, importing, outcomes
from webapp.extensions import db
from webapp.models import AuditEvent, Recipient, StatusChange

from . import factories
from .conftest import login


def _csv(response, raw: bool = False) -> list[list[str]]:
    """The CSV's rows as Excel shows them: a ="…" cell (how NIKs stay text) reads as its digits, unless `raw`."""
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    if raw:
        return rows
    return [[c[2:-1] if c.startswith('="') and c.endswith('"') else c for c in row] for row in rows]


def _xlsx(response):
    return load_workbook(io.BytesIO(response.data)).active


def test_supervisor_exports_only_their_regency(client, world):
    login(client, world.users["supervisor"].username)
    rows = _csv(client.get("/kelola-data/ekspor/penerima.csv"))
    assert rows[0] == exporting.RECIPIENT_HEADERS
    assert sorted(r[2] for r in rows[1:]) == ["Budi Santoso", "Siti Aminah"]
    assert client.get("/kelola-data/ekspor/penerima.csv?wilayah=6471").status_code == 200  # not theirs: ignored
    assert sorted(r[2] for r in _csv(client.get("/kelola-data/ekspor/penerima.csv?wilayah=6471"))[1:]) == [
        "Budi Santoso",
        "Siti Aminah",
    ]
    assert client.get("/kelola-data/ekspor/penerima.pdf").status_code == 404
    assert client.get("/kelola-data/ekspor/rahasia.csv").status_code == 404
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).first()
    assert event.detail == {"kind": "penerima", "format": "csv", "region": None}


HOSTILE = ['=HYPERLINK("http://evil.example","klik")', "+62 811", "-1+1", "@SUM(A1)", "\tTAB"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_injection_is_neutralised(client, world, fmt):
    own = world.recipients["own"]
    own.name, own.business_description, own.address = HOSTILE[0], HOSTILE[3], HOSTILE[2]
    own.package_items = [HOSTILE[1]]
    db.session.commit()
    login(client, world.users["admin"].username)
    response = client.get(f"/kelola-data/ekspor/penerima.{fmt}")
    desc, items = (exporting.RECIPIENT_COLUMNS.index(c) for c in ("business_description", "package_items"))
    if fmt == "csv":
        row = next(r for r in _csv(response)[1:] if r[0] == own.nik)
        values = [row[2], row[desc], row[5], row[items]]
    else:
        sheet = _xlsx(response)
        row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == own.nik)
        assert all(cell.data_type != "f" for cell in row)
        values = [row[2].value, row[desc].value, row[5].value, row[items].value]
    assert values == ["'" + HOSTILE[0], "'" + HOSTILE[3], "'" + HOSTILE[2], "'" + HOSTILE[1]]


def test_neutralise_leaves_numbers_and_plain_text_alone():
    assert exporting.neutralise(-5) == -5
    assert exporting.neutralise("Siti") == "Siti"
    assert exporting.neutralise("\rX") == "'\rX"
    assert exporting.neutralise(None) is None


def test_visits_export_has_photo_links_flags_and_wita_times(client, world):
    own = world.recipients["own"]
    visit = factories.visit(
        own,
        visited_at=dt.datetime(2026, 11, 20, 2, 0),
        answers={"operating": "ya", "turnover": 200000, "turnover_period": "hari"},
    )
    photo = factories.photo(visit, "ab/abc.jpg", "ab/abc-t.jpg")
    factories.visit(world.recipients["other_region"])
    db.session.commit()
    login(client, world.users["supervisor"].username)
    rows = _csv(client.get("/kelola-data/ekspor/kunjungan.csv"))
    assert rows[0] == exporting.VISIT_HEADERS and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["NIK"] == own.nik and row["Waktu Kunjungan (WITA)"] == "2026-11-20 10:00"
    assert row["Omzet (Rp)"] == "200000" and row["Jumlah Foto"] == "1"
    assert row["Tautan Foto"] == f"{client.application.config['PUBLIC_URL']}/foto/{photo.id}"
    sheet = _xlsx(client.get("/kelola-data/ekspor/kunjungan.xlsx"))
    assert sheet.cell(2, 7).value == dt.datetime(2026, 11, 20, 10, 0)


def test_visits_as_geojson(client, world):
    factories.visit(world.recipients["own"], lat=-0.49, lon=117.14)
    factories.visit(world.recipients["own"], lat=None, lon=None, accuracy_m=None, no_location_reason="gps_mati")
    db.session.commit()
    login(client, world.users["admin"].username)
    response = client.get("/kelola-data/ekspor/kunjungan.geojson")
    assert response.mimetype == "application/geo+json"
    data = json.loads(response.data)
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 1
    assert data["features"][0]["geometry"] == {"type": "Point", "coordinates": [117.14, -0.49]}


def test_rows_are_read_in_chunks_each_row_once(app, monkeypatch):
    monkeypatch.setattr(exporting, "CHUNK", 3)
    mentor = factories.user("mentor")
    made = {factories.recipient(mentor=mentor).nik for _ in range(8)}
    db.session.commit()
    statements = []
    from sqlalchemy import event

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        rows = list(exporting.recipients(select(Recipient.id).scalar_subquery()).rows())
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert sorted(r[0] for r in rows) == sorted(made)
    assert len(statements) == 4  # 3 + 3 + 2 rows, then an empty page: bounded memory, no OFFSET scans


def test_status_history_export(client, world):
    own = world.recipients["own"]
    db.session.add(
        StatusChange(
            recipient=own,
            from_status="disalurkan",
            to_status="usaha_berjalan",
            reason="=1+1",
            changed_at=dt.datetime(2026, 11, 1, 1, 30),
            changed_by=world.users["mentor"],
        )
    )
    db.session.commit()
    login(client, world.users["supervisor"].username)
    rows = _csv(client.get("/kelola-data/ekspor/riwayat-status.csv"))
    assert rows[0] == exporting.HISTORY_HEADERS
    assert rows[1:] == [
        [
            own.nik,
            own.name,
            "Samarinda",
            "Bantuan disalurkan",
            "Usaha berjalan",
            "'=1+1",
            "pendamping-smd",
            "2026-11-01 09:30",
        ]
    ]


def test_summary_matches_a_hand_count(client, world):
    smd = world.recipients["own"].region
    extra = [
        factories.recipient(smd, status="calon", funding_source="APBD-P"),
        factories.recipient(smd, status="usaha_berjalan", distributed_on=dt.date(2026, 6, 1)),
    ]
    world.recipients["own"].distributed_on = dt.date(2026, 5, 1)
    factories.visit(extra[1], review_state="menunggu")
    factories.visit(
        world.recipients["own"],
        review_state="disetujui",
        visited_at=dt.datetime.combine(dt.date.today(), dt.time(1, 0)),
    )
    factories.training(smd, attendees=[world.recipients["own"]])
    factories.assistance(extra[1], "sembako")
    db.session.commit()
    login(client, world.users["supervisor"].username)
    rows = _csv(client.get("/kelola-data/ekspor/ringkasan.csv"))
    assert len(rows) == 2  # the supervisor's one regency
    row = dict(zip(rows[0], rows[1], strict=True))
    # 4 families in Samarinda: own + same_region (usaha_berjalan, APBD) and the two extra; the calon one (APBD-P)
    # is registered, its package not handed over yet
    assert (
        row["Tahun Anggaran (Target & Realisasi)"],
        row["Kode"],
        row["Target"],
        row["Terdaftar"],
        row["Disalurkan APBD"],
        row["Disalurkan APBD-P"],
        row["Disalurkan"],
        row["% Realisasi"],
    ) == ("2025", "6472", "168", "4", "3", "0", "3", "2")
    assert (row["Calon penerima"], row["Usaha berjalan"]) == ("1", "3")
    assert (row["Disalurkan (aktif)"], row["Dikunjungi & Disetujui 30 Hari"], row["% Cakupan"]) == ("3", "1", "33")
    assert row["Menunggu Diperiksa"] == "1"
    assert (row["Ikut Pelatihan"], row["Pilar 1 (BLT/Sembako/PKH)"], row["Pilar 3 (Rumah/Sanitasi/Air)"]) == (
        "1",
        "1",
        "0",
    )
    factories.recipient(smd, budget_year=2026)  # a new year's list: its own targets, as on the dashboard ...
    db.session.commit()
    latest = dict(zip(*_csv(client.get("/kelola-data/ekspor/ringkasan.csv")), strict=True))
    assert (latest["Tahun Anggaran (Target & Realisasi)"], latest["Disalurkan APBD"], latest["Terdaftar"]) == (
        "2026",
        "1",
        "1",
    )
    earlier = dict(zip(*_csv(client.get("/kelola-data/ekspor/ringkasan.csv?tahun=2025")), strict=True))
    assert (earlier["Tahun Anggaran (Target & Realisasi)"], earlier["Terdaftar"], earlier["Disalurkan"]) == (
        "2025",
        "4",
        "3",
    )
    # ... while the other figures count every family in scope, whatever its budget year
    for summary in (latest, earlier):
        assert (
            summary["Calon penerima"],
            summary["Usaha berjalan"],
            summary["Disalurkan (aktif)"],
            summary["Dikunjungi & Disetujui 30 Hari"],
            summary["Menunggu Diperiksa"],
        ) == ("1", "4", "4", "1", "1")
        assert (summary["Ikut Pelatihan"], summary["Pilar 1 (BLT/Sembako/PKH)"]) == ("1", "1")


@pytest.mark.parametrize(("role", "query"), [("supervisor", ""), ("admin", ""), ("admin", "?wilayah=6472&tahun=2025")])
def test_summary_shows_the_dashboards_figures(client, world, role, query):
    """The export and the dashboard count with the same functions: every regency's row has the targets of the
    dashboard of the same scope (one budget year) and the other figures of the dashboard narrowed to that regency
    (every budget year), overdue families and survival included."""
    smd, other = world.recipients["own"].region, world.recipients["other_region"]
    world.recipients["own"].distributed_on = dt.date(2026, 5, 1)
    factories.visit(
        world.recipients["own"],
        review_state="disetujui",
        visited_at=dt.datetime.combine(dt.date.today(), dt.time(1, 0)),
    )
    factories.visit(other, review_state="menunggu")
    factories.recipient(smd, budget_year=2026, status="calon", funding_source="APBD-P")
    factories.recipient(other.region, budget_year=2024, status="keluar", distributed_on=dt.date(2024, 3, 1))
    factories.assistance(other, "rtlh")
    db.session.commit()
    user = world.users[role]
    login(client, user.username)
    rows = _csv(client.get(f"/kelola-data/ekspor/ringkasan.csv{query}"))
    assert len(rows) > 1
    asked = dict(item.split("=") for item in query.lstrip("?").split("&") if item)
    months, year = (1, 3, 6, 12), int(asked["tahun"]) if "tahun" in asked else None
    whole = outcomes.build(user, dt.date.today(), months, asked.get("wilayah", ""), budget_year=year)
    assert [r[1] for r in rows[1:]] == [t.region.code for t in whole.targets]
    for values, target in zip(rows[1:], whole.targets, strict=True):
        d = outcomes.build(user, dt.date.today(), months, target.region.code)
        expected = [
            whole.budget_year,
            target.region.code,
            target.region.full_name,
            target.region.quota,
            target.registered,
            target.apbd,
            target.apbd_p,
            target.total,
            target.pct,
            *[n for _s, n in d.statuses],
            d.distributed,
            d.covered_30d,
            d.coverage_pct,
            d.backlog,
            d.overdue,
            *[
                n
                for s in d.survival
                for n in (s.running, s.struggling, s.stopped, s.assessed, s.pct, s.not_assessed, s.left)
            ],
            d.reach.trained,
            d.reach.pillar_1,
            d.reach.pillar_3,
        ]
        assert values == ["" if v is None else str(v) for v in expected], target.region.code


def test_round_trip_export_then_import_into_an_empty_database(client, world, tmp_path):
    own = world.recipients["own"]
    own.phone, own.address, own.business_lat, own.business_lon = "081234567890", "Jl. Pahlawan No. 3", -0.5, 117.15
    own.package_items = ["Wajan", "Kompor gas", "=tabung"]
    own.business_description = "-- dijual pagi"
    kecamatan, desas = next(iter(areas.districts_of("Kota", "Balikpapan").items()))
    world.recipients["other_region"].kecamatan, world.recipients["other_region"].desa = kecamatan, desas[0]
    db.session.commit()

    def snapshot():
        return sorted(
            (
                r.nik,
                r.kk_number,
                r.name,
                r.gender,
                r.phone,
                r.address,
                r.region_id,
                r.kecamatan,
                r.desa,
                r.decile,
                r.business_type,
                r.business_description,
                r.package_items,
                r.funding_source,
                r.budget_year,
                r.mentor_id,
                r.business_lat,
                r.business_lon,
            )
            for r in db.session.scalars(select(Recipient))
        )

    before = snapshot()
    login(client, world.users["admin"].username)
    path = tmp_path / "penerima.xlsx"
    path.write_bytes(client.get("/kelola-data/ekspor/penerima.xlsx").data)
    db.session.execute(delete(StatusChange))
    db.session.execute(delete(Recipient))
    db.session.commit()
    preview = importing.validate(importing.read_table(path, path.name), path.name, 2030)
    assert not preview.invalid, [r.errors for r in preview.invalid]
    assert preview.ignored_headers == ["Status", "Tanggal Penyaluran"]
    importing.commit(preview, world.users["admin"])
    db.session.commit()
    assert snapshot() == before


@pytest.mark.parametrize(
    "path, column",
    [("penerima", "NIK"), ("penerima", "No KK"), ("kunjungan", "NIK"), ("riwayat-status", "NIK")],
)
def test_csv_exports_keep_niks_as_text_for_excel(client, world, path, column):
    """A 16-digit NIK opened by Excel from a plain CSV cell becomes 6.47E+15 and loses its last digits."""
    own = world.recipients["own"]
    factories.visit(own)
    db.session.add(StatusChange(recipient=own, from_status="disalurkan", to_status="usaha_berjalan"))
    db.session.commit()
    login(client, world.users["admin"].username)
    rows = _csv(client.get(f"/kelola-data/ekspor/{path}.csv"), raw=True)
    index = rows[0].index(column)
    cells = [row[index] for row in rows[1:] if row[index]]
    assert cells, f"no {column} in the {path} export"
    assert all(c.startswith('="') and c.endswith('"') and c[2:-1].isdigit() for c in cells), cells[:3]


def test_xlsx_exports_format_nik_columns_as_text(client, world):
    """A NIK cell formatted "General" turns into 6.47E+15 as soon as someone edits it in Excel."""
    login(client, world.users["admin"].username)
    sheet = _xlsx(client.get("/kelola-data/ekspor/penerima.xlsx"))
    rows = list(sheet.iter_rows())
    headers = [c.value for c in rows[0]]
    for column in ("NIK", "No KK"):
        cells = [row[headers.index(column)] for row in rows[1:]]
        assert cells and all(c.number_format == "@" and isinstance(c.value, str) for c in cells)
