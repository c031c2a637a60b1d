"""Backup and restore round trip: every row of every table and every photo file comes back."""

import datetime as dt
import hashlib
import time

import pytest
from sqlalchemy import delete, select, text

from webapp import photos, recording, storage
from webapp.demo import demo_photo
from webapp.extensions import db
from webapp.models import Photo, Recipient, Visit


def _snapshot(app) -> tuple[dict, dict]:
    rows = {}
    for table in db.metadata.sorted_tables:
        result = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        rows[table.name] = [tuple(str(value) for value in row) for row in result]
    store = storage.current()
    files = {name: hashlib.sha256(store.read(name)).hexdigest() for name, _modified in store.listing()}
    return rows, files


@pytest.fixture
def data(app, world):
    for seed, family in enumerate((world.recipients["own"], world.recipients["same_region"])):
        upload = recording.PhotoUpload(photos.process(demo_photo("cadangan", seed)), "usaha_berjalan")
        visit_input = recording.VisitInput(
            uuid=f"00000000-0000-4000-8000-00000000000{seed}",
            kind="pendampingan",
            visited_at=dt.datetime(2026, 11, 20, 2, seed),
            lat=-0.5,
            lon=117.15,
            accuracy_m=9.0,
            answers={"operating": "ya", "turnover": 120000},
        )
        recording.record_visit(family, family.mentor, visit_input, [upload], app.config["UPLOAD_DIR"])
    return world


@pytest.mark.usefixtures("photo_store")  # the local folder and a real S3 server
def test_backup_and_restore_round_trip(app, runner, data, tmp_path):
    own_id = data.recipients["own"].id
    before_rows, before_files = _snapshot(app)
    assert before_rows["visits"] and len(before_files) == 4

    result = runner.invoke(args=["backup", "--to", str(tmp_path)])
    assert result.exit_code == 0, result.output
    archive = next(tmp_path.glob("kail-backup-*.tar.gz"))

    # Damage: rows deleted and changed, a photo file lost.
    db.session.execute(delete(Photo))
    db.session.execute(delete(Visit))
    db.session.execute(text("UPDATE recipients SET name = 'rusak'"))
    db.session.commit()
    lost = min(before_files)
    photos.prune(
        storage.current(), lambda name: False, now=time.time() + 48 * 3600, referenced=set(before_files) - {lost}
    )
    assert not storage.current().exists(lost)

    assert runner.invoke(args=["restore", str(archive)]).exit_code != 0  # needs --yes
    result = runner.invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    after_rows, after_files = _snapshot(app)
    assert after_rows == before_rows
    assert after_files == before_files
    assert db.session.scalar(select(Recipient.name).where(Recipient.id == own_id)) == "Siti Aminah"


def test_restore_refuses_archives_that_escape_their_folder(app, tmp_path):
    import io
    import tarfile

    from webapp.backup import BackupError, restore_backup

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as archive:
        info = tarfile.TarInfo("../../outside.txt")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(BackupError):
        restore_backup(evil, app.config["SQLALCHEMY_DATABASE_URI"], app.config["UPLOAD_DIR"])
    assert not (tmp_path.parent.parent / "outside.txt").exists()
