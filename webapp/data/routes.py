import io
from pathlib import Path

from flask import Response, abort, current_app, flash, redirect, request, send_file, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import areas, audit, exporting, importing, localtime, outcomes
from ..access import recipients_visible_to, regions_visible_to, require_role
from ..extensions import db
from ..formtools import submitted
from ..models import Recipient, Region
from ..rendering import render
from . import bp
from .forms import ImportForm

EXPORTS = {
    "penerima": ("csv", "xlsx"),
    "kunjungan": ("csv", "xlsx", "geojson"),
    "riwayat-status": ("csv", "xlsx"),
    "ringkasan": ("csv", "xlsx"),
}
TEMPLATE_TEXT_ROWS = 1000  # rows of the template whose NIK and No KK cells are formatted as text
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


def _region_filter(regions: list[Region]) -> Region | None:
    code = request.args.get("wilayah", "")
    return next((r for r in regions if r.code == code), None)


@bp.get("/")
@login_required
def index():
    """Downloads (recipients, visits, status history, summary), the printable report and, for admins, the import."""
    require_role(current_user, "admin", "supervisor")
    regions = regions_visible_to(current_user, order_by=Region.code)
    return render(
        "data/index.html", "data/index.html", regions=regions, region=_region_filter(regions), exports=EXPORTS
    )


@bp.get("/ekspor/<kind>.<fmt>")
@login_required
def export(kind: str, fmt: str):
    """Stream one export in the user's scope (supervisors: their regencies), optionally one regency."""
    require_role(current_user, "admin", "supervisor")
    if fmt not in EXPORTS.get(kind, ()):
        abort(404)
    regions = regions_visible_to(current_user, order_by=Region.code)
    region = _region_filter(regions)
    scope = recipients_visible_to(current_user)
    if region is not None:
        scope = scope.where(Recipient.region_id == region.id)
    scope_ids = scope.with_only_columns(Recipient.id).scalar_subquery()
    link = exporting.public_url_builder(current_app.config["PUBLIC_URL"], current_app.url_map)
    photo_url = lambda photo_id: link("visits.photo", photo_id=photo_id)  # noqa: E731
    where = region.code if region else ("semua" if current_user.is_admin else "-".join(r.code for r in regions))
    stem = f"kail-{kind}-{where}-{localtime.today():%Y%m%d}"
    # Built before the commit expires `regions`: the summary reads them now, not one statement a regency later.
    table = (
        None
        if fmt == "geojson"
        else {
            "penerima": lambda: exporting.recipients(scope_ids),
            "kunjungan": lambda: exporting.visits(scope_ids, photo_url),
            "riwayat-status": lambda: exporting.status_history(scope_ids),
            "ringkasan": lambda: exporting.summary(
                [region] if region else regions,
                outcomes.dashboard_scope(current_user, region.code if region else ""),
                localtime.today(),
                current_app.config["FOLLOWUP_MONTHS"],
                request.args.get("tahun", type=int),
            ),
        }[kind]()
    )
    audit.record("export", None, kind=kind, format=fmt, region=region.code if region else None)
    db.session.commit()
    headers = exporting.download_headers(f"{stem}.{fmt}")
    if fmt == "geojson":
        return Response(
            stream_with_context(exporting.visits_geojson(scope_ids, photo_url)),
            mimetype=MIMETYPES[fmt],
            headers=headers,
        )
    if fmt == "csv":
        return Response(stream_with_context(exporting.csv_stream(table)), mimetype=MIMETYPES[fmt], headers=headers)
    response = send_file(
        exporting.xlsx_file(table), mimetype=MIMETYPES[fmt], as_attachment=True, download_name=f"{stem}.xlsx", max_age=0
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- import ------------------------------------------------------------------------------------------------------


def _load(token: str) -> tuple[dict, Path]:
    """The stored upload and its metadata; 404 unless it exists and belongs to the current user."""
    staged = importing.load_staged(current_app.config["UPLOAD_DIR"], token, current_user.id)
    if staged is None:
        abort(404)
    return staged


@bp.get("/impor")
@login_required
def import_form():
    """Step 1: pick the file and the budget year."""
    require_role(current_user, "admin")
    return render("data/import.html", "data/import.html", form=ImportForm(formdata=None))


@bp.post("/impor")
@login_required
def import_upload():
    """Step 2: store the file under a random name and show the preview; nothing is written to the database."""
    require_role(current_user, "admin")
    form = ImportForm()
    if not submitted(form):
        return render("data/import.html", "data/import.html", form=form, status=422)
    upload = form.file.data
    try:
        token, meta = importing.stage_upload(
            current_app.config["UPLOAD_DIR"], upload.stream, upload.filename, current_user.id, form.budget_year.data
        )
    except importing.ImportFileError as exc:
        form.file.errors = [str(exc)]
        return render("data/import.html", "data/import.html", form=form, status=422)
    audit.record("import_previewed", None, filename=meta["filename"], budget_year=meta["budget_year"])
    db.session.commit()
    return redirect(url_for("data.import_preview", token=token), code=303)


@bp.get("/impor/<token>")
@login_required
def import_preview(token: str):
    """Step 3: valid and invalid rows, with reasons; the error file to download; the button that writes."""
    require_role(current_user, "admin")
    meta, path = _load(token)
    preview = _stored_preview(token, meta, path)
    return _preview_page(preview, token, meta)


def _preview_page(preview: importing.Preview, token: str, meta: dict, status: int = 200, **extra):
    """The preview page, with the regencies' names for the sample rows (the rows keep only their ids)."""
    names = {r.id: r.full_name for r in db.session.scalars(select(Region))}
    return render(
        "data/preview.html",
        "data/preview.html",
        preview=preview,
        token=token,
        meta=meta,
        region_names=names,
        status=status,
        **extra,
    )


def _stored_preview(token: str, meta: dict, path: Path) -> importing.Preview:
    """The check result stored with the upload (no parsing); 404 if an old upload's file cannot be read."""
    try:
        return importing.staged_preview(current_app.config["UPLOAD_DIR"], token, meta, path)
    except importing.ImportFileError:
        abort(404)


@bp.post("/impor/<token>")
@login_required
def import_commit(token: str):
    """Step 4: write every valid row in one transaction, once (a second click or a retry changes nothing)."""
    require_role(current_user, "admin")
    meta, path = _load(token)
    if meta.get("committed") is not None:
        flash(_("File ini sudah diimpor: %(n)s keluarga.", n=meta["committed"]), "ok")
        return redirect(url_for("data.import_preview", token=token), code=303)
    try:  # the stored rows checked again against the database as it is now; the file is not parsed again
        preview = importing.recheck(current_app.config["UPLOAD_DIR"], token, meta, path)
    except importing.ImportFileError:
        abort(404)
    expected = request.form.get("expected", type=int)
    if expected != len(preview.valid):
        flash(_("Data berubah sejak pratinjau dibuat. Periksa lagi sebelum mengimpor."), "error")
        return _preview_page(preview, token, meta, status=409)
    if preview.with_warnings and not request.form.get("confirm_warnings"):
        return _preview_page(
            preview,
            token,
            meta,
            status=422,
            confirm_error=_(
                "Centang dulu: %(n)s baris punya peringatan yang harus diperiksa.", n=len(preview.with_warnings)
            ),
        )
    try:
        stored = importing.commit(preview, current_user._get_current_object())
        audit.record(
            "recipients_imported",
            None,
            filename=meta["filename"],
            rows=stored,
            skipped=len(preview.invalid),
            budget_year=meta["budget_year"],
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(_("Tidak ada yang diimpor: sebagian NIK baru saja didaftarkan orang lain. Periksa lagi."), "error")
        return redirect(url_for("data.import_preview", token=token), code=303)
    importing.mark_imported(current_app.config["UPLOAD_DIR"], token, meta, stored)
    flash(_("%(n)s keluarga diimpor.", n=stored), "ok")
    return redirect(url_for("data.import_preview", token=token), code=303)


@bp.get("/impor/<token>/kesalahan.<fmt>")
@login_required
def import_errors(token: str, fmt: str):
    """The invalid rows with the original columns and a column of reasons, to fix and import again."""
    require_role(current_user, "admin")
    if fmt not in ("xlsx", "csv"):
        abort(404)
    meta, path = _load(token)
    preview = _stored_preview(token, meta, path)
    stem = exporting.download_name(f"{Path(meta['filename']).stem}-kesalahan")
    table = exporting.import_errors(preview, stem)
    if fmt == "csv":
        return Response(
            "".join(exporting.csv_stream(table)),
            mimetype=MIMETYPES["csv"],
            headers=exporting.download_headers(f"{stem}.csv"),
        )
    response = send_file(
        exporting.xlsx_file(table, "kesalahan"),
        mimetype=MIMETYPES["xlsx"],
        as_attachment=True,
        download_name=f"{stem}.xlsx",
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/impor/contoh.xlsx")
@login_required
def import_template():
    """A workbook to fill in: the first sheet has only the headers (the import reads it), the second an example
    row and what each column takes (never imported by accident)."""
    require_role(current_user, "admin")
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    region = db.session.scalar(select(Region).order_by(Region.code.desc()))
    kecamatan, desas = next(iter(areas.districts_of(region.kind, region.name).items()), ("", [""]))
    headers = exporting.RECIPIENT_HEADERS[:-2]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Penerima"
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    text_columns = [exporting.RECIPIENT_COLUMNS.index(c) + 1 for c in ("nik", "kk_number")]
    for index in text_columns:  # NIK and No KK as text ("@"), or Excel shows 6.47201E+15 and drops the 16th digit
        sheet.column_dimensions[get_column_letter(index)].number_format = "@"  # cells typed into later rows
        for row in range(2, TEMPLATE_TEXT_ROWS + 2):
            sheet.cell(row=row, column=index).number_format = "@"
    guide = workbook.create_sheet("Contoh dan petunjuk")
    guide.append(headers)
    guide.append(
        [
            "6472014507900001",
            "6472010101090001",
            "Siti Contoh",
            "P",
            "081234567890",
            "Jl. Contoh No. 1",
            region.name,
            kecamatan,
            desas[0],
            2,
            "DTSEN",
            "Gorengan",
            "Dijual pagi di depan rumah",
            "Wajan; Kompor gas; Tabung gas",
            "APBD",
            localtime.today().year,
            "",
            None,
            None,
        ]
    )
    for index in text_columns:
        guide.cell(row=2, column=index).number_format = "@"
    guide.append([])
    for line in (
        "Isi data di lembar pertama (Penerima); lembar ini tidak diimpor.",
        "Wajib: NIK, No KK, Nama, Kabupaten/Kota, Kecamatan, Desa/Kelurahan, Desil, Jenis Usaha.",
        "NIK dan No KK 16 angka, kolomnya berformat Teks. Desil 1 sampai 5. Jenis Kelamin L atau P.",
        "Registri: DTSEN (sejak 2025) atau DTKS; kosong = DTSEN untuk tahun anggaran 2025 ke atas.",
        "Paket Bantuan: pisahkan barang dengan titik koma (;). Sumber Dana: APBD atau APBD-P.",
        "Pendamping: nama pengguna pendamping di Kail (boleh kosong). Lintang/Bujur Usaha: angka desimal.",
    ):
        guide.append([line])
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return send_file(
        out, mimetype=MIMETYPES["xlsx"], as_attachment=True, download_name="kail-contoh-impor.xlsx", max_age=0
    )
