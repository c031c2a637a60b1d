"""Configuration: environment variables documented, URLs normalised, the secret key generated once."""

import os
from pathlib import Path

import pytest

from webapp import config

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_environment_variable_is_documented():
    readme = README.read_text(encoding="utf-8")
    for var in config.ENV_VARS:
        assert f"`{var.name}`" in readme, f"README does not document {var.name}"
    assert "`PORT`" in readme


def test_postgres_urls_use_psycopg3():
    assert config.normalise_database_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert config.normalise_database_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert config.normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_secret_key_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.build_config(tmp_path)["SECRET_KEY"]
    second = config.build_config(tmp_path)["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only


def test_workers_starting_at_once_all_use_the_first_workers_key(tmp_path, monkeypatch):
    """gunicorn's workers build the app at the same moment: one that looked before another wrote the key must read
    that key, not fail or write its own."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("the-first-workers-key\n")
    monkeypatch.setattr(Path, "exists", lambda self: False)  # it looked just before the other worker wrote
    assert config.build_config(tmp_path)["SECRET_KEY"] == "the-first-workers-key"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left behind


def test_without_secret_key_on_a_read_only_install_the_start_stops_with_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(os, "open", _refuse_writes(os.open))  # as under ProtectSystem=strict
    with pytest.raises(SystemExit) as stopped:
        config.build_config(tmp_path / "instance")
    message = str(stopped.value)
    assert message.startswith("Kail cannot start: SECRET_KEY is not set") and "\n" not in message


def _refuse_writes(real_open):
    def fake_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise OSError(30, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    return fake_open


def test_environment_overrides_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://k:k@db/kail")
    monkeypatch.setenv("DEMO_MODE", "1")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("MAX_UPLOAD_MB", "5")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    cfg = config.build_config(tmp_path)
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://k:k@db/kail"
    assert cfg["DEMO_MODE"] is True and cfg["SESSION_COOKIE_SECURE"] is True and cfg["REMEMBER_COOKIE_SECURE"]
    assert cfg["MAX_CONTENT_LENGTH"] == 5 * 1024 * 1024 and cfg["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_each_variable_is_read_as_the_type_of_its_default(tmp_path, monkeypatch):
    monkeypatch.setenv("FOLLOWUP_MONTHS", "6;1,3")
    monkeypatch.setenv("FLAG_ACCURACY_M", "50")
    monkeypatch.setenv("TRUST_PROXY_HOPS", "1")
    monkeypatch.setenv("MAP_TILE_URL", "")  # empty: no background map
    monkeypatch.setenv("LOG_LEVEL", "")  # empty: the default
    cfg = config.build_config(tmp_path)
    assert cfg["FOLLOWUP_MONTHS"] == (1, 3, 6) and cfg["FLAG_ACCURACY_M"] == 50.0
    assert isinstance(cfg["FLAG_ACCURACY_M"], float) and cfg["TRUST_PROXY_HOPS"] == 1
    assert cfg["MAP_TILE_URL"] == "" and cfg["LOG_LEVEL"] == "INFO"


def test_default_database_is_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert config.build_config(tmp_path)["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'kail.sqlite3'}"


def test_sqlite_runs_in_wal_mode_with_busy_timeout(app):
    from sqlalchemy import text

    from webapp.extensions import db

    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_security_headers(client):
    response = client.get("/akun/masuk")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "geolocation=(self)" in response.headers["Permissions-Policy"]


def test_empty_tile_url_turns_background_maps_off(tmp_path, monkeypatch):
    monkeypatch.setenv("MAP_TILE_URL", "")
    monkeypatch.setenv("DATABASE_URL", "")  # empty here means: the default
    cfg = config.build_config(tmp_path)
    assert cfg["MAP_TILE_URL"] == "" and cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_csp_allows_the_tile_host_only():
    from webapp import content_security_policy

    assert "img-src 'self' data: blob: https://tile.example.org;" in content_security_policy(
        "https://tile.example.org/{z}/{x}/{y}.png"
    )
    assert "img-src 'self' data: blob:;" in content_security_policy("")
