"""Configuration: defaults, then environment variables, then an explicit override (tests)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int_list(value: str) -> tuple[int, ...]:
    months = tuple(sorted({int(part) for part in value.replace(";", ",").split(",") if part.strip()}))
    if not months or months[0] < 1:
        raise ValueError("FOLLOWUP_MONTHS must list positive whole months, e.g. 1,3,6,12")
    return months


def _host_list(value: str) -> list[str] | None:
    """Comma-separated host names; `*` accepts any Host header (only behind a proxy that checks it)."""
    hosts = [part.strip() for part in value.split(",") if part.strip()]
    return None if hosts == ["*"] else hosts


def _public_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("PUBLIC_URL must be the app's address, e.g. https://kail.example.go.id")
    return value.strip().rstrip("/")


@dataclass(frozen=True)
class EnvVar:
    """One environment variable the app reads; the README documents each of them (name, default, meaning). Its
    text is read as the type of the setting's default in `build_config` (see `_PARSERS`)."""

    name: str
    key: str = ""  # the setting it changes: the one of the same name unless given
    empty_is_value: bool = False  # "VAR=" means an empty setting, not "use the default"

    def __post_init__(self):
        if not self.key:
            object.__setattr__(self, "key", self.name)


# Every variable the app itself reads. `tests/test_config.py` checks that the README lists each one.
ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar("DATABASE_URL", key="SQLALCHEMY_DATABASE_URI"),
    EnvVar("SECRET_KEY"),
    EnvVar("UPLOAD_DIR"),
    EnvVar("PHOTO_STORAGE"),
    EnvVar("DEMO_MODE"),
    EnvVar("SESSION_COOKIE_SECURE"),
    EnvVar("TRUST_PROXY_HOPS"),
    EnvVar("MAX_UPLOAD_MB"),
    EnvVar("MAX_PHOTO_MB"),
    EnvVar("FOLLOWUP_MONTHS"),
    EnvVar("FLAG_ACCURACY_M"),
    EnvVar("FLAG_DISTANCE_M"),
    EnvVar("GRADUATION_MIN_TURNOVER_DAY"),
    EnvVar("DASHBOARD_CACHE_MINUTES"),
    EnvVar("DASHBOARD_CACHE_MIN_FAMILIES"),
    EnvVar("MAP_TILE_URL", empty_is_value=True),
    EnvVar("MAP_TILE_ATTRIBUTION"),
    EnvVar("LOG_LEVEL"),
    EnvVar("LOGIN_MAX_FAILURES_PER_USER"),
    EnvVar("LOGIN_MAX_FAILURES_PER_IP"),
    EnvVar("LOGIN_WINDOW_MIN"),
    EnvVar("PUBLIC_URL"),
    EnvVar("TRUSTED_HOSTS"),
    EnvVar("LOGIN_DELAY_MIN"),
    EnvVar("LOGIN_DELAY_MAX_MIN"),
    EnvVar("LOGIN_MEMORY_H"),
)
# How a variable's text becomes its setting, by the type of the setting's default.
_PARSERS = {bool: _bool, int: int, float: float, str: str, tuple: _int_list, list: _host_list}


def normalise_database_url(url: str) -> str:
    """Accept the URLs hosting panels hand out (postgres://) and use psycopg 3 for PostgreSQL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _secret_key(instance_path: Path) -> str:
    """Generate the secret key once and keep it in the instance folder (never a constant in code). gunicorn's
    workers start at once: the key is written whole under a private name and linked into place, so the first
    one wins and every other reads the winner's key, never an empty or half-written file. Only this machine has
    the file: several app servers need SECRET_KEY set, the same on each."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    part = instance_path / f".secret_key.{secrets.token_hex(8)}.part"
    try:
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:  # a read-only install (deploy/kail.service): the key must come from the environment
        raise SystemExit(f"Kail cannot start: SECRET_KEY is not set and {key_file} cannot be written ({exc})") from None
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        os.link(part, key_file)  # atomic and never replaces: a key already in use stays
    except FileExistsError:
        return key_file.read_text().strip()
    finally:
        part.unlink(missing_ok=True)
    return key


def build_config(instance_path: Path, override: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then environment, then `override` (tests pass one)."""
    config: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance_path / 'kail.sqlite3'}",
        "SECRET_KEY": "",  # generated once below unless set
        "UPLOAD_DIR": str(PROJECT_ROOT / "uploads"),
        # Where photos live (storage.py): empty = UPLOAD_DIR; s3://BUCKET[/PREFIX] = an S3-compatible bucket
        # reached through boto3's standard AWS_* variables.
        "PHOTO_STORAGE": "",
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
        # Tests: every cached mentor home served is compared with a fresh rendering (a stale one is an error).
        "PAGE_CACHE_CHECK": False,
        "FLAG_ACCURACY_M": 100.0,
        "GRADUATION_MIN_TURNOVER_DAY": 150_000,
        "DASHBOARD_CACHE_MINUTES": 10,
        "DASHBOARD_CACHE_MIN_FAMILIES": 20_000,
        "FLAG_DISTANCE_M": 300.0,
        "MAP_TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "MAP_TILE_ATTRIBUTION": "© OpenStreetMap",
        "LOG_LEVEL": "INFO",
        # Links in files that leave the app (export photo links) start with this, never with the Host header.
        "PUBLIC_URL": "http://localhost:5000",
        "TRUSTED_HOSTS": [],  # Flask answers 400 to other Host headers; empty: PUBLIC_URL's host and localhost
        # Login throttling (accounts.login_blocked_for): per username and address, a wait after 5 failures that
        # doubles with each further one (1, 2, 4 … 60 minutes); per address a high, sliding limit, because
        # carriers put many phones behind one address.
        "LOGIN_MAX_FAILURES_PER_USER": 5,
        "LOGIN_DELAY_MIN": 1,
        "LOGIN_DELAY_MAX_MIN": 60,
        "LOGIN_MEMORY_H": 24,
        "LOGIN_MAX_FAILURES_PER_IP": 100,
        "LOGIN_WINDOW_MIN": 15,
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Makassar",
        "LANGUAGES": ("id", "en"),
        "RECIPIENTS_PER_PAGE": 20,
        "PERMANENT_SESSION_LIFETIME": 30 * 24 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,  # a form opened in the morning is still sendable at night
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Compress HTML, CSS, JS and JSON (photos are JPEG already); brotli where the browser takes it.
        "COMPRESS_MIMETYPES": [
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/json",
            "application/manifest+json",
            "image/svg+xml",
            "text/csv",
        ],
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_MIN_SIZE": 500,
    }
    for var in ENV_VARS:
        raw = os.environ.get(var.name)
        if raw is not None and (raw != "" or var.empty_is_value):
            config[var.key] = _PARSERS[type(config[var.key])](raw)
    if override:
        config.update(override)
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    config["PUBLIC_URL"] = _public_url(config["PUBLIC_URL"])
    if config["TRUSTED_HOSTS"] == []:
        public_host = urlsplit(config["PUBLIC_URL"]).hostname or "localhost"
        config["TRUSTED_HOSTS"] = list(dict.fromkeys([public_host, "localhost", "127.0.0.1"]))
    config["MAX_CONTENT_LENGTH"] = config["MAX_UPLOAD_MB"] * 1024 * 1024
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _secret_key(instance_path)
        config["SECRET_KEY_FROM_INSTANCE"] = True  # this machine's own: create_app warns where that looks wrong
    return config
