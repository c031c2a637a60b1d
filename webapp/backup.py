"""Backup and restore: one archive with a consistent database snapshot and the photo store.

SQLite: the online backup API (a consistent copy while the app keeps running). PostgreSQL: `pg_dump` (a
consistent snapshot by itself) restored with `psql`. Photos are content-addressed and never change, so
copying them after the database snapshot cannot miss a photo the snapshot refers to.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess  # noqa: S404 - pg_dump/psql with fixed arguments, never a shell
import tarfile
import tempfile
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from . import localtime
from .extensions import db

DB_SQLITE = "database.sqlite3"
DB_SQL = "database.sql"
MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    pass


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    plain = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def _tool(name: str) -> str:
    """The full path of a PostgreSQL client program (Debian: package postgresql-client)."""
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} not found: install the PostgreSQL client (apt-get install postgresql-client)")
    return path


def _sqlite_path(url: str) -> str:
    return make_url(url).database


def create_backup(database_url: str, upload_dir: str, destination: str | os.PathLike) -> Path:
    """Write `kail-backup-<time>.tar.gz` into `destination`; returns its path."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    stamp = localtime.now().strftime("%Y%m%d-%H%M%S")
    target = destination / f"kail-backup-{stamp}.tar.gz"
    dialect = make_url(database_url).get_backend_name()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if dialect == "sqlite":
            source = sqlite3.connect(_sqlite_path(database_url))
            copy = sqlite3.connect(tmp_path / DB_SQLITE)
            with copy:
                source.backup(copy)
            copy.close()
            source.close()
            db_file = DB_SQLITE
        elif dialect == "postgresql":
            conninfo, env = _libpq(database_url)
            with open(tmp_path / DB_SQL, "wb") as out:
                result = subprocess.run(  # noqa: S603
                    [_tool("pg_dump"), "--no-owner", "--no-privileges", "--dbname", conninfo],
                    stdout=out,
                    stderr=subprocess.PIPE,
                    env=env,
                    check=False,
                )
            if result.returncode:
                raise BackupError(result.stderr.decode(errors="replace"))
            db_file = DB_SQL
        else:
            raise BackupError(f"unsupported database: {dialect}")
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        manifest = {
            "created_at": stamp,
            "dialect": dialect,
            "database": db_file,
            "schema_revision": revision,
            "photos": sum(1 for p in Path(upload_dir).rglob("*.jpg")) if Path(upload_dir).exists() else 0,
        }
        with tarfile.open(target, "w:gz") as archive:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            archive.add(tmp_path / db_file, arcname=db_file)
            if Path(upload_dir).exists():
                for path in sorted(Path(upload_dir).rglob("*.jpg")):
                    archive.add(path, arcname=f"uploads/{path.relative_to(upload_dir).as_posix()}")
    return target


def _safe_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Only plain files with plain relative names: an archive must not write outside its folder."""
    members = []
    for member in archive.getmembers():
        name = Path(member.name)
        if member.isfile() and not name.is_absolute() and ".." not in name.parts:
            members.append(member)
        elif not member.isdir():
            raise BackupError(f"unexpected entry in backup: {member.name}")
    return members


def restore_backup(archive_path: str | os.PathLike, database_url: str, upload_dir: str) -> dict:
    """Replace the database and the photo store with the archive's; returns its manifest."""
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(archive_path, "r:gz") as archive:
        tmp_path = Path(tmp)
        archive.extractall(tmp_path, members=_safe_members(archive), filter="data")  # noqa: S202 - checked above
        manifest = json.loads((tmp_path / MANIFEST).read_text())
        dialect = make_url(database_url).get_backend_name()
        if manifest["dialect"] != dialect:
            raise BackupError(f"backup is from {manifest['dialect']}, this database is {dialect}")
        db.session.remove()
        db.engine.dispose()  # no open connection may hold the old data
        if dialect == "sqlite":
            source = sqlite3.connect(tmp_path / DB_SQLITE)
            live = sqlite3.connect(_sqlite_path(database_url))
            with live:
                source.backup(live)
            live.close()
            source.close()
        else:
            conninfo, env = _libpq(database_url)
            reset = "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"
            for args in (["-c", reset], ["-f", str(tmp_path / DB_SQL)]):
                result = subprocess.run(  # noqa: S603
                    [_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname", conninfo, *args],
                    capture_output=True,
                    env=env,
                    check=False,
                )
                if result.returncode:
                    raise BackupError(result.stderr.decode(errors="replace"))
        uploads = Path(upload_dir)
        if uploads.exists():
            shutil.rmtree(uploads)
        restored = tmp_path / "uploads"
        if restored.exists():
            shutil.copytree(restored, uploads)
        else:
            uploads.mkdir(parents=True)
        return manifest
