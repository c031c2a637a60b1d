"""Indonesian error pages; the server answers user mistakes with a message, never a 500."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from .extensions import db
from .rendering import wants_fragment


def _page(status: int, title: str, message: str):
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


def _has_nul(values) -> bool:
    return any("\x00" in value for value in values if isinstance(value, str))


def register(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_bytes():
        """No text a person types holds a NUL byte, and PostgreSQL refuses one in a query: answer 400 first."""
        # Uploaded files' names are not checked: Kail never uses them (a phone's odd name must not lose a visit).
        if (_has_nul(v for _k, values in request.args.lists() for v in values)
                or _has_nul(v for _k, values in request.form.lists() for v in values)):
            return _page(400, _("Isian tidak valid"),
                         _("Isian berisi karakter yang tidak diizinkan. Hapus karakter itu lalu kirim lagi."))
        return None

    @app.errorhandler(400)
    def bad_request(_e):
        return _page(400, _("Permintaan tidak valid"), _("Data yang dikirim tidak dapat dibaca. Coba lagi."))

    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        if request.headers.get("X-Kail-Outbox"):  # the phone's outbox: it fetches a fresh token and retries
            return jsonify({"status": "csrf", "message": _("Token formulir kedaluwarsa.")}), 400
        return _page(400, _("Sesi formulir kedaluwarsa"),
                     _("Halaman ini sudah terlalu lama terbuka. Muat ulang halaman lalu kirim lagi."))

    @app.errorhandler(403)
    def forbidden(_e):
        return _page(403, _("Akses ditolak"), _("Anda tidak memiliki izin untuk membuka halaman ini."))

    @app.errorhandler(404)
    def not_found(_e):
        return _page(404, _("Halaman tidak ditemukan"),
                     _("Halaman atau data yang Anda cari tidak ada, atau bukan wewenang Anda."))

    @app.errorhandler(405)
    def method_not_allowed(_e):
        return _page(405, _("Metode tidak diizinkan"), _("Alamat ini tidak menerima permintaan seperti itu."))

    @app.errorhandler(409)
    def conflict(_e):
        return _page(409, _("Formulir sudah dipakai"),
                     _("Formulir ini sudah dipakai untuk data lain. Buka formulir baru lalu isi lagi."))

    @app.errorhandler(413)
    def too_large(_e):
        return _page(413, _("Berkas terlalu besar"),
                     _("Kiriman melebihi %(mb)s MB. Kirim foto yang lebih kecil.", mb=app.config["MAX_UPLOAD_MB"]))

    @app.errorhandler(500)
    def server_error(_e):
        db.session.rollback()
        return _page(500, _("Terjadi kesalahan"),
                     _("Maaf, terjadi kesalahan pada server. Data Anda tidak berubah; coba lagi sebentar lagi."))
