"""The installable, offline side: manifest, service worker, offline page, a fresh CSRF token for the outbox."""

from flask import current_app, jsonify, make_response, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from . import bp, caseload
from .shell import build_version, shell_version


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: installable on Android, standalone, Indonesian short name."""
    icon = lambda name, size, purpose="any": {  # noqa: E731
        "src": url_for("static", filename=f"img/{name}"),
        "sizes": size,
        "type": "image/png",
        "purpose": purpose,
    }
    data = {
        "id": "/?source=pwa",
        "name": "Kail — Pendampingan UEP Dinsos Kaltim",
        "short_name": "Kail",
        "description": _("Pendampingan penerima bantuan Usaha Ekonomi Produktif, Dinas Sosial Kalimantan Timur"),
        "lang": "id",
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": "#0b6e4f",
        "background_color": "#f3f5f4",
        "icons": [
            icon("icon-192.png", "192x192"),
            icon("icon-512.png", "512x512"),
            icon("icon-maskable-512.png", "512x512", "maskable"),
        ],
    }
    response = make_response(jsonify(data))
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/sw.js")
def service_worker():
    """The service worker, at the root so its scope is the whole app; always revalidated."""
    body = render_template("pwa/sw.js", version=shell_version(current_app), shell=_shell_urls())
    response = make_response(body)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


def _shell_urls() -> list[str]:
    static = [
        "css/app.css",
        "js/app.js",
        "js/outbox.js",
        "js/outbox-core.js",
        "js/visit-form.js",
        "js/home.js",
        "vendor/htmx-2.0.11.min.js",
        "img/icon.svg",
        "img/icon-192.png",
        "img/icon-512.png",
    ]
    return [url_for("pwa.offline"), url_for("pwa.manifest")] + [url_for("static", filename=f) for f in static]


@bp.get("/offline")
def offline():
    """Shown by the service worker when a page is neither reachable nor cached."""
    response = make_response(render_template("pwa/offline.html"))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/csrf-token")
@login_required
def csrf_token():
    """A fresh CSRF token for the outbox: a phone that was offline for days must not fail on an old one."""
    response = jsonify({"token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/offline/daftar.json")
@login_required
def caseload_manifest():
    """The pages this user keeps on the phone, each with a version: the phone fetches only what changed."""
    pages = _pages_for_user()
    families = len({p.family for p in pages if p.family is not None})
    response = jsonify({"user": current_user.id, "families": families, "pages": [p.as_json() for p in pages]})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/offline/halaman")
@login_required
def caseload_pages():
    """Up to 20 pages of the caseload at once (`?u=<address>` each, as listed by /offline/daftar.json): the
    phone's preparation over a slow link. An address not in this user's list is refused, not rendered."""
    wanted = request.args.getlist("u")
    if not wanted or len(wanted) > caseload.BATCH_MAX:
        return jsonify({"status": "invalid", "message": _("Daftar halaman tidak valid.")}), 400
    mine = {p.fetch or p.url: p.url for p in _pages_for_user()}
    if any(url not in mine for url in wanted):
        return jsonify({"status": "invalid", "message": _("Halaman ini bukan bagian dari data offline Anda.")}), 404
    app = current_app._get_current_object()
    response = jsonify({"pages": caseload.render_pages(app, wanted, request.environ)})
    response.headers["Cache-Control"] = "no-store"
    return response


def _pages_for_user():
    return caseload.pages_for(current_user, build_version(current_app), str(get_locale()))
