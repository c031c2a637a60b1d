"""Backup and restore: one archive with a consistent database snapshot and the photo store.

SQLite: the online backup API (a consistent copy while the app keeps running). PostgreSQL: `pg_dump` (a
consistent snapshot by itself) restored with `psql`. Photos are content-addressed and never change, so
copying them after the database snapshot cannot miss a photo the snapshot refers to. Photos are read from and
restored into the configured store (a folder or a bucket, `storage.py`); a bucket can instead be kept by the
bucket's own versioning and replication (`photos=False`, see the README).
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

from . import localtime, storage
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


def create_backup(database_url: str, upload_dir, destination: str | os.PathLike, photos: bool = True) -> Path:
    """Write `kail-backup-<time>.tar.gz` into `destination` (the photos of `upload_dir`, a folder or a store,
    unless `photos` is false); returns its path."""
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
        store = storage.resolve(upload_dir)
        names = sorted(name for name, _modified in store.listing()) if photos else []
        manifest = {
            "created_at": stamp,
            "dialect": dialect,
            "database": db_file,
            "schema_revision": revision,
            "photos": len(names),
            "photo_store": store.kind,
        }
        with tarfile.open(target, "w:gz") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
            archive.add(tmp_path / db_file, arcname=db_file)
            for name in names:
                try:
                    content = store.read(name)
                except FileNotFoundError:
                    continue  # pruned since it was listed: no row names it
                _add_bytes(archive, f"uploads/{name[:2]}/{name}", content)
    return target


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    archive.addfile(info, io.BytesIO(content))


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


def restore_backup(archive_path: str | os.PathLike, database_url: str, upload_dir) -> dict:
    """Replace the database and the photo store with the archive's; returns its manifest. A local folder is
    replaced; into a bucket the archive's photos are written (objects it lacks are left to `photos-prune`)."""
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
        restored = tmp_path / "uploads"
        store = storage.resolve(upload_dir)
        if isinstance(store, storage.LocalStorage):
            if store.root.exists():
                shutil.rmtree(store.root)
            store.root.mkdir(parents=True)
        if restored.exists():
            for path in sorted(restored.rglob("*.jpg")):
                if storage.STORED_NAME.fullmatch(path.name):
                    store.save(path.name, path.read_bytes())
        return manifest
