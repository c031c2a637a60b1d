"""Kail: field monitoring for Dinsos Kaltim's productive-business aid (UEP)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import caseload, logs, storage  # noqa: F401  (caseload: its session hooks keep the caseload stamps)
from .config import PROJECT_ROOT, build_config
from .extensions import babel, compress, csrf, db, htmx, login_manager, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite: write-ahead log (readers never block the writer), a busy timeout, enforced foreign keys."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _select_locale() -> str:
    """The user's choice, else the browser's language if Kail speaks it, else Indonesian (also outside requests:
    command-line tasks and demo data)."""
    from flask import current_app, has_request_context, request

    if not has_request_context():
        return "id"
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    return request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "id"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then environment, then `config` (tests)."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(build_config(Path(app.instance_path), config))
    logs.init_app(app)
    _refuse_untrusted_hosts(app)  # inside ProxyFix: checks the forwarded host when proxies are trusted

    if app.config["TRUST_PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUST_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    storage.init_app(app)  # an object store that cannot work stops the start with one line
    db.init_app(app)
    is_sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    if app.config.get("SECRET_KEY_FROM_INSTANCE") and not is_sqlite:
        # A shared database suggests several app servers; each would sign sessions with a key of its own.
        logging.getLogger("kail").warning(
            "SECRET_KEY is not set: using %s/secret_key, which only this machine has. Set the same SECRET_KEY "
            "on every app server.",
            app.instance_path,
        )
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=is_sqlite, compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    compress.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)  # catalogues in webapp/translations

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page says enough
    login_manager.session_protection = "basic"  # "strong" would log mentors out whenever their mobile IP changes

    from . import (
        admin,
        assets,
        auth,
        dashboard,
        data,
        errors,
        home,
        old_urls,
        pwa,
        recipients,
        review,
        template_helpers,
        training,
        visits,
    )
    from .cli import register_cli

    assets.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(recipients.bp)
    app.register_blueprint(visits.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(pwa.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(training.bp)
    app.register_blueprint(data.bp)
    app.register_blueprint(home.bp)
    errors.register(app)
    register_cli(app)
    old_urls.register(app)
    template_helpers.register_template_helpers(app)

    csp = content_security_policy(app.config["MAP_TILE_URL"])

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
        if current_user and getattr(current_user, "is_authenticated", False):
            # Family data must not linger in shared caches or the browser's back-forward cache.
            headers.setdefault("Cache-Control", "private, no-store")
        return response

    return app


def _refuse_untrusted_hosts(app: Flask) -> None:
    """A Host header outside TRUSTED_HOSTS gets a plain 400 before Flask builds anything from it (Flask 3.1
    checks it too, but its error would then reach error pages that build URLs)."""
    from werkzeug.exceptions import SecurityError
    from werkzeug.sansio.utils import get_host
    from werkzeug.wrappers import Response

    inner = app.wsgi_app

    def check_host(environ, start_response):
        trusted = app.config.get("TRUSTED_HOSTS")
        if trusted is not None:
            try:
                get_host(
                    environ.get("wsgi.url_scheme", "http"),
                    environ.get("HTTP_HOST"),
                    (environ.get("SERVER_NAME", ""), int(environ.get("SERVER_PORT") or 80)),
                    trusted,
                )
            except (SecurityError, ValueError):
                return Response("Bad Request: unknown host\n", 400, mimetype="text/plain")(environ, start_response)
        return inner(environ, start_response)

    app.wsgi_app = check_host


def content_security_policy(tile_url: str) -> str:
    """A strict policy: no inline script or style anywhere; images also from the map tile server, if any."""
    parts = urlsplit(tile_url or "")
    tiles = f" {parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{tiles}; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'"
    )
