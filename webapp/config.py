"""Configuration: defaults, then environment variables, then an explicit override (tests)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int_list(value: str) -> tuple[int, ...]:
    months = tuple(sorted({int(part) for part in value.replace(";", ",").split(",") if part.strip()}))
    if not months or months[0] < 1:
        raise ValueError("FOLLOWUP_MONTHS must list positive whole months, e.g. 1,3,6,12")
    return months


@dataclass(frozen=True)
class EnvVar:
    """One environment variable the app reads; the README documents each of them."""

    name: str
    key: str
    parse: Any
    help: str
    empty_is_value: bool = False  # "VAR=" means an empty setting, not "use the default"


# Every variable the app itself reads. `tests/test_config.py` checks that the README lists each one.
ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar("DATABASE_URL", "SQLALCHEMY_DATABASE_URI", str,
           "SQLAlchemy URL; default a SQLite file instance/kail.sqlite3"),
    EnvVar("SECRET_KEY", "SECRET_KEY", str,
           "signs sessions; if unset, generated once and kept in instance/secret_key"),
    EnvVar("UPLOAD_DIR", "UPLOAD_DIR", str, "where photos are stored; default uploads/"),
    EnvVar("DEMO_MODE", "DEMO_MODE", _bool,
           "1 lets the demo accounts (password kail-demo) log in; off by default"),
    EnvVar("SESSION_COOKIE_SECURE", "SESSION_COOKIE_SECURE", _bool,
           "1 sends cookies over HTTPS only; set it in production"),
    EnvVar("TRUST_PROXY_HOPS", "TRUST_PROXY_HOPS", int,
           "number of reverse proxies in front (nginx: 1) whose X-Forwarded-* headers are trusted"),
    EnvVar("MAX_UPLOAD_MB", "MAX_UPLOAD_MB", int, "largest request body in MB; default 40"),
    EnvVar("MAX_PHOTO_MB", "MAX_PHOTO_MB", int, "largest single photo file in MB; default 20"),
    EnvVar("FOLLOWUP_MONTHS", "FOLLOWUP_MONTHS", _int_list,
           "months after distribution when follow-up visits fall due; default 1,3,6,12"),
    EnvVar("FLAG_ACCURACY_M", "FLAG_ACCURACY_M", float,
           "GPS accuracy (m) beyond which a visit is flagged; default 100"),
    EnvVar("FLAG_DISTANCE_M", "FLAG_DISTANCE_M", float,
           "distance (m) from the registered business beyond which a visit is flagged; default 300"),
    EnvVar("GRADUATION_MIN_TURNOVER_DAY", "GRADUATION_MIN_TURNOVER_DAY", int,
           "daily turnover (Rp) a business must keep to be proposed for graduation; default 150000"),
    EnvVar("DASHBOARD_CACHE_MINUTES", "DASHBOARD_CACHE_MINUTES", int,
           "minutes a large scope's dashboard outcomes are reused; 0 = always fresh; default 10"),
    EnvVar("DASHBOARD_CACHE_MIN_FAMILIES", "DASHBOARD_CACHE_MIN_FAMILIES", int,
           "families in scope from which the dashboard outcomes are reused; default 20000"),
    EnvVar("MAP_TILE_URL", "MAP_TILE_URL", str,
           "map tile URL template; default OpenStreetMap; empty for no background map", empty_is_value=True),
    EnvVar("MAP_TILE_ATTRIBUTION", "MAP_TILE_ATTRIBUTION", str, "attribution shown on maps"),
    EnvVar("LOG_LEVEL", "LOG_LEVEL", str, "logging level; default INFO"),
    EnvVar("LOGIN_MAX_FAILURES_PER_USER", "LOGIN_MAX_FAILURES_PER_USER", int,
           "failed logins for one username within the window before it must wait; default 5"),
    EnvVar("LOGIN_MAX_FAILURES_PER_IP", "LOGIN_MAX_FAILURES_PER_IP", int,
           "failed logins from one address within the window before it must wait; default 20"),
    EnvVar("LOGIN_WINDOW_MIN", "LOGIN_WINDOW_MIN", int, "the login throttling window in minutes; default 15"),
)


def normalise_database_url(url: str) -> str:
    """Accept the URLs hosting panels hand out (postgres://) and use psycopg 3 for PostgreSQL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _secret_key(instance_path: Path) -> str:
    """Generate the secret key once and keep it in the instance folder (never a constant in code)."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def build_config(instance_path: Path, override: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then environment, then `override` (tests pass one)."""
    config: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance_path / 'kail.sqlite3'}",
        "UPLOAD_DIR": str(PROJECT_ROOT / "uploads"),
        "DEMO_MODE": False,
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "TRUST_PROXY_HOPS": 0,
        "MAX_UPLOAD_MB": 40,
        "MAX_PHOTO_MB": 20,
        "FOLLOWUP_MONTHS": (1, 3, 6, 12),
        "FLAG_ACCURACY_M": 100.0,
        "GRADUATION_MIN_TURNOVER_DAY": 150_000,
        "DASHBOARD_CACHE_MINUTES": 10,
        "DASHBOARD_CACHE_MIN_FAMILIES": 20_000,
        "FLAG_DISTANCE_M": 300.0,
        "MAP_TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "MAP_TILE_ATTRIBUTION": "© OpenStreetMap",
        "LOG_LEVEL": "INFO",
        "LOGIN_MAX_FAILURES_PER_USER": 5,
        "LOGIN_MAX_FAILURES_PER_IP": 20,
        "LOGIN_WINDOW_MIN": 15,
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Makassar",
        "LANGUAGES": ("id", "en"),
        "RECIPIENTS_PER_PAGE": 20,
        "PERMANENT_SESSION_LIFETIME": 30 * 24 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,  # a form opened in the morning is still sendable at night
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Compress HTML, CSS, JS and JSON (photos are JPEG already); brotli where the browser takes it.
        "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/javascript", "application/javascript",
                               "application/json", "application/manifest+json", "image/svg+xml", "text/csv"],
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_MIN_SIZE": 500,
    }
    for var in ENV_VARS:
        raw = os.environ.get(var.name)
        if raw is not None and (raw != "" or var.empty_is_value):
            config[var.key] = var.parse(raw)
    if override:
        config.update(override)
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    config["MAX_CONTENT_LENGTH"] = config["MAX_UPLOAD_MB"] * 1024 * 1024
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _secret_key(instance_path)
    return config
