"""Indonesian error pages; the server answers user mistakes with a message, never a 500."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from .extensions import db
from .rendering import wants_fragment
from .storage import StorageUnavailable

# What the phone's outbox shows beside a visit the server refused this way (it keeps the visit whatever it is told).
OUTBOX_REASONS = {
    403: _l("Akun ini tidak lagi boleh mencatat kunjungan. Kunjungan tetap tersimpan di HP; hubungi koordinator."),
    404: _l(
        "Keluarga atau kunjungan ini tidak ada lagi di daftar Anda (mungkin dipindah ke pendamping lain). "
        "Kunjungan tetap tersimpan di HP; hubungi koordinator."
    ),
}


def _page(status: int, title: str, message: str):
    if request.headers.get("X-Kail-Outbox"):  # the phone's outbox: a reason it can show, never a page to parse
        state = "retry" if status >= 500 else "refused"
        return jsonify({"status": state, "message": str(OUTBOX_REASONS.get(status, message))}), status
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


# The page each of these statuses answers with: its title and message, in the user's language.
PAGES = {
    400: (_l("Permintaan tidak valid"), _l("Data yang dikirim tidak dapat dibaca. Coba lagi.")),
    403: (_l("Akses ditolak"), _l("Anda tidak memiliki izin untuk membuka halaman ini.")),
    404: (_l("Halaman tidak ditemukan"), _l("Halaman atau data yang Anda cari tidak ada, atau bukan wewenang Anda.")),
    405: (_l("Metode tidak diizinkan"), _l("Alamat ini tidak menerima permintaan seperti itu.")),
    409: (
        _l("Formulir sudah dipakai"),
        _l("Formulir ini sudah dipakai untuk data lain. Buka formulir baru lalu isi lagi."),
    ),
}


def _answer(status: int, title, message):
    def handler(_e):
        return _page(status, str(title), str(message))

    return handler


def _has_nul(values) -> bool:
    return any("\x00" in value for value in values if isinstance(value, str))


def register(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_bytes():
        """No text a person types holds a NUL byte, and PostgreSQL refuses one in a query: answer 400 first."""
        # Uploaded files' names are not checked: Kail never uses them (a phone's odd name must not lose a visit).
        if _has_nul(v for _k, values in request.args.lists() for v in values) or _has_nul(
            v for _k, values in request.form.lists() for v in values
        ):
            return _page(
                400,
                _("Isian tidak valid"),
                _("Isian berisi karakter yang tidak diizinkan. Hapus karakter itu lalu kirim lagi."),
            )
        return None

    for status, (title, message) in PAGES.items():
        app.register_error_handler(status, _answer(status, title, message))

    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        if request.headers.get("X-Kail-Outbox"):  # the phone's outbox: it fetches a fresh token and retries
            return jsonify({"status": "csrf", "message": _("Token formulir kedaluwarsa.")}), 400
        return _page(
            400,
            _("Sesi formulir kedaluwarsa"),
            _("Halaman ini sudah terlalu lama terbuka. Muat ulang halaman lalu kirim lagi."),
        )

    @app.errorhandler(StorageUnavailable)
    def storage_unavailable(exc):
        """The photo store did not answer: nothing was stored (the transaction rolled back); the phone's outbox
        keeps the visit and sends it again."""
        db.session.rollback()
        app.logger.warning("photo store unavailable: %s", exc)
        if request.method == "GET":
            message = _(
                "Foto tidak dapat dimuat sekarang karena penyimpanan foto tidak menjawab. Coba lagi sebentar lagi."
            )
        else:
            message = _("Penyimpanan foto sedang tidak dapat dihubungi. Data belum tersimpan; coba lagi sebentar lagi.")
        if request.headers.get("X-Kail-Outbox"):
            return jsonify({"status": "retry", "message": message}), 503
        return _page(503, _("Penyimpanan foto tidak dapat dihubungi"), message)

    @app.errorhandler(413)
    def too_large(_e):
        return _page(
            413,
            _("Berkas terlalu besar"),
            _("Kiriman melebihi %(mb)s MB. Kirim foto yang lebih kecil.", mb=app.config["MAX_UPLOAD_MB"]),
        )

    @app.errorhandler(500)
    def server_error(_e):
        db.session.rollback()
        return _page(
            500,
            _("Terjadi kesalahan"),
            _("Maaf, terjadi kesalahan pada server. Data Anda tidak berubah; coba lagi sebentar lagi."),
        )
